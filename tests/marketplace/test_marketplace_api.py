"""The marketplace on the JSON API: the catalogue, campaigns and the members' needs, orders."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import services as core_services
from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from marketplace.models import CampaignStatus, Participation
from marketplace.services import campaigns
from marketplace.services import orders as order_service
from reuse.models import DeviceCategory
from tests.factories import (CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, UserFactory,
                             user_for_role)
from tests.marketplace.test_orders import buyer_officer, laptop_offer, placed_order, supplier_user

API = "/api/v1"


def bearer(user) -> dict:
    _, clear_token = core_services.create_api_token(user, "test")
    db.session.commit()
    return {"Authorization": f"Bearer {clear_token}"}


# --- catalogue ---------------------------------------------------------------------------------------

def test_the_catalogue_lists_offers_on_sale_with_filters_and_pages(client):
    seller = supplier_user("Recyclerie d'Ivry").organisation
    laptop = laptop_offer(seller)
    CatalogueOfferFactory(supplier=seller, category=DeviceCategory.MONITOR, unit_price=Decimal("95.50"))
    CatalogueOfferFactory(supplier=seller, unit_price=Decimal("150.00"), active=False)
    CatalogueOfferFactory(supplier=seller, unit_price=Decimal("150.00"), stock=0)
    CatalogueOfferFactory(supplier=OrganisationFactory(pending=True), unit_price=Decimal("150.00"))
    headers = bearer(buyer_officer())

    body = client.get(f"{API}/catalogue", headers=headers).get_json()
    assert body["total"] == 2
    assert [item["unit_price"] for item in body["items"]] == ["95.50", "320.00"]  # cheapest first
    laptops = client.get(f"{API}/catalogue?category=laptop", headers=headers).get_json()
    assert [item["id"] for item in laptops["items"]] == [laptop.id]
    assert laptops["items"][0]["tiers"] == [{"min_quantity": 50, "unit_price": "290.00"}]
    assert laptops["items"][0]["supplier"]["name"] == "Recyclerie d'Ivry"
    assert client.get(f"{API}/catalogue?max_price=100", headers=headers).get_json()["total"] == 1
    page = client.get(f"{API}/catalogue?per_page=1&page=2", headers=headers).get_json()
    assert (page["total"], len(page["items"]), page["items"][0]["id"]) == (2, 1, laptop.id)


@pytest.mark.parametrize("query", ["category=castle", "max_price=cheap", "max_price=-1", "max_price=NaN"])
def test_a_bad_catalogue_filter_is_a_400(client, query):
    response = client.get(f"{API}/catalogue?{query}", headers=bearer(buyer_officer()))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_a_supplier_sees_its_own_offers_even_off_sale(client):
    seller = supplier_user("Recyclerie d'Ivry")
    withdrawn = CatalogueOfferFactory(supplier=seller.organisation, active=False)

    body = client.get(f"{API}/catalogue", headers=bearer(seller)).get_json()

    assert [item["id"] for item in body["items"]] == [withdrawn.id]
    assert client.get(f"{API}/catalogue/{withdrawn.id}", headers=bearer(buyer_officer())).status_code == 404
    assert client.get(f"{API}/catalogue/{withdrawn.id}", headers=bearer(seller)).get_json()["active"] is False


# --- campaigns ---------------------------------------------------------------------------------------

@pytest.fixture
def campaign_world():
    coordinator = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(
        kind=OrganisationKind.EPT, siret=None, name="EPT GOSB"))
    ivry = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, siret=None, name="Ville d'Ivry-sur-Seine"))
    offer = CatalogueOfferFactory(unit_price=Decimal("320.00"), stock=100)
    PriceTierFactory(offer=offer, min_quantity=20, unit_price=Decimal("300.00"))
    campaign = campaigns.create_campaign(coordinator, coordinator.organisation, "Portables 2027", "Rentrée",
                                         utcnow() + timedelta(days=10))
    line = campaigns.add_line(coordinator, campaign, "Portable 14 pouces", "i5, 16 Go", DeviceCategory.LAPTOP, 10,
                              [offer])
    db.session.commit()
    campaigns.set_participation(coordinator, line, coordinator.organisation.sites[0], 12)
    db.session.commit()
    return {"coordinator": coordinator, "ivry": ivry, "campaign": campaign, "line": line, "offer": offer}


def test_campaigns_are_listed_for_public_bodies_only(client, campaign_world):
    body = client.get(f"{API}/campaigns", headers=bearer(campaign_world["ivry"])).get_json()
    assert body["total"] == 1
    assert body["items"][0] | {"deadline": None} == {
        "id": campaign_world["campaign"].id, "title": "Portables 2027", "description": "Rentrée",
        "coordinator": {"id": campaign_world["coordinator"].organisation_id, "name": "EPT GOSB"},
        "deadline": None, "status": "open", "frozen_at": None, "line_count": 1}
    assert client.get(f"{API}/campaigns", headers=bearer(supplier_user("ANS"))).status_code == 403


def test_a_campaign_shows_each_line_total_price_reached_next_tier_and_my_needs(client, campaign_world):
    coordinator, campaign, line = campaign_world["coordinator"], campaign_world["campaign"], campaign_world["line"]

    body = client.get(f"{API}/campaigns/{campaign.id}", headers=bearer(coordinator)).get_json()

    [answer] = body["lines"]
    assert (answer["id"], answer["total_quantity"], answer["min_total_quantity"], answer["minimum_reached"]) == (
        line.id, 12, 10, True)
    assert answer["unit_price"] == "320.00"
    assert answer["next_tier"] == {"min_quantity": 20, "unit_price": "300.00", "missing_quantity": 8}
    assert [(p["site"]["id"], p["quantity"]) for p in answer["my_participations"]] == [
        (coordinator.organisation.sites[0].id, 12)]
    other = client.get(f"{API}/campaigns/{campaign.id}", headers=bearer(campaign_world["ivry"])).get_json()
    assert other["lines"][0]["my_participations"] == [] and other["lines"][0]["total_quantity"] == 12


def test_a_member_states_changes_and_withdraws_its_need(client, campaign_world):
    ivry, campaign, line = campaign_world["ivry"], campaign_world["campaign"], campaign_world["line"]
    url = f"{API}/campaigns/{campaign.id}/lines/{line.id}/participations"
    headers = bearer(ivry)
    site_id = ivry.organisation.sites[0].id

    response = client.put(url, headers=headers, json={"site_id": site_id, "quantity": 8})
    assert response.status_code == 200
    body = response.get_json()
    assert body["participation"]["quantity"] == 8 and body["participation"]["site"]["id"] == site_id
    assert body["line"]["total_quantity"] == 20 and body["line"]["unit_price"] == "300.00"

    client.put(url, headers=headers, json={"site_id": site_id, "quantity": 5})
    db.session.expire_all()
    assert [p.quantity for p in db.session.get(type(line), line.id).participations] == [12, 5]

    withdrawn = client.put(url, headers=headers, json={"site_id": site_id, "quantity": 0}).get_json()
    assert withdrawn["participation"] is None and withdrawn["line"]["total_quantity"] == 12


@pytest.mark.parametrize(("body", "field"), [
    ({"site_id": "one", "quantity": 3}, "site_id"),
    ({"quantity": 3}, "site_id"),
    ({"site_id": None, "quantity": -1}, "quantity"),
    ({"site_id": None, "quantity": True}, "quantity"),
    ({"site_id": None, "quantity": 3, "comment": "x"}, "comment"),
    ({"site_id": "other", "quantity": 3}, "site_id"),
])
def test_an_invalid_need_is_a_422(client, campaign_world, body, field):
    ivry, campaign, line = campaign_world["ivry"], campaign_world["campaign"], campaign_world["line"]
    own_site, other_site = ivry.organisation.sites[0].id, campaign_world["coordinator"].organisation.sites[0].id
    body = {key: (own_site if value is None else other_site if value == "other" else value)
            for key, value in body.items()}

    response = client.put(f"{API}/campaigns/{campaign.id}/lines/{line.id}/participations", headers=bearer(ivry),
                          json=body)

    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_a_body_that_is_not_a_json_object_is_a_400(client, campaign_world):
    campaign, line = campaign_world["campaign"], campaign_world["line"]
    response = client.put(f"{API}/campaigns/{campaign.id}/lines/{line.id}/participations",
                          headers=bearer(campaign_world["ivry"]), data="quantity=3")
    assert response.status_code == 400


def test_after_the_deadline_a_need_is_refused_as_census_frozen(client, campaign_world):
    ivry, campaign, line = campaign_world["ivry"], campaign_world["campaign"], campaign_world["line"]
    campaign.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.put(f"{API}/campaigns/{campaign.id}/lines/{line.id}/participations", headers=bearer(ivry),
                          json={"site_id": ivry.organisation.sites[0].id, "quantity": 3})

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "census_frozen"
    db.session.expire_all()
    assert len(db.session.scalars(select(Participation)).all()) == 1
    # Reading the campaign freezes it: server time decides.
    body = client.get(f"{API}/campaigns/{campaign.id}", headers=bearer(ivry)).get_json()
    assert body["status"] == CampaignStatus.FROZEN.value


def test_a_line_of_another_campaign_is_a_404(client, campaign_world):
    coordinator, line = campaign_world["coordinator"], campaign_world["line"]
    other = campaigns.create_campaign(coordinator, coordinator.organisation, "Écrans", "", utcnow() + timedelta(days=3))
    db.session.commit()

    response = client.put(f"{API}/campaigns/{other.id}/lines/{line.id}/participations", headers=bearer(coordinator),
                          json={"site_id": coordinator.organisation.sites[0].id, "quantity": 3})

    assert response.status_code == 404


# --- orders ------------------------------------------------------------------------------------------

def test_orders_are_listed_for_the_buyer_and_the_supplier_with_amounts_as_strings(client):
    officer = buyer_officer()
    seller = supplier_user("Recyclerie d'Ivry")
    offer = laptop_offer(seller.organisation)
    town_hall, school = officer.organisation.sites
    order = placed_order(officer, offer, {town_hall: 2, school: 1}, budget_line="2183")
    other_buyer = buyer_officer("Ville d'Orly")
    placed_order(other_buyer, laptop_offer(supplier_user("ANS").organisation), {other_buyer.organisation.sites[0]: 1})

    body = client.get(f"{API}/orders", headers=bearer(officer)).get_json()

    assert body["total"] == 1
    [answer] = body["items"]
    assert (answer["reference"], answer["status"], answer["budget_line"]) == (order.reference, "placed", "2183")
    assert answer["buyer"]["id"] == officer.organisation_id and answer["supplier"]["name"] == "Recyclerie d'Ivry"
    assert [(line["site"]["name"], line["quantity"], line["net"]) for line in answer["lines"]] == [
        ("Siège", 2, "640.00"), ("École Jean Jaurès", 1, "320.00")]
    assert answer["totals"] == {"net": "960.00", "vat": "192.00", "gross": "1152.00",
                                "vat_by_rate": [{"rate": "20.00", "vat": "192.00"}]}

    supplier_headers = bearer(seller)
    assert client.get(f"{API}/orders?side=received", headers=supplier_headers).get_json()["total"] == 1
    assert client.get(f"{API}/orders?side=placed", headers=supplier_headers).get_json()["total"] == 0
    order_service.confirm_order(seller, order)
    db.session.commit()
    assert client.get(f"{API}/orders?status=placed", headers=supplier_headers).get_json()["total"] == 0
    assert client.get(f"{API}/orders?status=confirmed", headers=supplier_headers).get_json()["total"] == 1
    assert client.get(f"{API}/orders?status=lost", headers=supplier_headers).status_code == 400
    assert client.get(f"{API}/orders?side=both", headers=supplier_headers).status_code == 400


def test_an_order_is_seen_by_its_parties_only(client):
    officer = buyer_officer()
    seller = supplier_user("Recyclerie d'Ivry")
    order = placed_order(officer, laptop_offer(seller.organisation), {officer.organisation.sites[0]: 1})

    assert client.get(f"{API}/orders/{order.id}", headers=bearer(seller)).get_json()["reference"] == order.reference
    response = client.get(f"{API}/orders/{order.id}", headers=bearer(buyer_officer("Ville d'Orly")))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_openapi_document_describes_the_marketplace(client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert {"/catalogue", "/catalogue/{offer_id}", "/campaigns", "/campaigns/{campaign_id}",
            "/campaigns/{campaign_id}/lines/{line_id}/participations", "/orders",
            "/orders/{order_id}"} <= set(document["paths"])
    assert {"CatalogueOffer", "Campaign", "CampaignDetail", "CampaignLine", "Participation", "ParticipationInput",
            "Order", "OrderLine", "Totals"} <= set(document["components"]["schemas"])
    put = document["paths"]["/campaigns/{campaign_id}/lines/{line_id}/participations"]["put"]
    assert {"200", "409", "422"} <= set(put["responses"])


def test_a_beneficiary_may_not_see_campaigns(client, campaign_world):
    response = client.get(f"{API}/campaigns/{campaign_world['campaign'].id}",
                          headers=bearer(user_for_role(Role.BENEFICIARY)))
    assert response.status_code == 404
