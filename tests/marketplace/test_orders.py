"""The basket and direct orders, the order pages of each side, shipping and delivery per site, cancelling,
the purchase orders as PDF and money rounding. (The AGEC art. 58 share, which counts these orders with every
other purchase, is tested in tests/procurement/test_agec.py.)"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from core import services as core_services
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import money as money_text
from core.models import OrganisationKind, Role, utcnow
from marketplace import money
from marketplace.models import BasketItem, CatalogueOffer, Order, OrderStatus, PaymentMethod
from marketplace.services import basket as baskets
from marketplace.services import campaigns
from marketplace.services import orders as order_service
from reuse.models import DeviceCategory
from tests.factories import (CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, UserFactory,
                             user_for_role)
from tests.matrix import log_in


# --- the people and things of these tests ------------------------------------------------------------

def buyer_officer(name: str = "Ville de Vitry-sur-Seine", **kwargs):
    """A commune's procurement officer; the commune has two delivery sites."""
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name,
                                       address="2 avenue Youri Gagarine", postcode="94400", city="Vitry-sur-Seine")
    officer = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=organisation, **kwargs)
    core_services.add_site(officer, organisation, "École Jean Jaurès", "12 rue Jean Jaurès", "94400",
                           "Vitry-sur-Seine")
    db.session.commit()
    return officer


def supplier_user(name: str, **kwargs):
    return UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(
        name=name, address="5 rue de l'Atelier", postcode="94200", city="Ivry-sur-Seine", is_ess=True), **kwargs)


def laptop_offer(supplier, **kwargs) -> CatalogueOffer:
    """320 € excl. VAT; from 50 units, 290 €."""
    offer = CatalogueOfferFactory(supplier=supplier, brand="Dell", model="Latitude 5400",
                                  unit_price=Decimal("320.00"), stock=100, **kwargs)
    PriceTierFactory(offer=offer, min_quantity=50, unit_price=Decimal("290.00"))
    return offer


def monitor_offer(supplier, **kwargs) -> CatalogueOffer:
    return CatalogueOfferFactory(supplier=supplier, category=DeviceCategory.MONITOR, cpv="30231300-0",
                                 brand="Eizo", model="FlexScan EV2460", unit_price=Decimal("95.50"), stock=40,
                                 **kwargs)


def placed_order(officer, offer, quantities_by_site: dict, **kwargs) -> Order:
    """An order issued as the basket does it (stock taken), committed."""
    lines = [order_service.LineData(offer=offer, quantity=quantity, unit_price=offer.unit_price, site=site)
             for site, quantity in quantities_by_site.items()]
    order = order_service.issue_order(officer, officer.organisation, offer.supplier, lines, **kwargs)
    db.session.commit()
    return order


