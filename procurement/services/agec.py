"""Loi AGEC (n° 2020-105) art. 58: the share of a public buyer's yearly purchases of a product category,
excluding VAT, that comes from reuse or re-use (or contains recycled material); its yearly target; the flat
values of donations received; and the annual declaration (arrêté of 13 January 2025, open-data schema
`schema-declaration-biens-reemploi-reutilisation-recycle` v0.1.0, ../shared/reference/agec).

Texts:
- décret n° 2021-254 of 9 March 2021, annex: 20 % from reuse or re-use for the IT products it lists by CPV
  code (30213100-6, 30213300-8, 30231100-8, 30237200-1, 30000000-9), until 30 June 2024;
- décret n° 2024-134 of 21 February 2024, annex, from 1 July 2024: "Matériel informatique et téléphonie"
  20 % (2024), 25 % (from 2027), 30 % (from 2030);
- arrêté of 29 February 2024, NOR TRED2403741A: the products of each category. IT and telephony: fixed and
  mobile phones, computer terminals, servers, screens, desktops and laptops with or without screen,
  tablets, video projectors. Printers and multifunction printers are "reprographie et impression";
  network equipment and accessories are in no category;
- arrêté of 29 February 2024, NOR TRED2403742A: the flat values by which donations received count
  (DonationValue, kept as data with their source).

What a buyer's year counts, category by category (each choice an auditor would check is said here):
- catalogue orders created in the year (Paris time), not cancelled: each line at quantity × unit price excl.
  VAT, in the category of its device (before 1 July 2024, of its CPV code in the décret 2021-254 list); from
  reuse when the line is reconditioned or reused;
- contracts of the register notified in the year, in the category recorded on each (defaulted from its CPV
  code, editable by its officer), at their amount excl. VAT with the reuse and recycled-content amounts
  recorded on them. The register holds no invoices: a contract counts in its year of notification, a
  multi-year one entirely then. A contract whose amounts are not known (imported from DECP until its
  officer says) is left out of the share and counted apart with its amount, never guessed;
- devices the buyer received through the reuse circuit, handed over in the year, for the receiving public
  buyer only (never the giver): bought at a price (a transfer above the donation cap), at that price; given,
  at the flat value of the grid for the device's category and age at handover. A donation whose value the
  grid does not give yet (a cell to be completed, an unknown purchase date, a handover before the grid's
  entry into force) is counted apart, never at 0. Goods received count in the total and in the reuse amount
  (the declaration's `montant_reemploi_et_reutilisation` includes the donations).
- share = reuse amount / total, None without a total. The recycled-content amount is declared apart: the
  décrets' percentage for IT and telephony counts products from reuse or re-use.
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select

from core import audit, permissions
from core.csv_cells import safe_cell
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import local_to_utc
from core.models import Organisation, OrganisationKind, User
from marketplace.models import Order, OrderLine, OrderStatus
from procurement.models import Contract, ContractSource, ContractStatus, DonationValue, Mechanism, Theme
from reuse.models import Device, DeviceCategory, RequestStatus, ReuseRequest

# The declaration's categories (schema v0.1.0, `type_produit_acquis`).
IT = "Matériel informatique et téléphonie"
PRINTING = "Matériel de reprographie et d'impression"
CATEGORIES = (
    "Produits textiles à l'exception des équipements de protection individuels", IT, PRINTING,
    "Consommables d'impression", "Papier", "Fournitures de bureau", "Engins de transport et pièces détachées",
    "Véhicules et pièces détachées", "Mobilier et aménagement d'intérieur", "Mobilier urbain",
    "Equipements de collecte de déchets", "Bocaux et flacons", "Articles et équipement sportifs",
    "Matériel d'entretien des espaces verts", "Bâtiments modulaires ou préfabriqués",
    "Gros électroménager, y compris appareils professionnels", "Jeux et jouets",
)
# The platform's buyers, who declare.
DECLARING_KINDS = (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE)

# Décret 2024-134 replaces décret 2021-254 for purchases from this day.
DECRET_2024_134_FROM = date(2024, 7, 1)
# Décret 2021-254, annex: the IT products of the 20 % reuse share, by CPV code.
DECRET_2021_254_IT_CPV = ("30213100-6", "30213300-8", "30231100-8", "30237200-1", "30000000-9")
# Arrêté NOR TRED2403741A: a device category's declaration category.
CATEGORY_OF_DEVICE = {
    DeviceCategory.LAPTOP: IT, DeviceCategory.DESKTOP: IT, DeviceCategory.MONITOR: IT,
    DeviceCategory.TABLET: IT, DeviceCategory.SMARTPHONE: IT, DeviceCategory.SERVER: IT,
    DeviceCategory.PROJECTOR: IT, DeviceCategory.PRINTER: PRINTING,
}
# The same by CPV code (the codes Circuit knows, core.cpv): a contract's default category.
CATEGORY_OF_CPV = {
    "30213000-5": IT, "30213100-6": IT, "30213200-7": IT, "30213300-8": IT, "30231100-8": IT,
    "30231300-0": IT, "32250000-0": IT, "48820000-2": IT, "38652120-7": IT,
    "30232100-5": PRINTING, "30232110-8": PRINTING,
}


@dataclass(frozen=True)
class Target:
    percent: Decimal
    text: str


# The IT and telephony targets, each from 1 January of its year until the next.
IT_TARGETS = {
    2021: Target(Decimal(20), "décret n° 2021-254, annexe (CPV 30213100-6, 30213300-8, 30231100-8, "
                              "30237200-1, 30000000-9)"),
    2024: Target(Decimal(20), "décret n° 2021-254 jusqu'au 30 juin 2024, puis décret n° 2024-134, annexe"),
    2025: Target(Decimal(20), "décret n° 2024-134, annexe"),
    2027: Target(Decimal(25), "décret n° 2024-134, annexe"),
    2030: Target(Decimal(30), "décret n° 2024-134, annexe"),
}

# Arrêté NOR TRED2403742A: the grid in force (its values read so far, with their sources, are data), and its
# age bands (age of the device on the day of the donation).
GRID_FILE = Path(__file__).parents[1] / "data" / "agec_donation_grid.json"
UNDER_5_YEARS, FROM_5_YEARS = "under_5_years", "5_years_or_more"
AGE_BANDS = {UNDER_5_YEARS: _l("under 5 years"), FROM_5_YEARS: _l("5 years or more")}


@cache
def grid_file() -> dict:
    return json.loads(GRID_FILE.read_text(encoding="utf-8"))


def grid_name() -> str:
    return grid_file()["grid"]


def grid_in_force_from() -> date:
    return date.fromisoformat(grid_file()["in_force_from"])


CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def target(year: int) -> Target | None:
    """The IT and telephony target in force in the year, None before 2021."""
    applicable = [start for start in IT_TARGETS if start <= year]
    return IT_TARGETS[max(applicable)] if applicable else None


def default_category(cpv: str | None, on: date | None) -> str | None:
    """The declaration category of a purchase by its CPV code on its date (None: in no category). Before 1
    July 2024, IT is the décret 2021-254 list of codes."""
    category = CATEGORY_OF_CPV.get(cpv or "")
    if on is not None and on < DECRET_2024_134_FROM and category != PRINTING:
        return IT if cpv in DECRET_2021_254_IT_CPV else None
    return category


def default_amounts(contract: Contract) -> tuple[Decimal | None, Decimal | None]:
    """(reuse, recycled-content) amounts excl. VAT of a contract made here or entered by hand, from its
    clauses: a technical specification that the goods are refurbished makes the whole amount from reuse;
    otherwise nothing is. An imported contract's amounts are unknown until its officer says."""
    if contract.source is ContractSource.DECP:
        return None, None
    refurbished = any(version.theme is Theme.REFURBISHED_SHARE
                      and version.mechanism is Mechanism.TECHNICAL_SPECIFICATION for version in contract.clauses)
    return (contract.amount if refurbished else ZERO), ZERO


