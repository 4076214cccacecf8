"""The reuse circuit through the JSON API: inventory, import, the cascade of offers, requests."""
from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import services as core_services
from core.extensions import db
from core.models import Role, utcnow
from reuse import api, services
from reuse.models import Device, DeviceCategory, DeviceStatus, RequestStatus, ReuseRequest
from tests.factories import DeviceFactory, OrganisationFactory, user_for_role


def auth(user) -> dict:
    _, clear_token = core_services.create_api_token(user, "t")
    db.session.commit()
    return {"Authorization": f"Bearer {clear_token}"}


def device_count() -> int:
    return db.session.scalar(select(func.count(Device.id)))


@pytest.fixture
def it_manager():
    return user_for_role(Role.IT_MANAGER)


def offer_of(owner_it_manager, units: int = 2, days_ago: int = 0):
    devices = DeviceFactory.create_batch(units, reformed=True, organisation=owner_it_manager.organisation)
    offer = services.create_offer(owner_it_manager, devices, "Laptops T480",
                                  site=owner_it_manager.organisation.sites[0])
    db.session.flush()
    offer.published_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return offer


def public_buyer_elsewhere(role: Role = Role.IT_MANAGER):
    """Staff of another commune of the territory (Ivry), who see offers from the second stage."""
    return user_for_role(role, organisation=OrganisationFactory(public=True, postcode="94200",
                                                                city="Ivry-sur-Seine"))


# --- inventory -------------------------------------------------------------------------------------

def test_every_field_of_a_device_is_writable_through_the_api():
    assert set(api.DEVICE_FIELDS) == {f.name for f in fields(services.DeviceData)}


