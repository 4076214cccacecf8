"""Money rules: Decimal with cents; each line is rounded (half up), totals are sums of rounded lines."""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


class LineAmounts(NamedTuple):
    net: Decimal     # excluding VAT
    vat: Decimal
    gross: Decimal   # including VAT


def line_amounts(quantity: int, unit_price: Decimal, vat_rate: Decimal) -> LineAmounts:
    net = cents(unit_price * quantity)
    vat = cents(net * vat_rate / 100)
    return LineAmounts(net, vat, net + vat)


class Totals(NamedTuple):
    net: Decimal
    vat_by_rate: dict[Decimal, Decimal]
    vat: Decimal
    gross: Decimal


def totals(lines) -> Totals:
    """Totals of objects with quantity, unit_price and vat_rate (order lines, basket lines)."""
    net = Decimal("0.00")
    vat_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.vat_rate)
        net += amounts.net
        vat_by_rate[line.vat_rate] += amounts.vat
    vat = sum(vat_by_rate.values(), Decimal("0.00"))
    return Totals(net, dict(sorted(vat_by_rate.items())), vat, net + vat)
