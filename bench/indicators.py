"""Indicators of one year for the whole territory: `procurement.indicators.compute(year)` (what the
dashboard calls) against ONE hand-written SQL statement computing the same figures (but the devices received
for the AGEC share, valued with the grid in Python by a second statement), in the same run, on a generated
database. The figures of both must be equal; the ratio is of the medians.

    python -m bench.indicators [--scale 0.2] [--repeat 5] [--year YYYY] [--database URL]

Without --database, runs on a SQLite file under instance/bench/ generated once per scale (bench.generate);
with it (e.g. postgresql://postgres@127.0.0.1:5432/circuit_bench), on that database, generated first if it
holds no generated data. Writes its section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, bindparam, event, func, select, text

from bench import common
from core.extensions import db
from core.i18n import local_to_utc
from core.models import BeneficiaryCategory, UTCDateTime
from procurement import indicators
from procurement.indicators import (PNAD_ENV_TARGET, PNAD_SOCIAL_TARGET, TERRITORY_BUYER_KINDS, _fraction, _money,
                                    _percent_to_fraction)
from procurement.models import Contract
from procurement.services import agec, climate
from reuse import gains
from reuse.models import REUSED_STATUSES, Device, DeviceCategory

LEVELS = {"territory": ("territory",), "departments": ("territory", "departments_94_91"),
          "ile_de_france": ("territory", "departments_94_91", "ile_de_france")}


def _in(values) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def _single_statement():
    """Three aggregates (contracts, devices, orders) over their own tables, cross-joined into one row."""
    territory = f"(SELECT id FROM organisations WHERE kind IN {_in(TERRITORY_BUYER_KINDS)})"
    reused = f"d.status IN {_in(REUSED_STATUSES)} AND d.left_on BETWEEN :jan_1 AND :dec_31"
    left_in_year = "d.left_on BETWEEN :jan_1 AND :dec_31"
    rate_categories = _in(c.value for c in DeviceCategory if c.factors.weee in gains.REUSE_RATE_WEEE_CATEGORIES)
    contract_columns = [
        "count(*) AS contracts_total",
        "count(*) FILTER (WHERE c.env_clause) AS env_clause",
        "count(*) FILTER (WHERE c.env_criterion) AS env_criterion",
        "count(*) FILTER (WHERE c.env_clause OR c.env_criterion) AS env_any",
        "count(*) FILTER (WHERE c.social_clause OR c.social_criterion OR c.reserved) AS social_any",
        "count(*) FILTER (WHERE c.env_considerations_known) AS env_known",
        "count(*) FILTER (WHERE c.social_considerations_known) AS social_known",
        "count(*) FILTER (WHERE c.notified_on >= :art35_from AND c.env_considerations_known "
        "AND NOT (c.env_clause OR c.env_criterion)) AS art35_missing",
        "avg(c.env_score) FILTER (WHERE c.env_considerations_known) AS env_score_mean",
        "sum(c.amount) FILTER (WHERE c.amount > 0) AS spend_total",
        "sum(c.amount) FILTER (WHERE c.amount > 0 AND s.is_ess) AS spend_ess",
        "sum(c.amount) FILTER (WHERE c.amount > 0 AND s.is_ea_esat) AS spend_ea_esat",
        "sum(c.amount) FILTER (WHERE c.amount > 0 AND s.is_siae) AS spend_siae",
    ]
    for level, localities in LEVELS.items():
        contract_columns.append(f"sum(c.amount) FILTER (WHERE c.amount > 0 AND s.locality IN {_in(localities)}) "
                                f"AS spend_{level}")
        contract_columns.append(f"count(*) FILTER (WHERE s.locality IN {_in(localities)}) AS contracts_{level}")
    device_columns = []
    for category in DeviceCategory:
        device_columns.append(f"count(*) FILTER (WHERE {reused} AND d.category = '{category}') AS reused_{category}")
        device_columns.append(f"sum(d.weight_kg) FILTER (WHERE {reused} AND d.category = '{category}') "
                              f"AS weight_{category}")
    device_columns += [
        f"count(*) FILTER (WHERE {reused} AND d.category IN {rate_categories} "
        "AND (d.purchase_date IS NULL OR d.purchase_date >= :too_old)) AS rate_sent",
        f"count(*) FILTER (WHERE d.category IN {rate_categories} AND d.reformed_on < :jan_1 "
        "AND (d.left_on IS NULL OR d.left_on >= :jan_1) "
        "AND (d.purchase_date IS NULL OR d.purchase_date >= :too_old)) AS rate_stock",
        f"count(*) FILTER (WHERE {left_in_year} AND d.status = 'handed_over' AND (r_org.kind IN "
        f"{_in(TERRITORY_BUYER_KINDS)} OR r_org.beneficiary_category = '{BeneficiaryCategory.PUBLIC_BODY}')) "
        "AS route_public_body",
        f"count(*) FILTER (WHERE {left_in_year} AND d.status = 'handed_over') AS route_handed_over",
        f"count(*) FILTER (WHERE {left_in_year} AND d.status = 'sold') AS route_sale",
        f"count(*) FILTER (WHERE {reused} AND d.refurbisher_id IS NOT NULL) AS reconditioned",
        f"count(*) FILTER (WHERE {left_in_year} AND d.status = 'recycled') AS recycled",
    ]
    it_devices = _in(device.value for device, name in agec.CATEGORY_OF_DEVICE.items() if name == agec.IT)
    it_line = (f"(CASE WHEN o.created_at < :switch THEN l.cpv IN {_in(agec.DECRET_2021_254_IT_CPV)} "
               f"ELSE l.category IN {it_devices} END)")
    known = "c.agec_reuse_amount IS NOT NULL"
    sql = f"""
        SELECT * FROM
          (SELECT {', '.join(contract_columns)}
             FROM contracts c LEFT JOIN organisations s ON s.id = c.supplier_id
            WHERE c.notified_on BETWEEN :jan_1 AND :dec_31 AND c.buyer_id IN {territory}) AS contract_figures
        CROSS JOIN
          (SELECT {', '.join(device_columns)}
             FROM devices d LEFT JOIN reuse_requests r ON r.id = d.request_id
                  LEFT JOIN organisations r_org ON r_org.id = r.organisation_id) AS device_figures
        CROSS JOIN
          (SELECT sum(l.quantity * l.unit_price) FILTER (WHERE {it_line}) AS it_amount,
                  sum(l.quantity * l.unit_price) FILTER (WHERE {it_line}
                      AND (l.is_reconditioned OR l.is_reused)) AS it_reused
             FROM order_lines l JOIN orders o ON o.id = l.order_id
            WHERE o.buyer_id IN {territory} AND o.status != 'cancelled'
              AND o.created_at >= :start AND o.created_at < :end) AS agec_figures
        CROSS JOIN
          (SELECT sum(c.amount) FILTER (WHERE {known}) AS it_contracts,
                  sum(c.agec_reuse_amount) AS it_contracts_reused,
                  sum(c.agec_recycled_amount) AS it_contracts_recycled,
                  count(*) FILTER (WHERE NOT {known}) AS it_contracts_unknown,
                  sum(c.amount) FILTER (WHERE NOT {known}) AS it_contracts_unknown_amount
             FROM contracts c
            WHERE c.buyer_id IN {territory} AND c.status = 'notified' AND c.agec_category = :it
              AND c.notified_on BETWEEN :jan_1 AND :dec_31) AS agec_contracts
    """
    # Sums read back as the ORM reads them (SQLite answers floats): typed by name.
    typed = {f"weight_{c}": Numeric(8, 2) for c in DeviceCategory}
    typed |= {name: Numeric(14, 2) for name in ("spend_total", "spend_ess", "spend_ea_esat", "spend_siae",
                                                *(f"spend_{level}" for level in LEVELS), "it_amount", "it_reused",
                                                "it_contracts", "it_contracts_reused", "it_contracts_recycled",
                                                "it_contracts_unknown_amount")}
    return (text(sql).bindparams(bindparam("jan_1", type_=Date), bindparam("dec_31", type_=Date),
                                 bindparam("too_old", type_=Date), bindparam("art35_from", type_=Date),
                                 bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()),
                                 bindparam("switch", type_=UTCDateTime()))
            .columns(**typed))


STATEMENT = None


def single_statement_figures(year: int) -> dict:
    """The figures of `indicators.compute(year)`, from one statement; the same rounding helpers."""
    global STATEMENT
    STATEMENT = STATEMENT if STATEMENT is not None else _single_statement()
    start, end = local_to_utc(datetime(year, 1, 1)), local_to_utc(datetime(year + 1, 1, 1))
    row = db.session.execute(STATEMENT, {
        "jan_1": date(year, 1, 1), "dec_31": date(year, 12, 31), "too_old": date(year - gains.MAX_AGE_YEARS, 1, 1),
        "art35_from": climate.CLIMATE_RULE_DATE, "start": start, "end": end, "it": agec.IT,
        "switch": local_to_utc(datetime.combine(agec.DECRET_2024_134_FROM, datetime.min.time()))}).one()._mapping
    total, spend_total, mean = row["contracts_total"], _money(row["spend_total"]), row["env_score_mean"]
    figures = {
        "contracts_total": total, "contracts_env_clause": row["env_clause"],
        "contracts_env_criterion": row["env_criterion"], "contracts_env_any": row["env_any"],
        "contracts_env_any_share": _fraction(row["env_any"], row["env_known"]),
        "contracts_env_any_target": PNAD_ENV_TARGET, "contracts_env_unknown": total - row["env_known"],
        "contracts_social_any": row["social_any"],
        "contracts_social_any_share": _fraction(row["social_any"], row["social_known"]),
        "contracts_social_any_target": PNAD_SOCIAL_TARGET, "contracts_social_unknown": total - row["social_known"],
        "contracts_art35_missing": row["art35_missing"] if year >= climate.CLIMATE_RULE_DATE.year else None,
        "env_score_mean": None if mean is None else Decimal(str(mean)).quantize(Decimal("0.01")),
        "spend_total": spend_total, "ess_spend_share": _fraction(row["spend_ess"], spend_total),
        "ea_esat_spend_share": _fraction(row["spend_ea_esat"], spend_total),
        "siae_spend_share": _fraction(row["spend_siae"], spend_total),
    }
    for level in LEVELS:
        figures[f"local_spend_share_{level}"] = _fraction(row[f"spend_{level}"], spend_total)
        figures[f"local_contract_share_{level}"] = _fraction(row[f"contracts_{level}"], total)
    reused = weight = 0
    co2, euros = Decimal(0), Decimal(0)
    categories = without_co2 = without_price = 0
    for category in DeviceCategory:
        count = row[f"reused_{category}"]
        if not count:
            continue
        factor = category.factors
        categories += 1
        reused += count
        weight += Decimal(row[f"weight_{category}"] or 0).quantize(Decimal("0.01"))
        if factor.embodied_kgco2e is None:
            without_co2 += 1
        else:
            co2 += factor.embodied_kgco2e * count
        if factor.new_price_eur is None:
            without_price += 1
        else:
            euros += factor.new_price_eur * count
    rate_target = gains.reuse_rate_target(year)
    figures.update({
        "devices_reused": reused, "weee_kg_diverted": Decimal(weight),
        "co2e_kg_avoided": None if categories and without_co2 == categories else co2,
        "euros_avoided": None if categories and without_price == categories else _money(euros),
        "reuse_rate_2023_266": _fraction(row["rate_sent"], row["rate_stock"]),
        "reuse_rate_2023_266_target": _percent_to_fraction(rate_target),
        "reuse_rate_2023_266_sent": row["rate_sent"], "reuse_rate_2023_266_stock": row["rate_stock"],
        "devices_reused_by_route": {"public_body": row["route_public_body"],
                                    "donation": row["route_handed_over"] - row["route_public_body"],
                                    "sale": row["route_sale"]},
        "devices_reconditioned": row["reconditioned"], "devices_recycled": row["recycled"],
    })
    # Devices received are valued with the grid, in Python: the one figure the single statement leaves to
    # procurement.services.agec (a second statement, the same as compute's).
    received = agec.figures(year, None, parts=("received",))
    it_amount = (_money(row["it_amount"]) + _money(row["it_contracts"]) + received.received_bought_amount
                 + received.donations_value)
    it_reused = (_money(row["it_reused"]) + _money(row["it_contracts_reused"]) + received.received_bought_amount
                 + received.donations_value)
    target = agec.target(year)
    figures.update({"agec_it_reuse_share": _fraction(it_reused, it_amount),
                    "agec_it_reuse_target": _percent_to_fraction(target.percent if target else None),
                    "agec_it_amount": it_amount, "agec_it_reuse_amount": it_reused,
                    "agec_it_recycled_amount": _money(row["it_contracts_recycled"]),
                    "agec_it_donations_value": received.donations_value,
                    "agec_it_donations_unvalued": received.donations_unvalued,
                    "agec_it_contracts_unknown": row["it_contracts_unknown"],
                    "agec_it_contracts_unknown_amount": _money(row["it_contracts_unknown_amount"])})
    return figures


def _statements(function) -> int:
    """How many SQL statements one call sends."""
    sent = []
    listener = lambda *args: sent.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--year", type=int, default=date.today().year - 1)
    parser.add_argument("--database", help="database URL (default: a SQLite file under instance/bench/)")
    arguments = parser.parse_args()
    app = common.generated_app(arguments.scale, arguments.database)
    year = arguments.year
    with app.test_request_context():
        dashboard = lambda: indicators.compute(year)  # noqa: E731
        baseline = lambda: single_statement_figures(year)  # noqa: E731
        expected, got = baseline(), dashboard()  # also warms both paths
        if got != expected:
            differing = {key: (got.get(key), expected.get(key)) for key in set(got) | set(expected)
                         if got.get(key) != expected.get(key)}
            raise SystemExit(f"The figures differ (compute, single statement): {differing}")
        statements = _statements(dashboard), _statements(baseline)
        dashboard_times, baseline_times = [], []
        for _ in range(arguments.repeat):  # interleaved, so that a slower moment of the machine hits both
            dashboard_times += common.timings(dashboard, 1)
            db.session.expire_all()
            baseline_times += common.timings(baseline, 1)
            db.session.expire_all()
        devices = db.session.scalar(select(func.count()).select_from(Device))
        contracts = db.session.scalar(select(func.count()).select_from(Contract))
        engine = common.database_engine(db.engine)
        machine = common.machine(db.engine)
    ratio = common.median(dashboard_times) / common.median(baseline_times)
    body = "\n".join([
        f"Machine: {machine}.",
        f"Scale {arguments.scale:g} ({devices:,} devices, {contracts:,} contracts); year {year}, whole territory; "
        f"median of {arguments.repeat} runs each, interleaved; figures checked equal ({len(expected)} keys).",
        "",
        "| | statements | median (ms) | min (ms) | ratio |",
        "|---|---|---|---|---|",
        f"| One hand-written SQL statement (baseline) | {statements[1]} | {common.median(baseline_times) * 1000:.1f} "
        f"| {min(baseline_times) * 1000:.1f} | 1.00 |",
        f"| `procurement.indicators.compute(year)` (the dashboard's) | {statements[0]} "
        f"| {common.median(dashboard_times) * 1000:.1f} | {min(dashboard_times) * 1000:.1f} | {ratio:.2f} |",
        "",
        f"Target: at most 1.5 × the baseline: {'met' if ratio <= 1.5 else 'missed'}.",
        "",
        "`compute` sends one statement for the contracts, one for the devices, and three for the AGEC share "
        "(procurement.services.agec: the catalogue, the contracts register, the devices received, then the "
        "donation grid when devices were received). The baseline leaves the devices received, which the grid "
        "values in Python, to the same statement as compute's. Since issue 19 the AGEC share counts every "
        "purchase (catalogue, register, devices received), not the catalogue alone.",
    ])
    print(body)
    common.write_section(f"Indicators, {engine.split()[0]}", body)


if __name__ == "__main__":
    main()
