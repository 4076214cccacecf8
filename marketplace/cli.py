"""Command line of the marketplace: `flask --app wsgi campaigns freeze` (run from cron)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from marketplace.models import Campaign, CampaignStatus
from marketplace.services import campaigns as service

campaigns = AppGroup("campaigns", help="Group orders.")


@campaigns.command("freeze")
def freeze() -> None:
    """Freeze the census of every campaign whose deadline has passed (reads and writes do it too)."""
    frozen = [c for c in db.session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.OPEN))
              if service.freeze_if_due(c)]
    db.session.commit()
    click.echo(f"{len(frozen)} campaign(s) frozen.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(campaigns)