def apply_defaults(contract: Contract) -> None:
    """A new contract's category and amounts, as `default_category` and `default_amounts` give them."""
    contract.agec_category = default_category(contract.cpv, contract.notified_on)
    contract.agec_reuse_amount, contract.agec_recycled_amount = default_amounts(contract)


def set_contract_figures(actor: User, contract: Contract, category: str | None, reuse_amount: Decimal | None,
                         recycled_amount: Decimal | None) -> None:
    """The officer's answer for one contract (of any source): its category and its amounts."""
    permissions.require(actor, "contract.edit", contract)
    if category is not None and category not in CATEGORIES:
        raise RuleViolation(_("“%(category)s” is not a category of the AGEC declaration.", category=category))
    if (reuse_amount is None) != (recycled_amount is None):
        raise RuleViolation(_("Give both amounts, or neither while they are not known."))
    if reuse_amount is not None:
        if reuse_amount < 0 or recycled_amount < 0:
            raise RuleViolation(_("An amount cannot be negative."))
        if reuse_amount + recycled_amount > contract.amount:
            raise RuleViolation(_("The amounts from reuse and with recycled material together exceed the "
                                  "contract's amount (%(amount)s excl. VAT).", amount=contract.amount))
    contract.agec_category = category
    contract.agec_reuse_amount, contract.agec_recycled_amount = reuse_amount, recycled_amount
    audit.record(actor, "contract.agec_updated", contract, category=category,
                 reuse_amount=None if reuse_amount is None else str(reuse_amount),
                 recycled_amount=None if recycled_amount is None else str(recycled_amount))


