"""Tenders: a procurement officer drafts one (lots, award criteria, clauses), checks it against the
Climat et Résilience rule (procurement.services.climate), publishes it; suppliers ask questions, answered to every bidder anonymously."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, permissions, search
from core import cpv as cpv_codes
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import to_local
from core.models import Organisation, User, utcnow
from marketplace.models import CampaignLine, LineStatus
from procurement.models import (AwardCriterion, Clause, ClauseVersion, CriterionKind, Lot, ProcedureType, Question,
                                Reservation, Tender, TenderClause, TenderStatus, Theme)
from procurement.services import climate


@dataclass
class TenderData:
    reference: str
    title: str
    description: str
    cpv: str
    procedure: ProcedureType
    estimated_value: Decimal
    deadline: datetime
    duration_months: int = 12
    reservation: Reservation = Reservation.NONE


def _check(data: TenderData) -> None:
    if not data.reference.strip() or not data.title.strip():
        raise RuleViolation(_("A tender needs a reference and a title."))
    if not cpv_codes.is_known(data.cpv):
        raise RuleViolation(_("The CPV code %(cpv)s is not in the list of codes Circuit knows.", cpv=data.cpv))
    if data.estimated_value is None or data.estimated_value <= 0:
        raise RuleViolation(_("The estimated value excluding VAT must be positive."))
    if data.duration_months < 1:
        raise RuleViolation(_("The duration is at least one month."))


def _require_draft(actor: User, tender: Tender) -> None:
    permissions.require(actor, "tender.manage", tender)
    if tender.status is not TenderStatus.DRAFT:
        raise RuleViolation(_("Only a draft tender can be changed."))


def create_tender(actor: User, buyer: Organisation, data: TenderData) -> Tender:
    permissions.require(actor, "tender.create", buyer)
    _check(data)
    if db.session.scalar(select(Tender.id).where(Tender.buyer_id == buyer.id,
                                                 Tender.reference == data.reference.strip())):
        raise RuleViolation(_("Your organisation already has a tender with the reference %(reference)s.",
                              reference=data.reference.strip()))
    tender = Tender(buyer=buyer, status=TenderStatus.DRAFT, created_by_id=actor.id)
    _apply(tender, data)
    db.session.add(tender)
    return tender


def update_tender(actor: User, tender: Tender, data: TenderData) -> Tender:
    _require_draft(actor, tender)
    _check(data)
    _apply(tender, data)
    return tender


def _apply(tender: Tender, data: TenderData) -> None:
    tender.reference = data.reference.strip()
    tender.title = data.title.strip()
    tender.description = data.description.strip()
    tender.cpv = cpv_codes.normalise(data.cpv)
    tender.procedure = data.procedure
    tender.estimated_value = data.estimated_value
    tender.deadline = data.deadline
    tender.duration_months = data.duration_months
    tender.reservation = data.reservation


def add_lot(actor: User, tender: Tender, title: str, quantity: int, description: str = "",
            estimated_value: Decimal | None = None, campaign_line: CampaignLine | None = None) -> Lot:
    """A lot, optionally taken from a group-order line handed to a tender: its quantity is the census."""
    _require_draft(actor, tender)
    if campaign_line is not None:
        permissions.require(actor, "campaign.manage", campaign_line.campaign)
        if campaign_line.status is not LineStatus.TENDERED:
            raise RuleViolation(_("Only a group-order line handed to a tender can become a lot."))
        if db.session.scalar(select(Lot.id).where(Lot.campaign_line_id == campaign_line.id)):
            raise RuleViolation(_("This group-order line is already a lot of a tender."))
        title = title.strip() or campaign_line.title
        description = description.strip() or campaign_line.specification
        quantity = campaign_line.total_quantity
    if not title.strip():
        raise RuleViolation(_("A lot needs a title."))
    if quantity < 1:
        raise RuleViolation(_("A lot's quantity is at least 1."))
    if estimated_value is not None and estimated_value <= 0:
        raise RuleViolation(_("The estimated value excluding VAT must be positive."))
    number = max((lot.number for lot in tender.lots), default=0) + 1
    lot = Lot(tender=tender, number=number, title=title.strip(), description=description.strip(),
              quantity=quantity, estimated_value=estimated_value, campaign_line=campaign_line)
    db.session.add(lot)
    return lot


def remove_lot(actor: User, lot: Lot) -> None:
    tender = lot.tender
    _require_draft(actor, tender)
    # Deleted while still attached to its tender: the audit log names the lot by its tender's reference.
    db.session.delete(lot)
    db.session.flush()
    db.session.expire(tender, ["lots"])


def tenderable_lines(actor: User) -> list[CampaignLine]:
    """The group-order lines handed to a tender that the actor's organisation coordinates and that no
    lot uses yet."""
    from marketplace.models import Campaign

    query = (select(CampaignLine).join(Campaign)
             .where(CampaignLine.status == LineStatus.TENDERED,
                    CampaignLine.id.not_in(select(Lot.campaign_line_id).where(Lot.campaign_line_id.is_not(None))))
             .order_by(CampaignLine.id))
    return [line for line in db.session.scalars(query)
            if permissions.may(actor, "campaign.manage", line.campaign)]


def set_criteria(actor: User, tender: Tender, criteria: list[tuple[CriterionKind, str, int]]) -> None:
    """Replace the award grid. Weights are whole points summing to 100, with one price criterion."""
    _require_draft(actor, tender)
    if not criteria:
        raise RuleViolation(_("Give at least one award criterion."))
    if any(weight <= 0 for _kind, _name, weight in criteria):
        raise RuleViolation(_("Each criterion weighs at least 1 point."))
    total = sum(weight for _kind, _name, weight in criteria)
    if total != 100:
        raise RuleViolation(_("The weights of the award criteria sum to %(total)d, not 100.", total=total))
    if [kind for kind, _name, _weight in criteria].count(CriterionKind.PRICE) != 1:
        raise RuleViolation(_("The grid has exactly one price criterion."))
    for criterion in list(tender.criteria):
        tender.criteria.remove(criterion)
        db.session.delete(criterion)
    db.session.flush()
    for position, (kind, name, weight) in enumerate(criteria):
        tender.criteria.append(AwardCriterion(kind=kind, name=name.strip() or kind.label, weight=weight,
                                              position=position))


def attach_clause(actor: User, tender: Tender, version: ClauseVersion) -> TenderClause:
    _require_draft(actor, tender)
    if not version.clause.active or version is not version.clause.current:
        raise RuleViolation(_("Attach the current version of an active clause."))
    if any(tc.version.clause_id == version.clause_id for tc in tender.clauses):
        raise RuleViolation(_("The clause %(code)s is already in this tender.", code=version.clause.code))
    tender_clause = TenderClause(version=version)
    tender.clauses.append(tender_clause)
    audit.record(actor, "tender.clause_attached", tender, clause=str(version))
    return tender_clause


def detach_clause(actor: User, tender_clause: TenderClause) -> None:
    tender = tender_clause.tender
    _require_draft(actor, tender)
    tender.clauses.remove(tender_clause)
    db.session.delete(tender_clause)
    audit.record(actor, "tender.clause_detached", tender, clause=str(tender_clause.version))


@dataclass
class Check:
    problems: list[str]   # block publication
    warnings: list[str]   # shown, publication allowed

    @property
    def ok(self) -> bool:
        return not self.problems


def check(tender: Tender, on: date | None = None) -> Check:
    """What stands between the draft and its publication on the given day."""
    on = on or to_local(utcnow()).date()
    problems: list[str] = []
    warnings: list[str] = []
    if not tender.lots:
        problems.append(_("Add at least one lot."))
    if sum(c.weight for c in tender.criteria) != 100:
        problems.append(_("Set the award criteria (weights summing to 100)."))
    if tender.deadline <= utcnow():
        problems.append(_("The deadline is past: set a later one."))
    # Loi Climat et Résilience art. 35: binding from 22 August 2026, a warning before.
    (problems if climate.applies_on(on) else warnings).extend(climate.tender_problems(tender))
    if tender.reservation is not Reservation.NONE and not any(
            tc.version.theme.value == "reserved_contract" for tc in tender.clauses):
        warnings.append(_("The tender is reserved: attach the reserved-contract clause so bidders see its "
                          "conditions."))
    return Check(problems, warnings)


def publish(actor: User, tender: Tender, now: datetime | None = None) -> Check:
    _require_draft(actor, tender)
    now = now or utcnow()
    result = check(tender, to_local(now).date())
    if not result.ok:
        raise RuleViolation(" ".join(result.problems))
    tender.status = TenderStatus.PUBLISHED
    tender.published_at = now
    audit.record(actor, "tender.published", tender, warnings=result.warnings)
    return result


def cancel(actor: User, tender: Tender, reason: str) -> None:
    permissions.require(actor, "tender.manage", tender)
    if tender.status in (TenderStatus.AWARDED, TenderStatus.CANCELLED):
        raise RuleViolation(_("An awarded or cancelled tender cannot be cancelled."))
    if not reason.strip():
        raise RuleViolation(_("Give the reason for the cancellation (it is told to the bidders)."))
    tender.status = TenderStatus.CANCELLED
    audit.record(actor, "tender.cancelled", tender, reason=reason.strip())


def visible_tenders(actor: User):
    """A select of the tenders the actor may see: published ones, and drafts of their organisation."""
    query = select(Tender).order_by(Tender.deadline.desc(), Tender.id.desc())
    if permissions.may(actor, "tender.list_all"):
        return query
    return query.where((Tender.status != TenderStatus.DRAFT) | (Tender.buyer_id == actor.organisation_id))


def ask(actor: User, tender: Tender, text: str, now: datetime | None = None) -> Question:
    permissions.require(actor, "tender.ask", tender)
    if not tender.accepts_bids(now):
        raise RuleViolation(_("Questions are asked while the tender is open, before its deadline."))
    if not text.strip():
        raise RuleViolation(_("Write your question."))
    question = Question(tender=tender, organisation_id=actor.organisation_id, asked_by_id=actor.id,
                        text=text.strip())
    db.session.add(question)
    return question


def answer(actor: User, question: Question, text: str) -> None:
    permissions.require(actor, "tender.manage", question.tender)
    if not text.strip():
        raise RuleViolation(_("Write the answer."))
    question.answer = text.strip()
    question.answered_at = utcnow()


def questions_for(actor: User, tender: Tender) -> list[Question]:
    """The buyer sees every question; a supplier sees the answered ones and its own."""
    if permissions.may(actor, "tender.manage", tender):
        return list(tender.questions)
    return [q for q in tender.questions if q.answered_at is not None or q.organisation_id == actor.organisation_id]


@dataclass
class TenderFilters:
    """What a reader of the tenders list asks for. `status` is a TenderStatus value, or "open" for the
    tenders accepting bids now."""

    text: str = ""
    cpv: str | None = None
    city: str | None = None   # the buyer's commune
    reserved: bool | None = None
    status: str | None = None


OPEN_FOR_BIDS = "open"


def filtered_tenders(actor: User, filters: TenderFilters | None = None, now: datetime | None = None):
    """visible_tenders narrowed by the list's filters (one query, for pagination), and whether the search
    index answered the text filter (False: it was unavailable and the text was matched in SQL)."""
    filters = filters or TenderFilters()
    text_from_index = True
    query = visible_tenders(actor)
    if filters.cpv:
        query = query.where(Tender.cpv == filters.cpv)
    if filters.city:
        query = query.join(Tender.buyer).where(Organisation.city == filters.city)
    if filters.reserved is not None:
        query = query.where((Tender.reservation != Reservation.NONE) if filters.reserved
                            else (Tender.reservation == Reservation.NONE))
    if filters.status == OPEN_FOR_BIDS:
        query = query.where(Tender.status == TenderStatus.PUBLISHED, Tender.deadline > (now or utcnow()))
    elif filters.status:
        query = query.where(Tender.status == TenderStatus(filters.status))
    if filters.text:
        matching, text_from_index = search.text_condition(actor, "tender", filters.text)
        query = query.where(matching)
    return query, text_from_index


def buyer_cities(actor: User) -> list[str]:
    """The communes of the buyers whose tenders the actor may see: the choices of the locality filter."""
    buyers = visible_tenders(actor).with_only_columns(Tender.buyer_id).order_by(None)
    return list(db.session.scalars(select(Organisation.city).where(Organisation.id.in_(buyers),
                                                                   Organisation.city != "")
                                   .distinct().order_by(Organisation.city)))


def open_for_bids(now: datetime | None = None):
    """A select of the published tenders whose deadline is ahead, soonest first."""
    return (select(Tender).where(Tender.status == TenderStatus.PUBLISHED, Tender.deadline > (now or utcnow()))
            .order_by(Tender.deadline, Tender.id))


def attachable_versions(tender: Tender) -> list[tuple[Theme, list[ClauseVersion]]]:
    """The current versions of the active library clauses not yet in the tender, grouped by theme."""
    attached = {tc.version.clause_id for tc in tender.clauses}
    clauses = db.session.scalars(select(Clause).where(Clause.active.is_(True)).order_by(Clause.code))
    groups: dict[Theme, list[ClauseVersion]] = {}
    for clause in clauses:
        if clause.id not in attached and clause.versions:
            groups.setdefault(clause.current.theme, []).append(clause.current)
    return [(theme, groups[theme]) for theme in Theme if theme in groups]
