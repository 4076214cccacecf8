"""The Activity 16 annual report's own data, beside the indicators (procurement.indicators): the contracts
of the year with their considerations, the reuse figures per organisation, the factor table.

One statement each, whatever the number of contracts and devices: the contracts with their buyer and
holder joined in; the reuse figures grouped by organisation and device category (the categories are at
most ten, and the factor table turns their counts into kgCO2e); the territory's buyers.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.models import Organisation, OrganisationKind
from core.territory import COMMUNES, COMMUNES_BY_INSEE, EPT_SIREN
from procurement.indicators import FRACTION, TERRITORY_BUYER_KINDS
from procurement.models import Contract
from procurement.services import climate
from reuse import factors, gains
from reuse.models import REUSED_STATUSES, Device, DeviceCategory, DeviceStatus

KG = Decimal("0.01")


def territory_organisation() -> Organisation | None:
    """The EPT, which answers for the territory: the one with the EPT's SIREN, else the first EPT."""
    return db.session.scalar(
        select(Organisation).where(Organisation.kind == OrganisationKind.EPT)
        .order_by(case((Organisation.siret.startswith(EPT_SIREN), 0), else_=1), Organisation.id).limit(1))


def contracts_of_year(year: int, buyer: Organisation | None) -> list[Contract]:
    """The contracts notified in the year, as the indicators count them (a buyer's, or every territory
    buyer's), by notification date, with their buyer and holder."""
    query = (select(Contract).options(joinedload(Contract.buyer), joinedload(Contract.supplier))
             .where(Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)))
             .order_by(Contract.notified_on, Contract.id))
    if buyer is None:
        territory_buyers = select(Organisation.id).where(Organisation.kind.in_(TERRITORY_BUYER_KINDS))
        query = query.where(Contract.buyer_id.in_(territory_buyers.scalar_subquery()))
    else:
        query = query.where(Contract.buyer_id == buyer.id)
    return list(db.session.scalars(query))


class _ReuseTally:
    """The reuse figures of one organisation (or of the total), added up category by category: kgCO2e
    come from the factor table, and a category without a factor is left out, not valued at zero."""

    def __init__(self):
        self.reused = self.reconditioned = self.recycled = self.sent = self.stock = 0
        self.weee_kg = Decimal(0)
        self.kgco2e = Decimal(0)
        self.reused_categories = self.valued_categories = 0

    def add(self, category: DeviceCategory, reused: int, reconditioned: int, recycled: int, weight,
            sent_to_reuse: int, in_stock_on_jan_1: int) -> None:
        self.reused += reused
        self.reconditioned += reconditioned
        self.recycled += recycled
        self.weee_kg += Decimal(weight or 0).quantize(KG, ROUND_HALF_UP)
        factor = category.factors
        if reused:
            self.reused_categories += 1
            if factor.embodied_kgco2e is not None:
                self.valued_categories += 1
                self.kgco2e += factor.embodied_kgco2e * reused
        self.sent += sent_to_reuse  # A and B of décret 2023-266: reuse.gains's conditions
        self.stock += in_stock_on_jan_1

    def figures(self) -> dict:
        # As procurement.indicators: kgCO2e are unknown, not zero, when no reused category has a factor.
        unknown_co2 = self.reused_categories > 0 and self.valued_categories == 0
        rate = None if not self.stock else (Decimal(self.sent) / Decimal(self.stock)).quantize(FRACTION,
                                                                                                ROUND_HALF_UP)
        return {"devices_reused": self.reused, "devices_reconditioned": self.reconditioned,
                "devices_recycled": self.recycled, "weee_kg_diverted": self.weee_kg,
                "co2e_kg_avoided": None if unknown_co2 else self.kgco2e,
                "reuse_rate_2023_266": rate, "reuse_rate_2023_266_sent": self.sent,
                "reuse_rate_2023_266_stock": self.stock}


