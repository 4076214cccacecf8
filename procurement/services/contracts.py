"""The contracts register: contracts awarded here, entered by hand or imported from DECP files, each
with its considerations and environmental score (procurement.services.considerations), derived once and
stored for SQL aggregates."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import extract, or_, select
from sqlalchemy.orm import selectinload

from core import audit, permissions
from core import cpv as cpv_codes
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import to_local
from core.models import Organisation, User, utcnow
from procurement.models import (Bid, ClauseVersion, Contract, ContractSource, ContractStatus, Lot,
                                ProcedureType)
from procurement.services import agec, considerations


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
    considerations.refresh(contract)
    agec.apply_defaults(contract)
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
    considerations.refresh(contract)


def create_manual(actor: User, buyer: Organisation, data: ContractData) -> Contract:
    permissions.require(actor, "contract.create", buyer)
    _check(buyer, data)
    contract = Contract(buyer=buyer, source=ContractSource.MANUAL, status=ContractStatus.NOTIFIED)
    _apply(contract, data)
    agec.apply_defaults(contract)
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
