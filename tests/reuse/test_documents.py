"""The sanitisation certificate and the transfer agreement, rendered for real and read back from the
PDF; the public page where a certificate's reference is checked."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

from flask_babel import force_locale
from pypdf import PdfReader

from core.extensions import db
from core.i18n import money
from core.models import Role, utcnow
from reuse import services
from reuse.models import Destination, SanitisationType
from tests.factories import DeviceFactory, OrganisationFactory, user_for_role
from tests.matrix import log_in


# --- building the documents' data through the services, as the pages do ---------------------------

def sanitised_devices(it_manager, count: int = 2):
    """Reformed devices of the IT manager's organisation, wiped together under one certificate."""
    devices = [DeviceFactory(organisation=it_manager.organisation, reformed=True) for _ in range(count)]
    performed_on = services.today() - timedelta(days=3)
    record = services.record_sanitisation(it_manager, devices, services.SanitisationData(
        media_type="SSD NVMe 256 GB", sanitisation_type=SanitisationType.PURGE,
        method="NVMe Format, cryptographic erase", tool="Blancco Drive Eraser", tool_version="7.11",
        verification_method="Full read-back of every sector", destination=Destination.EXTERNAL_REUSE,
        performed_by="Alice Wiper", performed_on=performed_on,
        validated_by="Victor Checker", validated_on=performed_on + timedelta(days=1),
    ))
    db.session.commit()
    return record


def approved_request(it_manager, receiver, *, donation: bool = False, count: int = 2):
    record = sanitised_devices(it_manager, count)
    offer = services.create_offer(it_manager, record.devices, "ThinkPad T480")
    if donation:
        # Beneficiaries see an offer once the public bodies' stages of the cascade are over.
        offer.published_at = utcnow() - timedelta(days=60)
    db.session.commit()
    reuse_request = services.request_offer(receiver, offer, count, "Digital-inclusion workshop")
    services.approve_request(it_manager, reuse_request)
    db.session.commit()
    return reuse_request


def handed_over_request(it_manager, receiver, *, donation: bool = False, count: int = 2):
    reuse_request = approved_request(it_manager, receiver, donation=donation, count=count)
    services.hand_over(it_manager, reuse_request)
    db.session.commit()
    return reuse_request


