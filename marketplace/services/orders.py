"""Orders: issued from a campaign award or a direct basket, confirmed and shipped by the supplier,
delivered per site, cancelled. Stock is taken by one conditional UPDATE and never goes below zero."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, Site, User, utcnow
from marketplace import money
from marketplace.models import CatalogueOffer, Order, OrderLine, OrderStatus, PaymentMethod


def new_reference() -> str:
    return f"BC-{utcnow().year}-{secrets.token_hex(4).upper()}"


def take_stock(offer: CatalogueOffer, quantity: int) -> None:
    """Reserve units of an offer, or refuse: concurrent orders can never drive the stock below zero."""
    result = db.session.execute(
        update(CatalogueOffer).where(CatalogueOffer.id == offer.id, CatalogueOffer.stock >= quantity)
        .values(stock=CatalogueOffer.stock - quantity).execution_options(synchronize_session=False))
    db.session.refresh(offer, ["stock"])
    if result.rowcount != 1:
        raise RuleViolation(_("Only %(n)d unit(s) of %(offer)s in stock.", n=offer.stock, offer=str(offer)))


def return_stock(offer: CatalogueOffer, quantity: int) -> None:
    db.session.execute(update(CatalogueOffer).where(CatalogueOffer.id == offer.id)
                       .values(stock=CatalogueOffer.stock + quantity).execution_options(synchronize_session=False))
    db.session.refresh(offer, ["stock"])


@dataclass
class LineData:
    offer: CatalogueOffer
    quantity: int
    unit_price: Decimal
    site: Site | None


def issue_order(actor: User | None, buyer: Organisation, supplier: Organisation, lines: list[LineData],
                campaign=None, payment_method: PaymentMethod = PaymentMethod.MANDATE,
                budget_line: str = "", reserve: bool = True) -> Order:
    """One order of a buyer to a supplier, with prices frozen and (unless already reserved) stock taken."""
    if not lines:
        raise RuleViolation(_("An order has at least one line."))
    order = Order(reference=new_reference(), buyer=buyer, supplier=supplier, campaign=campaign,
                  payment_method=payment_method, budget_line=budget_line.strip(),
                  placed_by_id=actor.id if actor else None)
    for line in lines:
        if line.quantity < 1:
            raise RuleViolation(_("A quantity is at least 1."))
        if line.offer.supplier_id != supplier.id:
            raise RuleViolation(_("Every line of an order comes from its supplier."))
        if reserve:
            take_stock(line.offer, line.quantity)
        order.lines.append(OrderLine(
            offer=line.offer, site=line.site, description=f"{line.offer.brand} {line.offer.model}",
            category=line.offer.category, cpv=line.offer.cpv, quantity=line.quantity,
            unit_price=line.unit_price, vat_rate=line.offer.vat_rate,
            is_reconditioned=line.offer.is_reconditioned))
    db.session.add(order)
    audit.record(actor, "order.issued", order, reference=order.reference)
    return order


def confirm_order(actor: User, order: Order) -> None:
    permissions.require(actor, "order.supply", order)
    if order.status is not OrderStatus.PLACED:
        raise RuleViolation(_("Only a placed order can be confirmed."))
    order.status = OrderStatus.CONFIRMED
    order.confirmed_at = utcnow()
    audit.record(actor, "order.confirmed", order)


def _lines_for_site(order: Order, site_id: int | None) -> list[OrderLine]:
    lines = [line for line in order.lines if site_id is None or line.site_id == site_id]
    if not lines:
        raise RuleViolation(_("No line of this order goes to this site."))
    return lines


def ship(actor: User, order: Order, site_id: int | None = None) -> None:
    """The supplier ships the lines for one site (or all); the order is shipped once every line is."""
    permissions.require(actor, "order.supply", order)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED):
        raise RuleViolation(_("Confirm the order before shipping it."))
    for line in _lines_for_site(order, site_id):
        line.shipped_at = line.shipped_at or utcnow()
    if all(line.shipped_at for line in order.lines):
        order.status = OrderStatus.SHIPPED
    audit.record(actor, "order.shipped", order, site=site_id)


def confirm_delivery(actor: User, order: Order, site_id: int | None = None) -> None:
    permissions.require(actor, "order.receive", order)
    lines = _lines_for_site(order, site_id)
    if any(line.shipped_at is None for line in lines):
        raise RuleViolation(_("The supplier has not shipped these lines yet."))
    for line in lines:
        line.delivered_at = line.delivered_at or utcnow()
    if all(line.delivered_at for line in order.lines):
        order.status = OrderStatus.DELIVERED
    audit.record(actor, "order.delivered", order, site=site_id)


CANCELLABLE_STATUSES = {OrderStatus.PLACED, OrderStatus.CONFIRMED}


def cancel(actor: User, order: Order) -> None:
    """Cancel before shipping: the stock comes back; a card payment is refunded (marketplace.services.payments)."""
    permissions.require(actor, "order.cancel", order)
    if order.status not in CANCELLABLE_STATUSES:
        raise RuleViolation(_("A shipped or delivered order cannot be cancelled."))
    for line in order.lines:
        if line.offer is not None:
            return_stock(line.offer, line.quantity)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    audit.record(actor, "order.cancelled", order)
    from marketplace.services import payments

    payments.refund_if_paid(order, actor)



# --- reading orders: the lines per delivery site, the consolidated order of a campaign -------------

@dataclass
class PricedLine:
    """An order line with its rounded amounts (marketplace.money)."""

    line: OrderLine
    amounts: money.LineAmounts


@dataclass
class SiteDelivery:
    site: Site | None
    lines: list[PricedLine]

    @property
    def shipped(self) -> bool:
        return all(priced.line.shipped_at for priced in self.lines)

    @property
    def delivered(self) -> bool:
        return all(priced.line.delivered_at for priced in self.lines)


def _priced(line: OrderLine) -> PricedLine:
    return PricedLine(line, money.line_amounts(line.quantity, line.unit_price, line.vat_rate))


def deliveries(lines: list[OrderLine]) -> list[SiteDelivery]:
    """Lines grouped by delivery site, in the order the sites first appear."""
    by_site: dict[int | None, SiteDelivery] = {}
    for line in lines:
        delivery = by_site.setdefault(line.site_id, SiteDelivery(line.site, []))
        delivery.lines.append(_priced(line))
    return list(by_site.values())


def order_summary(order: Order) -> dict:
    """What the order page and the purchase order show: deliveries per site and the totals."""
    return {"deliveries": deliveries(order.lines), "totals": money.totals(order.lines)}


def campaign_supplier_orders(campaign, supplier: Organisation) -> dict:
    """The consolidated order of a campaign for one supplier: every order not cancelled, per member
    (with its deliveries per site and totals), and the grand totals."""
    found = db.session.scalars(
        select(Order).where(Order.campaign_id == campaign.id, Order.supplier_id == supplier.id,
                            Order.status != OrderStatus.CANCELLED)
        .order_by(Order.id)).all()
    members = [{"order": order, **order_summary(order)}
               for order in sorted(found, key=lambda order: (order.buyer.name, order.id))]
    all_lines = [line for order in found for line in order.lines]
    return {"members": members, "totals": money.totals(all_lines),
            "quantity": sum(line.quantity for line in all_lines)}
