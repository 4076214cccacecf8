"""Every role against every page of the catalogue. Each role's user belongs to an organisation of its own
(the supplier's is a validated supplier with one offer); another validated supplier has one visible offer
and one hidden offer (no stock); a supplier awaiting validation and a commune complete the world."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.models import Role
from tests.factories import CatalogueOfferFactory, OrganisationFactory, user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, admin_only, check, everyone, register


@dataclass
class World:
    users: dict
    visible: object
    hidden: object
    own: object
    pending: object
    commune: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    other = OrganisationFactory()
    visible = CatalogueOfferFactory(supplier=other)
    hidden = CatalogueOfferFactory(supplier=other, stock=0)
    own = CatalogueOfferFactory(supplier=users[Role.SUPPLIER].organisation)
    return World(users, visible, hidden, own, OrganisationFactory(pending=True), OrganisationFactory(public=True))


SELLER = everyone(403, supplier=200)
EDITOR = everyone(403, admin=200, supplier=200)
INCOMPLETE_OFFER = {"category": "laptop", "brand": "Dell"}  # no model, no price: the form is sent back

CASES = register([
    Case("marketplace.catalogue", "GET", lambda w, u: "/marketplace/catalogue", everyone(200)),
    Case("marketplace.catalogue", "GET",
         lambda w, u: "/marketplace/catalogue?category=laptop&grade=A&max_price=500&in_territory=y"
                      "&social_economy=y&label=epeat&reconditioned_only=y&q=Dell&sort=co2", everyone(200)),
    Case("marketplace.catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.visible.id}", everyone(200)),
    Case("marketplace.catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.hidden.id}",
         admin_only(200, 404)),
    Case("marketplace.catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.own.id}", everyone(200)),
    Case("marketplace.supplier", "GET", lambda w, u: f"/marketplace/suppliers/{w.visible.supplier_id}",
         everyone(200)),
    Case("marketplace.supplier", "GET", lambda w, u: f"/marketplace/suppliers/{w.pending.id}",
         admin_only(200, 404)),
    Case("marketplace.supplier", "GET", lambda w, u: f"/marketplace/suppliers/{w.commune.id}", everyone(404)),
    Case("marketplace.my_offers", "GET", lambda w, u: "/marketplace/my-offers", SELLER),
    Case("marketplace.new_catalogue_offer", "GET", lambda w, u: "/marketplace/my-offers/new", SELLER),
    Case("marketplace.new_catalogue_offer", "POST", lambda w, u: "/marketplace/my-offers/new",
         everyone(403, supplier=422), data=lambda w: INCOMPLETE_OFFER),
    Case("marketplace.edit_catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.own.id}/edit", EDITOR),
    Case("marketplace.edit_catalogue_offer", "POST", lambda w, u: f"/marketplace/catalogue/{w.own.id}/edit",
         everyone(403, admin=422, supplier=422), data=lambda w: INCOMPLETE_OFFER),
    Case("marketplace.edit_catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.visible.id}/edit",
         admin_only(200, 403)),
    Case("marketplace.edit_catalogue_offer", "GET", lambda w, u: f"/marketplace/catalogue/{w.hidden.id}/edit",
         admin_only(200, 404)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_catalogue_route(client, world, case, role):
    response = check(client, world, case, role)
    if role == ANONYMOUS:
        assert response.location.startswith("/login")
