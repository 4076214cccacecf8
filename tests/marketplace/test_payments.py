"""Paying an order: by administrative mandate (budget line, invoice, mandate), by card through Stripe
Checkout (a fake Stripe answers, nothing reaches the network), the webhook, refunds on cancellation and
the invoice PDF."""
from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import render_template
from flask_login import login_user
from pypdf import PdfReader
from sqlalchemy import func, select

from core.errors import RuleViolation
from core.extensions import db
from core.models import AuditEntry, OrganisationKind, Role
from marketplace.models import Order, PaymentMethod, PaymentStatus, StripeEvent
from marketplace.services import orders as order_services
from marketplace.services import payments
from marketplace.services.orders import LineData, issue_order
from tests.factories import CatalogueOfferFactory, OrganisationFactory, UserFactory
from tests.marketplace.stripe_fake import CHECKOUT_URL, FakeStripeHTTP, event, signature_header
from tests.matrix import log_in

WEBHOOK_SECRET = "whsec_test_circuit"
CONNECTED_ACCOUNT = "acct_1SupplierTest"


@pytest.fixture
def stripe_fake(app, monkeypatch) -> FakeStripeHTTP:
    """Card payments switched on, talking to a fake Stripe."""
    fake = FakeStripeHTTP()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_circuit")
    monkeypatch.setitem(app.config, "STRIPE_PUBLISHABLE_KEY", "pk_test_circuit")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "PLATFORM_FEE_PERCENT", "2.5")
    monkeypatch.setitem(app.extensions, "stripe_http_client", fake)
    return fake


@dataclass
class Deal:
    order: Order
    officer: object          # the buyer's procurement officer
    it_manager: object       # another member of the buyer, who may pay by card but not record a mandate
    supplier_user: object


def make_deal(stripe_account: str | None = CONNECTED_ACCOUNT) -> Deal:
    """A commune's order of 2 laptops at 320.00 (VAT 20 %) and 3 cables at 19.99 (VAT 5.5 %):
    net 640.00 + 59.97 = 699.97, VAT 128.00 + 3.30 = 131.30, total 831.27."""
    buyer = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name="Ville de Vitry-sur-Seine")
    supplier = OrganisationFactory(name="Ateliers Numériques Solidaires", stripe_account_id=stripe_account)
    officer = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=buyer)
    it_manager = UserFactory(role=Role.IT_MANAGER, organisation=buyer)
    supplier_user = UserFactory(role=Role.SUPPLIER, organisation=supplier)
    laptop = CatalogueOfferFactory(supplier=supplier, brand="Dell", model="Latitude 5490",
                                   unit_price=Decimal("320.00"))
    cable = CatalogueOfferFactory(supplier=supplier, brand="Generic", model="USB-C cable",
                                  unit_price=Decimal("19.99"), vat_rate=Decimal("5.50"))
    site = buyer.sites[0]
    order = issue_order(officer, buyer, supplier, [LineData(laptop, 2, laptop.unit_price, site),
                                                   LineData(cable, 3, cable.unit_price, site)])
    db.session.commit()
    return Deal(order, officer, it_manager, supplier_user)


@pytest.fixture
def deal() -> Deal:
    return make_deal()


def refreshed(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def audit_actions(order: Order) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "order", AuditEntry.object_id == order.id).order_by(AuditEntry.id)))


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


# --- administrative mandate ------------------------------------------------------------------------

def test_budget_line_then_supplier_invoice_then_mandate_pays_the_order(client, deal):
    order_id = deal.order.id
    log_in(client, deal.officer)
    response = client.post(f"/marketplace/orders/{order_id}/budget-line", data={"budget_line": "2183-020 Informatique"})
    assert response.status_code == 302
    assert response.location.endswith(f"/marketplace/orders/{order_id}#payment")

    log_in(client, deal.supplier_user)
    client.post(f"/marketplace/orders/{order_id}/invoice",
                data={"invoice_number": "FA-2026-0042", "invoice_date": "2026-03-02"})

    log_in(client, deal.officer)
    client.post(f"/marketplace/orders/{order_id}/mandate",
                data={"mandate_reference": "M-2026-1187", "paid_on": "2026-03-20"})

    order = refreshed(deal.order)
    assert order.budget_line == "2183-020 Informatique"
    assert order.invoice_number == "FA-2026-0042"
    assert payments.local_date(order.invoice_date) == date(2026, 3, 2)
    assert order.mandate_reference == "M-2026-1187"
    assert payments.local_date(order.paid_at) == date(2026, 3, 20)
    assert (order.payment_status, order.payment_method) == (PaymentStatus.PAID, PaymentMethod.MANDATE)
    assert {"order.budget_line_recorded", "order.invoice_recorded", "order.paid"} <= set(audit_actions(order))


