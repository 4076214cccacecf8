"""Every role against every payment route. Each role's user belongs to an organisation of its own, never
party to the order: only the admin sees it. Then the parties themselves: the buyer's procurement officer,
IT manager and observer, and the supplier's user. (The Stripe webhook is public, signed instead.)"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from core.extensions import db
from core.models import Role
from marketplace.services import payments
from tests.factories import UserFactory, user_for_role
from tests.marketplace.stripe_fake import FakeStripeHTTP
from tests.marketplace.test_payments import make_deal, stripe_fake  # noqa: F401 (a fixture)
from tests.matrix import ANONYMOUS, ROLES, Case, admin_only, log_in, register


@dataclass
class World:
    users: dict
    parties: dict
    order: object


@pytest.fixture
def world(stripe_fake: FakeStripeHTTP) -> World:  # noqa: F811
    deal = make_deal()
    # Budget line and invoice recorded: the invoice PDF exists and a mandate can be recorded.
    payments.record_budget_line(deal.officer, deal.order, "2183-020")
    payments.record_invoice(deal.supplier_user, deal.order, "FA-2026-0001", date(2026, 1, 5))
    db.session.commit()
    parties = {
        "buyer procurement officer": deal.officer,
        "buyer IT manager": deal.it_manager,
        "buyer observer": UserFactory(role=Role.OBSERVER, organisation=deal.order.buyer),
        "supplier": deal.supplier_user,
    }
    return World({role: user_for_role(role) for role in Role}, parties, deal.order)


def budget_line(w):
    return {"budget_line": "2183-021"}


def invoice(w):
    return {"invoice_number": "FA-2026-0002", "invoice_date": "2026-01-06"}


def mandate(w):
    return {"mandate_reference": "M-2026-0001", "paid_on": "2026-01-20"}


CASES = register([
    Case("marketplace.record_budget_line", "POST", lambda w, u: f"/marketplace/orders/{w.order.id}/budget-line",
         admin_only(302, 404), data=budget_line),
    Case("marketplace.record_invoice", "POST", lambda w, u: f"/marketplace/orders/{w.order.id}/invoice",
         admin_only(302, 404), data=invoice),
    Case("marketplace.record_mandate", "POST", lambda w, u: f"/marketplace/orders/{w.order.id}/mandate",
         admin_only(302, 404), data=mandate),
    Case("marketplace.invoice_pdf", "GET", lambda w, u: f"/marketplace/orders/{w.order.id}/invoice.pdf",
         admin_only(200, 404)),
    # The admin sees every order but pays none: card payment is the buyer's.
    Case("marketplace.pay_by_card", "POST", lambda w, u: f"/marketplace/orders/{w.order.id}/pay",
         admin_only(403, 404)),
])

# The parties to the order, route by route, in the order of CASES.
PARTIES = {
    "buyer procurement officer": [302, 403, 302, 200, 303],
    "buyer IT manager": [403, 403, 403, 200, 303],
    "buyer observer": [403, 403, 403, 200, 403],
    "supplier": [403, 302, 403, 200, 403],
}


def send(client, world, case, user):
    if user is not None:
        log_in(client, user)
    return client.open(case.url(world, user), method=case.method, data=case.data(world) if case.data else {})


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_payment_route(client, world, case, role):
    user = None if role == ANONYMOUS else world.users[role]
    response = send(client, world, case, user)
    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if user is None:
        assert response.location.startswith("/login")


@pytest.mark.parametrize("party", PARTIES)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c.method} {c.endpoint}" for c in CASES])
def test_payment_route_for_the_parties(client, world, party, index):
    case = CASES[index]
    response = send(client, world, case, world.parties[party])
    assert response.status_code == PARTIES[party][index], response.get_data(as_text=True)[:300]