def pdf_text(response) -> str:
    """The document's words, each run of spaces and line breaks as one space."""
    reader = PdfReader(BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def shown(app, amount: Decimal, locale: str = "en") -> str:
    """An amount as the pages and documents write it, spaces normalised as pdf_text does."""
    with app.test_request_context(), force_locale(locale):
        return " ".join(money_text(amount).split())


def add(client, offer, quantity, site=None):
    data = {"quantity": str(quantity)}
    if site is not None:
        data["site_id"] = str(site.id)
    return client.post(f"/marketplace/catalogue/{offer.id}/basket", data=data)


def basket_items(organisation) -> list[BasketItem]:
    db.session.expire_all()
    return db.session.scalars(select(BasketItem).where(BasketItem.organisation_id == organisation.id)
                              .order_by(BasketItem.id)).all()


# --- the basket ----------------------------------------------------------------------------------------

def test_the_same_offer_for_the_same_site_adds_up_and_another_site_is_another_line(client):
    officer = buyer_officer()
    offer = laptop_offer(supplier_user("Ateliers Numériques Solidaires").organisation)
    town_hall, school = officer.organisation.sites
    log_in(client, officer)

    assert add(client, offer, 3, town_hall).location == "/marketplace/basket"
    add(client, offer, 4, town_hall)
    add(client, offer, 2, school)

    items = basket_items(officer.organisation)
    assert [(item.site_id, item.quantity) for item in items] == [(town_hall.id, 7), (school.id, 2)]


def test_without_a_site_the_first_site_of_the_organisation_receives(client):
    officer = buyer_officer()
    offer = laptop_offer(supplier_user("ANS").organisation)
    log_in(client, officer)

    add(client, offer, 1)

    assert basket_items(officer.organisation)[0].site_id == officer.organisation.sites[0].id


def test_a_site_of_another_organisation_is_refused(client):
    officer, other = buyer_officer(locale="en"), buyer_officer("Ville d'Orly")
    offer = laptop_offer(supplier_user("ANS").organisation)
    log_in(client, officer)

    add(client, offer, 1, other.organisation.sites[0])

    assert basket_items(officer.organisation) == []
    page = client.get("/marketplace/basket").get_data(as_text=True)
    assert "Give a quantity of at least 1 and one of your delivery sites." in page
    with pytest.raises(RuleViolation, match="Choisissez un site de livraison de votre organisation."):
        baskets.add_item(officer, offer, other.organisation.sites[0], 1)


def test_a_quantity_is_changed_and_zero_removes_the_line(client):
    officer = buyer_officer()
    offer = laptop_offer(supplier_user("ANS").organisation)
    log_in(client, officer)
    add(client, offer, 3)
    item = basket_items(officer.organisation)[0]

    assert client.post(f"/marketplace/basket/{item.id}", data={"quantity": "12"}).status_code == 302
    assert basket_items(officer.organisation)[0].quantity == 12
    client.post(f"/marketplace/basket/{item.id}", data={"quantity": "0"})
    assert basket_items(officer.organisation) == []


def test_the_basket_of_another_organisation_does_not_exist_for_you(client):
    officer, other = buyer_officer(), buyer_officer("Ville d'Orly")
    offer = laptop_offer(supplier_user("ANS").organisation)
    item = baskets.add_item(other, offer, other.organisation.sites[0], 2)
    db.session.commit()
    log_in(client, officer)

    assert client.post(f"/marketplace/basket/{item.id}", data={"quantity": "0"}).status_code == 404
    assert basket_items(other.organisation)[0].quantity == 2


def test_the_tier_is_reached_by_the_total_of_the_offer_across_sites(app, client):
    officer = buyer_officer(locale="en")
    offer = laptop_offer(supplier_user("ANS").organisation)
    town_hall, school = officer.organisation.sites
    log_in(client, officer)
    add(client, offer, 30, town_hall)

    assert [line.unit_price for line in baskets.basket_of(officer.organisation).lines] == [Decimal("320.00")]
    add(client, offer, 20, school)  # 50 units in all: the 290 € tier

    basket = baskets.basket_of(officer.organisation)
    assert [line.unit_price for line in basket.lines] == [Decimal("290.00"), Decimal("290.00")]
    assert basket.totals.net == Decimal("14500.00")
    assert basket.totals.vat_by_rate == {Decimal("20.00"): Decimal("2900.00")}
    page = client.get("/marketplace/basket").get_data(as_text=True)
    assert shown(app, Decimal("290.00")) in page and shown(app, Decimal("17400.00")) in page


def test_the_basket_groups_lines_by_supplier_with_vat_per_rate(app, client):
    officer = buyer_officer(locale="fr")
    laptops = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    screens = monitor_offer(supplier_user("ESAT Les Portes d'Orly").organisation, vat_rate=Decimal("5.50"))
    log_in(client, officer)
    add(client, laptops, 2)
    add(client, screens, 3)

    basket = baskets.basket_of(officer.organisation)

    assert [group.supplier.name for group in basket.suppliers] == ["ESAT Les Portes d'Orly", "Recyclerie d'Ivry"]
    # 2 × 320 = 640.00 (VAT 128.00 at 20 %); 3 × 95.50 = 286.50 (VAT 15.7575 → 15.76 at 5.5 %)
    assert basket.totals.vat_by_rate == {Decimal("5.50"): Decimal("15.76"), Decimal("20.00"): Decimal("128.00")}
    assert basket.totals.gross == Decimal("1070.26")
    page = client.get("/marketplace/basket").get_data(as_text=True)
    assert money_text_fr(app, Decimal("1070.26")) in page  # 1 070,26 € in French


def money_text_fr(app, amount: Decimal) -> str:
    with app.test_request_context(), force_locale("fr"):
        return money_text(amount)


# --- placing the orders ------------------------------------------------------------------------------

def test_placing_the_basket_sends_one_order_per_supplier_and_takes_the_stock(client):
    officer = buyer_officer()
    laptops = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    screens = monitor_offer(supplier_user("ESAT Les Portes d'Orly").organisation)
    town_hall, school = officer.organisation.sites
    log_in(client, officer)
    add(client, laptops, 30, town_hall)
    add(client, laptops, 20, school)
    add(client, screens, 5, school)

    response = client.post("/marketplace/basket/order", data={"budget_line": "2183 - Matériel informatique"})

    assert response.status_code == 302 and response.location == "/marketplace/orders"
    db.session.expire_all()
    placed = db.session.scalars(select(Order).order_by(Order.id)).all()
    assert len(placed) == 2
    by_supplier = {order.supplier.name: order for order in placed}
    laptop_order = by_supplier["Recyclerie d'Ivry"]
    assert [(line.site_id, line.quantity, line.unit_price) for line in laptop_order.lines] == [
        (town_hall.id, 30, Decimal("290.00")), (school.id, 20, Decimal("290.00"))]
    assert all(order.buyer_id == officer.organisation_id and order.status is OrderStatus.PLACED for order in placed)
    assert all(order.payment_method is PaymentMethod.MANDATE for order in placed)
    assert laptop_order.budget_line == "2183 - Matériel informatique"
    assert all(line.is_reconditioned for line in laptop_order.lines)
    assert (db.session.get(CatalogueOffer, laptops.id).stock, db.session.get(CatalogueOffer, screens.id).stock) == (
        50, 35)
    assert basket_items(officer.organisation) == []


def test_a_stock_shortage_refuses_everything_and_names_the_offer(client):
    officer = buyer_officer(locale="en")
    laptops = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    screens = monitor_offer(supplier_user("ESAT Les Portes d'Orly").organisation)
    log_in(client, officer)
    add(client, laptops, 10)
    add(client, screens, 5)
    screens.stock = 3  # sold elsewhere meanwhile
    db.session.commit()

    response = client.post("/marketplace/basket/order", data={})

    assert response.status_code == 302 and response.location == "/marketplace/basket"
    page = client.get("/marketplace/basket").get_data(as_text=True)
    assert "Only 3 unit(s) of Eizo FlexScan EV2460 in stock; your basket holds 5." in page
    db.session.expire_all()
    assert db.session.scalars(select(Order)).all() == []
    assert db.session.get(CatalogueOffer, laptops.id).stock == 100  # the first supplier's order is undone too
    assert len(basket_items(officer.organisation)) == 2


def test_take_stock_still_guards_an_order_placed_meanwhile(client, monkeypatch):
    officer = buyer_officer(locale="en")
    laptops = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    log_in(client, officer)
    add(client, laptops, 10)
    # Someone else's order takes the stock between the check and the update.
    monkeypatch.setattr(baskets.Basket, "short_of_stock", lambda self: [])
    laptops.stock = 4
    db.session.commit()

    client.post("/marketplace/basket/order", data={})

    assert "Only 4 unit(s) of Dell Latitude 5400 in stock." in client.get("/marketplace/basket").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Order)).all() == [] and db.session.get(CatalogueOffer, laptops.id).stock == 4


