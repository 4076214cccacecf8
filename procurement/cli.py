"""Command line of procurement: `flask --app wsgi clauses load`, `flask --app wsgi contracts import-decp`."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from core.errors import RuleViolation
from core.extensions import db
from procurement import decp
from procurement.services import clauses as clause_service

clauses = AppGroup("clauses", help="The clause library.")
contracts = AppGroup("contracts", help="The contracts register.")


@clauses.command("load")
def load_clauses() -> None:
    """Add the seed clauses (procurement/data/clauses.json) missing from the library; never changes others."""
    added = clause_service.load_library()
    db.session.commit()
    click.echo(f"{added} clause(s) added.")


@contracts.command("import-decp")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-buyers", is_flag=True,
              help="Also import the contracts of buyers not on the platform, creating them from the file.")
def import_decp(file: Path, all_buyers: bool) -> None:
    """Import a DECP file (v2 or v1 JSON) into the contracts register; prints a JSON summary.

    Importing the same file again imports nothing. A file that is not DECP is refused and nothing is
    written."""
    try:
        summary = decp.import_decp(file, all_buyers=all_buyers, actor=None)
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(json.dumps(summary.to_json(), ensure_ascii=False))


def register_commands(app: Flask) -> None:
    app.cli.add_command(clauses)
    app.cli.add_command(contracts)
