"""Backups: the database and the instance files that cannot be rebuilt, in one tar.gz with a manifest.

SQLite is copied with its online backup API (a consistent snapshot, safe while the app writes);
PostgreSQL with `pg_dump --format=custom`, restored by `pg_restore --clean --if-exists` in one
transaction. Archived documents, photos and memos are database columns, so the database carries them.
The search index is left out: `flask search reindex` rebuilds it from the database.

A restore refuses a backup whose database revision this code does not know (a backup from a newer
version of Circuit); an older one is restored as it is, and `flask db upgrade` brings it up to date.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump, pg_restore and git, by absolute path, never through a shell
import tarfile
import tempfile
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from core.config import PROJECT_ROOT
from core.config import database_url as database_url_from
from core.extensions import db

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
POSTGRESQL_FILE = "database.dump"
# The instance folders a backup takes, by the setting that names each. Today only the CSV files waiting
# between an import's preview and its confirmation live outside the database.
FOLDERS = {"imports": "IMPORT_FOLDER"}


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason for the operator."""


def create(output_dir: Path) -> Path:
    """Write `circuit-backup-<UTC time>.tar.gz` into `output_dir` and return its path."""
    url = db.engine.url  # as Flask-SQLAlchemy resolved it (a relative SQLite path is under instance/)
    created_at = datetime.now(timezone.utc)
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"circuit-backup-{created_at:%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="circuit-backup-") as work:
        if url.get_backend_name() == "sqlite":
            database_file = Path(work) / SQLITE_FILE
            _sqlite_copy(Path(url.database), database_file)
            # Read from the snapshot, so the revision is the one of the data it holds.
            snapshot = sqlite3.connect(database_file)
            try:
                revision = snapshot.execute("SELECT max(version_num) FROM alembic_version").fetchone()[0]
            except sqlite3.OperationalError:
                revision = None
            finally:
                snapshot.close()
        else:
            database_file = Path(work) / POSTGRESQL_FILE
            with db.engine.connect() as connection:
                revision = connection.execute(text("SELECT max(version_num) FROM alembic_version")).scalar()
            _run(["pg_dump", "--format=custom", "--no-password", f"--file={database_file}",
                  f"--dbname={_libpq_uri(url)}"], url)
        if revision is None:
            raise BackupError("The database has no migration revision: run `flask --app wsgi db upgrade` first.")
        folders = {name: Path(current_app.config[setting]) for name, setting in FOLDERS.items()}
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(timespec="seconds"),
            "database": url.get_backend_name(),
            "alembic_revision": revision,
            "app_version": _app_version(),
            "folders": sorted(name for name, folder in folders.items() if folder.is_dir()),
            "not_included": "the search index: run `flask --app wsgi search reindex` after a restore",
        }
        # Written aside, then renamed: a half-written archive never looks like a backup. It holds password
        # hashes and every document: readable by its owner only.
        partial = target.with_name(target.name + ".part")
        try:
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw, \
                    tarfile.open(fileobj=raw, mode="w:gz") as archive:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(created_at.timestamp()), 0o600
                archive.addfile(info, BytesIO(data))
                archive.add(database_file, arcname=database_file.name)
                for name, folder in folders.items():
                    if folder.is_dir():
                        archive.add(folder, arcname=f"files/{name}")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(target)
    return target


def read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except (tarfile.TarError, KeyError, OSError, ValueError) as error:
        raise BackupError(f"{archive_path} is not a Circuit backup ({error}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} has backup format {manifest.get('format')!r}, not {FORMAT}.")
    return manifest


def check(manifest: dict, database_url: str | None = None) -> bool:
    """Refuse a backup from a newer version or of another kind of database than the target; say whether
    its revision is older than this code's."""
    kind = _target(database_url).get_backend_name()
    if kind != manifest["database"]:
        raise BackupError(f"This is a {manifest['database']} backup: it cannot be restored into {kind}.")
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    revision = manifest["alembic_revision"]
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"This backup comes from a newer version of Circuit: its database revision {revision} is unknown "
            f"to this code (latest {script.get_current_head()}). Install that version, then restore."
        )
    return revision != script.get_current_head()


def restore(archive_path: Path, database_url: str | None = None) -> dict:
    """Replace the target database (DATABASE_URL unless given) and the instance folders with the backup's.
    Returns its manifest."""
    manifest = read_manifest(archive_path)
    check(manifest, database_url)
    url = _target(database_url)
    with tempfile.TemporaryDirectory(prefix="circuit-restore-") as work:
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(work, filter="data")  # no path outside `work`, no device, no link out
        if manifest["database"] == "sqlite":
            target = Path(url.database)
            target.parent.mkdir(parents=True, exist_ok=True)
            # Through the backup API too: an app with the file open sees the restored pages, not a file
            # swapped under it.
            _sqlite_copy(Path(work) / SQLITE_FILE, target)
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", "--exit-on-error", "--no-password", f"--dbname={_libpq_uri(url)}",
                  str(Path(work) / POSTGRESQL_FILE)], url)
        for name in manifest["folders"]:
            folder = Path(current_app.config[FOLDERS[name]])
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(Path(work) / "files" / name, folder)
    return manifest


def describe(database_url: str | None = None) -> str:
    """The target database for a person to confirm, without its password."""
    return _target(database_url).render_as_string(hide_password=True)


def _target(database_url: str | None) -> URL:
    return make_url(database_url_from(database_url)) if database_url else db.engine.url


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"No SQLite database at {source}.")
    source_connection = sqlite3.connect(source)
    target_connection = sqlite3.connect(target)
    try:
        # All pages in one step: the copy is one consistent snapshot even while another connection writes.
        source_connection.backup(target_connection)
    finally:
        target_connection.close()
        source_connection.close()


def _libpq_uri(url: URL) -> str:
    """The URL for pg_dump and pg_restore: libpq's scheme, the password left to PGPASSWORD (not shown by ps)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: URL) -> None:
    program = shutil.which(command[0])
    if program is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    arguments = [program, *command[1:]]
    result = subprocess.run(arguments, env=environment, capture_output=True, text=True)  # nosec B603 # no shell
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def _app_version() -> str:
    """The code's git commit, when the platform runs from a clone."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    command = [git, "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"]
    result = subprocess.run(command, capture_output=True, text=True)  # nosec B603 # fixed arguments
    return result.stdout.strip() or "unknown"