def test_an_empty_basket_places_nothing(client):
    officer = buyer_officer(locale="en")
    log_in(client, officer)

    assert client.post("/marketplace/basket/order", data={}).location == "/marketplace/basket"
    assert "Your basket is empty." in client.get("/marketplace/basket").get_data(as_text=True)


def test_a_beneficiary_pays_by_card_when_card_payments_are_set_up(app, monkeypatch):
    beneficiary = user_for_role(Role.BENEFICIARY)
    commune = buyer_officer()
    assert baskets.payment_method_for(beneficiary.organisation) is PaymentMethod.MANDATE
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_123")
    assert baskets.payment_method_for(beneficiary.organisation) is PaymentMethod.CARD
    assert baskets.payment_method_for(commune.organisation) is PaymentMethod.MANDATE

    offer = laptop_offer(supplier_user("ANS").organisation)
    baskets.add_item(beneficiary, offer, beneficiary.organisation.sites[0], 1)
    [order] = baskets.place_order(beneficiary, budget_line="ignored for a beneficiary")
    assert order.payment_method is PaymentMethod.CARD and order.budget_line == ""


# --- the order pages and their follow-up -------------------------------------------------------------

def test_the_buyer_sees_the_lines_per_site_with_prices_vat_and_totals(app, client):
    officer = buyer_officer(locale="en")
    offer = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    town_hall, school = officer.organisation.sites
    order = placed_order(officer, offer, {town_hall: 2, school: 1})
    log_in(client, officer)

    page = client.get(f"/marketplace/orders/{order.id}").get_data(as_text=True)

    assert order.reference in page and "Recyclerie d&#39;Ivry" in page
    assert "École Jean Jaurès" in page and "12 rue Jean Jaurès, 94400 Vitry-sur-Seine" in page
    for amount in ("320.00", "640.00", "960.00", "192.00", "1152.00"):
        assert shown(app, Decimal(amount)) in page
    assert "/confirm" not in page  # confirming is the supplier's
    assert f"/marketplace/orders/{order.id}/cancel" in page


