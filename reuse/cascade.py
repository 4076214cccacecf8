"""The reuse cascade: who sees an offer, and when. The owner's commune first, then every public body of
the territory (communes, EPT, syndicates), then eligible beneficiaries; the stage lengths are settings
(REUSE_COMMUNE_DAYS, REUSE_PUBLIC_DAYS)."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask import current_app

from core.models import Organisation, OrganisationKind
from core.territory import commune_for


class Stage(enum.IntEnum):
    COMMUNE = 1
    PUBLIC_BODIES = 2
    BENEFICIARIES = 3


def stage_at(published_at: datetime, now: datetime) -> Stage:
    """The latest stage opened at `now`: a stage opens exactly `stage_offset` after publication."""
    return max((stage for stage in Stage if now >= published_at + stage_offset(stage)), default=Stage.COMMUNE)


def stage_offset(stage: Stage) -> timedelta:
    """How long after publication a stage opens: the one definition of the cascade's lengths, which the
    Python rule (`stage_at`), the SQL filter (`seen_condition`) and the search index (core.search) use."""
    commune_days = current_app.config["REUSE_COMMUNE_DAYS"]
    public_days = current_app.config["REUSE_PUBLIC_DAYS"]
    offsets = {Stage.COMMUNE: 0, Stage.PUBLIC_BODIES: commune_days,
               Stage.BENEFICIARIES: commune_days + public_days}
    return timedelta(days=offsets[stage])


def stage_opens_at(published_at: datetime, stage: Stage) -> datetime:
    return published_at + stage_offset(stage)


def commune_insee(organisation: Organisation) -> str | None:
    if organisation.insee_code:
        return organisation.insee_code
    commune = commune_for(organisation.postcode, organisation.city)
    return commune.insee if commune else None


def first_stage_for(owner: Organisation, organisation: Organisation) -> Stage:
    """The stage from which `organisation` sees the offers of `owner`."""
    same_commune = commune_insee(owner) is not None and commune_insee(owner) == commune_insee(organisation)
    if same_commune and organisation.kind is not OrganisationKind.SUPPLIER:
        return Stage.COMMUNE
    if organisation.kind.is_public_buyer:
        return Stage.PUBLIC_BODIES
    if organisation.kind is OrganisationKind.BENEFICIARY:
        return Stage.BENEFICIARIES
    return Stage.BENEFICIARIES + 1  # suppliers never see donations


def sees(owner: Organisation, organisation: Organisation, published_at: datetime, now: datetime) -> bool:
    if owner.id == organisation.id:
        return True
    return first_stage_for(owner, organisation) <= stage_at(published_at, now)


def seen_condition(organisation: Organisation, now: datetime):
    """`sees` as an SQL condition on open offers, so a list is filtered, counted and paginated by the
    database rather than row by row: the organisation's own offers, those of owners in its commune (every
    stage), and the others once the stage of its kind has opened."""
    from sqlalchemy import or_, select

    from core.extensions import db
    from reuse.models import Offer, OfferStatus

    conditions = [Offer.organisation_id == organisation.id]
    commune = commune_insee(organisation)
    if commune is not None and organisation.kind is not OrganisationKind.SUPPLIER:
        # The owners of open offers are a few dozen public bodies whatever the number of offers.
        owners = db.session.scalars(select(Organisation).where(Organisation.id.in_(
            select(Offer.organisation_id).where(Offer.status == OfferStatus.OPEN).distinct())))
        neighbours = [owner.id for owner in owners if commune_insee(owner) == commune]
        if neighbours:
            conditions.append(Offer.organisation_id.in_(neighbours))
    if organisation.kind.is_public_buyer:
        conditions.append(Offer.published_at <= now - stage_offset(Stage.PUBLIC_BODIES))
    elif organisation.kind is OrganisationKind.BENEFICIARY:
        conditions.append(Offer.published_at <= now - stage_offset(Stage.BENEFICIARIES))
    return or_(*conditions)