def _device_rows(year: int, buyer: Organisation | None):
    """(organisation id, category, reused, reconditioned, recycled, weight reused, A, B of the décret 2023-266
    rate), one row per organisation and category: the definitions of reuse.gains and procurement.indicators."""
    jan_1, dec_31 = date(year, 1, 1), date(year, 12, 31)
    left_in_year = Device.left_on.between(jan_1, dec_31)
    reused = and_(Device.status.in_(REUSED_STATUSES), left_in_year)
    query = (select(Device.organisation_id, Device.category,
                    func.count(Device.id).filter(reused),
                    func.count(Device.id).filter(reused, Device.refurbisher_id.is_not(None)),
                    func.count(Device.id).filter(left_in_year, Device.status == DeviceStatus.RECYCLED),
                    func.sum(Device.weight_kg).filter(reused),
                    func.count(Device.id).filter(gains.sent_to_reuse(year)),
                    func.count(Device.id).filter(gains.reformed_in_stock_on_jan_1(year)))
             .group_by(Device.organisation_id, Device.category))
    if buyer is None:
        territory_buyers = select(Organisation.id).where(Organisation.kind.in_(TERRITORY_BUYER_KINDS))
        query = query.where(Device.organisation_id.in_(territory_buyers.scalar_subquery()))
    else:
        query = query.where(Device.organisation_id == buyer.id)
    return db.session.execute(query).all()


def _territory_buyers() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.kind.in_(TERRITORY_BUYER_KINDS))
                                   .order_by(Organisation.name, Organisation.id)))


def reuse_by_organisation(year: int, buyer: Organisation | None) -> dict:
    """Reuse figures of the year per organisation: the buyer's row alone; or, for the territory, the EPT,
    each of the 24 communes in the order of core.territory (`organisation` None for a commune not on the
    platform), the platform's other buyers (syndicates) by name, and their total."""
    tallies: dict[int, _ReuseTally] = {}
    total = _ReuseTally()
    for organisation_id, category, *counts in _device_rows(year, buyer):
        category = DeviceCategory(category)
        tallies.setdefault(organisation_id, _ReuseTally()).add(category, *counts)
        total.add(category, *counts)

    def row(organisation: Organisation | None, name: str) -> dict:
        tally = tallies.get(organisation.id) if organisation is not None else None
        return {"organisation": organisation, "name": name, **(tally or _ReuseTally()).figures()}

    if buyer is not None:
        return {"rows": [row(buyer, buyer.name)], "total": None}
    buyers = _territory_buyers()
    communes = {organisation.insee_code: organisation for organisation in buyers
                if organisation.kind is OrganisationKind.COMMUNE and organisation.insee_code in COMMUNES_BY_INSEE}
    epts = [organisation for organisation in buyers if organisation.kind is OrganisationKind.EPT]
    listed = {organisation.id for organisation in [*epts, *communes.values()]}
    rows = [row(organisation, organisation.name) for organisation in epts]
    for commune in COMMUNES:
        organisation = communes.get(commune.insee)
        rows.append(row(organisation, organisation.name if organisation else commune.name))
    rows += [row(organisation, organisation.name) for organisation in buyers if organisation.id not in listed]
    return {"rows": rows, "total": total.figures()}


def factor_table() -> dict:
    """The device factor table (reuse/data/device_factors.json) with its version and sources."""
    table = factors.table()
    rows = [{"category": category, **category.factors._asdict()} for category in DeviceCategory
            if category.value in table["categories"]]
    return {"version": table["version"], "sources": table["sources"], "rows": rows}


def gather(year: int, buyer: Organisation | None) -> dict:
    """What the report shows beside the indicator tables."""
    target = gains.reuse_rate_target(year)  # a percentage; the report's shares are fractions
    contracts = contracts_of_year(year, buyer)
    return {"contracts": contracts, "art35_flagged": {c.id for c in contracts if climate.misses_art35(c)},
            "reuse": reuse_by_organisation(year, buyer),
            "factors": factor_table(), "reuse_rate_target": None if target is None else target / 100}