def test_the_orders_list_shows_each_side_its_orders_with_a_status_filter(client):
    officer = buyer_officer(locale="en")
    seller = supplier_user("Recyclerie d'Ivry", locale="en")
    offer = laptop_offer(seller.organisation)
    first = placed_order(officer, offer, {officer.organisation.sites[0]: 1})
    second = placed_order(officer, offer, {officer.organisation.sites[0]: 2})
    orly = buyer_officer("Ville d'Orly")
    other = placed_order(orly, laptop_offer(supplier_user("ANS").organisation), {orly.organisation.sites[0]: 1})
    order_service.confirm_order(seller, second)
    db.session.commit()

    log_in(client, officer)
    page = client.get("/marketplace/orders").get_data(as_text=True)
    assert first.reference in page and second.reference in page and other.reference not in page
    confirmed = client.get("/marketplace/orders?status=confirmed").get_data(as_text=True)
    assert second.reference in confirmed and first.reference not in confirmed

    log_in(client, seller)
    received = client.get("/marketplace/orders?side=received").get_data(as_text=True)
    assert first.reference in received and second.reference in received
    assert first.reference not in client.get("/marketplace/orders?side=placed").get_data(as_text=True)
    assert other.reference not in received
    unknown = client.get("/marketplace/orders?status=lost")
    assert unknown.status_code == 200 and first.reference in unknown.get_data(as_text=True)


def test_the_supplier_confirms_and_ships_per_site_and_the_buyer_confirms_each_delivery(client):
    officer = buyer_officer(locale="en")
    seller = supplier_user("Recyclerie d'Ivry", locale="en")
    offer = laptop_offer(seller.organisation)
    town_hall, school = officer.organisation.sites
    order = placed_order(officer, offer, {town_hall: 2, school: 1})
    url = f"/marketplace/orders/{order.id}"

    log_in(client, seller)
    page = client.get(url).get_data(as_text=True)
    assert f"{url}/confirm" in page and f"{url}/ship" not in page
    client.post(f"{url}/ship", data={"site_id": town_hall.id})  # not before confirming
    assert "Confirm the order before shipping it." in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/confirm").status_code == 302
    assert client.post(f"{url}/ship", data={"site_id": town_hall.id}).status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.CONFIRMED
    assert [(line.site_id, line.shipped_at is not None) for line in order.lines] == [
        (town_hall.id, True), (school.id, False)]

    log_in(client, officer)
    assert "Mark as shipped" not in client.get(url).get_data(as_text=True)
    client.post(f"{url}/delivery", data={"site_id": school.id})  # not shipped yet
    assert "The supplier has not shipped these lines yet." in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/delivery", data={"site_id": town_hall.id}).status_code == 302

    log_in(client, seller)
    client.post(f"{url}/ship", data={"site_id": school.id})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.SHIPPED

    log_in(client, officer)
    client.post(f"{url}/delivery", data={"site_id": school.id})
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.DELIVERED and all(line.delivered_at for line in order.lines)


