"""The contracts register: contracts awarded here, entered by hand or imported from DECP files, each
with its considerations and environmental score (procurement.services.considerations), derived once and
stored for SQL aggregates, its DECP v2 fields as their source gave them, and its modifications.

What Circuit, as the source of a contract, records (issue 19: export only what is known):
- awarded here (`from_award`): what the tender and its bids tell; an advance or a declared subcontracting
  are not known at the award, and the contract page asks its officer (`complete_decp_fields`);
- entered by hand: what its officer's form gives, every field the DECP schema requires;
- imported: what its DECP file gives (procurement.decp).
A contract's `amount`, `duration_months` and holder are the initial ones; a modification (avenant) is
appended, numbered from 1, never edited, and `current_terms` reads the values after them (DECP v2: the
published `montant` and `dureeMois` never change, `modifications` carry the new ones).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import extract, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import audit, permissions
from core import cpv as cpv_codes
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import to_local
from core.models import Organisation, User, utcnow
from core.services import clean_siret
from procurement import decp
from procurement.models import (Bid, ClauseVersion, Contract, ContractModification, ContractSource, ContractStatus,
                                Lot, ProcedureType)
from procurement.services import agec, considerations

# CCAG-TIC (arrêté du 30 mars 2021) covers the purchase and maintenance of IT and telephony equipment and
# software: CPV divisions 30 (office and computing machinery), 32 (telecom equipment), 48 (software and
# servers), 72 (IT services) and IT repair (5031, 5032). Anything else (e.g. WEEE collection, 905) falls
# under the CCAG for supplies and services.
TIC_CPV_PREFIXES = ("30", "32", "48", "72", "5031", "5032")
NOT_APPLICABLE = "Sans objet"  # the DECP lists' "none applies"


def ccag_of(cpv: str) -> str:
    """The CCAG a tender of this CPV code refers to (Circuit's tenders are supplies and services)."""
    return decp.CCAG_TIC if cpv.startswith(TIC_CPV_PREFIXES) else decp.CCAG_FCS


def next_decp_id(buyer: Organisation, year: int) -> str:
    """The buyer's next contract number for the year: 2026C0001 (DECP ids are at most 16 characters)."""
    prefix = f"{year}C"
    used = db.session.scalars(select(Contract.decp_id).where(Contract.buyer_id == buyer.id,
                                                             Contract.decp_id.like(f"{prefix}%")))
    numbers = [int(value[len(prefix):]) for value in used if value[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def place_of(buyer: Organisation) -> tuple[str, str]:
    """(lieuExecution code, typeCode) of a contract executed at its buyer's: the schema prefers INSEE codes, a
    commune has one; the EPT and the syndicates give their seat's postcode; ("", "") when neither is known."""
    if buyer.insee_code:
        return buyer.insee_code, "Code commune"
    return (buyer.postcode, "Code postal") if buyer.postcode else ("", "")


def from_award(lot: Lot, bid: Bid, offers_received: int, standstill_ends_at: datetime) -> Contract:
    """The contract of a lot's award, with what Circuit knows as its source: a tender here has neither
    framework agreement nor tranches, a bid is one firm total price for its lot from one supplier
    organisation, and nothing innovative is asked. Whether an advance is granted and whether subcontracting
    was declared are not known at the award: they stay unknown until the officer says."""
    tender = lot.tender
    supplier = bid.supplier
    place_code, place_code_type = place_of(tender.buyer)
    contract = Contract(
        buyer=tender.buyer, decp_id=next_decp_id(tender.buyer, to_local(utcnow()).year),
        source=ContractSource.TENDER, status=ContractStatus.AWARDED,
        title=f"{tender.title} – {_('lot')} {lot.number}: {lot.title}"[:1000], nature="Marché", cpv=tender.cpv,
        procedure=tender.procedure.decp, amount=bid.price, duration_months=tender.duration_months,
        offers_received=offers_received, supplier=supplier, holder_id=supplier.siret or "", holder_id_type="SIRET",
        holder_name=supplier.name, lot=lot, standstill_ends_at=standstill_ends_at,
        clauses=[tc.version for tc in tender.clauses], place_code=place_code, place_code_type=place_code_type,
        techniques=[NOT_APPLICABLE], execution_modalities=[NOT_APPLICABLE], price_types=["Définitif ferme"],
        price_form="Forfaitaire", ccag=ccag_of(tender.cpv), innovative=False, operator_grouping="Pas de groupement",
        advance_payment=None, subcontracting_declared=None)
    db.session.add(contract)
    considerations.refresh(contract)
    agec.apply_defaults(contract)
    return contract


def sign(actor: User, contract: Contract, now: datetime | None = None) -> None:
    """Signature and notification, once the standstill period is over (CCP R.2182-1: STANDSTILL_DAYS after the
    award letters; signing at its very end is allowed, a microsecond before is not)."""
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


# The AGEC category of a contract entered by hand, when its officer leaves it to its CPV code.
AGEC_FROM_CPV = "from_cpv"


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
    # The DECP v2 fields the schema requires ("" / [] / None: not given, and the export names them missing).
    nature: str = ""
    techniques: list[str] = field(default_factory=list)
    execution_modalities: list[str] = field(default_factory=list)
    innovative: bool | None = None
    ccag: str = ""
    advance_payment: bool | None = None
    operator_grouping: str = ""
    place_code: str = ""
    place_code_type: str = ""
    published_on: date | None = None
    price_types: list[str] = field(default_factory=list)
    price_form: str = ""
    subcontracting_declared: bool | None = None
    # Loi AGEC art. 58: a category of agec.CATEGORIES, None for none of them, or AGEC_FROM_CPV; the amounts
    # from reuse and with recycled material, or None to derive them from the clauses (agec.default_amounts).
    agec_category: str | None = AGEC_FROM_CPV
    agec_amounts: tuple[Decimal | None, Decimal | None] | None = None


# ContractData field -> the schema's list of values it takes (procurement.decp).
_LISTS = {"nature": decp.NATURES_V2, "ccag": decp.CCAGS, "operator_grouping": decp.OPERATOR_GROUPINGS,
          "place_code_type": decp.PLACE_CODE_TYPES, "price_form": decp.PRICE_FORMS_V2}
_MULTIPLE = {"techniques": decp.TECHNIQUES, "execution_modalities": decp.EXECUTION_MODALITIES,
             "price_types": decp.PRICE_TYPES}


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
    if data.offers_received is not None and data.offers_received < 1:
        raise RuleViolation(_("A contract was awarded on at least one offer."))
    for name, allowed in _LISTS.items():
        if getattr(data, name) and getattr(data, name) not in allowed:
            raise RuleViolation(_("“%(value)s” is not a value of the DECP list.", value=getattr(data, name)))
    for name, allowed in _MULTIPLE.items():
        for value in getattr(data, name):
            if value not in allowed:
                raise RuleViolation(_("“%(value)s” is not a value of the DECP list.", value=value))
    if len(data.place_code.strip()) > 10:
        raise RuleViolation(_("The place of execution's code has at most 10 characters."))
    if data.published_on is not None and data.published_on < data.notified_on:
        raise RuleViolation(_("The contract's data are published once it is notified, not before."))
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
    contract.published_on = data.published_on
    contract.duration_months = data.duration_months
    contract.offers_received = data.offers_received
    contract.supplier = data.supplier
    contract.holder_id = data.supplier.siret if data.supplier is not None else data.holder_id.strip()
    contract.holder_id_type = "SIRET"
    contract.holder_name = data.supplier.name if data.supplier is not None else data.holder_name.strip()
    contract.nature = data.nature
    contract.techniques = list(dict.fromkeys(data.techniques))
    contract.execution_modalities = list(dict.fromkeys(data.execution_modalities))
    contract.price_types = list(dict.fromkeys(data.price_types))
    contract.innovative, contract.advance_payment = data.innovative, data.advance_payment
    contract.subcontracting_declared = data.subcontracting_declared
    contract.ccag, contract.operator_grouping, contract.price_form = data.ccag, data.operator_grouping, data.price_form
    contract.place_code, contract.place_code_type = data.place_code.strip(), data.place_code_type
    contract.clauses = list(data.clauses)
    considerations.refresh(contract)


def _apply_agec(actor: User, contract: Contract, data: ContractData) -> None:
    """The AGEC figures the officer gave, through agec.set_contract_figures (which checks and records
    them), or agec's defaults when the form leaves them to the CPV code and the clauses."""
    if data.agec_category == AGEC_FROM_CPV and data.agec_amounts is None:
        agec.apply_defaults(contract)
        return
    category = (agec.default_category(contract.cpv, contract.notified_on) if data.agec_category == AGEC_FROM_CPV
                else data.agec_category)
    reuse, recycled = agec.default_amounts(contract) if data.agec_amounts is None else data.agec_amounts
    if (category, reuse, recycled) == (contract.agec_category, contract.agec_reuse_amount,
                                       contract.agec_recycled_amount):
        return
    db.session.flush()  # the audit entry names the contract by its id
    agec.set_contract_figures(actor, contract, category, reuse, recycled)


def create_manual(actor: User, buyer: Organisation, data: ContractData) -> Contract:
    permissions.require(actor, "contract.create", buyer)
    _check(buyer, data)
    contract = Contract(buyer=buyer, source=ContractSource.MANUAL, status=ContractStatus.NOTIFIED)
    _apply(contract, data)
    db.session.add(contract)
    _apply_agec(actor, contract, data)
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
    _apply_agec(actor, contract, data)
    return contract


def complete_decp_fields(actor: User, contract: Contract, advance_payment: bool | None,
                         subcontracting_declared: bool | None) -> None:
    """What the award did not tell about a contract tendered here: whether an advance is granted
    (attributionAvance) and whether its holder declared subcontracting (sousTraitanceDeclaree). Each is
    given once; the export waits for both."""
    permissions.require(actor, "contract.edit", contract)
    if contract.source is not ContractSource.TENDER:
        raise RuleViolation(_("Only a contract tendered on Circuit is completed here: one entered by hand is "
                              "edited with its form, an imported one comes from its DECP file."))
    answers = {"advance_payment": advance_payment, "subcontracting_declared": subcontracting_declared}
    if all(value is None for value in answers.values()):
        raise RuleViolation(_("Answer at least one of the questions."))
    for name, value in answers.items():
        if value is None:
            continue
        if getattr(contract, name) is not None and getattr(contract, name) != value:
            raise RuleViolation(_("This answer is already given: a published contract changes only by a "
                                  "modification."))
        setattr(contract, name, value)
    audit.record(actor, "contract.decp_completed", contract, **answers)


@dataclass(frozen=True)
class Terms:
    """A contract's amount, duration and holder at some point of its life."""

    amount: Decimal
    duration_months: int | None
    holder_id: str
    holder_id_type: str
    holder_name: str


def current_terms(contract: Contract) -> Terms:
    """The amount, duration and holder after the contract's modifications: each brings only what it changes,
    and the latest one that changes a value wins."""
    terms = Terms(contract.amount, contract.duration_months, contract.holder_id, contract.holder_id_type,
                  contract.holder_name)
    for modification in contract.modifications:
        terms = Terms(
            modification.amount if modification.amount is not None else terms.amount,
            modification.duration_months if modification.duration_months is not None else terms.duration_months,
            *((modification.holder_id, modification.holder_id_type, modification.holder_name)
              if modification.holder_id else (terms.holder_id, terms.holder_id_type, terms.holder_name)))
    return terms


@dataclass
class ModificationData:
    notified_on: date
    published_on: date
    amount: Decimal | None = None
    duration_months: int | None = None
    holder_siret: str = ""
    holder_name: str = ""
    description: str = ""


def _next_modification_number(contract: Contract) -> int:
    return (db.session.scalar(select(func.max(ContractModification.number))
                              .where(ContractModification.contract_id == contract.id)) or 0) + 1


def add_modification(actor: User, contract: Contract, data: ModificationData) -> ContractModification:
    """Append a modification (avenant) to a contract Circuit publishes: the next number, never edited
    afterwards (DECP v2 `modifications`: numbered from 1 in the order of notification)."""
    permissions.require(actor, "contract.edit", contract)
    if contract.source is ContractSource.DECP:
        raise RuleViolation(_("An imported contract's modifications come from its DECP file."))
    if contract.status is not ContractStatus.NOTIFIED:
        raise RuleViolation(_("Only a notified contract is modified."))
    holder_siret = clean_siret(data.holder_siret) or ""
    if data.amount is None and data.duration_months is None and not holder_siret:
        raise RuleViolation(_("A modification gives a new amount, a new duration or a new holder."))
    if data.amount is not None and data.amount < 1:
        raise RuleViolation(_("The new amount excluding VAT is at least 1 euro."))
    if data.duration_months is not None and data.duration_months < 1:
        raise RuleViolation(_("The new duration is at least one month."))
    if holder_siret and not data.holder_name.strip():
        raise RuleViolation(_("Give the new holder's name with its SIRET."))
    if data.notified_on < contract.notified_on:
        raise RuleViolation(_("A modification is notified after its contract (notified on %(date)s).",
                              date=contract.notified_on.strftime("%d/%m/%Y")))
    previous = contract.modifications[-1] if contract.modifications else None
    if previous is not None and data.notified_on < previous.notified_on:
        raise RuleViolation(_("Modifications are numbered in the order of their notification: this one cannot be "
                              "notified before modification %(number)d (%(date)s).", number=previous.number,
                              date=previous.notified_on.strftime("%d/%m/%Y")))
    if data.published_on < data.notified_on:
        raise RuleViolation(_("The data of a modification are published once it is notified, not before."))
    modification = ContractModification(
        contract=contract, number=_next_modification_number(contract), notified_on=data.notified_on,
        published_on=data.published_on, amount=data.amount, duration_months=data.duration_months,
        holder_id=holder_siret, holder_id_type="SIRET" if holder_siret else "",
        holder_name=data.holder_name.strip() if holder_siret else "", description=data.description.strip(),
        created_by_id=actor.id)
    db.session.add(modification)
    try:
        db.session.flush()
    except IntegrityError:
        # uq_contract_modifications_number: another officer's modification took this number meanwhile.
        raise RuleViolation(_("Another modification of this contract was recorded at the same moment, with the "
                              "same number: this one was not recorded. Check the contract's modifications and "
                              "record it again if it is still needed.")) from None
    audit.record(actor, "contract.modification_added", contract, number=modification.number)
    return modification


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