# --- the figures -----------------------------------------------------------------------------------------

@dataclass
class Figures:
    """One buyer's (or several buyers') purchases of one category in one year. Amounts excl. VAT."""

    catalogue_amount: Decimal = ZERO
    catalogue_reuse_amount: Decimal = ZERO
    contracts_amount: Decimal = ZERO
    contracts_reuse_amount: Decimal = ZERO
    contracts_recycled_amount: Decimal = ZERO
    contracts_unknown: int = 0               # contracts of the category whose amounts are not known
    contracts_unknown_amount: Decimal = ZERO
    received_bought: int = 0                 # devices received for a price
    received_bought_amount: Decimal = ZERO
    donations: int = 0                       # devices received free of charge and valued
    donations_value: Decimal = ZERO
    donations_unvalued: int = 0              # received free of charge, not valued yet ("to be completed")

    @property
    def total(self) -> Decimal:
        return self.catalogue_amount + self.contracts_amount + self.received_bought_amount + self.donations_value

    @property
    def reuse_amount(self) -> Decimal:
        return (self.catalogue_reuse_amount + self.contracts_reuse_amount + self.received_bought_amount
                + self.donations_value)

    @property
    def share(self) -> Decimal | None:
        """The reuse share as a fraction with four decimals (0.25 is 25 %), None without purchases."""
        total = self.total
        return (self.reuse_amount / total).quantize(Decimal("0.0001"), ROUND_HALF_UP) if total else None

    @property
    def empty(self) -> bool:
        return not (self.total or self.contracts_unknown or self.donations_unvalued)


def _year_instants(year: int) -> tuple[datetime, datetime]:
    return local_to_utc(datetime(year, 1, 1)), local_to_utc(datetime(year + 1, 1, 1))


def _order_line_category():
    """A catalogue line's declaration category, as `default_category` and CATEGORY_OF_DEVICE say."""
    by_device = case(*((OrderLine.category == device, name) for device, name in CATEGORY_OF_DEVICE.items()),
                     else_=None)
    before = case((OrderLine.cpv.in_(DECRET_2021_254_IT_CPV), IT),
                  (OrderLine.category == DeviceCategory.PRINTER, PRINTING), else_=None)
    return case((Order.created_at < local_to_utc(datetime.combine(DECRET_2024_134_FROM, datetime.min.time())),
                 before), else_=by_device)


def _catalogue(year: int, buyers) -> list:
    start, end = _year_instants(year)
    category = _order_line_category()
    amount = OrderLine.quantity * OrderLine.unit_price  # prices have cents: each line is exact
    from_reuse = or_(OrderLine.is_reconditioned.is_(True), OrderLine.is_reused.is_(True))
    return db.session.execute(
        select(Order.buyer_id, category, func.sum(amount), func.sum(amount).filter(from_reuse))
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.buyer_id.in_(buyers), Order.status != OrderStatus.CANCELLED,
               Order.created_at >= start, Order.created_at < end, category.is_not(None))
        .group_by(Order.buyer_id, category)).all()


def _contracts(year: int, buyers) -> list:
    known = Contract.agec_reuse_amount.is_not(None)
    return db.session.execute(
        select(Contract.buyer_id, Contract.agec_category,
               func.sum(Contract.amount).filter(known), func.sum(Contract.agec_reuse_amount),
               func.sum(Contract.agec_recycled_amount),
               func.count(Contract.id).filter(~known), func.sum(Contract.amount).filter(~known))
        .where(Contract.buyer_id.in_(buyers), Contract.status == ContractStatus.NOTIFIED,
               Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)),
               Contract.agec_category.is_not(None))
        .group_by(Contract.buyer_id, Contract.agec_category)).all()