def test_cancelling_gives_the_stock_back_until_shipping(client):
    officer = buyer_officer(locale="en")
    seller = supplier_user("Recyclerie d'Ivry", locale="en")
    offer = laptop_offer(seller.organisation)
    cancelled = placed_order(officer, offer, {officer.organisation.sites[0]: 10})
    shipped = placed_order(officer, offer, {officer.organisation.sites[0]: 5})
    order_service.confirm_order(seller, shipped)
    order_service.ship(seller, shipped)
    db.session.commit()
    assert db.session.get(CatalogueOffer, offer.id).stock == 85

    log_in(client, officer)
    assert client.post(f"/marketplace/orders/{cancelled.id}/cancel").status_code == 302
    client.post(f"/marketplace/orders/{shipped.id}/cancel")

    assert "A shipped or delivered order cannot be cancelled." in client.get(
        f"/marketplace/orders/{shipped.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, cancelled.id).status is OrderStatus.CANCELLED
    assert db.session.get(Order, shipped.id).status is OrderStatus.SHIPPED
    assert db.session.get(CatalogueOffer, offer.id).stock == 95


def test_the_supplier_may_cancel_a_placed_order_too(client):
    officer = buyer_officer()
    seller = supplier_user("Recyclerie d'Ivry")
    offer = laptop_offer(seller.organisation)
    order = placed_order(officer, offer, {officer.organisation.sites[0]: 10})
    log_in(client, seller)

    client.post(f"/marketplace/orders/{order.id}/cancel")

    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    assert db.session.get(CatalogueOffer, offer.id).stock == 100


# --- the purchase orders (PDF) -----------------------------------------------------------------------

def test_the_purchase_order_lists_parties_sites_prices_and_totals(app, client):
    officer = buyer_officer(locale="en")
    offer = laptop_offer(supplier_user("Recyclerie d'Ivry").organisation)
    town_hall, school = officer.organisation.sites
    order = placed_order(officer, offer, {town_hall: 2, school: 1}, budget_line="2183")
    log_in(client, officer)

    response = client.get(f"/marketplace/orders/{order.id}/purchase-order.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f'inline; filename="{order.reference}.pdf"'
    text = pdf_text(response)
    assert "Purchase order" in text and order.reference in text
    assert "Ville de Vitry-sur-Seine" in text and "Recyclerie d'Ivry" in text
    assert offer.supplier.siret in text and "5 rue de l'Atelier" in text
    assert "2 avenue Youri Gagarine, 94400 Vitry-sur-Seine" in text  # the town hall, first site
    assert "École Jean Jaurès" in text and "12 rue Jean Jaurès, 94400 Vitry-sur-Seine" in text
    assert "Budget line 2183" in text
    for amount in ("320.00", "640.00", "960.00", "192.00", "1152.00"):
        assert shown(app, Decimal(amount)) in text
    assert "AGEC art. 58" in text


def test_the_purchase_order_of_a_campaign_names_it(app, client):
    world = awarded_campaign()
    order = next(o for o in world["orders"] if o.buyer_id == world["coordinator"].organisation_id)
    log_in(client, world["coordinator"])

    text = pdf_text(client.get(f"/marketplace/orders/{order.id}/purchase-order.pdf"))

    assert "Group order: Portables 2027" in text


def awarded_campaign() -> dict:
    """A campaign of the EPT, two members (the EPT itself on two sites, and Ivry), awarded to one
    supplier's laptop at the tier of the total (25 units: 300 €), orders issued."""
    coordinator = UserFactory(role=Role.PROCUREMENT_OFFICER, locale="en", organisation=OrganisationFactory(
        kind=OrganisationKind.EPT, siret=None, name="EPT Grand-Orly Seine Bièvre", address="2 avenue Youri Gagarine",
        postcode="94400", city="Vitry-sur-Seine"))
    annex = core_services.add_site(coordinator, coordinator.organisation, "Médiathèque", "8 rue Voltaire", "94400",
                                   "Vitry-sur-Seine")
    ivry = UserFactory(role=Role.PROCUREMENT_OFFICER, locale="en", organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, siret=None, name="Ville d'Ivry-sur-Seine", address="Esplanade Georges Marrane",
        postcode="94200", city="Ivry-sur-Seine"))
    seller = supplier_user("Recyclerie d'Ivry", locale="en")
    offer = CatalogueOfferFactory(supplier=seller.organisation, brand="Dell", model="Latitude 5400",
                                  unit_price=Decimal("320.00"), stock=100)
    PriceTierFactory(offer=offer, min_quantity=20, unit_price=Decimal("300.00"))
    campaign = campaigns.create_campaign(coordinator, coordinator.organisation, "Portables 2027", "",
                                         utcnow() + timedelta(days=10))
    line = campaigns.add_line(coordinator, campaign, "Portable 14 pouces", "i5, 16 Go", DeviceCategory.LAPTOP, 10,
                              [offer])
    db.session.commit()
    campaigns.set_participation(coordinator, line, coordinator.organisation.sites[0], 10)
    campaigns.set_participation(coordinator, line, annex, 5)
    campaigns.set_participation(ivry, line, ivry.organisation.sites[0], 10)
    campaign.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    campaigns.award_line(coordinator, line, offer)
    issued = campaigns.issue_orders(coordinator, campaign)
    db.session.commit()
    return {"coordinator": coordinator, "ivry": ivry, "seller": seller, "campaign": campaign, "orders": issued,
            "offer": offer}


def test_the_consolidated_order_of_a_campaign_for_its_supplier(app, client):
    world = awarded_campaign()
    campaign, seller = world["campaign"], world["seller"]
    url = f"/marketplace/campaigns/{campaign.id}/suppliers/{seller.organisation_id}/order.pdf"

    log_in(client, seller)
    response = client.get(url)

    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    text = pdf_text(response)
    assert "Consolidated order" in text and "Portables 2027" in text
    assert "EPT Grand-Orly Seine Bièvre" in text and "Ville d'Ivry-sur-Seine" in text
    assert all(order.reference in text for order in world["orders"])
    assert "8 rue Voltaire, 94400 Vitry-sur-Seine" in text
    assert "Esplanade Georges Marrane, 94200 Ivry-sur-Seine" in text
    # 25 units at 300 €: 7 500 € excl. VAT, 9 000 € incl. VAT; the EPT's 15 units: 4 500 €.
    for amount in ("300.00", "4500.00", "3000.00", "7500.00", "1500.00", "9000.00"):
        assert shown(app, Decimal(amount)) in text

    log_in(client, world["coordinator"])
    assert client.get(url).status_code == 200
    log_in(client, world["ivry"])  # a member, not the coordinator
    assert client.get(url).status_code == 404
    log_in(client, supplier_user("Another refurbisher"))
    assert client.get(url).status_code == 404
    assert client.get(f"/marketplace/campaigns/{campaign.id}/suppliers/{world['coordinator'].organisation_id}"
                      "/order.pdf").status_code == 404


def test_cancelled_orders_leave_the_consolidated_order(app, client):
    world = awarded_campaign()
    ivry_order = next(o for o in world["orders"] if o.buyer_id == world["ivry"].organisation_id)
    order_service.cancel(world["ivry"], ivry_order)
    db.session.commit()

    consolidated = order_service.campaign_supplier_orders(world["campaign"], world["seller"].organisation)

    assert [member["order"].buyer.name for member in consolidated["members"]] == ["EPT Grand-Orly Seine Bièvre"]
    assert consolidated["quantity"] == 15 and consolidated["totals"].net == Decimal("4500.00")


# --- money: rounded per line, totals are sums of rounded lines ---------------------------------------

def test_the_vat_of_a_line_is_rounded_half_up_to_the_cent():
    # 3 × 0.35 = 1.05; 5.5 % of it is 0.05775, rounded half up: 0.06.
    assert money.line_amounts(3, Decimal("0.35"), Decimal("5.50")) == (
        Decimal("1.05"), Decimal("0.06"), Decimal("1.11"))
    # Exactly half a cent goes up: 0.10 at 5 % is 0.005 → 0.01.
    assert money.line_amounts(1, Decimal("0.10"), Decimal("5.00")).vat == Decimal("0.01")


def test_totals_are_sums_of_rounded_lines_not_rounded_sums(app, client):
    officer = buyer_officer(locale="en")
    seller = supplier_user("Recyclerie d'Ivry").organisation
    cable = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.OTHER, brand="Câble", model="USB-C",
                                  unit_price=Decimal("0.25"), vat_rate=Decimal("5.50"))
    # Each line: 0.25 at 5.5 % = 0.01375 → 0.01. Rounding the sum instead would give 0.0275 → 0.03.
    town_hall, school = officer.organisation.sites
    order = placed_order(officer, cable, {town_hall: 1, school: 1})
    totals = money.totals(order.lines)
    assert (totals.net, totals.vat, totals.gross) == (Decimal("0.50"), Decimal("0.02"), Decimal("0.52"))

    log_in(client, officer)
    text = pdf_text(client.get(f"/marketplace/orders/{order.id}/purchase-order.pdf"))
    assert f"VAT at 5.5 % {shown(app, Decimal('0.02'))}" in text
    assert f"Total incl. VAT {shown(app, Decimal('0.52'))}" in text
