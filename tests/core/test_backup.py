"""Backups through the command line (core.backup): back up the suite's database (SQLite or PostgreSQL)
and the instance files, change the data, restore into a separate database, find what was backed up."""
from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import threading

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from core import create_app
from core.extensions import db
from core.models import IssuedDocument, Role, User
from tests.factories import user_for_role
from tests.marketplace.test_orders import buyer_officer, laptop_offer, placed_order, supplier_user
from tests.matrix import log_in


def _head(app) -> str:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()


@pytest.fixture
def restore_target(app, tmp_path):
    """A database apart from the suite's: a SQLite file, or `<suite's database>_restore` on PostgreSQL,
    created and dropped here."""
    suite = db.engine.url
    if suite.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{suite.database}_restore"
    server = db.engine.execution_options(isolation_level="AUTOCOMMIT")  # CREATE DATABASE refuses a transaction
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield suite.set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def import_folder(app, tmp_path, monkeypatch):
    folder = tmp_path / "imports"
    folder.mkdir()
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(folder))
    return folder


def test_backup_then_restore_into_another_database_brings_back_data_documents_and_files(
        app, client, tmp_path, restore_target, import_folder, monkeypatch):
    officer = buyer_officer()
    order = placed_order(officer, laptop_offer(supplier_user("Recyclerie d'Ivry").organisation),
                         {officer.organisation.sites[0]: 2})
    log_in(client, officer)
    purchase_order = client.get(f"/marketplace/orders/{order.id}/purchase-order.pdf")
    assert purchase_order.status_code == 200  # archived when first issued
    (import_folder / "waiting.csv").write_text("serial,brand\nSN-1,Dell\n")
    kept = user_for_role(Role.OBSERVER, full_name="Avant la sauvegarde")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "create", "--output", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    [archive_path] = (tmp_path / "backups").glob("circuit-backup-*.tar.gz")
    assert str(archive_path) in result.output
    assert archive_path.stat().st_mode & 0o077 == 0  # password hashes inside: owner only
    with tarfile.open(archive_path) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest["database"] == db.engine.url.get_backend_name()
    assert manifest["alembic_revision"] == _head(app)
    assert manifest["app_version"] and manifest["created_at"]
    assert "files/imports/waiting.csv" in names
    assert not any("search" in name for name in names)  # rebuilt by `search reindex`, not backed up

    # After the backup: a change, a new account, a file gone.
    kept.full_name = "Après la sauvegarde"
    user_for_role(Role.OBSERVER, email="after@example.org")
    db.session.commit()
    (import_folder / "waiting.csv").unlink()
    restored_files = tmp_path / "restored-imports"
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(restored_files))

    result = runner.invoke(args=["backup", "restore", str(archive_path), "--database", restore_target],
                           input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output  # asks first
    result = runner.invoke(args=["backup", "restore", str(archive_path), "--database", restore_target, "--yes"])
    assert result.exit_code == 0, result.output
    assert "search reindex" in result.output

    engine = create_engine(restore_target.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as restored:
            names_by_email = dict(restored.execute(select(User.email, User.full_name)).all())
            document = restored.execute(select(IssuedDocument.content, IssuedDocument.sha256)).one()
            revision = restored.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert names_by_email[kept.email] == "Avant la sauvegarde"
    assert "after@example.org" not in names_by_email
    assert document.content == purchase_order.data
    assert document.sha256 == hashlib.sha256(purchase_order.data).hexdigest()
    assert revision == _head(app)
    assert (restored_files / "waiting.csv").read_text() == "serial,brand\nSN-1,Dell\n"
    # The suite's own database was not touched.
    db.session.expire_all()
    assert db.session.get(User, kept.id).full_name == "Après la sauvegarde"


def test_restore_refuses_a_backup_from_a_newer_version(app, tmp_path, restore_target):
    manifest = {"format": 1, "created_at": "2030-01-01T00:00:00+00:00",
                "database": db.engine.url.get_backend_name(), "alembic_revision": "f0f0f0f0f0f0",
                "app_version": "future", "folders": []}
    archive_path = tmp_path / "circuit-backup-future.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    result = app.test_cli_runner().invoke(
        args=["backup", "restore", str(archive_path), "--database", restore_target, "--yes"])

    assert result.exit_code == 1
    assert "newer version of Circuit" in result.output and "f0f0f0f0f0f0" in result.output
    engine = create_engine(restore_target.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as target:
            tables = target.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table'" if engine.dialect.name == "sqlite"
                else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
    finally:
        engine.dispose()
    assert tables == []


def test_a_sqlite_backup_taken_while_another_connection_writes_is_consistent(tmp_path):
    """Each transaction of the writer adds a batch of 200 rows: the backup holds whole batches only."""
    database = tmp_path / "live.db"
    live = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                       "SECRET_KEY": "test", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
                       "IMPORT_FOLDER": str(tmp_path / "imports")})
    with live.app_context():
        upgrade()
        db.engine.dispose()
    batch_size = 200
    committed = []
    stop = threading.Event()

    def write_batches() -> None:
        writer = sqlite3.connect(database, timeout=30)
        batch = 0
        while not stop.is_set():
            with writer:  # one transaction per batch
                writer.executemany(
                    "INSERT INTO login_failures (email, ip_address, at) VALUES (?, ?, CURRENT_TIMESTAMP)",
                    [(f"batch-{batch}@example.org", "192.0.2.1")] * batch_size)
            batch += 1
            committed.append(batch)
        writer.close()

    thread = threading.Thread(target=write_batches)
    thread.start()
    try:
        while len(committed) < 50:  # enough pages for the copy to take a while
            stop.wait(0.01)
        before = len(committed)
        with live.app_context():  # the command runs in the current app context, else the suite's
            result = live.test_cli_runner().invoke(args=["backup", "create", "--output", str(tmp_path / "out")])
            db.engine.dispose()
        after = len(committed)
        stop.wait(0.2)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert len(committed) > after  # the writer went on after the backup

    [archive_path] = (tmp_path / "out").glob("*.tar.gz")
    with tarfile.open(archive_path) as archive:
        archive.extract("database.sqlite3", tmp_path / "snapshot", filter="data")
    snapshot = sqlite3.connect(tmp_path / "snapshot" / "database.sqlite3")
    try:
        assert snapshot.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        sizes = snapshot.execute("SELECT count(*) FROM login_failures GROUP BY email").fetchall()
    finally:
        snapshot.close()
    assert {size for (size,) in sizes} == {batch_size}
    assert before <= len(sizes) <= after  # a state the writer went through while the command ran
