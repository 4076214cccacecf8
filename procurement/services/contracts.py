"""The contracts register: contracts awarded here, entered by hand or imported from DECP files, each
with its considerations and environmental score, derived once here and stored for SQL aggregates.

Environmental score (0 to 100, capped): each environmental clause counts the points of its mechanism
(MECHANISM_POINTS), each environmental award criterion of the tender's grid counts its weight. An
imported contract has no clauses, only the file's considerations: a "Clause environnementale" counts as
an execution clause, a "Critère environnemental" as an award criterion.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, or_, select
from sqlalchemy.orm import selectinload

from core import audit, permissions
from core import cpv as cpv_codes
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import to_local
from core.models import Organisation, User, utcnow
from procurement.models import (ENV_CLAUSE, ENV_CRITERION, RESERVED, SOCIAL_CLAUSE, SOCIAL_CRITERION, Bid,
                                ClauseVersion, Contract, ContractSource, ContractStatus, CriterionKind, Lot,
                                Mechanism, ProcedureType, Reservation, Theme)

MECHANISM_POINTS = {
    Mechanism.EXECUTION_CLAUSE: 20,
    Mechanism.AWARD_CRITERION: 20,
    Mechanism.TECHNICAL_SPECIFICATION: 15,
    Mechanism.SELECTION_CRITERION: 10,
}

# The module docstring's formula, for the contract page (translated).
SCORE_EXPLANATION = _l(
    "Environmental score (0 to 100, capped): each environmental clause counts the points of its mechanism "
    "(execution clause %(execution)d, award criterion %(award)d, technical specification %(specification)d, "
    "selection criterion %(selection)d); each environmental award criterion of the tender's grid counts its "
    "weight. An imported contract has no clauses, only its DECP considerations: a “Clause environnementale” "
    "counts as an execution clause, a “Critère environnemental” as an award criterion.",
    execution=MECHANISM_POINTS[Mechanism.EXECUTION_CLAUSE], award=MECHANISM_POINTS[Mechanism.AWARD_CRITERION],
    specification=MECHANISM_POINTS[Mechanism.TECHNICAL_SPECIFICATION],
    selection=MECHANISM_POINTS[Mechanism.SELECTION_CRITERION])


def refresh_considerations(contract: Contract, decp_considerations: set[str] | None = None) -> None:
    """Derive the DECP considerations and the environmental score: from the clauses (and the tender's
    grid and reservation) of a contract made here, from the file's considerations for an imported one."""
    breakdown: list[dict] = []
    if contract.source is ContractSource.DECP:
        found = set(decp_considerations or ())
        for name, mechanism in ((ENV_CLAUSE, Mechanism.EXECUTION_CLAUSE), (ENV_CRITERION, Mechanism.AWARD_CRITERION)):
            if name in found:
                breakdown.append({"source": "decp", "label": name, "mechanism": mechanism.value,
                                  "points": MECHANISM_POINTS[mechanism]})
    else:
        found = set()
        for version in sorted(contract.clauses, key=lambda v: v.clause.code):  # a stable breakdown
            if version.is_environmental:
                found.add(ENV_CRITERION if version.mechanism is Mechanism.AWARD_CRITERION else ENV_CLAUSE)
                breakdown.append({"source": "clause", "code": version.clause.code, "version": version.number,
                                  "label": version.title_fr, "mechanism": version.mechanism.value,
                                  "points": MECHANISM_POINTS[version.mechanism]})
            elif version.theme is Theme.RESERVED_CONTRACT:
                found.add(RESERVED)
            else:
                found.add(SOCIAL_CRITERION if version.mechanism is Mechanism.AWARD_CRITERION else SOCIAL_CLAUSE)
        tender = contract.lot.tender if contract.lot is not None else None
        if tender is not None:
            if tender.reservation is not Reservation.NONE:
                found.add(RESERVED)
            for criterion in tender.criteria:
                if criterion.kind is CriterionKind.ENVIRONMENTAL:
                    found.add(ENV_CRITERION)
                    breakdown.append({"source": "criterion", "label": criterion.name,
                                      "mechanism": Mechanism.AWARD_CRITERION.value, "points": criterion.weight})
                elif criterion.kind is CriterionKind.SOCIAL:
                    found.add(SOCIAL_CRITERION)
    contract.env_clause = ENV_CLAUSE in found
    contract.env_criterion = ENV_CRITERION in found
    contract.social_clause = SOCIAL_CLAUSE in found
    contract.social_criterion = SOCIAL_CRITERION in found
    contract.reserved = RESERVED in found
    contract.env_score = min(100, sum(item["points"] for item in breakdown))
    contract.env_score_breakdown = breakdown


