"""Every role against the document archive's routes. The document is a purchase order between two
organisations of their own: no role's organisation is a party to it."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core import archive
from core.extensions import db
from core.models import Role
from tests.factories import user_for_role
from tests.marketplace.test_orders import buyer_officer, laptop_offer, placed_order, supplier_user
from tests.matrix import ROLES, Case, check, everyone, register


@dataclass
class World:
    users: dict
    document: object


@pytest.fixture
def world(app) -> World:
    users = {role: user_for_role(role) for role in Role}
    officer = buyer_officer()
    order = placed_order(officer, laptop_offer(supplier_user("Atelier").organisation),
                         {officer.organisation.sites[0]: 1})
    # Issued as the purchase order's route does, without rendering a real PDF for every case.
    with app.test_request_context(f"/marketplace/orders/{order.id}/purchase-order.pdf"):
        document = archive.issue("purchase_order", order, "", "order.pdf", lambda: b"%PDF-1.7 test", officer,
                                 owner=order.buyer, recipient=order.supplier)
    db.session.commit()
    return World(users, document)


CASES = register([
    Case("core.documents", "GET", lambda w, u: "/documents", everyone(200)),
    Case("core.document", "GET", lambda w, u: f"/documents/{w.document.id}", everyone(404, admin=200)),
    Case("core.reissue_document", "POST", lambda w, u: f"/documents/{w.document.id}/reissue",
         everyone(404, admin=302)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_archive_route(client, world, case, role):
    check(client, world, case, role)
