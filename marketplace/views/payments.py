"""Paying an order: the steps of the administrative mandate, the invoice (PDF), card payment through
Stripe Checkout and the webhook by which Stripe reports the outcome.

The order page shows all of it by including templates/marketplace/payments/_order_payment.html, which
needs only `order` in its context: its forms and `card_payment_available` come from the context
processor below.
"""
from __future__ import annotations

import json
import re

import stripe
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from core import archive, permissions
from core.errors import RuleViolation
from core.extensions import csrf, db
from core.forms import ConfirmForm
from core.pdf import render_pdf
from core.views.helpers import attempt
from marketplace.forms.payments import BudgetLineForm, InvoiceForm, MandateForm
from marketplace.models import Order
from marketplace.money import line_amounts, totals
from marketplace.services import payments
from marketplace.views import bp


@bp.app_context_processor
def payment_helpers() -> dict:
    return {
        "card_payment_available": payments.card_payment_available,
        "mandate_steps_open": payments.mandate_steps_open,
        "mandate_payable": payments.mandate_payable,
        "payment_forms": _payment_forms,
    }


def _payment_forms(order: Order) -> dict:
    """The partial's forms, filled with what is recorded; a posted form answers by redirecting back."""
    return {
        "budget_line": BudgetLineForm(formdata=None, budget_line=order.budget_line),
        "invoice": InvoiceForm(formdata=None, invoice_number=order.invoice_number,
                               invoice_date=payments.local_date(order.invoice_date)),
        "mandate": MandateForm(formdata=None),
    }


def _order_page(order: Order, external: bool = False) -> str:
    return url_for("marketplace.order", order_id=order.id, _anchor="payment", _external=external)


def _order_for(order_id: int, action: str) -> Order:
    """The order, if the user is party to it (404 otherwise) and may do this action (403 otherwise)."""
    order = db.get_or_404(Order, order_id)
    permissions.require(current_user, "order.view", order)
    permissions.require(current_user, action, order)
    return order


def _flash_errors(form) -> None:
    for field_name, messages in form.errors.items():
        label = form[field_name].label.text if field_name in form else field_name
        for message in messages:
            flash(f"{label}: {message}", "error")


@bp.post("/orders/<int:order_id>/budget-line")
@login_required
def record_budget_line(order_id: int):
    order = _order_for(order_id, "order.record_payment")
    form = BudgetLineForm()
    if form.validate_on_submit():
        attempt(lambda: payments.record_budget_line(current_user, order, form.budget_line.data),
                _("The budget line is recorded."))
    else:
        _flash_errors(form)
    return redirect(_order_page(order))


@bp.post("/orders/<int:order_id>/invoice")
@login_required
def record_invoice(order_id: int):
    order = _order_for(order_id, "order.supply")
    form = InvoiceForm()
    if form.validate_on_submit():
        attempt(lambda: payments.record_invoice(current_user, order, form.invoice_number.data,
                                                form.invoice_date.data),
                _("The invoice is recorded."))
    else:
        _flash_errors(form)
    return redirect(_order_page(order))


@bp.post("/orders/<int:order_id>/mandate")
@login_required
def record_mandate(order_id: int):
    order = _order_for(order_id, "order.record_payment")
    form = MandateForm()
    if form.validate_on_submit():
        attempt(lambda: payments.record_mandate(current_user, order, form.mandate_reference.data,
                                                form.paid_on.data),
                _("The payment is recorded: the order is paid."))
    else:
        _flash_errors(form)
    return redirect(_order_page(order))


@bp.get("/orders/<int:order_id>/invoice.pdf")
@login_required
def invoice_pdf(order_id: int):
    order = db.get_or_404(Order, order_id)
    permissions.require(current_user, "order.view", order)
    if not order.invoice_number:
        abort(404)
    lines = [{"line": line, "amounts": line_amounts(line.quantity, line.unit_price, line.vat_rate)}
             for line in order.lines]
    safe_number = re.sub(r"[^\w.-]+", "-", order.invoice_number).strip("-") or order.reference
    document = archive.latest_or_issue(
        "invoice", order, "", f"{_('invoice')}-{safe_number}.pdf",
        lambda: render_pdf("documents/invoice.html", order=order, supplier=order.supplier, buyer=order.buyer,
                           lines=lines, totals=totals(order.lines)),
        current_user, owner=order.supplier, recipient=order.buyer)
    db.session.commit()
    return archive.response(document)


@bp.post("/orders/<int:order_id>/pay")
@login_required
def pay_by_card(order_id: int):
    if not payments.card_payments_enabled():
        abort(404)
    order = _order_for(order_id, "order.pay_by_card")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        checkout_url = payments.start_card_payment(current_user, order, success_url=_order_page(order, True),
                                                   cancel_url=_order_page(order, True))
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_order_page(order))
    return redirect(checkout_url, 303)


@bp.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's calls: no session, no CSRF token; the signature made with the webhook secret is the
    authority. Answers 2xx once the event is applied or known, so that Stripe stops sending it."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        abort(404)
    try:
        payload = request.get_data().decode("utf-8")
        stripe.WebhookSignature.verify_header(payload, request.headers.get("Stripe-Signature"), secret,
                                              tolerance=stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError, stripe.SignatureVerificationError):
        return {"error": "invalid payload or signature"}, 400
    if not isinstance(event, dict):
        return {"error": "invalid payload"}, 400
    try:
        applied = payments.handle_stripe_event(event)
        db.session.commit()
    except IntegrityError:
        # The same event delivered twice at once: the other delivery applies it.
        db.session.rollback()
        applied = False
    except RuleViolation as error:
        # A refund Stripe refused: nothing is kept, Stripe sends the event again later.
        db.session.rollback()
        current_app.logger.warning("Stripe event %s not applied: %s", event.get("id"), error)
        return {"error": "not applied, retry later"}, 503
    return {"received": True, "applied": applied}


csrf.exempt(stripe_webhook)
