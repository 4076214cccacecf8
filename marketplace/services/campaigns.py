"""Group orders (groupement de commandes, CCP L.2113-6 to 8): a coordinator opens a campaign, members
state their needs per line and delivery site until the deadline, the census then freezes (server time),
lines are decided and awarded, and one purchase order per member and supplier follows."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, false, select
from sqlalchemy.orm import joinedload, selectinload

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.mail import external_url
from core.models import Organisation, Role, Site, User, utcnow
from core.services import send_mail
from marketplace.models import (Campaign, CampaignLine, CampaignStatus, CatalogueOffer, LineStatus, Order,
                                Participation)
from marketplace.services import orders
from reuse.models import DeviceCategory

DECIDED = {LineStatus.AWARDED, LineStatus.TENDERED, LineStatus.CANCELLED}


def create_campaign(actor: User, coordinator: Organisation, title: str, description: str,
                    deadline: datetime) -> Campaign:
    permissions.require(actor, "campaign.create", coordinator)
    if deadline <= utcnow():
        raise RuleViolation(_("The deadline must be in the future."))
    campaign = Campaign(coordinator=coordinator, title=title.strip(), description=description.strip(),
                        status=CampaignStatus.OPEN,
                        deadline=deadline, created_by_id=actor.id)
    db.session.add(campaign)
    return campaign


def add_line(actor: User, campaign: Campaign, title: str, specification: str, category: DeviceCategory,
             min_total_quantity: int, offers: list[CatalogueOffer], to_be_tendered: bool = False) -> CampaignLine:
    permissions.require(actor, "campaign.manage", campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise RuleViolation(_("Lines are added while the campaign is open."))
    if min_total_quantity < 1:
        raise RuleViolation(_("The minimum total quantity is at least 1."))
    if not offers and not to_be_tendered:
        raise RuleViolation(_("Choose at least one eligible catalogue offer, or mark the line “to be tendered”."))
    for offer in offers:
        if not permissions.may(actor, "catalogue.view", offer):
            raise RuleViolation(_("The offer %(offer)s is not available in the catalogue.", offer=str(offer)))
    line = CampaignLine(campaign=campaign, title=title.strip(), specification=specification.strip(),
                        status=LineStatus.OPEN,
                        category=category, min_total_quantity=min_total_quantity, to_be_tendered=to_be_tendered,
                        eligible_offers=list(offers))
    db.session.add(line)
    return line


def freeze_if_due(campaign: Campaign, now: datetime | None = None) -> bool:
    """At the deadline the census freezes. Checked on every read and write, so server time decides,
    whether or not the daily `flask campaigns freeze` has run."""
    now = now or utcnow()
    if campaign.status is CampaignStatus.OPEN and now >= campaign.deadline:
        campaign.status = CampaignStatus.FROZEN
        campaign.frozen_at = now
        audit.record(None, "campaign.frozen", campaign)
        return True
    return False


def census_open(campaign: Campaign, now: datetime | None = None) -> bool:
    return campaign.status is CampaignStatus.OPEN and (now or utcnow()) < campaign.deadline


def set_participation(actor: User, line: CampaignLine, site: Site, quantity: int) -> Participation | None:
    """State (or change, or withdraw with 0) a member's need on a line for one delivery site."""
    campaign = line.campaign
    permissions.require(actor, "campaign.view", campaign)
    permissions.require(actor, "campaign.join", campaign)
    freeze_if_due(campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise RuleViolation(_("The census of this campaign is frozen since the deadline; changes are refused."))
    if line.status is not LineStatus.OPEN:
        raise RuleViolation(_("This line is closed."))
    if site.organisation_id != actor.organisation_id:
        raise RuleViolation(_("Choose a delivery site of your organisation."))
    if quantity < 0:
        raise RuleViolation(_("A quantity cannot be negative."))
    participation = db.session.scalar(select(Participation).where(
        Participation.line_id == line.id, Participation.organisation_id == actor.organisation_id,
        Participation.site_id == site.id))
    if quantity == 0:
        if participation is not None:
            db.session.delete(participation)
        return None
    if participation is None:
        participation = Participation(line=line, organisation=actor.organisation, site=site, quantity=0)
        db.session.add(participation)
    participation.quantity = quantity
    participation.updated_by_id = actor.id
    return participation


def progress(line: CampaignLine) -> dict:
    """Where a line stands: total against its minimum, and the price tier reached or next."""
    total = line.total_quantity
    offer = line.awarded_offer or (line.eligible_offers[0] if line.eligible_offers else None)
    result = {"total": total, "minimum": line.min_total_quantity, "reached": total >= line.min_total_quantity,
              "percent": min(100, round(100 * total / line.min_total_quantity)) if line.min_total_quantity else 100,
              "missing": max(0, line.min_total_quantity - total), "offer": offer, "unit_price": None,
              "next_tier": None, "to_next_tier": None}
    if offer is not None:
        result["unit_price"] = line.awarded_unit_price or offer.unit_price_for(total)
        tier = offer.next_tier(total)
        if tier is not None and line.status is not LineStatus.AWARDED:
            result["next_tier"] = tier
            result["to_next_tier"] = tier.min_quantity - total
    return result


def _members_to_tell(campaign: Campaign) -> list[User]:
    organisation_ids = {p.organisation_id for line in campaign.lines for p in line.participations}
    if not organisation_ids:
        return []
    return db.session.scalars(select(User).where(
        User.organisation_id.in_(organisation_ids), User.active.is_(True),
        User.role.in_([Role.PROCUREMENT_OFFICER, Role.IT_MANAGER]))).all()


def _tell_members(campaign: Campaign, message: str) -> None:
    link = external_url("marketplace.campaign", campaign_id=campaign.id)
    for user in _members_to_tell(campaign):
        send_mail(user, "campaign_news", campaign=campaign, message=message, link=link)


def extend_deadline(actor: User, campaign: Campaign, deadline: datetime) -> None:
    """Reopen the census until a new deadline (e.g. when a line misses its minimum)."""
    permissions.require(actor, "campaign.manage", campaign)
    if campaign.status not in (CampaignStatus.OPEN, CampaignStatus.FROZEN):
        raise RuleViolation(_("Only an open or frozen campaign can be extended."))
    if any(line.status in DECIDED for line in campaign.lines if line.status is not LineStatus.CANCELLED):
        raise RuleViolation(_("A line is already awarded or tendered: the census can no longer reopen."))
    if deadline <= utcnow():
        raise RuleViolation(_("The deadline must be in the future."))
    previous = campaign.deadline
    campaign.deadline = deadline
    campaign.status = CampaignStatus.OPEN
    campaign.frozen_at = None
    audit.record(actor, "campaign.extended", campaign, deadline=[previous.isoformat(), deadline.isoformat()])
    _tell_members(campaign, _("The deadline is extended: you can change your quantities until the new date."))


def _require_frozen(actor: User, campaign: Campaign) -> None:
    permissions.require(actor, "campaign.manage", campaign)
    freeze_if_due(campaign)
    if campaign.status is not CampaignStatus.FROZEN:
        raise RuleViolation(_("Lines are decided once the census is frozen, after the deadline."))


def cancel_line(actor: User, line: CampaignLine) -> None:
    _require_frozen(actor, line.campaign)
    if line.status in DECIDED:
        raise RuleViolation(_("This line is already decided."))
    line.status = LineStatus.CANCELLED
    audit.record(actor, "campaign.line_cancelled", line.campaign, line=line.title)
    _tell_members(line.campaign, _("The line “%(line)s” is cancelled.", line=line.title))


def proceed_below_minimum(actor: User, line: CampaignLine) -> None:
    _require_frozen(actor, line.campaign)
    if line.status is not LineStatus.OPEN or line.total_quantity >= line.min_total_quantity:
        raise RuleViolation(_("Only an undecided line below its minimum needs this decision."))
    line.status = LineStatus.PROCEEDING
    audit.record(actor, "campaign.line_proceeding", line.campaign, line=line.title)
    _tell_members(line.campaign, _("The line “%(line)s” goes on below its minimum quantity.", line=line.title))


def hand_to_tender(actor: User, line: CampaignLine) -> None:
    _require_frozen(actor, line.campaign)
    if line.status in DECIDED:
        raise RuleViolation(_("This line is already decided."))
    line.status = LineStatus.TENDERED
    audit.record(actor, "campaign.line_tendered", line.campaign, line=line.title)


def award_line(actor: User, line: CampaignLine, offer: CatalogueOffer) -> None:
    """Award a line to an offer: the tier of the total quantity applies to every member, the stock is
    reserved now (and refused if short)."""
    _require_frozen(actor, line.campaign)
    if line.status not in (LineStatus.OPEN, LineStatus.PROCEEDING):
        raise RuleViolation(_("This line is already decided."))
    if line.status is LineStatus.OPEN and line.total_quantity < line.min_total_quantity:
        raise RuleViolation(_("The line is below its minimum: extend the campaign, cancel the line or proceed "
                              "below the minimum first."))
    if line.eligible_offers and offer not in line.eligible_offers:
        raise RuleViolation(_("Award the line to one of its eligible offers."))
    if not permissions.may(actor, "catalogue.view", offer):
        raise RuleViolation(_("The offer %(offer)s is not available in the catalogue.", offer=str(offer)))
    total = line.total_quantity
    if total == 0:
        raise RuleViolation(_("No member needs this line: cancel it."))
    orders.take_stock(offer, total)
    line.awarded_offer = offer
    line.awarded_unit_price = offer.unit_price_for(total)
    line.status = LineStatus.AWARDED
    audit.record(actor, "campaign.line_awarded", line.campaign, line=line.title, offer=str(offer),
                 unit_price=str(line.awarded_unit_price), quantity=total)


def issue_orders(actor: User, campaign: Campaign) -> list[Order]:
    """One purchase order per member and supplier, with a delivery line per site."""
    _require_frozen(actor, campaign)
    undecided = [line.title for line in campaign.lines if line.status not in DECIDED]
    if undecided:
        raise RuleViolation(_("Decide every line first: %(lines)s.", lines=", ".join(undecided)))
    grouped: dict[tuple[int, int], list[orders.LineData]] = defaultdict(list)
    for line in campaign.lines:
        if line.status is not LineStatus.AWARDED:
            continue
        for participation in line.participations:
            grouped[(participation.organisation_id, line.awarded_offer.supplier_id)].append(orders.LineData(
                offer=line.awarded_offer, quantity=participation.quantity, unit_price=line.awarded_unit_price,
                site=participation.site))
    issued = []
    for (buyer_id, supplier_id), lines in grouped.items():
        issued.append(orders.issue_order(actor, db.session.get(Organisation, buyer_id),
                                         db.session.get(Organisation, supplier_id), lines, campaign=campaign,
                                         reserve=False))  # the stock was reserved at award
    campaign.status = CampaignStatus.AWARDED
    audit.record(actor, "campaign.orders_issued", campaign, orders=len(issued))
    _tell_members(campaign, _("The purchase orders are issued: see them in your orders."))
    return issued


def cancel_campaign(actor: User, campaign: Campaign) -> None:
    permissions.require(actor, "campaign.manage", campaign)
    if campaign.status is CampaignStatus.AWARDED:
        raise RuleViolation(_("The purchase orders are issued: cancel the orders instead."))
    for line in campaign.lines:
        if line.status is LineStatus.AWARDED and line.awarded_offer is not None:
            orders.return_stock(line.awarded_offer, line.total_quantity)
    campaign.status = CampaignStatus.CANCELLED
    audit.record(actor, "campaign.cancelled", campaign)
    _tell_members(campaign, _("The campaign is cancelled."))


def visible_campaigns(user: User) -> Select:
    """The campaigns `user` may see, the latest deadline first: all of them for the public buyers and
    the admins (whom "campaign.view" lets see any), none for the others. A query, so that lists page it;
    the caller freezes the listed campaigns whose deadline passed (`freeze_if_due`)."""
    query = (select(Campaign).options(joinedload(Campaign.coordinator), selectinload(Campaign.lines))
             .order_by(Campaign.deadline.desc(), Campaign.id.desc()))
    return query if permissions.may(user, "campaign.list") else query.where(false())


def my_participations(user: User, campaign: Campaign) -> dict[int, list[Participation]]:
    mine: dict[int, list[Participation]] = defaultdict(list)
    for line in campaign.lines:
        for participation in line.participations:
            if participation.organisation_id == user.organisation_id:
                mine[line.id].append(participation)
    return mine
