"""What the reuse circuit adds to each role's dashboard."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core import permissions
from core.extensions import db
from core.models import Role
from core.views.dashboard import DASHBOARD_SECTIONS, LISTED
from reuse import gains, services
from reuse.models import Device, Offer, RequestStatus, ReuseRequest


def reuse_figures(user, shown: frozenset[str]) -> dict:
    year = services.today().year
    figures: dict = {"reuse_year": year}
    organisation = user.organisation
    if "device_counts" in shown and permissions.may(user, "device.list", organisation):
        figures["device_counts"] = services.status_counts(organisation.id)
        figures["requests_to_answer"] = db.session.scalar(
            select(func.count(ReuseRequest.id)).join(ReuseRequest.offer).where(
                Offer.organisation_id == organisation.id, ReuseRequest.status == RequestStatus.PENDING))
    if "offers_for_me" in shown and permissions.may(user, "offer.browse"):
        figures["offers_for_me"] = db.session.scalar(select(func.count()).select_from(
            services.offers_to_request_query(user).order_by(None).subquery()))
        figures["my_requests"] = db.session.scalars(
            select(ReuseRequest).where(ReuseRequest.organisation_id == organisation.id,
                                       ReuseRequest.status.in_([RequestStatus.PENDING, RequestStatus.APPROVED,
                                                                RequestStatus.HANDED_OVER]))
            .options(joinedload(ReuseRequest.offer)).order_by(ReuseRequest.created_at.desc(), ReuseRequest.id.desc())
            .limit(LISTED + 1)).all()  # the last one only says that there are more
    if "gains" in shown and permissions.may(user, "gains.view", organisation):
        figures["gains"] = gains.organisation_gains(organisation.id, year)
    if "territory_gains" in shown and user.role in (Role.ADMIN, Role.OBSERVER):
        figures["territory_gains"], figures["territory_gains_at"] = gains.recent_territory_gains(year)
    return figures


DASHBOARD_SECTIONS.append(reuse_figures)