def test_no_payment_is_recorded_before_the_supplier_invoices(client, deal):
    payments.record_budget_line(deal.officer, deal.order, "2183")
    db.session.commit()
    log_in(client, deal.officer)
    client.post(f"/marketplace/orders/{deal.order.id}/mandate",
                data={"mandate_reference": "M-1", "paid_on": date.today().isoformat()})
    assert refreshed(deal.order).payment_status is PaymentStatus.UNPAID
    assert any("facture" in message for message in flashes(client))


def test_the_budget_line_comes_before_the_payment(deal):
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    with pytest.raises(RuleViolation, match="imputation budgétaire"):
        payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 20))


def test_no_payment_is_recorded_on_a_cancelled_order(deal):
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    order_services.cancel(deal.officer, deal.order)
    db.session.commit()
    with pytest.raises(RuleViolation, match="annulée"):
        payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 20))


def test_dates_are_neither_in_the_future_nor_a_payment_before_its_invoice(deal):
    tomorrow = date.today() + timedelta(days=2)
    with pytest.raises(RuleViolation):
        payments.record_invoice(deal.supplier_user, deal.order, "FA-1", tomorrow)
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    with pytest.raises(RuleViolation):
        payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 4))
    with pytest.raises(RuleViolation):
        payments.record_mandate(deal.officer, deal.order, "M-1", tomorrow)


def test_a_paid_order_takes_no_second_payment(deal):
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 20))
    with pytest.raises(RuleViolation, match="déjà payée"):
        payments.record_mandate(deal.officer, deal.order, "M-2", date(2026, 1, 21))
    with pytest.raises(RuleViolation, match="déjà payée"):
        payments.record_invoice(deal.supplier_user, deal.order, "FA-2", date(2026, 1, 6))


def test_only_the_supplier_records_its_invoice_and_only_the_buyer_its_mandate(client, deal):
    log_in(client, deal.officer)
    assert client.post(f"/marketplace/orders/{deal.order.id}/invoice",
                       data={"invoice_number": "X", "invoice_date": "2026-01-01"}).status_code == 403
    log_in(client, deal.supplier_user)
    assert client.post(f"/marketplace/orders/{deal.order.id}/budget-line",
                       data={"budget_line": "X"}).status_code == 403
    assert refreshed(deal.order).invoice_number == ""


def test_an_incomplete_form_changes_nothing_and_says_why(client, deal):
    log_in(client, deal.supplier_user)
    response = client.post(f"/marketplace/orders/{deal.order.id}/invoice", data={"invoice_number": "FA-1"})
    assert response.status_code == 302
    assert refreshed(deal.order).invoice_number == ""
    assert flashes(client)


# --- invoice PDF ------------------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_the_invoice_pdf_exists_once_the_supplier_has_recorded_its_invoice(client, deal):
    log_in(client, deal.officer)
    assert client.get(f"/marketplace/orders/{deal.order.id}/invoice.pdf").status_code == 404

    payments.record_invoice(deal.supplier_user, deal.order, "FA-2026-0042", date(2026, 3, 2))
    db.session.commit()
    response = client.get(f"/marketplace/orders/{deal.order.id}/invoice.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    supplier = deal.order.supplier
    for expected in ["FA-2026-0042", deal.order.reference, supplier.name, supplier.siret, "Ville de Vitry-sur-Seine",
                     "Latitude 5490", "320,00", "640,00",           # laptop: unit price, line total excl. VAT
                     "128,00", "3,30",                               # VAT at 20 % and at 5.5 %
                     "699,97", "831,27"]:                            # totals excl. and incl. VAT
        assert expected in text, expected


def test_a_stranger_never_sees_the_invoice(client, deal):
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 3, 2))
    db.session.commit()
    log_in(client, UserFactory(role=Role.SUPPLIER))
    assert client.get(f"/marketplace/orders/{deal.order.id}/invoice.pdf").status_code == 404


# --- card payment ---------------------------------------------------------------------------------

