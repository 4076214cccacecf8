"""Whether a device holds storage media is unknown until someone says (a laptop, desktop, tablet, smartphone,
server or printer created without an answer), and unknown keeps the device in, as "yes" does, until it is
answered "no" or its data sanitisation is recorded: on the device form, the API and the CSV import; on the
device page, the inventory and the offer; at the handover, sale, reconditioning and recycling; on the
agreement."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core import services as core_services
from core.extensions import db
from core.models import Role, utcnow
from reuse import services
from reuse.models import (DATA_BEARING_CATEGORIES, Destination, Device, DeviceCategory, DeviceStatus, SanitisationType,
                          StorageType)
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role
from tests.matrix import log_in

UNKNOWN_REFUSED = "holds storage media: record it on the device (edit it), or record its data sanitisation"


@pytest.fixture
def owner():
    return user_for_role(Role.IT_MANAGER, locale="en")


def text_of(response) -> str:
    """The page's words, as read: tags taken out, each run of spaces as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def only_device() -> Device:
    db.session.expire_all()
    return db.session.scalars(select(Device)).one()


def wipe(actor, devices):
    record = services.record_sanitisation(actor, devices, services.SanitisationData(
        media_type="SSD", sanitisation_type=SanitisationType.PURGE, method="Cryptographic erase", tool="nwipe",
        tool_version="0.36", verification_method="Read-back", destination=Destination.EXTERNAL_REUSE,
        performed_by="Chloé Bernard", performed_on=services.today(), validated_by="Alice Martin",
        validated_on=services.today()))
    db.session.commit()
    return record


def test_the_categories_that_hold_data():
    assert DATA_BEARING_CATEGORIES == {DeviceCategory.LAPTOP, DeviceCategory.DESKTOP, DeviceCategory.TABLET,
                                       DeviceCategory.SMARTPHONE, DeviceCategory.SERVER, DeviceCategory.PRINTER}


# --- the answer, as each way of creating a device gives it ---------------------------------------

@pytest.mark.parametrize("category, storage_type, answer, expected", [
    ("laptop", "none", "unknown", None),
    ("printer", "none", "unknown", None),
    ("laptop", "ssd", "unknown", True),
    ("laptop", "none", "no", False),
    ("monitor", "none", "unknown", False),
    ("monitor", "none", "yes", True),
])
def test_the_device_form_asks_and_keeps_unknown_as_unknown(client, owner, category, storage_type, answer, expected):
    log_in(client, owner)
    form = text_of(client.get("/reuse/devices/new"))
    assert "Unknown: nobody has checked yet" in form

    response = client.post("/reuse/devices/new", data={
        "category": category, "serial_number": "SN-1", "storage_type": storage_type, "has_storage_media": answer})

    assert response.status_code == 302
    assert only_device().has_storage_media is expected


def test_a_device_whose_media_is_unknown_says_so_on_its_page_and_in_the_inventory(client, owner):
    device = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=None,
                           storage_type=StorageType.NONE)
    log_in(client, owner)

    page = text_of(client.get(f"/reuse/devices/{device.id}"))
    inventory = text_of(client.get("/reuse/devices"))
    edit = client.get(f"/reuse/devices/{device.id}/edit").get_data(as_text=True)

    assert "Storage media Unknown: nobody has recorded whether it holds any" in page
    assert "it cannot leave your organisation until you edit it to answer, or record its data sanitisation" in page
    assert "Record a data sanitisation" in page
    assert "Media unknown" in inventory and "No media" not in inventory
    assert '<option selected value="unknown">' in edit

    # Answered "no": the page and the inventory say so, and the form shows the answer.
    assert client.post(f"/reuse/devices/{device.id}/edit", data={
        "category": "laptop", "serial_number": device.serial_number, "storage_type": "none",
        "has_storage_media": "no"}).status_code == 302
    assert only_device().has_storage_media is False
    assert "Storage media No" in text_of(client.get(f"/reuse/devices/{device.id}"))
    assert "No media" in text_of(client.get("/reuse/devices"))
    assert '<option selected value="no">' in client.get(f"/reuse/devices/{device.id}/edit").get_data(as_text=True)