def _received(year: int, buyers) -> list:
    """(receiving buyer, device category, purchase date, handover date, devices, price paid or None)."""
    return db.session.execute(
        select(ReuseRequest.organisation_id, Device.category, Device.purchase_date, Device.left_on,
               func.count(Device.id), func.sum(Device.sale_price))
        .join(ReuseRequest, Device.request_id == ReuseRequest.id)
        .where(ReuseRequest.organisation_id.in_(buyers),
               ReuseRequest.status.in_((RequestStatus.HANDED_OVER, RequestStatus.RECEIVED)),
               Device.left_on.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(ReuseRequest.organisation_id, Device.category, Device.purchase_date, Device.left_on,
                  Device.sale_price.is_(None))).all()


def device_category(category: DeviceCategory, on: date) -> str | None:
    """A device's declaration category on a day (before 1 July 2024, by its CPV code)."""
    if on < DECRET_2024_134_FROM:
        return default_category(category.factors.cpv, on)
    return CATEGORY_OF_DEVICE.get(category)


def age_band(purchase_date: date | None, on: date) -> str | None:
    """The grid's age band of a device on a day; None when its purchase date is unknown."""
    if purchase_date is None:
        return None
    try:
        fifth_birthday = purchase_date.replace(year=purchase_date.year + 5)
    except ValueError:  # bought on 29 February
        fifth_birthday = date(purchase_date.year + 5, 3, 1)
    return UNDER_5_YEARS if on < fifth_birthday else FROM_5_YEARS


def donation_values() -> dict[tuple[str, str], Decimal | None]:
    """(device category, age band) → the grid's flat value excl. VAT, None where it is to be completed."""
    return {(cell.category, cell.age_band): cell.value for cell in grid()}


def figures_by_buyer(year: int, buyer_ids, parts=("catalogue", "contracts", "received")) -> dict[tuple[int, str],
                                                                                                Figures]:
    """(buyer id, category) → Figures, for the buyers given (a list, or a select of ids): a statement for
    each part asked (all three by default)."""
    found: dict[tuple[int, str], Figures] = defaultdict(Figures)
    if "catalogue" in parts:
        for buyer_id, category, amount, reused in _catalogue(year, buyer_ids):
            figures = found[buyer_id, category]
            figures.catalogue_amount, figures.catalogue_reuse_amount = _cents(amount), _cents(reused)
    if "contracts" in parts:
        for buyer_id, category, amount, reused, recycled, unknown, unknown_amount in _contracts(year, buyer_ids):
            figures = found[buyer_id, category]
            figures.contracts_amount, figures.contracts_reuse_amount = _cents(amount), _cents(reused)
            figures.contracts_recycled_amount = _cents(recycled)
            figures.contracts_unknown, figures.contracts_unknown_amount = unknown, _cents(unknown_amount)
    if "received" in parts:
        _add_received(found, year, buyer_ids)
    return dict(found)


def _add_received(found: dict[tuple[int, str], Figures], year: int, buyer_ids) -> None:
    values = None
    for buyer_id, category, purchase_date, handed_over_on, count, price in _received(year, buyer_ids):
        name = device_category(DeviceCategory(category), handed_over_on)
        if name is None:
            continue
        figures = found[buyer_id, name]
        if price is not None:
            figures.received_bought += count
            figures.received_bought_amount += _cents(price)
            continue
        values = donation_values() if values is None else values
        value = (values.get((DeviceCategory(category).value, age_band(purchase_date, handed_over_on)))
                 if handed_over_on >= grid_in_force_from() else None)
        if value is None:
            figures.donations_unvalued += count
        else:
            figures.donations += count
            figures.donations_value += _cents(value * count)


def contracts_to_complete(year: int, buyer: Organisation | None):
    """A select of the contracts of the year left out of the share because their amounts are unknown."""
    query = (select(Contract).where(Contract.status == ContractStatus.NOTIFIED,
                                    Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)),
                                    Contract.agec_category.is_not(None), Contract.agec_reuse_amount.is_(None))
             .order_by(Contract.notified_on, Contract.id))
    return query.where(Contract.buyer_id == buyer.id) if buyer is not None else query.where(
        Contract.buyer_id.in_(_declaring_buyers()))


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, ROUND_HALF_UP)


def _declaring_buyers():
    return select(Organisation.id).where(Organisation.kind.in_(DECLARING_KINDS)).scalar_subquery()


def figures(year: int, buyer: Organisation | None, category: str = IT,
            parts=("catalogue", "contracts", "received")) -> Figures:
    """One buyer's figures of the category for the year, or the territory's (every declaring buyer); only
    the parts asked, when not all three."""
    buyers = [buyer.id] if buyer is not None else _declaring_buyers()
    total = Figures()
    for (_buyer_id, name), found in figures_by_buyer(year, buyers, parts).items():
        if name == category:
            for key in vars(total):
                setattr(total, key, getattr(total, key) + getattr(found, key))
    return total