def next_decp_id(buyer: Organisation, year: int) -> str:
    """The buyer's next contract number for the year: 2026C0001 (DECP ids are at most 16 characters)."""
    prefix = f"{year}C"
    used = db.session.scalars(select(Contract.decp_id).where(Contract.buyer_id == buyer.id,
                                                             Contract.decp_id.like(f"{prefix}%")))
    numbers = [int(value[len(prefix):]) for value in used if value[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def from_award(lot: Lot, bid: Bid, offers_received: int, standstill_ends_at: datetime) -> Contract:
    tender = lot.tender
    supplier = bid.supplier
    contract = Contract(
        buyer=tender.buyer, decp_id=next_decp_id(tender.buyer, to_local(utcnow()).year),
        source=ContractSource.TENDER, status=ContractStatus.AWARDED,
        title=f"{tender.title} – {_('lot')} {lot.number}: {lot.title}"[:1000], cpv=tender.cpv,
        procedure=tender.procedure.decp, amount=bid.price, duration_months=tender.duration_months,
        offers_received=offers_received, supplier=supplier, holder_id=supplier.siret or "",
        holder_name=supplier.name, lot=lot, standstill_ends_at=standstill_ends_at,
        clauses=[tc.version for tc in tender.clauses])
    db.session.add(contract)
    refresh_considerations(contract)
    return contract


def sign(actor: User, contract: Contract, now: datetime | None = None) -> None:
    """Signature and notification, once the standstill period is over."""
    permissions.require(actor, "contract.edit", contract)
    now = now or utcnow()
    if contract.status is not ContractStatus.AWARDED:
        raise RuleViolation(_("This contract is already notified."))
    if contract.standstill_ends_at is not None and now < contract.standstill_ends_at:
        raise RuleViolation(_("The standstill period runs until %(end)s: the contract cannot be signed before.",
                              end=to_local(contract.standstill_ends_at).strftime("%d/%m/%Y %H:%M")))
    contract.status = ContractStatus.NOTIFIED
    contract.notified_on = to_local(now).date()
    contract.published_on = contract.notified_on
    audit.record(actor, "contract.notified", contract)


@dataclass
class ContractData:
    decp_id: str
    title: str
    cpv: str
    procedure: ProcedureType
    amount: Decimal
    notified_on: date
    duration_months: int
    supplier: Organisation | None = None
    holder_id: str = ""
    holder_name: str = ""
    offers_received: int | None = None
    clauses: list[ClauseVersion] = field(default_factory=list)


def _check(buyer: Organisation, data: ContractData, existing: Contract | None = None) -> None:
    if not data.decp_id.strip() or len(data.decp_id.strip()) > 16:
        raise RuleViolation(_("The contract number has 1 to 16 characters (DECP)."))
    if not data.title.strip():
        raise RuleViolation(_("Give the contract's subject."))
    if not cpv_codes.is_known(data.cpv):
        raise RuleViolation(_("The CPV code %(cpv)s is not in the list of codes Circuit knows.", cpv=data.cpv))
    if data.amount is None or data.amount <= 0:
        raise RuleViolation(_("The amount excluding VAT must be positive."))
    if data.duration_months is None or data.duration_months < 1:
        raise RuleViolation(_("The duration is at least one month."))
    if data.supplier is None and not data.holder_name.strip():
        raise RuleViolation(_("Name the holder: a supplier of the platform, or its name and SIRET."))
    duplicate = db.session.scalar(select(Contract.id).where(Contract.buyer_id == buyer.id,
                                                            Contract.decp_id == data.decp_id.strip()))
    if duplicate is not None and (existing is None or duplicate != existing.id):
        raise RuleViolation(_("Your organisation already has a contract numbered %(id)s.", id=data.decp_id.strip()))


def _apply(contract: Contract, data: ContractData) -> None:
    contract.decp_id = data.decp_id.strip()
    contract.title = data.title.strip()
    contract.cpv = cpv_codes.normalise(data.cpv)
    contract.procedure = data.procedure.decp
    contract.amount = data.amount
    contract.notified_on = data.notified_on
    contract.published_on = contract.published_on or data.notified_on
    contract.duration_months = data.duration_months
    contract.offers_received = data.offers_received
    contract.supplier = data.supplier
    contract.holder_id = data.supplier.siret if data.supplier is not None else data.holder_id.strip()
    contract.holder_name = data.supplier.name if data.supplier is not None else data.holder_name.strip()
    contract.clauses = list(data.clauses)
    refresh_considerations(contract)


def create_manual(actor: User, buyer: Organisation, data: ContractData) -> Contract:
    permissions.require(actor, "contract.create", buyer)
    _check(buyer, data)
    contract = Contract(buyer=buyer, source=ContractSource.MANUAL, status=ContractStatus.NOTIFIED)
    _apply(contract, data)
    db.session.add(contract)
    return contract


def check_editable(contract: Contract) -> None:
    if contract.source is not ContractSource.MANUAL:
        raise RuleViolation(_("Only a contract entered by hand is edited here: the others come from their "
                              "tender or their DECP file."))


def update_manual(actor: User, contract: Contract, data: ContractData) -> Contract:
    permissions.require(actor, "contract.edit", contract)
    check_editable(contract)
    _check(contract.buyer, data, contract)
    _apply(contract, data)
    return contract


def visible_contracts(actor: User):
    """The register is open data: every signed-in user reads it."""
    permissions.require(actor, "contract.list")
    return select(Contract).order_by(Contract.notified_on.desc().nulls_last(), Contract.id.desc())


@dataclass
class RegisterFilters:
    buyer_id: int | None = None
    year: int | None = None
    source: ContractSource | None = None
    cpv: str = ""  # a code or its beginning: "30213" finds every kind of computer
    environmental: bool | None = None
    social: bool | None = None


def search_contracts(actor: User, filters: RegisterFilters):
    """The register (visible_contracts) narrowed by the filters."""
    query = visible_contracts(actor).options(selectinload(Contract.buyer), selectinload(Contract.supplier))
    if filters.buyer_id is not None:
        query = query.where(Contract.buyer_id == filters.buyer_id)
    if filters.year is not None:
        query = query.where(Contract.notified_on >= date(filters.year, 1, 1),
                            Contract.notified_on <= date(filters.year, 12, 31))
    if filters.source is not None:
        query = query.where(Contract.source == filters.source)
    stem = filters.cpv.strip().split("-")[0]
    if stem:
        query = query.where(Contract.cpv.like(f"{stem}%"))
    has_env = or_(Contract.env_clause, Contract.env_criterion)
    has_social = or_(Contract.social_clause, Contract.social_criterion, Contract.reserved)
    if filters.environmental is not None:
        query = query.where(has_env if filters.environmental else ~has_env)
    if filters.social is not None:
        query = query.where(has_social if filters.social else ~has_social)
    return query


def register_buyers() -> list[Organisation]:
    """The organisations that have contracts in the register, for its buyer filter."""
    return list(db.session.scalars(select(Organisation).where(
        Organisation.id.in_(select(Contract.buyer_id).distinct())).order_by(Organisation.name)))


def register_years() -> list[int]:
    year = extract("year", Contract.notified_on)
    return [int(y) for y in db.session.scalars(select(year).where(Contract.notified_on.is_not(None))
                                               .distinct().order_by(year.desc())) if y is not None]