def pdf_text(response) -> str:
    """The document's words, each run of spaces and line breaks as one space."""
    reader = PdfReader(BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def assert_is_inline_pdf(response, filename: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f'inline; filename="{filename}"'


# --- the sanitisation certificate ----------------------------------------------------------------

def test_the_certificate_lists_every_device_and_how_to_verify_it(client):
    it_manager = user_for_role(Role.IT_MANAGER, locale="en")
    record = sanitised_devices(it_manager)
    log_in(client, it_manager)

    response = client.get(f"/reuse/sanitisations/{record.id}/certificate.pdf")

    assert_is_inline_pdf(response, f"{record.reference}.pdf")
    text = pdf_text(response)
    assert record.reference in text
    assert f"http://localhost/reuse/verify/{record.reference}" in text
    for device in record.devices:
        assert device.serial_number in text and device.asset_number in text
    for fact in ("Data sanitisation certificate", "NIST SP 800-88", it_manager.organisation.name,
                 "SSD NVMe 256 GB", "Purge", "NVMe Format, cryptographic erase", "Blancco Drive Eraser 7.11",
                 "Full read-back of every sector", "External reuse", "Alice Wiper", "Victor Checker",
                 "Lenovo", "ThinkPad T480", "Laptop", "Signature"):
        assert fact in text


def test_the_certificate_is_in_the_reader_s_language(client):
    it_manager = user_for_role(Role.IT_MANAGER, locale="fr")
    record = sanitised_devices(it_manager, count=1)
    log_in(client, it_manager)

    reader = PdfReader(BytesIO(client.get(f"/reuse/sanitisations/{record.id}/certificate.pdf").get_data()))

    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert record.reference in reader.metadata.title
    assert reader.metadata.author == it_manager.organisation.name


def test_an_unknown_certificate_is_not_found(client):
    log_in(client, user_for_role(Role.ADMIN))
    assert client.get("/reuse/sanitisations/999999/certificate.pdf").status_code == 404


# --- the transfer or donation agreement ------------------------------------------------------------

def test_a_transfer_between_public_bodies_has_its_agreement(app, client):
    it_manager = user_for_role(Role.IT_MANAGER, locale="en")
    receiver = user_for_role(Role.IT_MANAGER, locale="en")
    reuse_request = handed_over_request(it_manager, receiver)
    handed_over_on = reuse_request.handed_over_at.date()
    values = [services.net_book_value(device, handed_over_on) for device in reuse_request.devices]
    certificate = reuse_request.devices[0].sanitisations[0].reference
    log_in(client, it_manager)

    response = client.get(f"/reuse/requests/{reuse_request.id}/agreement.pdf")

    assert_is_inline_pdf(response, f"{reuse_request.agreement_reference}.pdf")
    text = pdf_text(response)
    assert "Transfer agreement" in text and "Donation agreement" not in text
    assert reuse_request.agreement_reference in text
    assert it_manager.organisation.name in text and receiver.organisation.name in text
    for device in reuse_request.devices:
        assert device.serial_number in text and device.asset_number in text
    with app.test_request_context(), force_locale("en"):
        assert all(money(value) in text for value in values)
        assert money(sum(values, Decimal(0))) in text
    assert "L.3212-2" in text and "2022-1413" in text
    assert certificate in text and f"http://localhost/reuse/verify/{certificate}" in text
    assert text.count("Signature") == 2


def test_a_donation_names_the_beneficiary_s_category(client):
    it_manager = user_for_role(Role.IT_MANAGER)
    beneficiary = user_for_role(Role.BENEFICIARY, locale="en", organisation=OrganisationFactory(
        beneficiary=True, siret="81234567800012", name="Collège Henri Wallon"))
    reuse_request = handed_over_request(it_manager, beneficiary, donation=True, count=1)
    assert reuse_request.eligibility["route"] == "donation"
    log_in(client, beneficiary)

    response = client.get(f"/reuse/requests/{reuse_request.id}/agreement.pdf")

    assert_is_inline_pdf(response, f"{reuse_request.agreement_reference}.pdf")
    text = pdf_text(response)
    assert "Donation agreement" in text
    assert "Public body (school, CCAS, library…)" in text
    assert "Collège Henri Wallon" in text and "SIRET 81234567800012" in text
    assert reuse_request.devices[0].serial_number in text


def test_the_agreement_stays_available_once_receipt_is_confirmed(client):
    it_manager = user_for_role(Role.IT_MANAGER)
    receiver = user_for_role(Role.IT_MANAGER)
    reuse_request = handed_over_request(it_manager, receiver, count=1)
    services.confirm_receipt(receiver, reuse_request)
    db.session.commit()
    log_in(client, receiver)

    assert client.get(f"/reuse/requests/{reuse_request.id}/agreement.pdf").status_code == 200


def test_there_is_no_agreement_before_the_handover(client):
    it_manager = user_for_role(Role.IT_MANAGER)
    reuse_request = approved_request(it_manager, user_for_role(Role.IT_MANAGER), count=1)
    log_in(client, it_manager)

    assert client.get(f"/reuse/requests/{reuse_request.id}/agreement.pdf").status_code == 404


# --- public verification --------------------------------------------------------------------------

def test_anyone_can_check_a_certificate_by_its_reference(client):
    record = sanitised_devices(user_for_role(Role.IT_MANAGER))

    response = client.get(f"/reuse/verify/{record.reference}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert record.reference in page and record.organisation.name in page
    for device in record.devices:
        assert device.serial_number in page
        assert device.asset_number not in page
    # The names of the people who wiped and validated stay on the certificate, off the public page.
    assert "Alice Wiper" not in page and "Victor Checker" not in page
    assert "Blancco" not in page


def test_a_reference_is_found_whatever_its_case(client):
    record = sanitised_devices(user_for_role(Role.IT_MANAGER), count=1)
    assert client.get(f"/reuse/verify/{record.reference.lower()}").status_code == 200


def test_an_unknown_reference_is_not_found(client):
    sanitised_devices(user_for_role(Role.IT_MANAGER), count=1)

    response = client.get("/reuse/verify/EFF-2026-0000000000")

    assert response.status_code == 404
    assert "EFF-2026-0000000000" in response.get_data(as_text=True)


def test_the_verification_form_leads_to_the_certificate(client):
    assert client.get("/reuse/verify").status_code == 200
    assert client.get("/reuse/verify?reference=+").status_code == 200

    response = client.get("/reuse/verify?reference=+EFF-2026-ABCDE12345+")

    assert response.status_code == 302
    assert response.location == "/reuse/verify/EFF-2026-ABCDE12345"

