"""Procurement pages: dashboard. What tenders add to each role's dashboard. Bids are sealed: a supplier
sees only its own bids, a buyer no bid at all here."""
from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import Role, utcnow
from core.views.dashboard import DASHBOARD_SECTIONS, LISTED
from procurement.models import Tender, TenderStatus
from procurement.services import bids as bid_service
from procurement.services import climate
from procurement.services import tenders as tender_service
from procurement.views import bp  # noqa: F401


def procurement_figures(user, shown: frozenset[str]) -> dict:
    figures = _tender_figures(user, shown)
    if "art35_contracts" in shown and user.role in (Role.PROCUREMENT_OFFICER, Role.ADMIN):
        # Contracts notified from 22 August 2026 without an environmental consideration: the officer's
        # organisation's, or for an administrator every buyer's.
        flagged = climate.contracts_missing_art35(
            user.organisation_id if user.role is Role.PROCUREMENT_OFFICER else None)
        figures["art35_contracts"] = db.session.scalars(flagged.limit(LISTED)).all()
        figures["art35_count"] = db.session.scalar(select(func.count()).select_from(flagged.order_by(None)
                                                                                    .subquery()))
    return figures


def _tender_figures(user, shown: frozenset[str]) -> dict:
    now = utcnow()
    if "tender_stages" in shown and user.role in (Role.PROCUREMENT_OFFICER, Role.ADMIN):
        # An officer follows their organisation's tenders; an administrator the platform's.
        query = select(Tender).order_by(Tender.deadline, Tender.id)
        if user.role is Role.PROCUREMENT_OFFICER:
            query = query.where(Tender.buyer_id == user.organisation_id)
        published = query.where(Tender.status == TenderStatus.PUBLISHED)
        stages = {
            "drafts": query.where(Tender.status == TenderStatus.DRAFT),
            "awaiting_deadline": published.where(Tender.deadline > now),
            "to_open": published.where(Tender.deadline <= now),
            "under_evaluation": query.where(Tender.status == TenderStatus.OPENED),
        }
        # Each stage shows its count and its first few tenders, never all of them (an administrator's
        # stages hold the whole platform's).
        return {
            "tender_stages": {key: db.session.scalars(stage.limit(LISTED)).all() for key, stage in stages.items()},
            "tender_stage_counts": {
                key: db.session.scalar(select(func.count()).select_from(stage.order_by(None).subquery()))
                for key, stage in stages.items()},
        }
    if "open_tender_count" in shown and user.role is Role.SUPPLIER:
        open_tenders = tender_service.open_for_bids(now)
        return {
            "open_tender_count": db.session.scalar(select(func.count()).select_from(open_tenders.subquery())),
            "open_tenders": db.session.scalars(open_tenders.limit(LISTED)).all(),
            "my_bid_count": len(bid_service.own_bids(user)),
        }
    return {}


DASHBOARD_SECTIONS.append(procurement_figures)
