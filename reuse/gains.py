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

# Décret 2023-266 (loi REEN art. 16), art. 1: the share of reformed IT equipment sent to reuse, by year of
# application (each target holds from its year until the next).
REUSE_RATE_TARGETS = {
    2023: (Decimal(25), "décret n° 2023-266, art. 1 (2023 : 25 %)"),
    2024: (Decimal(35), "décret n° 2023-266, art. 1 (2024 : 35 %)"),
    2025: (Decimal(50), "décret n° 2023-266, art. 1 (à compter de 2025 : 50 %)"),
}
# Équipements informatiques: WEEE categories 2 (screens) and 6 (small IT and telecom equipment).
REUSE_RATE_WEEE_CATEGORIES = {2, 6}
# Décret 2023-266: equipment more than 10 years old goes to recycling; it is out of A and out of B.
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
# Décret n° 2023-266 (loi n° 2021-1485 "REEN" art. 16), art. 1: rate = A / B × 100, where A is the
# IT equipment (WEEE categories 2 and 6) sent to reuse in year N (handed over through the circuit
# or sold) and B the reformed IT equipment held on 1 January N; equipment more than 10 years old goes to
# recycling and counts in neither. Reading: the age is taken on 1 January N for A as for B, so that the
# same device is never in A without being allowed in B; a device whose purchase date is unknown cannot be
# shown to be over 10 and counts. Every figure of the décret (the reuse gains page, the dashboard, the
# indicators, the annual report, the API) is built from the conditions below.

def reuse_rate_target(year: int) -> Decimal | None:
    """The décret's target for the year in percent, None before 2023."""
    applicable = [start for start in REUSE_RATE_TARGETS if start <= year]
    return REUSE_RATE_TARGETS[max(applicable)][0] if applicable else None


def reuse_rate_target_text(year: int) -> str | None:
    """The text that sets the year's target."""
    applicable = [start for start in REUSE_RATE_TARGETS if start <= year]
    return REUSE_RATE_TARGETS[max(applicable)][1] if applicable else None


def rate_categories() -> list[DeviceCategory]:
    return [c for c in DeviceCategory if c.factors.weee in REUSE_RATE_WEEE_CATEGORIES]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def is_over_max_age(purchase_date: date | None, on: date) -> bool:
    """More than 10 years old on the day (bought before the same day ten years earlier); unknown: no."""
    return purchase_date is not None and purchase_date < _years_before(on, MAX_AGE_YEARS)


def within_max_age(on: date):
    """`not is_over_max_age` as an SQL condition on devices."""
    return or_(Device.purchase_date.is_(None), Device.purchase_date >= _years_before(on, MAX_AGE_YEARS))


def sent_to_reuse(year: int):
    """A of the rate, as an SQL condition on devices."""
    jan_1 = date(year, 1, 1)
    return and_(Device.category.in_(rate_categories()), Device.status.in_(REUSED_STATUSES),
                Device.left_on.between(jan_1, date(year, 12, 31)), within_max_age(jan_1))


def reformed_in_stock_on_jan_1(year: int):
    """B of the rate, as an SQL condition on devices: reformed before 1 January and still held then."""
    jan_1 = date(year, 1, 1)
    return and_(Device.category.in_(rate_categories()), Device.reformed_on < jan_1,
                or_(Device.left_on.is_(None), Device.left_on >= jan_1), within_max_age(jan_1))


def rate_percent(sent: int, in_stock: int) -> Decimal | None:
    """A / B × 100 with one decimal, None when B is 0."""
    return None if not in_stock else (Decimal(sent) * 100 / Decimal(in_stock)).quantize(Decimal("0.1"),
                                                                                          ROUND_HALF_UP)


def _reuse_rate(year: int, organisation_id: int | None) -> dict:
    query = select(func.count(Device.id).filter(sent_to_reuse(year)),
                   func.count(Device.id).filter(reformed_in_stock_on_jan_1(year)))
    if organisation_id is not None:
        query = query.where(Device.organisation_id == organisation_id)
    sent, in_stock = db.session.execute(query).one()
    return {"year": year, "a": sent, "b": in_stock, "rate": rate_percent(sent, in_stock),
            "target": reuse_rate_target(year), "target_text": reuse_rate_target_text(year)}


def reuse_rate(organisation_id: int, year: int) -> dict:
    """The organisation's décret 2023-266 figures: `a`, `b`, `rate` (a percentage, None when B is 0),
    `target` (None before 2023) and the text that sets it."""
    return _reuse_rate(year, organisation_id)