def test_an_answer_that_is_not_one_of_the_choices_is_refused(client, owner):
    log_in(client, owner)
    response = client.post("/reuse/devices/new", data={
        "category": "laptop", "serial_number": "SN-1", "storage_type": "none", "has_storage_media": "maybe"})
    assert response.status_code == 422
    assert db.session.scalars(select(Device)).all() == []


@pytest.mark.parametrize("body, expected", [
    ({"category": "laptop"}, None),
    ({"category": "server", "has_storage_media": None}, None),
    ({"category": "laptop", "storage_type": "hdd"}, True),
    ({"category": "laptop", "has_storage_media": False}, False),
    ({"category": "projector"}, False),
])
def test_the_api_gives_unknown_for_a_category_that_holds_data(client, owner, body, expected):
    _, token = core_services.create_api_token(owner, "t")
    db.session.commit()

    response = client.post("/api/v1/devices", headers={"Authorization": f"Bearer {token}"},
                           json={**body, "serial_number": "SN-API"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["has_storage_media"] is expected
    assert only_device().has_storage_media is expected


def test_the_csv_import_gives_unknown_for_an_empty_cell_of_a_category_that_holds_data(client, owner):
    _, token = core_services.create_api_token(owner, "t")
    db.session.commit()
    rows = ["category;serial_number;storage_type;has_storage_media",
            "laptop;L-EMPTY;;", "laptop;L-NON;;non", "laptop;L-OUI;;oui", "laptop;L-SSD;ssd;",
            "smartphone;P-EMPTY;none;", "monitor;M-EMPTY;;", "monitor;M-OUI;;oui"]
    without_column = ["category;serial_number", "tablet;T-NONE", "network;N-NONE"]

    for lines in (rows, without_column):
        response = client.post("/api/v1/devices/import", data="\n".join(lines).encode(),
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
        assert response.status_code == 200 and response.get_json()["rejected"] == [], response.get_json()

    db.session.expire_all()
    answers = {d.serial_number: d.has_storage_media for d in db.session.scalars(select(Device))}
    assert answers == {"L-EMPTY": None, "L-NON": False, "L-OUI": True, "L-SSD": True, "P-EMPTY": None,
                       "M-EMPTY": False, "M-OUI": True, "T-NONE": None, "N-NONE": False}


# --- unknown keeps the device in ------------------------------------------------------------------

def test_a_device_whose_media_is_unknown_is_not_sold_reconditioned_or_recycled(client, owner):
    device = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=None)
    refurbisher = OrganisationFactory()
    log_in(client, owner)

    recycled = client.post("/reuse/recycling/new", follow_redirects=True, data={
        "device": device.id, "operator": "Ecosystem", "pickup_on": services.today().isoformat(),
        "tracking_reference": "BSD-1"})
    reconditioned = client.post(f"/reuse/devices/{device.id}/reconditioning", follow_redirects=True,
                                data={"refurbisher_id": refurbisher.id})

    for response in (recycled, reconditioned):
        assert UNKNOWN_REFUSED in text_of(response)
    assert only_device().status is DeviceStatus.REFORMED

    # Nor sold, once at a refurbisher (as a device holding media, sent there before this rule).
    device.status = DeviceStatus.RECONDITIONING
    db.session.commit()
    sold = client.post(f"/reuse/devices/{device.id}/sale", follow_redirects=True,
                       data={"price": "120", "buyer": "Ateliers Numériques Solidaires"})
    assert UNKNOWN_REFUSED in text_of(sold)
    assert only_device().status is DeviceStatus.RECONDITIONING

    # A sanitisation may be recorded for it; then it may leave.
    wipe(owner, [only_device()])
    client.post(f"/reuse/devices/{device.id}/sale", data={"price": "120", "buyer": "Ateliers Numériques Solidaires"})
    assert only_device().status is DeviceStatus.SOLD


def test_the_owner_is_told_which_devices_keep_a_request_from_being_handed_over(client, owner):
    unknown = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=None,
                            purchase_date=services.today() - timedelta(days=6 * 366))
    with_media = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=True,
                               purchase_date=services.today() - timedelta(days=6 * 366))
    offer = services.create_offer(owner, [unknown, with_media], "Portables")
    offer.published_at = utcnow() - timedelta(days=10)
    ivry = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(public=True, postcode="94200",
                                                                             city="Ivry-sur-Seine"))
    made = services.request_offer(ivry, offer, 2, "Médiathèque")
    services.approve_request(owner, made)
    db.session.commit()
    log_in(client, owner)

    page = text_of(client.get(f"/reuse/offers/{offer.id}"))
    refused = text_of(client.post(f"/reuse/requests/{made.id}/hand-over", follow_redirects=True))

    assert "Before the handover, record for each of these devices its data sanitisation or, if it holds no " \
           "storage media, say so on the device:" in page
    assert f"{unknown} · storage media unknown" in page
    assert f"{with_media} · holds storage media, not sanitised yet" in page
    assert f"Nobody has recorded whether {unknown} {UNKNOWN_REFUSED}" in refused
    db.session.expire_all()
    assert {d.status for d in db.session.scalars(select(Device))} == {DeviceStatus.RESERVED}

    # The unknown one is answered "no", the other is wiped: the handover goes through.
    unknown = db.session.get(Device, unknown.id)
    unknown.has_storage_media = False
    wipe(owner, [db.session.get(Device, with_media.id)])
    page = text_of(client.get(f"/reuse/offers/{offer.id}"))
    assert "storage media unknown" not in page and "Before the handover" not in page
    client.post(f"/reuse/requests/{made.id}/hand-over")
    db.session.expire_all()
    assert {d.status for d in db.session.scalars(select(Device))} == {DeviceStatus.HANDED_OVER}