def test_card_payment_opens_a_checkout_session_paid_to_the_supplier_less_the_platform_fee(client, deal, stripe_fake):
    log_in(client, deal.officer)
    response = client.post(f"/marketplace/orders/{deal.order.id}/pay")

    assert response.status_code == 303
    assert response.location.startswith(CHECKOUT_URL)
    sent = stripe_fake.last("POST", "/v1/checkout/sessions")
    assert sent.headers["Authorization"] == "Bearer sk_test_circuit"
    params = sent.params
    assert params["mode"] == "payment"
    assert params["payment_intent_data[transfer_data][destination]"] == CONNECTED_ACCOUNT
    # Items include VAT, in cents: 2 × 320.00 × 1.20 = 768.00, 3 × 19.99 = 59.97 + 3.30 VAT = 63.27.
    assert [params[f"line_items[{i}][price_data][unit_amount]"] for i in (0, 1)] == ["76800", "6327"]
    assert {params[f"line_items[{i}][price_data][currency]"] for i in (0, 1)} == {"eur"}
    # 2.5 % of 831.27 = 20.78.
    assert params["payment_intent_data[application_fee_amount]"] == "2078"
    assert params["metadata[order_id]"] == str(deal.order.id)
    assert params["metadata[reference]"] == deal.order.reference
    assert params["success_url"].endswith(f"/marketplace/orders/{deal.order.id}#payment")
    assert params["success_url"].startswith("http")
    order = refreshed(deal.order)
    assert (order.payment_status, order.payment_method) == (PaymentStatus.PENDING, PaymentMethod.CARD)
    assert response.location == CHECKOUT_URL + order.stripe_session_id


def test_without_a_platform_fee_no_application_fee_is_asked(client, deal, stripe_fake, monkeypatch, app):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_PERCENT", "0")
    log_in(client, deal.officer)
    client.post(f"/marketplace/orders/{deal.order.id}/pay")
    assert "payment_intent_data[application_fee_amount]" not in stripe_fake.last("POST", "/v1/checkout/sessions").params


def test_a_supplier_without_a_connected_account_cannot_be_paid_by_card(client, stripe_fake):
    deal = make_deal(stripe_account=None)
    log_in(client, deal.officer)
    response = client.post(f"/marketplace/orders/{deal.order.id}/pay")
    assert response.status_code == 302
    assert stripe_fake.requests == []
    assert refreshed(deal.order).payment_status is PaymentStatus.UNPAID
    assert any("compte Stripe connecté" in message for message in flashes(client))


def test_a_paid_or_cancelled_order_cannot_be_paid_by_card(deal, stripe_fake):
    other = make_deal()
    order_services.cancel(other.officer, other.order)
    with pytest.raises(RuleViolation, match="annulée"):
        payments.start_card_payment(other.officer, other.order, "https://x/ok", "https://x/ko")
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 20))
    with pytest.raises(RuleViolation, match="déjà payée"):
        payments.start_card_payment(deal.officer, deal.order, "https://x/ok", "https://x/ko")
    assert stripe_fake.requests == []


def test_paying_again_closes_the_checkout_left_open(client, deal, stripe_fake):
    log_in(client, deal.officer)
    client.post(f"/marketplace/orders/{deal.order.id}/pay")
    first = refreshed(deal.order).stripe_session_id
    client.post(f"/marketplace/orders/{deal.order.id}/pay")
    assert stripe_fake.sent("POST", f"/v1/checkout/sessions/{first}/expire")
    assert refreshed(deal.order).stripe_session_id != first


def test_without_stripe_keys_card_payment_is_hidden(app, client, deal):
    log_in(client, deal.officer)
    assert client.post(f"/marketplace/orders/{deal.order.id}/pay").status_code == 404
    assert "/pay" not in render_partial(app, deal.officer, deal.order)


def test_with_stripe_keys_the_buyer_sees_the_card_button_and_the_supplier_does_not(app, deal, stripe_fake):
    pay_url = f"/marketplace/orders/{deal.order.id}/pay"
    assert pay_url in render_partial(app, deal.officer, deal.order)
    assert pay_url not in render_partial(app, deal.supplier_user, deal.order)


