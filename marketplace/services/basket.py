"""The basket of a buyer organisation: catalogue offers per delivery site, priced at the volume tier the
basket's total quantity of each offer reaches, then placed as direct orders, one per supplier.

The basket belongs to the organisation, not to one person: its procurement officers and IT managers
(or the contacts of a beneficiary) fill it together.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, Site, User
from marketplace import money
from marketplace.models import BasketItem, CatalogueOffer, Order, PaymentMethod
from marketplace.services import orders

MAX_QUANTITY = 10_000


@dataclass
class BasketLine:
    """A basket item at the price of the tier reached; quantity, unit_price and vat_rate as money.totals
    reads them."""

    item: BasketItem
    unit_price: Decimal
    amounts: money.LineAmounts

    @property
    def offer(self) -> CatalogueOffer:
        return self.item.offer

    @property
    def quantity(self) -> int:
        return self.item.quantity

    @property
    def vat_rate(self) -> Decimal:
        return self.item.offer.vat_rate


@dataclass
class SupplierBasket:
    supplier: Organisation
    lines: list[BasketLine]
    totals: money.Totals


@dataclass
class Basket:
    suppliers: list[SupplierBasket]
    totals: money.Totals
    quantity_by_offer: dict[int, int]

    @property
    def lines(self) -> list[BasketLine]:
        return [line for group in self.suppliers for line in group.lines]

    @property
    def is_empty(self) -> bool:
        return not self.suppliers

    def short_of_stock(self) -> list[tuple[CatalogueOffer, int]]:
        """Offers of which the basket holds more than the stock: (offer, quantity wanted)."""
        offers = {line.offer.id: line.offer for line in self.lines}
        return [(offers[offer_id], wanted) for offer_id, wanted in self.quantity_by_offer.items()
                if wanted > offers[offer_id].stock]


def items_of(organisation: Organisation) -> list[BasketItem]:
    return list(db.session.scalars(select(BasketItem).where(BasketItem.organisation_id == organisation.id)
                                   .order_by(BasketItem.id)))


def basket_of(organisation: Organisation) -> Basket:
    """The organisation's basket, lines grouped by supplier (by name)."""
    items = items_of(organisation)
    quantity_by_offer: dict[int, int] = defaultdict(int)
    for item in items:
        quantity_by_offer[item.offer_id] += item.quantity
    by_supplier: dict[int, list[BasketLine]] = defaultdict(list)
    for item in items:
        # The tier is reached by the basket's total of the offer, whatever the delivery sites.
        unit_price = item.offer.unit_price_for(quantity_by_offer[item.offer_id])
        by_supplier[item.offer.supplier_id].append(BasketLine(
            item, unit_price, money.line_amounts(item.quantity, unit_price, item.offer.vat_rate)))
    groups = [SupplierBasket(lines[0].offer.supplier, lines, money.totals(lines)) for lines in by_supplier.values()]
    groups.sort(key=lambda group: (group.supplier.name, group.supplier.id))
    all_lines = [line for group in groups for line in group.lines]
    return Basket(groups, money.totals(all_lines), dict(quantity_by_offer))


def _check_quantity(quantity: int, minimum: int) -> None:
    if quantity < minimum:
        raise RuleViolation(_("A quantity is at least %(n)d.", n=minimum))
    if quantity > MAX_QUANTITY:
        raise RuleViolation(_("A quantity is at most %(n)d.", n=MAX_QUANTITY))


def add_item(actor: User, offer: CatalogueOffer, site: Site, quantity: int) -> BasketItem:
    """Add units of an offer for a delivery site; the same offer for the same site adds up."""
    permissions.require(actor, "order.place")
    permissions.require(actor, "catalogue.view", offer)
    if not offer.active or not offer.supplier.is_validated:
        raise RuleViolation(_("%(offer)s is no longer offered.", offer=str(offer)))
    if site.organisation_id != actor.organisation_id:
        raise RuleViolation(_("Choose a delivery site of your organisation."))
    _check_quantity(quantity, 1)
    item = db.session.scalar(select(BasketItem).where(
        BasketItem.organisation_id == actor.organisation_id, BasketItem.offer_id == offer.id,
        BasketItem.site_id == site.id))
    if item is None:
        item = BasketItem(organisation_id=actor.organisation_id, offer=offer, site=site, quantity=0)
        db.session.add(item)
    _check_quantity(item.quantity + quantity, 1)
    item.quantity += quantity
    return item


def _own_item(actor: User, item: BasketItem) -> None:
    permissions.require(actor, "order.place")
    if item.organisation_id != actor.organisation_id:
        abort(404)  # another organisation's basket does not exist for you


def update_item(actor: User, item: BasketItem, quantity: int) -> BasketItem | None:
    """Change the quantity of a basket line; 0 removes it (and returns None)."""
    _own_item(actor, item)
    _check_quantity(quantity, 0)
    if quantity == 0:
        db.session.delete(item)
        return None
    item.quantity = quantity
    return item


def payment_method_for(organisation: Organisation) -> PaymentMethod:
    """Public bodies pay by administrative mandate; beneficiaries by card when card payments are set up."""
    if organisation.kind.is_public_buyer or not current_app.config.get("STRIPE_SECRET_KEY"):
        return PaymentMethod.MANDATE
    return PaymentMethod.CARD


def place_order(actor: User, budget_line: str = "") -> list[Order]:
    """One order per supplier from the organisation's basket, stock taken, basket emptied. All or
    nothing: on any refusal nothing is kept, provided the caller rolls back (the views do)."""
    permissions.require(actor, "order.place")
    organisation = actor.organisation
    basket = basket_of(organisation)
    if basket.is_empty:
        raise RuleViolation(_("Your basket is empty."))
    for line in basket.lines:
        if not line.offer.active or not line.offer.supplier.is_validated:
            raise RuleViolation(_("%(offer)s is no longer offered: remove it from your basket.",
                                  offer=str(line.offer)))
    for offer in {line.offer for line in basket.lines}:
        db.session.refresh(offer, ["stock"])
    short = basket.short_of_stock()
    if short:
        offer, wanted = short[0]
        raise RuleViolation(_("Only %(n)d unit(s) of %(offer)s in stock; your basket holds %(wanted)d.",
                              n=offer.stock, offer=str(offer), wanted=wanted))
    payment_method = payment_method_for(organisation)
    if not organisation.kind.is_public_buyer:
        budget_line = ""
    placed = []
    for group in basket.suppliers:
        # take_stock (in issue_order) still guards against an order placed meanwhile by someone else.
        placed.append(orders.issue_order(
            actor, organisation, group.supplier,
            [orders.LineData(offer=line.offer, quantity=line.quantity, unit_price=line.unit_price,
                             site=line.item.site) for line in group.lines],
            payment_method=payment_method, budget_line=budget_line))
    for line in basket.lines:
        db.session.delete(line.item)
    return placed
