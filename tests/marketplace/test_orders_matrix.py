"""Every role against every page and API endpoint of the basket, the orders and the purchase orders.

The world: a commune (the buyer) whose procurement officer and observer are the PROCUREMENT_OFFICER and
OBSERVER users, and which coordinates the campaigns; a supplier whose member is the SUPPLIER user; the
IT manager, the beneficiary and the admin each in an organisation of their own (the IT manager's commune
takes part in the awarded campaign). The commune has placed, confirmed and shipped orders to the supplier,
and one line in its basket.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from core import services as core_services
from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from marketplace.services import basket as baskets
from marketplace.services import campaigns
from marketplace.services import orders as order_service
from reuse.models import DeviceCategory
from tests.factories import CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, check, everyone, register

API = "/api/v1"


@dataclass
class World:
    users: dict
    offer: object
    basket_item: object
    placed: object
    confirmed: object
    shipped: object
    awarded_campaign: object
    open_campaign: object
    open_line: object


def _direct_order(officer, offer):
    return order_service.issue_order(officer, officer.organisation, offer.supplier, [
        order_service.LineData(offer=offer, quantity=2, unit_price=offer.unit_price,
                               site=officer.organisation.sites[0])])


@pytest.fixture
def world() -> World:
    buyer = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name="Ville de Vitry-sur-Seine")
    supplier = OrganisationFactory(name="Recyclerie d'Ivry", is_ess=True)
    users = {role: user_for_role(role) for role in (Role.ADMIN, Role.IT_MANAGER, Role.BENEFICIARY)}
    users[Role.PROCUREMENT_OFFICER] = user_for_role(Role.PROCUREMENT_OFFICER, organisation=buyer)
    users[Role.OBSERVER] = user_for_role(Role.OBSERVER, organisation=buyer)
    users[Role.SUPPLIER] = user_for_role(Role.SUPPLIER, organisation=supplier)
    officer, seller = users[Role.PROCUREMENT_OFFICER], users[Role.SUPPLIER]
    offer = CatalogueOfferFactory(supplier=supplier, unit_price=Decimal("320.00"), stock=100)
    PriceTierFactory(offer=offer, min_quantity=20, unit_price=Decimal("300.00"))

    placed, confirmed, shipped = (_direct_order(officer, offer) for _ in range(3))
    db.session.flush()
    for order in (confirmed, shipped):
        order_service.confirm_order(seller, order)
    order_service.ship(seller, shipped)
    basket_item = baskets.add_item(officer, offer, buyer.sites[0], 3)

    awarded = campaigns.create_campaign(officer, buyer, "Portables 2027", "", utcnow() + timedelta(days=10))
    awarded_line = campaigns.add_line(officer, awarded, "Portable", "i5", DeviceCategory.LAPTOP, 5, [offer])
    db.session.flush()
    campaigns.set_participation(officer, awarded_line, buyer.sites[0], 4)
    it_manager = users[Role.IT_MANAGER]
    campaigns.set_participation(it_manager, awarded_line, it_manager.organisation.sites[0], 3)
    awarded.deadline = utcnow() - timedelta(seconds=1)
    campaigns.award_line(officer, awarded_line, offer)
    campaigns.issue_orders(officer, awarded)

    open_campaign = campaigns.create_campaign(officer, buyer, "Écrans 2027", "", utcnow() + timedelta(days=10))
    open_line = campaigns.add_line(officer, open_campaign, "Écran 24 pouces", "IPS", DeviceCategory.MONITOR, 5,
                                   [offer])
    db.session.commit()
    return World(users, offer, basket_item, placed, confirmed, shipped, awarded, open_campaign, open_line)


def by_role(*, admin: int, procurement_officer: int, it_manager: int, supplier: int, beneficiary: int,
            observer: int) -> dict:
    """The expected status for each role, every role named."""
    return {Role.ADMIN: admin, Role.PROCUREMENT_OFFICER: procurement_officer, Role.IT_MANAGER: it_manager,
            Role.SUPPLIER: supplier, Role.BENEFICIARY: beneficiary, Role.OBSERVER: observer}


# order.place: buyer staff of a public body and validated beneficiaries.
BUYERS = by_role(admin=403, procurement_officer=200, it_manager=200, supplier=403, beneficiary=200, observer=403)
BUYERS_ACT = {role: 302 if status == 200 else status for role, status in BUYERS.items()}
# order.view: the parties (the buyer's members, the supplier's) and admins; strangers get 404.
PARTIES = by_role(admin=200, procurement_officer=200, it_manager=404, supplier=200, beneficiary=404, observer=200)
# order.supply: the supplier and admins; the buyer's side sees the order but may not act (403).
SUPPLY = by_role(admin=302, procurement_officer=403, it_manager=404, supplier=302, beneficiary=404, observer=403)

WEB_CASES = register([
    Case("marketplace.basket", "GET", lambda w, u: "/marketplace/basket", BUYERS),
    # Without a site, the first site of the user's organisation receives.
    Case("marketplace.add_to_basket", "POST", lambda w, u: f"/marketplace/catalogue/{w.offer.id}/basket",
         BUYERS_ACT, data=lambda w: {"quantity": "2"}),
    # Another supplier's offer out of stock is not in the catalogue: it cannot be put in a basket.
    Case("marketplace.add_to_basket", "POST",
         lambda w, u: f"/marketplace/catalogue/{CatalogueOfferFactory(stock=0).id}/basket",
         {**BUYERS, Role.PROCUREMENT_OFFICER: 404, Role.IT_MANAGER: 404, Role.BENEFICIARY: 404},
         data=lambda w: {"quantity": "2"}),
    # Another organisation's basket line does not exist for buyer staff of other bodies.
    Case("marketplace.update_basket_item", "POST", lambda w, u: f"/marketplace/basket/{w.basket_item.id}",
         by_role(admin=403, procurement_officer=302, it_manager=404, supplier=403, beneficiary=404, observer=403),
         data=lambda w: {"quantity": "5"}),
    # The officer's basket becomes an order; the others' empty baskets are refused with a message.
    Case("marketplace.place_order", "POST", lambda w, u: "/marketplace/basket/order", BUYERS_ACT,
         data=lambda w: {"budget_line": "2183"}),
    Case("marketplace.orders", "GET", lambda w, u: "/marketplace/orders", everyone(200)),
    Case("marketplace.orders", "GET", lambda w, u: "/marketplace/orders?status=placed&side=received",
         everyone(200)),
    Case("marketplace.order", "GET", lambda w, u: f"/marketplace/orders/{w.placed.id}", PARTIES),
    Case("marketplace.confirm_order", "POST", lambda w, u: f"/marketplace/orders/{w.placed.id}/confirm", SUPPLY),
    Case("marketplace.ship_order", "POST", lambda w, u: f"/marketplace/orders/{w.confirmed.id}/ship", SUPPLY,
         data=lambda w: {"site_id": str(w.confirmed.lines[0].site_id)}),
    # order.receive: members of the buyer but its observers; not even admins confirm a delivery.
    Case("marketplace.confirm_delivery", "POST", lambda w, u: f"/marketplace/orders/{w.shipped.id}/delivery",
         by_role(admin=403, procurement_officer=302, it_manager=404, supplier=403, beneficiary=404, observer=403)),
    # Either side, before shipping (admins through order.supply).
    Case("marketplace.cancel_order", "POST", lambda w, u: f"/marketplace/orders/{w.placed.id}/cancel",
         by_role(admin=302, procurement_officer=302, it_manager=404, supplier=302, beneficiary=404, observer=403)),
    Case("marketplace.purchase_order_pdf", "GET",
         lambda w, u: f"/marketplace/orders/{w.placed.id}/purchase-order.pdf", PARTIES),
    # The supplier's members, the coordinator's procurement officers (campaign.manage) and admins. The IT
    # manager's commune has an order in the campaign but does not coordinate it.
    Case("marketplace.campaign_supplier_pdf", "GET",
         lambda w, u: f"/marketplace/campaigns/{w.awarded_campaign.id}/suppliers/{w.offer.supplier_id}/order.pdf",
         by_role(admin=200, procurement_officer=200, it_manager=404, supplier=200, beneficiary=404, observer=404)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", WEB_CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(WEB_CASES)])
def test_orders_page(client, world, case, role):
    response = check(client, world, case, role)
    if role == ANONYMOUS:
        assert response.location.startswith("/login")


PUBLIC_BODIES = by_role(admin=200, procurement_officer=200, it_manager=200, supplier=403, beneficiary=403,
                        observer=200)

API_CASES = register([
    Case("api.catalogue", "GET", lambda w, u: f"{API}/catalogue", everyone(200), anonymous=401),
    Case("api.catalogue_offer", "GET", lambda w, u: f"{API}/catalogue/{w.offer.id}", everyone(200), anonymous=401),
    # Another supplier's offer out of stock is not in the catalogue: it does not exist but for admins.
    Case("api.catalogue_offer", "GET", lambda w, u: f"{API}/catalogue/{CatalogueOfferFactory(stock=0).id}",
         everyone(404, admin=200), anonymous=401),
    Case("api.campaigns", "GET", lambda w, u: f"{API}/campaigns", PUBLIC_BODIES, anonymous=401),
    # campaign.view is an object rule: a campaign does not exist for suppliers and beneficiaries.
    Case("api.campaign", "GET", lambda w, u: f"{API}/campaigns/{w.open_campaign.id}",
         {**PUBLIC_BODIES, Role.SUPPLIER: 404, Role.BENEFICIARY: 404}, anonymous=401),
    # campaign.join (buyer staff) comes before the body: the IT manager may join, but the body names the
    # officer's site, not one of its own (422).
    Case("api.set_participation", "PUT",
         lambda w, u: f"{API}/campaigns/{w.open_campaign.id}/lines/{w.open_line.id}/participations",
         by_role(admin=403, procurement_officer=200, it_manager=422, supplier=404, beneficiary=404, observer=403),
         data=lambda w: {"site_id": w.users[Role.PROCUREMENT_OFFICER].organisation.sites[0].id, "quantity": 3},
         anonymous=401),
    Case("api.orders", "GET", lambda w, u: f"{API}/orders", everyone(200), anonymous=401),
    Case("api.order", "GET", lambda w, u: f"{API}/orders/{w.placed.id}", PARTIES, anonymous=401),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", API_CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(API_CASES)])
def test_orders_api_endpoint(client, world, case, role):
    headers = {}
    if role != ANONYMOUS:
        _, clear_token = core_services.create_api_token(world.users[role], "matrix")
        db.session.commit()
        headers["Authorization"] = f"Bearer {clear_token}"
    options = {"json": case.data(world)} if case.data else {}
    response = client.open(case.url(world, world.users.get(role)), method=case.method, headers=headers, **options)
    expected = case.anonymous if role == ANONYMOUS else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected >= 400:
        assert set(response.get_json()["error"]) == {"status", "code", "message", "details"}