def test_the_partial_offers_each_party_its_own_step(app, deal):
    officer_html = render_partial(app, deal.officer, deal.order)
    supplier_html = render_partial(app, deal.supplier_user, deal.order)
    assert "/budget-line" in officer_html and "/invoice\"" not in officer_html
    assert "/invoice\"" in supplier_html and "/budget-line" not in supplier_html
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-9", date(2026, 1, 5))
    db.session.commit()
    officer_html = render_partial(app, deal.officer, deal.order)
    assert "/mandate" in officer_html and "invoice.pdf" in officer_html


def test_the_order_page_shows_the_payment(client, deal, stripe_fake):
    log_in(client, deal.officer)
    page = client.get(f"/marketplace/orders/{deal.order.id}").get_data(as_text=True)
    assert 'id="payment"' in page
    assert f"/marketplace/orders/{deal.order.id}/pay" in page


def render_partial(app, user, order) -> str:
    with app.test_request_context("/"):
        login_user(user)
        return render_template("marketplace/payments/_order_payment.html", order=order)


# --- webhook ---------------------------------------------------------------------------------------

def post_event(client, payload: str, secret: str = WEBHOOK_SECRET):
    return client.post("/marketplace/stripe/webhook", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": signature_header(payload, secret)})


def completed(order: Order, event_id: str = "evt_completed", payment_intent: str = "pi_test_1") -> str:
    return event(event_id, "checkout.session.completed", {
        "id": order.stripe_session_id, "object": "checkout.session", "payment_status": "paid",
        "status": "complete", "payment_intent": payment_intent, "amount_total": 83127,
        "metadata": {"order_id": str(order.id), "reference": order.reference}})


def expired(order: Order, event_id: str = "evt_expired") -> str:
    return event(event_id, "checkout.session.expired", {
        "id": order.stripe_session_id, "object": "checkout.session", "payment_status": "unpaid",
        "status": "expired", "metadata": {"order_id": str(order.id), "reference": order.reference}})


def charge_refunded(event_id: str = "evt_refunded", payment_intent: str = "pi_test_1") -> str:
    return event(event_id, "charge.refunded", {"id": "ch_test_1", "object": "charge", "refunded": True,
                                               "payment_intent": payment_intent, "amount_refunded": 83127})


@pytest.fixture
def pending(client, deal, stripe_fake) -> Order:
    """The buyer went to Stripe's checkout page."""
    payments.start_card_payment(deal.officer, deal.order, "https://x/ok", "https://x/ko")
    db.session.commit()
    return deal.order


def test_a_badly_signed_event_is_refused_and_changes_nothing(client, pending):
    assert post_event(client, completed(pending), secret="whsec_someone_else").status_code == 400
    assert client.post("/marketplace/stripe/webhook", data=completed(pending),
                       content_type="application/json").status_code == 400
    assert refreshed(pending).payment_status is PaymentStatus.PENDING
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 0


def test_a_stale_event_correctly_signed_is_refused_and_changes_nothing(client, pending):
    # A captured delivery replayed later: its signature is right but older than Stripe's tolerance (5 min).
    payload = completed(pending)
    stale = int(time.time()) - 10 * 60
    response = client.post("/marketplace/stripe/webhook", data=payload, content_type="application/json",
                           headers={"Stripe-Signature": signature_header(payload, WEBHOOK_SECRET, timestamp=stale)})
    assert response.status_code == 400
    assert refreshed(pending).payment_status is PaymentStatus.PENDING
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 0


def test_a_completed_checkout_pays_the_order(client, pending):
    response = post_event(client, completed(pending))
    assert response.status_code == 200
    order = refreshed(pending)
    assert order.payment_status is PaymentStatus.PAID
    assert order.stripe_payment_intent == "pi_test_1"
    assert order.paid_at is not None
    assert "order.paid" in audit_actions(order)


def test_the_same_event_twice_takes_effect_once(client, pending):
    assert post_event(client, completed(pending)).status_code == 200
    assert post_event(client, completed(pending)).get_json()["applied"] is False
    assert audit_actions(refreshed(pending)).count("order.paid") == 1
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 1


def test_a_concurrent_delivery_of_the_same_event_is_acknowledged_without_effect(client, pending, monkeypatch):
    db.session.add(StripeEvent(event_id="evt_completed", event_type="checkout.session.completed"))
    db.session.commit()
    # The other delivery committed between this one's check and its insert.
    monkeypatch.setattr(payments, "already_applied", lambda event_id: False)
    response = post_event(client, completed(pending))
    assert response.status_code == 200
    assert response.get_json()["applied"] is False
    assert refreshed(pending).payment_status is PaymentStatus.PENDING


def test_an_expiry_arriving_after_the_payment_does_not_unpay(client, pending):
    post_event(client, completed(pending))
    assert post_event(client, expired(pending)).status_code == 200
    assert refreshed(pending).payment_status is PaymentStatus.PAID


def test_an_expired_checkout_leaves_the_order_unpaid(client, pending):
    post_event(client, expired(pending))
    assert refreshed(pending).payment_status is PaymentStatus.UNPAID


def test_a_refunded_charge_marks_the_order_refunded_and_a_late_completion_does_not_repay(client, pending):
    post_event(client, completed(pending))
    post_event(client, charge_refunded())
    assert refreshed(pending).payment_status is PaymentStatus.REFUNDED
    post_event(client, completed(pending, event_id="evt_completed_again"))
    assert refreshed(pending).payment_status is PaymentStatus.REFUNDED


def test_unknown_events_are_acknowledged_and_ignored(client, pending):
    response = post_event(client, event("evt_other", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 0


def test_without_a_webhook_secret_there_is_no_webhook(client, deal):
    assert post_event(client, event("evt_1", "charge.refunded", {})).status_code == 404


# --- refunds on cancellation -------------------------------------------------------------------------

def test_cancelling_an_order_paid_by_card_refunds_it(client, pending, stripe_fake, deal):
    post_event(client, completed(pending))
    order = refreshed(pending)
    order_services.cancel(deal.officer, order)
    db.session.commit()

    refund = stripe_fake.last("POST", "/v1/refunds").params
    assert refund["payment_intent"] == "pi_test_1"
    assert refund["refund_application_fee"] == "true"
    assert refund["reverse_transfer"] == "true"
    assert refreshed(pending).payment_status is PaymentStatus.REFUNDED
    # Stripe then reports the refunded charge: nothing more happens.
    post_event(client, charge_refunded())
    assert len(stripe_fake.sent("POST", "/v1/refunds")) == 1
    assert refreshed(pending).payment_status is PaymentStatus.REFUNDED


def test_when_stripe_refuses_the_refund_the_order_is_not_cancelled(client, pending, stripe_fake, deal):
    post_event(client, completed(pending))
    stripe_fake.fail("POST", "/v1/refunds")
    with pytest.raises(RuleViolation):
        order_services.cancel(deal.officer, refreshed(pending))
    db.session.rollback()
    assert refreshed(pending).status.value == "placed"


def test_cancelling_during_checkout_closes_it_and_a_payment_made_meanwhile_is_refunded(client, pending, stripe_fake,
                                                                                       deal):
    stripe_fake.fail("POST", f"/v1/checkout/sessions/{pending.stripe_session_id}/expire")  # already completed
    order_services.cancel(deal.officer, refreshed(pending))
    db.session.commit()
    assert refreshed(pending).payment_status is PaymentStatus.PENDING
    post_event(client, completed(pending))
    assert stripe_fake.last("POST", "/v1/refunds").params["payment_intent"] == "pi_test_1"
    assert refreshed(pending).payment_status is PaymentStatus.REFUNDED


def test_cancelling_during_checkout_closes_it(pending, stripe_fake, deal):
    order_services.cancel(deal.officer, refreshed(pending))
    db.session.commit()
    assert stripe_fake.sent("POST", f"/v1/checkout/sessions/{pending.stripe_session_id}/expire")
    assert refreshed(pending).payment_status is PaymentStatus.UNPAID


def test_cancelling_an_order_paid_by_mandate_notes_the_refund_to_claim(deal, stripe_fake):
    payments.record_budget_line(deal.officer, deal.order, "2183")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-1", date(2026, 1, 5))
    payments.record_mandate(deal.officer, deal.order, "M-1", date(2026, 1, 20))
    order_services.cancel(deal.officer, deal.order)
    db.session.commit()
    assert stripe_fake.requests == []
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.refund_to_claim")).one()
    assert entry.changes["note"] == "refund to claim by the buyer's finance"
    assert refreshed(deal.order).payment_status is PaymentStatus.PAID


def test_a_card_payment_is_not_left_behind_when_stripe_is_switched_off(client, pending, deal, app, monkeypatch):
    post_event(client, completed(pending))
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    with pytest.raises(RuleViolation, match="désactivé"):
        order_services.cancel(deal.officer, refreshed(pending))
