"""Command-line tools: `flask --app wsgi demo-data`, `users create`, `users token`, `search ...`,
`backup ...`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import or_, select

from core import backup, demo, search, services
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, Role, User

users = AppGroup("users", help="Create accounts and API tokens.")
search_commands = AppGroup("search", help="Keep the full-text search index in step with the database.")
backup_commands = AppGroup("backup", help="Back up and restore the database and the instance files.")


def _organisation(reference: str) -> Organisation:
    """An organisation by id, SIRET, INSEE code or exact name."""
    conditions = [Organisation.siret == reference.replace(" ", ""), Organisation.insee_code == reference,
                  Organisation.name == reference]
    if reference.isdigit() and len(reference) < 6:
        conditions.append(Organisation.id == int(reference))
    found = db.session.scalars(select(Organisation).where(or_(*conditions))).all()
    if len(found) != 1:
        raise click.ClickException(f"No single organisation matches {reference!r} "
                                   "(give its id, SIRET, INSEE code or exact name).")
    return found[0]


@users.command("create")
@click.argument("email")
@click.option("--org", "org", required=True, help="Organisation id, SIRET, INSEE code or exact name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", default="", help="Full name (defaults to the email).")
@click.password_option(help="The password (asked when not given).")
def create_user(email: str, org: str, role: str, full_name: str, password: str) -> None:
    """Create an account in an organisation."""
    organisation = _organisation(org)
    try:
        user = services.create_user(organisation, email, full_name or email, Role(role), password=password)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.email} ({user.role.value}) in {organisation.name}.")


@users.command("token")
@click.argument("email")
@click.option("--name", default="command line", help="Where the token will be used.")
def create_token(email: str, name: str) -> None:
    """Print a new personal API token for an account (shown once)."""
    user = db.session.scalar(select(User).where(User.email == services.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account uses {email}.")
    _, clear_token = services.create_api_token(user, name)
    db.session.commit()
    click.echo(clear_token)


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Only load when the database holds no organisation.")
def demo_data(if_empty: bool) -> None:
    """Load the demo organisations and accounts (safe to run again)."""
    if if_empty and not demo.is_empty():
        click.echo("The database already holds data: demo data not loaded.")
        return
    counts = demo.load()
    db.session.commit()
    click.echo(f"Demo data ready: {counts['organisations']} organisations, {counts['users']} users. "
               f"Every demo account uses the password {demo.DEMO_PASSWORD!r}.")


@search_commands.command("drain")
def search_drain() -> None:
    """Apply the changes waiting in the search outbox to the index."""
    try:
        applied = search.drain()
    except search.SearchUnavailable as error:
        raise click.ClickException(f"The search index is unavailable ({error}): run `search reindex`.") from None
    click.echo(f"{applied} change(s) applied to the search index.")


@search_commands.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from the database (the live index serves until the new one is ready)."""
    try:
        count = search.reindex()
    except search.SearchUnavailable as error:
        raise click.ClickException(f"The search index is busy ({error}): try again.") from None
    click.echo(f"Search index rebuilt: {count} documents.")


@search_commands.command("status")
def search_status() -> None:
    """Say whether the index is usable, what it holds and how many changes wait."""
    state = search.status()
    if state.available:
        click.echo(f"Search index available: {state.documents} documents "
                   + ", ".join(f"{kind} {count}" for kind, count in state.by_kind.items())
                   + f"; {state.waiting} change(s) waiting.")
    else:
        click.echo(f"Search index unavailable ({state.reason}); {state.waiting} change(s) waiting. "
                   "Run `flask --app wsgi search reindex`.")


@backup_commands.command("create")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the archive (default: instance/backups).")
def backup_create(output: Path | None) -> None:
    """Back up the database and the instance files into one tar.gz (safe while the app runs)."""
    try:
        path = backup.create(output or Path(current_app.instance_path) / "backups")
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written: {path}")


@backup_commands.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", "database_url", help="Restore into this database instead of DATABASE_URL.")
@click.option("--yes", is_flag=True, help="Replace without asking.")
def backup_restore(archive: Path, database_url: str | None, yes: bool) -> None:
    """Replace the database and the instance files with those of a backup."""
    try:
        manifest = backup.read_manifest(archive)
        older = backup.check(manifest, database_url)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup of {manifest['created_at']}: {manifest['database']} database at revision "
               f"{manifest['alembic_revision']}, code {manifest['app_version']}.")
    if not yes:
        click.confirm(f"Replace everything in {backup.describe(database_url)} with this backup?", abort=True)
    try:
        backup.restore(archive, database_url)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Restored." + (" Its revision is older than this code's: run `flask --app wsgi db upgrade`."
                              if older else "")
               + " Then rebuild the search index: `flask --app wsgi search reindex`.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(backup_commands)
    app.cli.add_command(search_commands)
    app.cli.add_command(demo_data)
    from marketplace import cli as marketplace_cli
    from procurement import cli as procurement_cli
    from reuse import cli as reuse_cli

    reuse_cli.register_commands(app)
    marketplace_cli.register_commands(app)
    procurement_cli.register_commands(app)
