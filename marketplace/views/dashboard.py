"""What the marketplace adds to each role's dashboard."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from core import permissions
from core.extensions import db
from core.views.dashboard import DASHBOARD_SECTIONS, LISTED
from marketplace.models import Campaign, CampaignStatus, Order, OrderStatus


def marketplace_figures(user, shown: frozenset[str]) -> dict:
    figures: dict = {}
    organisation_id = user.organisation_id
    if "open_campaigns" in shown and permissions.may(user, "campaign.list"):
        figures["open_campaigns"] = db.session.scalars(
            select(Campaign).where(Campaign.status == CampaignStatus.OPEN).order_by(Campaign.deadline, Campaign.id)
            .limit(LISTED + 1)).all()  # the last one only says that there are more
    if "orders_by_status" in shown:
        figures["orders_by_status"] = dict(db.session.execute(
            select(Order.status, func.count(Order.id))
            .where(or_(Order.buyer_id == organisation_id, Order.supplier_id == organisation_id))
            .group_by(Order.status)).all())
    return figures


DASHBOARD_SECTIONS.append(marketplace_figures)