def test_an_it_manager_adds_a_device_with_a_token(client, it_manager):
    response = client.post("/api/v1/devices", headers=auth(it_manager), json={
        "category": "laptop", "brand": "Dell", "model": "Latitude 5490", "serial_number": " DL-001 ",
        "purchase_date": "2023-04-12", "purchase_price": "749.90", "weight_kg": 1.6, "storage_type": "ssd",
        "ram_gb": 16, "condition": "B"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "in_service"
    assert body["serial_number"] == "DL-001"
    assert body["purchase_price"] == "749.90" and body["weight_kg"] == "1.60"
    assert body["has_storage_media"] is True  # derived from the SSD
    device = db.session.get(Device, body["id"])
    assert device.organisation_id == it_manager.organisation_id
    assert device.purchase_price == Decimal("749.90")
    assert device.purchase_date == date(2023, 4, 12)


def test_devices_are_listed_by_page_and_filtered(client, it_manager):
    organisation = it_manager.organisation
    DeviceFactory.create_batch(2, organisation=organisation)
    DeviceFactory(organisation=organisation, category=DeviceCategory.MONITOR, reformed=True)
    DeviceFactory()  # another commune's
    headers = auth(it_manager)

    everything = client.get("/api/v1/devices", headers=headers).get_json()
    assert everything["total"] == 3
    assert {item["organisation_id"] for item in everything["items"]} == {organisation.id}
    assert client.get("/api/v1/devices?per_page=2&page=2", headers=headers).get_json()["items"][0]["id"] \
        == everything["items"][2]["id"]
    reformed = client.get("/api/v1/devices?status=reformed", headers=headers).get_json()
    assert [item["category"] for item in reformed["items"]] == ["monitor"]
    laptops = client.get("/api/v1/devices?category=laptop&status=in_service", headers=headers).get_json()
    assert laptops["total"] == 2


@pytest.mark.parametrize("parameter", ["status", "category"])
def test_an_unknown_filter_value_is_refused_with_the_allowed_values(client, it_manager, parameter):
    response = client.get(f"/api/v1/devices?{parameter}=castle", headers=auth(it_manager))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert "laptop" in error["details"][parameter] or "in_service" in error["details"][parameter]


def test_invalid_fields_are_named_one_by_one(client, it_manager):
    response = client.post("/api/v1/devices", headers=auth(it_manager), json={
        "category": "castle", "ram_gb": "lots", "purchase_date": "last spring", "purchase_price": "12.345",
        "has_storage_media": "yes", "colour": "red"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["status"] == 422 and error["code"] == "validation_error" and error["message"]
    assert set(error["details"]) == {"category", "ram_gb", "purchase_date", "purchase_price",
                                     "has_storage_media", "colour"}
    assert "laptop" in error["details"]["category"]
    missing = client.post("/api/v1/devices", headers=auth(it_manager), json={"serial_number": "X"})
    assert missing.get_json()["error"]["details"] == {"category": "Required."}
    assert device_count() == 0


def test_a_body_that_is_not_a_json_object_is_a_bad_request(client, it_manager):
    response = client.post("/api/v1/devices", headers=auth(it_manager), data="category=laptop",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_broken_rule_answers_422_with_the_services_message(client, it_manager):
    DeviceFactory(organisation=it_manager.organisation, serial_number="TAKEN")
    headers = auth(it_manager)
    for payload in ({"category": "laptop"},  # neither serial nor asset number
                    {"category": "laptop", "serial_number": "TAKEN"},
                    {"category": "laptop", "serial_number": "NEW", "purchase_date": "2999-01-01"}):
        response = client.post("/api/v1/devices", headers=headers, json=payload)
        assert response.status_code == 422, payload
        assert response.get_json()["error"]["code"] == "rule_violation"
        assert response.get_json()["error"]["message"]
    assert device_count() == 1


def test_a_device_is_patched_field_by_field(client, it_manager):
    device = DeviceFactory(organisation=it_manager.organisation, brand="Lenovo", ram_gb=8)
    response = client.patch(f"/api/v1/devices/{device.id}", headers=auth(it_manager),
                            json={"ram_gb": 16, "notes": "Battery worn", "condition": "C"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["ram_gb"], body["notes"], body["condition"], body["brand"]) == (16, "Battery worn", "C",
                                                                                  "Lenovo")
    db.session.refresh(device)
    assert device.ram_gb == 16 and device.serial_number == body["serial_number"]


def test_the_status_is_not_written_through_the_device(client, it_manager):
    device = DeviceFactory(organisation=it_manager.organisation)
    headers = auth(it_manager)
    response = client.patch(f"/api/v1/devices/{device.id}", headers=headers,
                            json={"status": "handed_over", "notes": "Given away"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and "lifecycle" in error["details"]["status"]
    created = client.post("/api/v1/devices", headers=headers,
                          json={"category": "laptop", "serial_number": "S-2", "status": "sold"})
    assert created.status_code == 422 and "status" in created.get_json()["error"]["details"]
    db.session.refresh(device)
    assert device.status is DeviceStatus.IN_SERVICE and device.notes == ""


def test_another_organisations_device_does_not_exist_for_the_caller(client, it_manager):
    device = DeviceFactory()
    headers = auth(it_manager)
    assert client.get(f"/api/v1/devices/{device.id}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/devices/{device.id}", headers=headers, json={"notes": "x"}).status_code == 404
    assert client.get(f"/api/v1/devices/{device.id + 1000}", headers=headers).status_code == 404


# --- import ----------------------------------------------------------------------------------------

def test_an_import_takes_the_valid_items_and_lists_the_others_by_line(client, it_manager):
    response = client.post("/api/v1/devices/import", headers=auth(it_manager), json=[
        {"category": "laptop", "serial_number": "IMP-1", "purchase_price": 820},
        {"category": "castle", "serial_number": "IMP-2"},
        {"category": "monitor", "brand": "Iiyama"},  # neither serial nor asset number
        "not a device",
        {"category": "monitor", "asset_number": "INV-77", "screen_inches": "23.8"},
    ])
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    assert (summary["read"], summary["created"], summary["updated"]) == (5, 2, 0)
    assert [rejected["line"] for rejected in summary["rejected"]] == [2, 3, 4]
    assert summary["rejected"][0]["reason"].startswith("category: One of:")
    assert all(rejected["reason"] for rejected in summary["rejected"])
    assert device_count() == 2
    assert db.session.scalar(select(Device).where(Device.asset_number == "INV-77")).screen_inches \
        == Decimal("23.8")


def test_a_second_import_updates_the_devices_it_already_knows(client, it_manager):
    headers = auth(it_manager)
    known = DeviceFactory(organisation=it_manager.organisation, serial_number=None, asset_number="INV-1")
    first = client.post("/api/v1/devices/import", headers=headers, json=[
        {"category": "laptop", "serial_number": "SN-A", "brand": "Dell", "ram_gb": 8}]).get_json()
    assert (first["created"], first["updated"]) == (1, 0)

    second = client.post("/api/v1/devices/import", headers=headers, json=[
        {"serial_number": "SN-A", "ram_gb": 16},  # matched by serial number: category not needed
        {"asset_number": "INV-1", "notes": "Room 12"},  # matched by asset number
        {"category": "tablet", "serial_number": "SN-B"},
    ]).get_json()
    assert (second["read"], second["created"], second["updated"], second["rejected"]) == (3, 1, 2, [])
    assert device_count() == 3
    updated = db.session.scalar(select(Device).where(Device.serial_number == "SN-A"))
    assert (updated.brand, updated.ram_gb) == ("Dell", 16)
    db.session.refresh(known)
    assert known.notes == "Room 12"


def test_a_csv_inventory_is_imported_like_on_the_web_page(client, it_manager):
    DeviceFactory(organisation=it_manager.organisation, serial_number="CSV-1", brand="Lenovo")
    csv_text = ("category;serial_number;brand;purchase_price\n"
                "laptop;CSV-1;Dell;899,00\n"
                "castle;CSV-2;HP;\n"
                "monitor;CSV-3;Iiyama;149,90\n")
    response = client.post("/api/v1/devices/import", headers=auth(it_manager), data=csv_text.encode(),
                           content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    assert (summary["read"], summary["created"], summary["updated"]) == (3, 1, 1)
    assert [rejected["line"] for rejected in summary["rejected"]] == [3]  # the header is line 1
    assert db.session.scalar(select(Device).where(Device.serial_number == "CSV-1")).brand == "Dell"
    assert db.session.scalar(select(Device).where(Device.serial_number == "CSV-3")).purchase_price \
        == Decimal("149.90")


def test_a_csv_file_without_serial_or_asset_column_is_refused(client, it_manager):
    response = client.post("/api/v1/devices/import", headers=auth(it_manager),
                           data=b"category;brand\nlaptop;Dell\n", content_type="text/csv")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "rule_violation"
    assert device_count() == 0


def test_an_import_in_another_format_is_refused(client, it_manager):
    response = client.post("/api/v1/devices/import", headers=auth(it_manager), data=b"<devices/>",
                           content_type="application/xml")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


# --- offers and the cascade ------------------------------------------------------------------------

def test_offers_follow_the_cascade(client, it_manager):
    offer = offer_of(it_manager)
    colleague = user_for_role(Role.IT_MANAGER, organisation=it_manager.organisation)
    other_commune = public_buyer_elsewhere()
    beneficiary = user_for_role(Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94200", city="Ivry-sur-Seine"))

    def visible_ids(user) -> list[int]:
        return [item["id"] for item in client.get("/api/v1/offers", headers=auth(user)).get_json()["items"]]

    assert visible_ids(colleague) == [offer.id]
    assert visible_ids(other_commune) == []
    assert visible_ids(beneficiary) == []

    offer.published_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert visible_ids(other_commune) == [offer.id]
    assert visible_ids(beneficiary) == []

    offer.published_at = utcnow() - timedelta(days=60)
    db.session.commit()
    body = client.get("/api/v1/offers", headers=auth(beneficiary)).get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["available"], item["quantity"], item["category"]) == (2, 2, "laptop")
    assert item["organisation"]["name"] == it_manager.organisation.name
    assert item["site"] == {"postcode": "94400", "city": "Vitry-sur-Seine"}
    assert item["eligibility"]["route"] == "donation" and item["eligibility"]["eligible"] is True


def test_offers_say_why_the_caller_may_not_receive_them(client, it_manager):
    offer = offer_of(it_manager, days_ago=60)
    offer.devices[0].purchase_price = None
    db.session.commit()
    association = user_for_role(Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, beneficiary_category=None))
    item = client.get("/api/v1/offers", headers=auth(association)).get_json()["items"][0]
    assert item["eligibility"]["eligible"] is False
    reasons = {reason["code"]: reason["message"] for reason in item["eligibility"]["reasons"]}
    assert set(reasons) == {"not_a_donation_beneficiary", "unknown_value"}
    assert all(reasons.values())
    own = client.get("/api/v1/offers", headers=auth(it_manager)).get_json()["items"][0]
    assert own["eligibility"] is None


# --- requests --------------------------------------------------------------------------------------

def test_a_request_is_made_then_approved(client, it_manager):
    offer = offer_of(it_manager, days_ago=10)
    requester = public_buyer_elsewhere(Role.PROCUREMENT_OFFICER)
    response = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(requester),
                           json={"quantity": 1, "purpose": "Laptops for the media library"})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["status"] == "pending" and made["organisation"]["id"] == requester.organisation_id
    assert made["eligibility"]["route"] == "public_transfer"

    mine = client.get("/api/v1/requests?side=made", headers=auth(requester)).get_json()
    assert [r["id"] for r in mine["items"]] == [made["id"]]
    assert client.get("/api/v1/requests?side=received", headers=auth(requester)).get_json()["total"] == 0
    owner_headers = auth(it_manager)
    assert [r["id"] for r in client.get("/api/v1/requests", headers=owner_headers).get_json()["items"]] \
        == [made["id"]]
    assert client.get("/api/v1/requests?side=both", headers=owner_headers).status_code == 400

    collect_by = (services.today() + timedelta(days=5)).isoformat()
    approved = client.post(f"/api/v1/requests/{made['id']}/approve", headers=owner_headers,
                           json={"collect_by": collect_by})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved" and approved.get_json()["collect_by"] == collect_by
    reuse_request = db.session.get(ReuseRequest, made["id"])
    assert [device.status for device in reuse_request.devices] == [DeviceStatus.RESERVED]

    again = client.post(f"/api/v1/requests/{made['id']}/approve", headers=owner_headers)
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "rule_violation"


def test_a_request_is_refused_with_a_reason_and_its_units_return(client, it_manager):
    offer = offer_of(it_manager, days_ago=10)
    reuse_request = services.request_offer(public_buyer_elsewhere(), offer, 2, "Schools")
    db.session.commit()
    headers = auth(it_manager)
    url = f"/api/v1/requests/{reuse_request.id}/refuse"

    assert client.post(url, headers=headers, json={}).get_json()["error"]["details"] == {
        "reason": "Required, a string."}
    blank = client.post(url, headers=headers, json={"reason": "  "})
    assert blank.status_code == 422 and blank.get_json()["error"]["code"] == "rule_violation"

    refused = client.post(url, headers=headers, json={"reason": "Promised to a school"})
    assert refused.status_code == 200
    assert refused.get_json()["refusal_reason"] == "Promised to a school"
    db.session.refresh(reuse_request)
    db.session.refresh(offer)
    assert reuse_request.status is RequestStatus.REFUSED and offer.available == 2


def test_the_last_unit_goes_once_then_409(client, it_manager):
    offer = offer_of(it_manager, units=1, days_ago=10)
    first = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(public_buyer_elsewhere()),
                        json={"quantity": 1, "purpose": "Town hall"})
    assert first.status_code == 201
    second = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(public_buyer_elsewhere()),
                         json={"quantity": 1, "purpose": "Library"})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "conflict" and error["message"]
    assert db.session.scalar(select(func.count(ReuseRequest.id))) == 1


def test_an_ineligible_beneficiary_is_told_why(client, it_manager):
    offer = offer_of(it_manager, days_ago=60)
    association = user_for_role(Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, beneficiary_category=None))
    response = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(association),
                           json={"quantity": 1, "purpose": "Digital literacy workshops"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "rule_violation"
    assert response.get_json()["error"]["message"]


def test_a_request_body_is_checked_before_the_services(client, it_manager):
    offer = offer_of(it_manager, days_ago=10)
    response = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(public_buyer_elsewhere()),
                           json={"quantity": "two", "why": "x"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {"quantity", "purpose", "why"}


def test_an_offer_not_yet_visible_cannot_be_requested(client, it_manager):
    offer = offer_of(it_manager)  # published now: only its own commune sees it
    response = client.post(f"/api/v1/offers/{offer.id}/requests", headers=auth(public_buyer_elsewhere()),
                           json={"quantity": 1, "purpose": "Town hall"})
    assert response.status_code == 404


def test_an_observer_of_the_owner_sees_the_request_but_may_not_decide(client, it_manager):
    offer = offer_of(it_manager, days_ago=10)
    reuse_request = services.request_offer(public_buyer_elsewhere(), offer, 1, "Schools")
    db.session.commit()
    observer = user_for_role(Role.OBSERVER, organisation=it_manager.organisation)
    headers = auth(observer)
    assert client.get("/api/v1/requests", headers=headers).get_json()["total"] == 1
    # A party to the request who may not decide is refused (403): the request's existence is no secret.
    assert client.post(f"/api/v1/requests/{reuse_request.id}/approve", headers=headers).status_code == 403
    db.session.refresh(reuse_request)
    assert reuse_request.status is RequestStatus.PENDING