# --- the annual declaration ----------------------------------------------------------------------------

FIELDS = ("annee", "siret", "raison_sociale", "type_produit_acquis", "montant_total",
          "montant_reemploi_et_reutilisation", "montant_produits_issus_don", "montant_produits_recycles",
          "commentaires")


def _comment(found: Figures) -> str:
    """What the buyer should know before filing the row (the declaration is a French file)."""
    parts = ["Achats de l'année sur Circuit : commandes du catalogue non annulées, contrats du registre notifiés "
             "dans l'année (à leur montant), matériel reçu par le circuit de réemploi."]
    if found.contracts_unknown:
        parts.append(f"{found.contracts_unknown} contrat(s) de la catégorie ({found.contracts_unknown_amount} € HT) "
                     "sans part de réemploi connue : non compté(s), à compléter sur la fiche du contrat.")
    if found.donations_unvalued:
        parts.append(f"{found.donations_unvalued} appareil(s) reçu(s) en don sans valeur forfaitaire connue "
                     "(grille de l'arrêté du 29 février 2024 à compléter, ou date d'achat inconnue) : non "
                     "compté(s).")
    return " ".join(parts)


def declaration_rows(year: int) -> list[dict]:
    """The declaration's rows: one per declaring buyer with a SIRET and category with purchases."""
    buyers = {organisation.id: organisation for organisation in db.session.scalars(
        select(Organisation).where(Organisation.kind.in_(DECLARING_KINDS), Organisation.siret.is_not(None)))}
    found = figures_by_buyer(year, list(buyers))
    rows = []
    def order(pair):  # by buyer, then in the declaration's order of categories
        (buyer_id, category), _item = pair
        return buyers[buyer_id].name, buyer_id, CATEGORIES.index(category)

    for (buyer_id, category), item in sorted(found.items(), key=order):
        if item.empty:
            continue
        buyer = buyers[buyer_id]
        rows.append({"annee": year, "siret": buyer.siret, "raison_sociale": buyer.name,
                     "type_produit_acquis": category, "montant_total": item.total,
                     "montant_reemploi_et_reutilisation": item.reuse_amount,
                     "montant_produits_issus_don": item.donations_value,
                     "montant_produits_recycles": item.contracts_recycled_amount, "commentaires": _comment(item)})
    return rows


def declaration_csv(year: int) -> str:
    """The declaration as CSV: comma-separated, decimal point, UTF-8 (as the schema's example)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in declaration_rows(year))
    return out.getvalue()


# --- the donation grid ----------------------------------------------------------------------------------

@dataclass
class Cell:
    """A cell of the grid in force: its value excl. VAT (None: to be completed) and where it was read."""

    category: str
    age_band: str
    value: Decimal | None
    source: str
    completed: DonationValue | None = None  # the administrator's entry, when there is one

    @property
    def device_category(self) -> DeviceCategory:
        return DeviceCategory(self.category)


def grid() -> list[Cell]:
    """The grid in force: the data file's cells, each replaced by an administrator's entry when there is one."""
    name = grid_name()
    entries = {(row.category, row.age_band): row
               for row in db.session.scalars(select(DonationValue).where(DonationValue.grid == name))}
    cells = []
    for item in grid_file()["cells"]:
        key = (item["category"], item["age_band"])
        entry = entries.get(key)
        if entry is not None:
            cells.append(Cell(*key, entry.value_eur, entry.source, entry))
        else:
            value = item["value_eur"]
            cells.append(Cell(*key, None if value is None else Decimal(value), item["source"]))
    return cells


def set_donation_value(actor: User, category: str, age_band: str, value: Decimal | None, source: str) -> None:
    """An administrator copies a cell of the arrêté: its value excl. VAT (None: to be completed) and where it
    was read."""
    permissions.require(actor, "agec.edit_values")
    cell = next((cell for cell in grid() if (cell.category, cell.age_band) == (category, age_band)), None)
    if cell is None:
        raise RuleViolation(_("The grid has no such cell."))
    if value is not None and value < 0:
        raise RuleViolation(_("A value cannot be negative."))
    if value is not None and not source.strip():
        raise RuleViolation(_("Say where the value was read (the arrêté's annex, its page)."))
    entry = cell.completed or DonationValue(grid=grid_name(), category=category, age_band=age_band)
    entry.value_eur, entry.source, entry.updated_by_id = value, source.strip(), actor.id
    db.session.add(entry)
    audit.record(actor, "agec.donation_value_updated", None, category=category, age_band=age_band,
                 value=[None if cell.value is None else str(cell.value), None if value is None else str(value)])
