"""What reuse avoided, per device, per organisation and year, and for the whole territory; and the
décret 2023-266 reuse rate.

Each figure is one SQL aggregate grouped by device category; the factor table (reuse/factors.py,
cited and versioned) then turns the counts of at most ten categories into kgCO2e and euros. A category
without a factor is counted in devices and weight and named in `without_co2_factor` / `without_price`,
never silently valued at zero.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select

from core.extensions import db
from core.figures import remembered
from reuse import factors
from reuse.models import REUSED_STATUSES, Device, DeviceCategory, RequestStatus, ReuseRequest

# Requests whose devices the receiving organisation holds.
RECEIVED_STATUSES = {RequestStatus.HANDED_OVER, RequestStatus.RECEIVED}

# Décret 2023-266 (loi REEN art. 16), art. 1: share of reformed IT equipment (WEEE categories 2 and 6)
# sent to reuse; the target applies from the year given until the next one.
REUSE_RATE_TARGETS = {2023: Decimal(25), 2024: Decimal(35), 2025: Decimal(50)}
REUSE_RATE_WEEE_CATEGORIES = {2, 6}
# Décret 2023-266: equipment more than 10 years old goes to recycling and leaves the base B.
MAX_AGE_YEARS = 10

ZERO = Decimal(0)
KG = Decimal("0.01")


class Gains(NamedTuple):
    weee_kg: Decimal
    kgco2e: Decimal | None
    euros: Decimal | None


NO_GAINS = Gains(ZERO, ZERO, ZERO)


def device_gains(device: Device) -> Gains:
    """A device that left for reuse avoids its own waste and the manufacture and purchase of the new
    device it stands in for; None where the factor table has no figure for its category."""
    if device.status not in REUSED_STATUSES:
        return NO_GAINS
    factor = device.category.factors
    return Gains(weee_kg=device.weight_kg, kgco2e=factor.embodied_kgco2e, euros=factor.new_price_eur)


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def valued_totals(rows) -> dict:
    """Rows of (category, count, weight) → the totals, valued with the factor table."""
    totals = {"count": 0, "weee_kg": ZERO, "kgco2e": ZERO, "euros": ZERO,
              "without_co2_factor": [], "without_price": [], "by_category": {}}
    for category, count, weight in rows:
        category = DeviceCategory(category)
        factor = category.factors
        weight = Decimal(weight or 0).quantize(KG, ROUND_HALF_UP)
        kgco2e = None if factor.embodied_kgco2e is None else factor.embodied_kgco2e * count
        euros = None if factor.new_price_eur is None else factor.new_price_eur * count
        totals["count"] += count
        totals["weee_kg"] += weight
        if kgco2e is None:
            totals["without_co2_factor"].append(category)
        else:
            totals["kgco2e"] += kgco2e
        if euros is None:
            totals["without_price"].append(category)
        else:
            totals["euros"] += euros
        totals["by_category"][category] = {"count": count, "weee_kg": weight, "kgco2e": kgco2e, "euros": euros}
    return totals


def _given(year: int, organisation_id: int | None) -> dict:
    first, last = _year_bounds(year)
    # count(*), not count(id): an organisation's figures then come from its index alone.
    query = (select(Device.category, func.count(), func.sum(Device.weight_kg))
             .where(Device.status.in_(REUSED_STATUSES), Device.left_on.between(first, last))
             .group_by(Device.category).order_by(Device.category))
    if organisation_id is not None:
        query = query.where(Device.organisation_id == organisation_id)
    return valued_totals(db.session.execute(query).all())


def _received(year: int, organisation_id: int | None) -> dict:
    first, last = _year_bounds(year)
    query = (select(Device.category, func.count(Device.id), func.sum(Device.weight_kg))
             .join(ReuseRequest, Device.request_id == ReuseRequest.id)
             .where(ReuseRequest.status.in_(RECEIVED_STATUSES), Device.left_on.between(first, last))
             .group_by(Device.category).order_by(Device.category))
    if organisation_id is not None:
        query = query.where(ReuseRequest.organisation_id == organisation_id)
    return valued_totals(db.session.execute(query).all())


def organisation_gains(organisation_id: int, year: int) -> dict:
    """`given`: the organisation's devices that left for reuse (handed over or sold) in the year;
    `received`: devices it received through the circuit in the year (handed over to it)."""
    return {
        "year": year,
        "factor_version": factors.version(),
        "given": _given(year, organisation_id),
        "received": _received(year, organisation_id),
    }


def territory_gains(year: int) -> dict:
    """The same for every organisation of the platform together, with the territory's reuse rate.
    `received` is the part of `given` that went to another organisation through the circuit."""
    return {
        "year": year,
        "factor_version": factors.version(),
        "given": _given(year, None),
        "received": _received(year, None),
        "reuse_rate": _reuse_rate(year, None),
    }


def recent_territory_gains(year: int) -> tuple[dict, datetime]:
    """`territory_gains` and when they were computed, at most TERRITORY_FIGURES_MAX_AGE seconds ago
    (core.figures): what the administrator's and observers' dashboards show."""
    return remembered(("territory_gains", year), lambda: territory_gains(year))


# --- décret 2023-266 ------------------------------------------------------------------------------

def reuse_rate_target(year: int) -> Decimal | None:
    applicable = [start for start in REUSE_RATE_TARGETS if start <= year]
    return REUSE_RATE_TARGETS[max(applicable)] if applicable else None


def _rate_categories() -> list[DeviceCategory]:
    return [c for c in DeviceCategory if c.factors.weee in REUSE_RATE_WEEE_CATEGORIES]


def _reuse_rate(year: int, organisation_id: int | None) -> dict:
    jan_1 = date(year, 1, 1)
    too_old_before = date(year - MAX_AGE_YEARS, 1, 1)
    sent_to_reuse_in_year = and_(Device.status.in_(REUSED_STATUSES),
                                 Device.left_on.between(jan_1, date(year, 12, 31)))
    reformed_in_stock_on_jan_1 = and_(
        Device.reformed_on < jan_1,
        or_(Device.left_on.is_(None), Device.left_on >= jan_1),
        or_(Device.purchase_date.is_(None), Device.purchase_date >= too_old_before),
    )
    query = (select(func.count(Device.id).filter(sent_to_reuse_in_year),
                    func.count(Device.id).filter(reformed_in_stock_on_jan_1))
             .where(Device.category.in_(_rate_categories())))
    if organisation_id is not None:
        query = query.where(Device.organisation_id == organisation_id)
    sent, in_stock = db.session.execute(query).one()
    # décret 2023-266 art. 1: rate = A / B × 100
    rate = None if not in_stock else (Decimal(sent) * 100 / Decimal(in_stock)).quantize(Decimal("0.1"),
                                                                                         ROUND_HALF_UP)
    return {"year": year, "a": sent, "b": in_stock, "rate": rate, "target": reuse_rate_target(year)}


def reuse_rate(organisation_id: int, year: int) -> dict:
    """A: devices of WEEE categories 2 and 6 sent to reuse in year N; B: those reformed and still held
    on 1 January N, except the ones more than 10 years old then. `rate` is a percentage, None when B
    is 0; `target` is the décret's for the year, None before 2023."""
    return _reuse_rate(year, organisation_id)
