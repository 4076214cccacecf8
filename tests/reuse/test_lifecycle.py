"""Every lifecycle operation, its preconditions and its audit trail (reuse.services)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import RuleViolation
from core.extensions import db
from core.models import AuditEntry, BeneficiaryCategory, Role, utcnow
from reuse import services
from reuse.models import (Destination, Device, DeviceCategory, DeviceStatus, OfferStatus, RequestStatus,
                          SanitisationType, StorageType)
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role


def wipe(actor, devices, destination=Destination.EXTERNAL_REUSE):
    return services.record_sanitisation(actor, devices, services.SanitisationData(
        media_type="SATA SSD", sanitisation_type=SanitisationType.PURGE, method="ATA Secure Erase",
        tool="nwipe", tool_version="0.36", verification_method="Full read-back sample",
        destination=destination, performed_by="Chloé Bernard", performed_on=services.today(),
        validated_by="Alice Martin", validated_on=services.today()))


@pytest.fixture
def owner():
    return user_for_role(Role.IT_MANAGER)


@pytest.fixture
def beneficiary():
    # In Orly: the owner (a factory commune) is in Vitry-sur-Seine.
    organisation = OrganisationFactory(beneficiary=True, postcode="94310", city="Orly",
                                       beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY)
    return UserFactory(role=Role.BENEFICIARY, organisation=organisation)


def published_offer(owner, count=1, days_ago=60, **device_kwargs):
    devices = [DeviceFactory(organisation=owner.organisation, reformed=True, **device_kwargs) for _ in range(count)]
    offer = services.create_offer(owner, devices, "Portables")
    offer.published_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return offer


def test_device_creation_takes_the_category_defaults(owner):
    device = services.create_device(owner, owner.organisation, services.DeviceData(
        category=DeviceCategory.MONITOR, serial_number=" CN-123 ", storage_type=StorageType.NONE))
    db.session.commit()
    assert device.serial_number == "CN-123"
    assert device.weight_kg == Decimal("5.70") and device.weee_category == 2 and device.cpv == "30231300-0"
    assert device.has_storage_media is False
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "device.created")) is not None


def test_devices_written_together_get_their_own_ids_and_audit_entries(owner):
    # A batch of the import: some devices known by serial number, some by asset number only, and one whose
    # asset number is another's serial number (the two are looked up apart).
    batch = [services.DeviceData(category=DeviceCategory.LAPTOP, serial_number="S1", asset_number="A1"),
             services.DeviceData(category=DeviceCategory.MONITOR, asset_number="A2"),
             services.DeviceData(category=DeviceCategory.TABLET, serial_number="A2", brand="Apple"),
             services.DeviceData(category=DeviceCategory.DESKTOP, asset_number="S1")]
    checked = [services.check_new_device(owner, owner.organisation, data) for data in batch]
    ids = services.insert_devices(owner, owner.organisation, checked)
    db.session.commit()
    devices = [db.session.get(Device, device_id) for device_id in ids]
    assert [(d.category, d.serial_number, d.asset_number) for d in devices] == [
        (b.category, b.serial_number, b.asset_number) for b in batch]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "device.created")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.object_id, e.object_label, e.actor_id) for e in entries] == [(d.id, str(d), owner.id) for d in devices]


def test_a_device_needs_an_identifier_and_a_unique_serial(owner):
    with pytest.raises(RuleViolation):
        services.create_device(owner, owner.organisation, services.DeviceData(category=DeviceCategory.LAPTOP))
    DeviceFactory(organisation=owner.organisation, serial_number="DUP1")
    with pytest.raises(RuleViolation, match="DUP1"):
        services.create_device(owner, owner.organisation,
                               services.DeviceData(category=DeviceCategory.LAPTOP, serial_number="DUP1"))


def test_only_the_transitions_of_the_lifecycle_are_allowed(owner):
    device = DeviceFactory(organisation=owner.organisation)
    with pytest.raises(RuleViolation):
        services.create_offer(owner, [device], "Skip the reform")  # in service → offered: refused
    services.reform(owner, device)
    assert device.status is DeviceStatus.REFORMED and device.reformed_on == services.today()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "device.status_changed")).all()
    assert entry[-1].changes["status"] == ["in_service", "reformed"]


def test_a_device_over_ten_years_old_goes_to_recycling_not_to_an_offer(owner):
    device = DeviceFactory(organisation=owner.organisation, reformed=True, purchase_date=date(2010, 1, 1))
    with pytest.raises(RuleViolation, match="10"):
        services.create_offer(owner, [device], "Old")
    wipe(owner, [device], Destination.RECYCLING)
    services.recycle(owner, [device], "Ecosystem", services.today(), None, "BSD-2026-0001")
    assert device.status is DeviceStatus.RECYCLED and device.recycling.weight_kg == device.weight_kg


def test_storage_media_must_be_sanitised_before_leaving(owner):
    device = DeviceFactory(organisation=owner.organisation, reformed=True)
    with pytest.raises(RuleViolation, match="effacement"):
        services.recycle(owner, [device], "Ecosystem", services.today(), None, "BSD-1")
    refurbisher = OrganisationFactory()
    with pytest.raises(RuleViolation, match="effacement"):
        services.send_for_reconditioning(owner, device, refurbisher)
    wipe(owner, [device])
    services.send_for_reconditioning(owner, device, refurbisher)
    services.sell(owner, device, Decimal("120"), "Ateliers Numériques Solidaires")
    assert device.status is DeviceStatus.SOLD and device.left_on == services.today()


def test_reconditioned_device_can_be_offered_again(owner):
    device = DeviceFactory(organisation=owner.organisation, reformed=True, has_storage_media=False)
    services.send_for_reconditioning(owner, device, OrganisationFactory())
    offer = services.create_offer(owner, [device], "Reconditioned laptop")
    assert device.status is DeviceStatus.OFFERED and device.offer is offer and device.refurbisher_id is None


def test_request_approve_hand_over_and_confirm(owner, beneficiary):
    offer = published_offer(owner, count=2, purchase_date=date(2019, 1, 1))
    reuse_request = services.request_offer(beneficiary, offer, 1, "Atelier numérique")
    db.session.commit()
    assert offer.available == 1 and reuse_request.eligibility["eligible"] is True
    services.approve_request(owner, reuse_request)
    device = reuse_request.devices[0]
    assert device.status is DeviceStatus.RESERVED
    with pytest.raises(RuleViolation, match="effacement"):
        services.hand_over(owner, reuse_request)
    wipe(owner, reuse_request.devices)
    services.hand_over(owner, reuse_request)
    assert device.status is DeviceStatus.HANDED_OVER and reuse_request.agreement_reference.startswith("CES-")
    assert offer.status is OfferStatus.OPEN  # one unit left
    with pytest.raises(Exception):
        services.confirm_receipt(owner, reuse_request)  # only the receiver confirms
    services.confirm_receipt(beneficiary, reuse_request)
    assert reuse_request.status is RequestStatus.RECEIVED


def test_refusal_needs_a_reason_and_returns_the_units(owner, beneficiary):
    offer = published_offer(owner, purchase_date=date(2019, 1, 1))
    reuse_request = services.request_offer(beneficiary, offer, 1, "École")
    with pytest.raises(RuleViolation):
        services.refuse_request(owner, reuse_request, "  ")
    services.refuse_request(owner, reuse_request, "Réservé à une école de la ville")
    assert offer.available == 1 and reuse_request.status is RequestStatus.REFUSED


def test_an_approved_request_not_collected_expires(owner, beneficiary):
    offer = published_offer(owner, purchase_date=date(2019, 1, 1))
    reuse_request = services.request_offer(beneficiary, offer, 1, "École")
    services.approve_request(owner, reuse_request, collect_by=services.today())
    assert offer.available == 0
    assert services.expire_overdue_requests(services.today() + timedelta(days=1)) == 1
    assert reuse_request.status is RequestStatus.EXPIRED and offer.available == 1
    assert offer.devices[0].status is DeviceStatus.OFFERED and offer.devices[0].request is None


def test_a_beneficiary_is_not_eligible_above_the_donation_cap(owner, beneficiary):
    # Bought last year for 900 €: net book value far above 300 €.
    offer = published_offer(owner, purchase_date=services.today() - timedelta(days=365))
    check = services.eligibility(offer, beneficiary.organisation)
    assert check["eligible"] is False and check["reasons"] == ["over_cap"]
    with pytest.raises(RuleViolation, match="cap|plafond"):
        services.request_offer(beneficiary, offer, 1, "Atelier")
    # Another commune may have it too, but not free of charge: for a price (CGPPP L.3212-2 caps it too).
    other_commune = user_for_role(Role.IT_MANAGER)
    assert services.eligibility(offer, other_commune.organisation)["route"] == "paid_transfer"
    services.request_offer(other_commune, offer, 1, "Médiathèque")


def test_net_book_value_depreciates_linearly(app, owner):
    device = DeviceFactory(organisation=owner.organisation, purchase_price=Decimal("1000"),
                           purchase_date=date(2024, 1, 1))
    assert services.net_book_value(device, date(2024, 1, 1)) == Decimal("1000.00")
    assert services.net_book_value(device, date(2026, 7, 2)) == Decimal("500.07")  # 913 days = 2.4997 years
    assert services.net_book_value(device, date(2031, 1, 1)) == Decimal("0.00")


def test_the_cascade_shows_an_offer_to_the_commune_first_then_public_bodies_then_beneficiaries(owner, beneficiary):
    offer = published_offer(owner, days_ago=0, purchase_date=date(2019, 1, 1))
    other_commune = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(
        public=True, postcode="94200", city="Ivry-sur-Seine"))
    school_in_same_commune = UserFactory(role=Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94400", city="Vitry-sur-Seine"))
    assert services.visible_offers(school_in_same_commune) == [offer]
    supplier = user_for_role(Role.SUPPLIER)
    assert services.visible_offers(other_commune) == []
    offer.published_at = utcnow() - timedelta(days=8)
    assert services.visible_offers(other_commune) == [offer] and services.visible_offers(beneficiary) == []
    offer.published_at = utcnow() - timedelta(days=22)
    assert services.visible_offers(beneficiary) == [offer]
    assert services.visible_offers(supplier) == []


def test_a_photo_must_be_a_real_image(owner):
    from io import BytesIO

    from PIL import Image

    device = DeviceFactory(organisation=owner.organisation)
    with pytest.raises(RuleViolation, match="image"):
        services.add_photo(owner, device, b"<html>not an image</html>")
    buffer = BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, "PNG")
    assert services.add_photo(owner, device, buffer.getvalue()).content_type == "image/png"


def test_the_expire_command_returns_uncollected_units(app, owner, beneficiary):
    offer = published_offer(owner, purchase_date=date(2019, 1, 1))
    reuse_request = services.request_offer(beneficiary, offer, 1, "École")
    services.approve_request(owner, reuse_request, collect_by=services.today())
    reuse_request.collect_by = services.today() - timedelta(days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reuse", "expire"])
    assert result.exit_code == 0 and "1 request(s) expired." in result.output
    db.session.expire_all()
    assert reuse_request.status is RequestStatus.EXPIRED and offer.available == 1


def test_the_surplus_list_pages_the_organisations_own_offers_newest_first(client, login, owner):
    offers = []
    for n in range(12):
        offer = services.create_offer(owner, [DeviceFactory(organisation=owner.organisation, reformed=True)],
                                      f"Lot numéro {n:02d}")
        offer.published_at = utcnow() - timedelta(days=12 - n)
        offers.append(offer)
    db.session.commit()
    login(owner)

    first = client.get("/reuse/offers").get_data(as_text=True)
    second = client.get("/reuse/offers?own_page=2").get_data(as_text=True)
    assert [n for n in range(12) if f">Lot numéro {n:02d}<" in first.split('id="own-offers"')[1]] == list(range(2, 12))
    assert [n for n in range(12) if f">Lot numéro {n:02d}<" in second.split('id="own-offers"')[1]] == [0, 1]
    assert first.split('id="own-offers"')[1].index("Lot numéro 11") < first.split('id="own-offers"')[1].index(
        "Lot numéro 02")
    # Its own pagination, named apart from the list above it, keeps the other list's parameters.
    assert 'aria-label="Pages des offres de mon organisation"' in first and "own_page=2" in first
    assert "q=laptop&amp;own_page=2" in client.get("/reuse/offers?q=laptop").get_data(as_text=True)
