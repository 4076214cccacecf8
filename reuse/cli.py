"""Command line of the reuse circuit: `flask --app wsgi devices import FILE --org ORG` and
`flask --app wsgi reuse expire` (run daily from cron)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, Role, User
from reuse import imports, services
from reuse.models import DeviceCategory

devices = AppGroup("devices", help="The device inventory.")


def acting_user(organisation: Organisation) -> User:
    """The services ask permission of a person: the command acts as the organisation's first active
    IT manager or administrator, and the audit log says so."""
    user = db.session.scalars(select(User).where(
        User.organisation_id == organisation.id, User.active.is_(True),
        User.role.in_([Role.IT_MANAGER, Role.ADMIN])).order_by(User.id)).first()
    if user is None:
        raise click.ClickException(f"{organisation.name} has no active IT manager or administrator "
                                   "for the import to act as; create one with `users create`.")
    return user


@devices.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org", required=True, help="Organisation id, SIRET, INSEE code or exact name.")
@click.option("--category", type=click.Choice([c.value for c in DeviceCategory]),
              help="Category of the devices when the file has no category or type column.")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Rows per commit.")
@click.option("--dry-run", is_flag=True, help="Check the file and count, but save nothing.")
def import_devices(file: Path, org: str, category: str | None, batch_size: int, dry_run: bool) -> None:
    """Create or update devices from a CSV file (Circuit's template, GLPI or Snipe-IT export).

    Rows are committed in batches: if the command stops halfway, the batches before stay imported,
    and running it again on the same file updates them instead of duplicating them. Prints a JSON
    summary on stdout; the progress bar goes to stderr."""
    from core.cli import _organisation

    organisation = _organisation(org)
    actor = acting_user(organisation)
    commit = None if dry_run else db.session.commit
    with click.progressbar(length=file.stat().st_size, label="Import", file=sys.stderr) as bar:
        try:
            summary = imports.import_devices(
                actor, organisation, file, DeviceCategory(category) if category else None,
                sample_size=0, batch_size=batch_size, after_batch=commit,
                on_progress=lambda position: bar.update(position - bar.pos))
        except RuleViolation as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(json.dumps(summary.as_json(), ensure_ascii=False))


reuse = AppGroup("reuse", help="Offers and requests of the reuse circuit.")


@reuse.command("expire")
def expire_requests() -> None:
    """Expire the approved requests not collected by their date; their units return to the offers."""
    count = services.expire_overdue_requests()
    db.session.commit()
    click.echo(f"{count} request(s) expired.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(devices)
    app.cli.add_command(reuse)
