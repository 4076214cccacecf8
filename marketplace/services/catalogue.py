"""The catalogue: validated suppliers publish and edit offers; buyers browse the visible ones.

An offer is visible in the catalogue when its supplier is validated, it is active and it has stock
(the same rule as `catalogue.view` in core.permissions, written once more here as SQL for the list).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, case, cast, or_, select
from sqlalchemy.orm import contains_eager

from core import audit, permissions, search
from core.errors import RuleViolation
from core.cpv import CPV_CODES
from core.extensions import db
from core.models import Organisation, User, ValidationStatus
from core.territory import Locality
from marketplace.models import CatalogueOffer, Grade, Label, PriceTier
from marketplace.money import cents
from reuse.models import DeviceCategory


# Devices that carry a battery whose health a refurbisher measures (EU GPP 2021, refurbished devices).
PORTABLE_CATEGORIES = frozenset({DeviceCategory.LAPTOP, DeviceCategory.TABLET, DeviceCategory.SMARTPHONE})

# French VAT rates (CGI art. 278 to 281): normal, intermediate, reduced; 0 for exempt sales.
VAT_RATES = (Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("0.00"))

GRADE_LABELS = {
    Grade.A: _l("A: as new"),
    Grade.B: _l("B: light wear"),
    Grade.C: _l("C: visible wear, works"),
}

_POSTCODE = re.compile(r"^\d{5}$")


class Tier(NamedTuple):
    """A volume price: from `min_quantity` units on, each unit costs `unit_price` (excluding VAT)."""

    min_quantity: int
    unit_price: Decimal


@dataclass
class OfferData:
    category: DeviceCategory
    brand: str
    model: str
    unit_price: Decimal                      # excluding VAT
    cpv: str | None = None                   # None or "": the category's code from the factor table
    specifications: str = ""
    cpu: str = ""
    ram_gb: int | None = None
    storage_gb: int | None = None
    screen_inches: Decimal | None = None
    is_reconditioned: bool = True
    grade: Grade | None = None
    battery_health_pct: int | None = None
    warranty_months: int = 12
    vat_rate: Decimal = Decimal("20.00")
    stock: int = 0
    lead_time_days: int = 5
    reconditioning_postcode: str = ""
    reconditioning_city: str = ""
    labels: list[Label] = field(default_factory=list)
    repairability_index: Decimal | None = None
    spare_parts_years: int | None = None
    active: bool = True
    # None keeps an offer's tiers as they are (they must still suit its base price); a list replaces them.
    tiers: list[Tier] | None = None

    def cleaned(self) -> OfferData:
        for name in ("brand", "model", "specifications", "cpu", "reconditioning_postcode", "reconditioning_city"):
            setattr(self, name, (getattr(self, name) or "").strip())
        self.cpv = (self.cpv or "").strip() or self.category.factors.cpv
        self.labels = sorted({Label(label) for label in self.labels}, key=list(Label).index)
        return self


# Fields of OfferData copied as they are onto the offer.
_COPIED = [f.name for f in fields(OfferData) if f.name not in {"labels", "tiers"}]


def _decimals(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


def _check_offer(data: OfferData) -> None:
    if not data.brand or not data.model:
        raise RuleViolation(_("Give the brand and the model."))
    if data.cpv not in CPV_CODES:
        raise RuleViolation(_("%(code)s is not a CPV code of the platform's list.", code=data.cpv))
    if data.is_reconditioned and data.grade is None:
        raise RuleViolation(_("A reconditioned device needs a cosmetic grade (A, B or C)."))
    if not data.is_reconditioned and data.grade is not None:
        raise RuleViolation(_("A new device has no cosmetic grade."))
    if data.battery_health_pct is not None:
        if data.category not in PORTABLE_CATEGORIES:
            raise RuleViolation(_("Battery health applies to laptops, tablets and smartphones only."))
        if not 0 <= data.battery_health_pct <= 100:
            raise RuleViolation(_("Battery health is a percentage between 0 and 100."))
    for name, label in (("ram_gb", _("memory")), ("storage_gb", _("storage")), ("warranty_months", _("warranty")),
                        ("stock", _("stock")), ("lead_time_days", _("lead time")),
                        ("spare_parts_years", _("spare parts availability"))):
        value = getattr(data, name)
        if value is not None and value < 0:
            raise RuleViolation(_("The %(field)s cannot be negative.", field=label))
    if data.screen_inches is not None and not (0 < data.screen_inches <= 150 and _decimals(data.screen_inches) <= 1):
        raise RuleViolation(_("The screen size is in inches, with at most one decimal."))
    _check_price(data.unit_price)
    if data.vat_rate not in VAT_RATES:
        raise RuleViolation(_("The VAT rate is one of %(rates)s.", rates="20 %, 10 %, 5.5 %, 0 %"))
    if data.repairability_index is not None and not (
            0 <= data.repairability_index <= 10 and _decimals(data.repairability_index) <= 1):
        raise RuleViolation(_("The repairability index is between 0 and 10, with one decimal."))
    if data.reconditioning_postcode and not _POSTCODE.match(data.reconditioning_postcode):
        raise RuleViolation(_("A French postcode has 5 digits."))
    if bool(data.reconditioning_postcode) != bool(data.reconditioning_city):
        raise RuleViolation(_("Give both the postcode and the commune of the reconditioning site."))


def _check_price(price: Decimal | None) -> None:
    if price is None or price <= 0:
        raise RuleViolation(_("A unit price is greater than zero."))
    if price != cents(price):
        raise RuleViolation(_("A price has at most two decimals."))


def _apply(offer: CatalogueOffer, data: OfferData) -> None:
    for name in _COPIED:
        setattr(offer, name, getattr(data, name))
    offer.labels = [label.value for label in data.labels]  # a new list: the JSON column sees the change


def create_offer(actor: User, supplier_org: Organisation, data: OfferData) -> CatalogueOffer:
    permissions.require(actor, "catalogue.create", supplier_org)
    data = data.cleaned()
    _check_offer(data)
    offer = CatalogueOffer(supplier=supplier_org)
    _apply(offer, data)
    set_tiers(offer, data.tiers or [])
    db.session.add(offer)
    if offer.tiers:
        db.session.flush()  # the audit entry names the offer by its id
        audit.record(actor, "catalogueoffer.tiers_set", offer, tiers=_tier_summary(offer))
    return offer


def update_offer(actor: User, offer: CatalogueOffer, data: OfferData) -> CatalogueOffer:
    permissions.require(actor, "catalogue.edit", offer)
    data = data.cleaned()
    _check_offer(data)
    before = _tier_summary(offer)
    _apply(offer, data)
    set_tiers(offer, list(offer.tiers) if data.tiers is None else data.tiers)
    if _tier_summary(offer) != before:
        audit.record(actor, "catalogueoffer.tiers_set", offer, tiers=_tier_summary(offer))
    return offer


def set_tiers(offer: CatalogueOffer, tiers) -> None:
    """Replace the volume prices: more units, strictly lower price, every tier below the base price."""
    ordered = sorted((Tier(int(t.min_quantity), t.unit_price) for t in tiers), key=lambda t: t.min_quantity)
    previous_quantity, previous_price = 1, offer.unit_price
    for tier in ordered:
        _check_price(tier.unit_price)
        if tier.min_quantity <= previous_quantity:
            raise RuleViolation(_("Each volume price starts at a larger quantity than the one before it, "
                                  "and above 1 unit."))
        if tier.unit_price >= previous_price:
            raise RuleViolation(_("A volume price of %(price)s from %(n)d units must be lower than the price "
                                  "for fewer units.", price=tier.unit_price, n=tier.min_quantity))
        previous_quantity, previous_price = tier.min_quantity, tier.unit_price
    # Rows of the same quantity are kept and repriced: the (offer, quantity) pair is unique.
    existing = {t.min_quantity: t for t in offer.tiers}
    kept = []
    for tier in ordered:
        row = existing.get(tier.min_quantity) or PriceTier(min_quantity=tier.min_quantity)
        row.unit_price = tier.unit_price
        kept.append(row)
    offer.tiers = kept


def _tier_summary(offer: CatalogueOffer) -> list[str]:
    return [f"{t.min_quantity}: {t.unit_price}" for t in sorted(offer.tiers, key=lambda t: t.min_quantity)]


# --- browsing ----------------------------------------------------------------------------------

class Sort(NamedTuple):
    key: str
    label: object


SORTS = (
    Sort("price", _l("Price, lowest first")),
    Sort("price_desc", _l("Price, highest first")),
    Sort("warranty", _l("Longest warranty")),
    Sort("co2", _l("Most kgCO2e avoided")),
    Sort("lead_time", _l("Shortest lead time")),
)


@dataclass
class CatalogueFilters:
    category: DeviceCategory | None = None
    grade: Grade | None = None
    max_price: Decimal | None = None        # excluding VAT
    in_territory: bool = False              # supplier located in one of the 24 communes
    social_economy: bool = False            # ESS, EA/ESAT or SIAE supplier
    label: Label | None = None
    reconditioned_only: bool = False
    text: str = ""
    supplier_id: int | None = None
    sort: str = "price"


def _kgco2e_avoided():
    """CatalogueOffer.kgco2e_avoided as SQL, from the factor table, to sort on it."""
    factors = {category: category.factors.embodied_kgco2e for category in DeviceCategory
               if category.factors.embodied_kgco2e is not None}
    return case((CatalogueOffer.is_reconditioned.is_(True),
                 case(factors, value=CatalogueOffer.category, else_=0)), else_=0)


def visible_offers(filters: CatalogueFilters | None = None, user: User | None = None) -> tuple[Select, bool]:
    """One query for the catalogue: visible offers with their supplier, filtered and sorted; and whether
    the search index answered the text filter (False: it was unavailable and the text was matched in
    SQL). The text filter needs the `user` whose search it is."""
    filters = filters or CatalogueFilters()
    text_from_index = True
    query = (select(CatalogueOffer).join(CatalogueOffer.supplier).options(contains_eager(CatalogueOffer.supplier))
             .where(Organisation.validation_status == ValidationStatus.VALIDATED,
                    CatalogueOffer.active.is_(True), CatalogueOffer.stock > 0))
    if filters.supplier_id is not None:
        query = query.where(CatalogueOffer.supplier_id == filters.supplier_id)
    if filters.category is not None:
        query = query.where(CatalogueOffer.category == filters.category)
    if filters.grade is not None:
        query = query.where(CatalogueOffer.grade == filters.grade)
    if filters.max_price is not None:
        query = query.where(CatalogueOffer.unit_price <= filters.max_price)
    if filters.in_territory:
        query = query.where(Organisation.locality == Locality.TERRITORY)
    if filters.social_economy:
        query = query.where(or_(Organisation.is_ess.is_(True), Organisation.is_ea_esat.is_(True),
                                Organisation.is_siae.is_(True)))
    if filters.label is not None:
        # The labels are a JSON list of fixed values: the quoted value is found in its text on every database.
        query = query.where(cast(CatalogueOffer.labels, String).contains(f'"{filters.label.value}"',
                                                                          autoescape=True))
    if filters.reconditioned_only:
        query = query.where(CatalogueOffer.is_reconditioned.is_(True))
    if filters.text:
        if user is None:
            raise ValueError("the catalogue's text filter searches as a user")
        matching, text_from_index = search.text_condition(user, "catalogue_offer", filters.text)
        query = query.where(matching)
    order = {
        "price": [CatalogueOffer.unit_price.asc()],
        "price_desc": [CatalogueOffer.unit_price.desc()],
        "warranty": [CatalogueOffer.warranty_months.desc(), CatalogueOffer.unit_price.asc()],
        "co2": [_kgco2e_avoided().desc(), CatalogueOffer.unit_price.asc()],
        "lead_time": [CatalogueOffer.lead_time_days.asc(), CatalogueOffer.unit_price.asc()],
    }.get(filters.sort, [CatalogueOffer.unit_price.asc()])
    return query.order_by(*order, CatalogueOffer.id), text_from_index


def hidden_reasons(offer: CatalogueOffer) -> list[str]:
    """Why buyers do not see an offer in the catalogue; empty when they do."""
    reasons = []
    if not offer.supplier.is_validated:
        reasons.append(_("the supplier is not validated by the EPT"))
    if not offer.active:
        reasons.append(_("the offer is withdrawn"))
    if offer.stock <= 0:
        reasons.append(_("no unit in stock"))
    return reasons


def supplier_offers(supplier: Organisation) -> Select:
    """Every offer of a supplier, visible or not, for its own list."""
    return (select(CatalogueOffer).where(CatalogueOffer.supplier_id == supplier.id)
            .order_by(CatalogueOffer.active.desc(), CatalogueOffer.brand, CatalogueOffer.model, CatalogueOffer.id))