# --- the agreement ----------------------------------------------------------------------------------

def handed_over(owner, devices):
    offer = services.create_offer(owner, devices, "Portables")
    offer.published_at = utcnow() - timedelta(days=10)
    ivry = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(public=True, postcode="94200",
                                                                             city="Ivry-sur-Seine"))
    made = services.request_offer(ivry, offer, len(devices), "Médiathèque")
    services.approve_request(owner, made)
    services.hand_over(owner, made)
    db.session.commit()
    return made


def agreement_text(client, made) -> str:
    response = client.get(f"/reuse/requests/{made.id}/agreement.pdf")
    assert response.status_code == 200
    reader = PdfReader(BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_agreement_gives_each_device_s_certificate_or_its_recorded_absence_of_media(client, owner):
    old = services.today() - timedelta(days=6 * 366)  # worth nothing: a free transfer
    wiped = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=True,
                          purchase_date=old, serial_number="SN-WIPED")
    unknown_but_wiped = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=None,
                                      purchase_date=old, serial_number="SN-UNKNOWN")
    without_media = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=False,
                                  purchase_date=old, serial_number="SN-NOMEDIA")
    record = wipe(owner, [wiped, unknown_but_wiped])
    made = handed_over(owner, [wiped, unknown_but_wiped, without_media])
    log_in(client, owner)

    text = agreement_text(client, made)

    check_at = f"http://localhost/reuse/verify/{record.reference}"
    assert f"SN-WIPED {record.reference} {check_at}" in text and f"SN-UNKNOWN {record.reference} {check_at}" in text
    assert "SN-NOMEDIA No storage media, as recorded by the owner" in text
    assert "None of the devices holds storage media." not in text


def test_the_agreement_says_no_device_holds_media_only_when_each_was_recorded_so(client, owner):
    old = services.today() - timedelta(days=6 * 366)
    devices = [DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=False,
                             purchase_date=old, purchase_price=Decimal("500")) for _ in range(2)]
    made = handed_over(owner, devices)
    log_in(client, owner)

    text = agreement_text(client, made)

    assert "None of the devices holds storage media." in text
    assert "Sanitisation certificate" not in text
