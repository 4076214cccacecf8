"""Payments of an order, two ways.

Administrative mandate (public buyers): the buyer's procurement officer records the budget line
(imputation budgétaire), the supplier records its invoice, then the buyer records the mandate its
finance department issued and the date the public accountant paid.

Card, through Stripe Checkout with Connect destination charges: the charge is made on the platform and
transferred to the supplier's connected account, less the platform's fee. Stripe tells the outcome by
webhook events; each takes effect once (its id is kept in `StripeEvent`), and an event arriving late
never undoes a later state (an expired session does not un-pay, a completed one does not re-pay a
refunded order). Every call to Stripe goes through `stripe_client()`.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import User, utcnow
from marketplace.models import Order, OrderStatus, PaymentMethod, PaymentStatus, StripeEvent
from marketplace.money import line_amounts, totals

log = logging.getLogger(__name__)

# Stripe accepts at most 100 line items in a Checkout Session; beyond, the order is one line.
MAX_CHECKOUT_LINES = 100
SETTLED = (PaymentStatus.PAID, PaymentStatus.REFUNDED)


# --- Stripe access -------------------------------------------------------------------------------

def card_payments_enabled() -> bool:
    """Card payment exists only once the platform's Stripe secret key is configured."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def stripe_client() -> stripe.StripeClient:
    """The one way to Stripe. Tests put a fake HTTP client in app.extensions["stripe_http_client"]."""
    api_key = current_app.config.get("STRIPE_SECRET_KEY")
    if not api_key:
        raise RuntimeError("STRIPE_SECRET_KEY is not set: card payments are disabled")
    return stripe.StripeClient(api_key, http_client=current_app.extensions.get("stripe_http_client"))


def _stripe_unavailable(error: stripe.StripeError) -> RuleViolation:
    log.warning("Stripe refused or did not answer: %s", error)
    return RuleViolation(_("The card payment service did not accept the operation; try again later "
                           "or contact the platform's administrators."))


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), ROUND_HALF_UP))


def platform_fee(gross: Decimal) -> Decimal:
    """The platform's fee on a card payment, in euros rounded to the cent (PLATFORM_FEE_PERCENT of the
    amount including VAT)."""
    percent = Decimal(str(current_app.config.get("PLATFORM_FEE_PERCENT") or "0"))
    return (gross * percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- what may happen next, for services and templates alike ---------------------------------------

def _on_day(day: date) -> datetime:
    """A calendar date typed by a person, stored as noon local time so that it reads back as the same day."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(timezone.utc)


def local_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _local_today() -> date:
    return local_date(utcnow())


def mandate_steps_open(order: Order) -> bool:
    """Budget line and invoice can be recorded (or corrected) until the order is paid or cancelled."""
    return order.status is not OrderStatus.CANCELLED and order.payment_status not in SETTLED


def mandate_payable(order: Order) -> bool:
    return (mandate_steps_open(order) and bool(order.budget_line) and bool(order.invoice_number)
            and order.payment_status is not PaymentStatus.PENDING)


def card_payment_available(order: Order) -> bool:
    """Whether the "pay by card" button has a point: Stripe configured, the supplier connected, the order
    neither cancelled nor paid. (Whether this user may press it is `may("order.pay_by_card", order)`.)"""
    return (card_payments_enabled() and bool(order.supplier.stripe_account_id)
            and order.status is not OrderStatus.CANCELLED and order.payment_status not in SETTLED)


def _refuse_unless_open(order: Order) -> None:
    if order.status is OrderStatus.CANCELLED:
        raise RuleViolation(_("The order is cancelled."))
    if order.payment_status in SETTLED:
        raise RuleViolation(_("The order is already paid."))


# --- administrative mandate ------------------------------------------------------------------------

def record_budget_line(actor: User, order: Order, budget_line: str) -> None:
    permissions.require(actor, "order.record_payment", order)
    _refuse_unless_open(order)
    budget_line = (budget_line or "").strip()
    if not budget_line:
        raise RuleViolation(_("Give the budget line the order is charged to."))
    order.budget_line = budget_line
    audit.record(actor, "order.budget_line_recorded", order, budget_line=budget_line)


def record_invoice(actor: User, order: Order, number: str, invoice_date: date) -> None:
    permissions.require(actor, "order.supply", order)
    _refuse_unless_open(order)
    number = (number or "").strip()
    if not number:
        raise RuleViolation(_("Give the invoice number."))
    if invoice_date is None or invoice_date > _local_today():
        raise RuleViolation(_("The invoice date cannot be in the future."))
    order.invoice_number = number
    order.invoice_date = _on_day(invoice_date)
    audit.record(actor, "order.invoice_recorded", order, invoice_number=number, invoice_date=invoice_date)


def record_mandate(actor: User, order: Order, mandate_reference: str, paid_on: date) -> None:
    """The buyer's finance department issued the mandate and the public accountant paid: the order is paid."""
    permissions.require(actor, "order.record_payment", order)
    _refuse_unless_open(order)
    if order.payment_status is PaymentStatus.PENDING:
        raise RuleViolation(_("A card payment of this order is in progress."))
    if not order.invoice_number:
        raise RuleViolation(_("The supplier has not recorded its invoice yet: a payment is made on an invoice."))
    if not order.budget_line:
        raise RuleViolation(_("Record the budget line before the payment."))
    mandate_reference = (mandate_reference or "").strip()
    if not mandate_reference:
        raise RuleViolation(_("Give the mandate reference."))
    if paid_on is None or paid_on > _local_today():
        raise RuleViolation(_("The payment date cannot be in the future."))
    if order.invoice_date is not None and _on_day(paid_on) < order.invoice_date:
        raise RuleViolation(_("The payment date cannot be before the invoice date."))
    order.payment_method = PaymentMethod.MANDATE
    order.mandate_reference = mandate_reference
    order.paid_at = _on_day(paid_on)
    order.payment_status = PaymentStatus.PAID
    audit.record(actor, "order.paid", order, method=PaymentMethod.MANDATE, mandate_reference=mandate_reference,
                 paid_on=paid_on)


# --- card payment ------------------------------------------------------------------------------------

def _line_items(order: Order) -> list[dict]:
    """Amounts including VAT, in cents. Each order line is one item of quantity 1 priced at the line's
    rounded total, so that the items add up to the order total to the cent (marketplace.money)."""
    if len(order.lines) > MAX_CHECKOUT_LINES:
        return [{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": to_cents(totals(order.lines).gross),
            "product_data": {"name": _("Order %(reference)s", reference=order.reference)}}}]
    return [{"quantity": 1, "price_data": {
        "currency": "eur", "unit_amount": to_cents(line_amounts(line.quantity, line.unit_price, line.vat_rate).gross),
        "product_data": {"name": f"{line.quantity} × {line.description}"[:250]}}}
        for line in order.lines]


