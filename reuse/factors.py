"""The device factor table (reuse/data/device_factors.json): WEEE category, CPV code, typical weight,
embodied footprint and replacement price per device category. Data, cited and versioned, not logic."""
from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import NamedTuple

FACTOR_FILE = Path(__file__).parent / "data" / "device_factors.json"


class CategoryFactors(NamedTuple):
    weee: int
    cpv: str
    weight_kg: Decimal
    weight_is_estimate: bool
    embodied_kgco2e: Decimal | None
    new_price_eur: Decimal | None


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@cache
def table() -> dict:
    return json.loads(FACTOR_FILE.read_text(encoding="utf-8"))


def version() -> str:
    return table()["version"]


@cache  # read for every device of an import or a report
def for_category(category: str) -> CategoryFactors:
    row = table()["categories"][category]
    return CategoryFactors(
        weee=row["weee"], cpv=row["cpv"], weight_kg=_decimal(row["weight_kg"]),
        weight_is_estimate=row["weight_source"] == "estimate",
        embodied_kgco2e=_decimal(row["embodied_kgco2e"]), new_price_eur=_decimal(row["new_price_eur"]),
    )