def _expire_session(session_id: str) -> bool:
    """Close a Checkout Session that may still be open; False if Stripe refuses (it is already complete)."""
    try:
        stripe_client().v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError:
        return False
    return True


def start_card_payment(actor: User, order: Order, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for the order and answer its URL, where the buyer pays."""
    permissions.require(actor, "order.pay_by_card", order)
    if not card_payments_enabled():
        raise RuleViolation(_("Card payment is not available on this platform."))
    _refuse_unless_open(order)
    destination = order.supplier.stripe_account_id
    if not destination:
        raise RuleViolation(_("%(supplier)s does not accept card payments yet (no connected Stripe account): "
                              "pay this order by administrative mandate.", supplier=order.supplier.name))
    gross = totals(order.lines).gross
    if gross <= 0:
        raise RuleViolation(_("There is nothing to pay on this order."))
    try:
        if order.payment_status is PaymentStatus.PENDING and order.stripe_session_id:
            # The buyer left an earlier checkout open: close it, so the order can never be paid twice.
            if not _expire_session(order.stripe_session_id):
                raise RuleViolation(_("A card payment of this order is being completed; "
                                      "reload the page in a moment."))
        metadata = {"order_id": str(order.id), "reference": order.reference}
        payment_intent_data: dict = {
            "transfer_data": {"destination": destination},
            "description": _("Order %(reference)s", reference=order.reference),
            "metadata": metadata,
        }
        fee = to_cents(platform_fee(gross))
        if fee > 0:
            payment_intent_data["application_fee_amount"] = fee
        session = stripe_client().v1.checkout.sessions.create(params={
            "mode": "payment",
            "payment_method_types": ["card"],
            "line_items": _line_items(order),
            "payment_intent_data": payment_intent_data,
            "metadata": metadata,
            "client_reference_id": order.reference,
            "customer_email": actor.email,
            "success_url": success_url,
            "cancel_url": cancel_url,
        })
    except stripe.StripeError as error:
        raise _stripe_unavailable(error) from error
    order.stripe_session_id = session.id
    order.payment_method = PaymentMethod.CARD
    order.payment_status = PaymentStatus.PENDING
    audit.record(actor, "order.card_payment_started", order, session=session.id, amount=gross)
    return session.url


def refund_if_paid(order: Order, actor: User | None = None) -> None:
    """Called when an order is cancelled (marketplace.services.orders.cancel).

    Paid by card: Stripe refunds the buyer, takes back the transfer from the supplier and the platform's
    fee. Paid by mandate: the money went through the public accountant, so the buyer's finance department
    claims it from the supplier (a revenue order); the platform only notes it. A checkout still open is
    closed, so the buyer cannot pay a cancelled order."""
    by_card = order.payment_method is PaymentMethod.CARD
    if by_card and order.payment_status in (PaymentStatus.PAID, PaymentStatus.PENDING) \
            and not card_payments_enabled():
        raise RuleViolation(_("Card payments are switched off on this platform, so the card payment of this "
                              "order cannot be refunded or closed; contact the platform's administrators."))
    if by_card and order.payment_status is PaymentStatus.PAID and order.stripe_payment_intent:
        try:
            stripe_client().v1.refunds.create(
                params={"payment_intent": order.stripe_payment_intent, "refund_application_fee": True,
                        "reverse_transfer": True,
                        "metadata": {"order_id": str(order.id), "reference": order.reference}},
                # Cancelling twice (a retried request) never refunds twice.
                options={"idempotency_key": f"refund-{order.reference}"})
        except stripe.StripeError as error:
            raise _stripe_unavailable(error) from error
        order.payment_status = PaymentStatus.REFUNDED
        audit.record(actor, "order.refunded", order, method=PaymentMethod.CARD,
                     payment_intent=order.stripe_payment_intent)
    elif order.payment_status is PaymentStatus.PAID:
        audit.record(actor, "order.refund_to_claim", order, method=PaymentMethod.MANDATE,
                     note="refund to claim by the buyer's finance", mandate_reference=order.mandate_reference)
    elif by_card and order.payment_status is PaymentStatus.PENDING and order.stripe_session_id:
        try:
            closed = _expire_session(order.stripe_session_id)
        except stripe.StripeError as error:
            raise _stripe_unavailable(error) from error
        if closed:
            order.payment_status = PaymentStatus.UNPAID
        # Otherwise the payment went through an instant ago: its webhook event refunds it
        # (_checkout_completed), since the order is cancelled by then.


# --- Stripe webhook events ---------------------------------------------------------------------------

def _order_of_session(session: dict) -> Order | None:
    order_id = (session.get("metadata") or {}).get("order_id")
    order = db.session.get(Order, int(order_id)) if order_id and str(order_id).isdigit() else None
    if order is None and session.get("id"):
        order = db.session.scalar(select(Order).where(Order.stripe_session_id == session["id"]))
    return order


def _checkout_completed(session: dict) -> None:
    order = _order_of_session(session)
    if order is None or session.get("payment_status") != "paid":
        return
    if order.payment_status in SETTLED:
        # Already paid (a second checkout?) or refunded: a late event never re-pays.
        if session.get("payment_intent") != order.stripe_payment_intent:
            log.warning("order %s: checkout %s completed while the order is %s", order.reference,
                        session.get("id"), order.payment_status)
        return
    order.payment_method = PaymentMethod.CARD
    order.payment_status = PaymentStatus.PAID
    order.stripe_session_id = session.get("id") or order.stripe_session_id
    order.stripe_payment_intent = session.get("payment_intent")
    order.paid_at = utcnow()
    audit.record(None, "order.paid", order, method=PaymentMethod.CARD, payment_intent=order.stripe_payment_intent,
                 amount_cents=session.get("amount_total"))
    if order.status is OrderStatus.CANCELLED:
        # Paid in the instant the order was being cancelled: give the money back.
        refund_if_paid(order)


def _checkout_expired(session: dict) -> None:
    order = _order_of_session(session)
    # Only the order's current checkout, and only while it is pending: an expiry never un-pays.
    if (order is not None and order.payment_status is PaymentStatus.PENDING
            and order.stripe_session_id == session.get("id")):
        order.payment_status = PaymentStatus.UNPAID
        audit.record(None, "order.card_payment_expired", order, session=session.get("id"))


def _charge_refunded(charge: dict) -> None:
    payment_intent = charge.get("payment_intent")
    if not payment_intent or not charge.get("refunded"):
        return  # a partial refund leaves the order paid
    order = db.session.scalar(select(Order).where(Order.stripe_payment_intent == payment_intent))
    if order is not None and order.payment_status is PaymentStatus.PAID:
        order.payment_status = PaymentStatus.REFUNDED
        audit.record(None, "order.refunded", order, method=PaymentMethod.CARD, payment_intent=payment_intent)


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.expired": _checkout_expired,
    "charge.refunded": _charge_refunded,
}


def already_applied(event_id: str) -> bool:
    return db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event_id)) is not None


def handle_stripe_event(event: dict) -> bool:
    """Apply a verified webhook event once. False when it was already applied or is of no interest.

    The event's id is stored in the caller's transaction: a concurrent delivery of the same event fails
    on the unique constraint (IntegrityError at flush or commit) and the caller rolls back."""
    handler = HANDLERS.get(event.get("type"))
    event_id = event.get("id")
    if handler is None or not event_id:
        return False
    if already_applied(event_id):
        return False
    db.session.add(StripeEvent(event_id=event_id, event_type=event["type"]))
    db.session.flush()
    handler((event.get("data") or {}).get("object") or {})
    return True
