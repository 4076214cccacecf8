"""The cap of every free cession (CGPPP L.3212-2, décret 2022-791: €300 of net book value per unit), for a
public body as for a beneficiary, at its boundary; the transfer for a price above it; the unit whose value
cannot be established. Through the pages each side uses, and the agreement read back from its PDF."""
from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from core import services as core_services
from core.extensions import db
from core.i18n import money
from core.models import BeneficiaryCategory, Role, utcnow
from reuse import services
from reuse.models import Device, DeviceStatus, RequestStatus, ReuseRequest
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role
from tests.matrix import log_in

# net_book_value counts years of 365.25 days: 1461 days are exactly 4 years. With DEPRECIATION_YEARS = 5,
# a unit bought 1461 days ago keeps 1 - 4/5 = 1/5 of its price: 1499.95 / 5 = 299.99, 1500.00 / 5 =
# 300.00, 1500.05 / 5 = 300.01, 3000.00 / 5 = 600.00.
FOUR_YEARS = timedelta(days=1461)
BOUNDARY = [("1499.95", "299.99"), ("1500.00", "300.00"), ("1500.05", "300.01")]
PAID_BASIS = "Transfer for a price: a unit is worth more than €300.00 of net book value"


@pytest.fixture(autouse=True)
def settings(app):
    assert (app.config["DONATION_CAP_EUR"], app.config["DEPRECIATION_YEARS"]) == (300, 5)


@pytest.fixture
def owner():
    return user_for_role(Role.IT_MANAGER, locale="en")  # a commune in Vitry-sur-Seine


@pytest.fixture
def ivry():
    """Staff of another commune."""
    return UserFactory(role=Role.IT_MANAGER, locale="en", organisation=OrganisationFactory(
        public=True, postcode="94200", city="Ivry-sur-Seine"))


@pytest.fixture
def association():
    return UserFactory(role=Role.BENEFICIARY, locale="en", organisation=OrganisationFactory(
        beneficiary=True, postcode="94310", city="Orly",
        beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY))


def offer_bought_four_years_ago(owner, *prices: str, purchase_date=None):
    """An offer of laptops bought 1461 days ago at these prices (None: unknown), published long enough
    ago for every public body and beneficiary to see it; the laptops are recorded as holding no media."""
    bought = purchase_date or services.today() - FOUR_YEARS
    devices = [DeviceFactory(organisation=owner.organisation, reformed=True, purchase_date=bought,
                             purchase_price=Decimal(price) if price else None, has_storage_media=False)
               for price in prices]
    offer = services.create_offer(owner, devices, "ThinkPad T14")
    offer.published_at = utcnow() - timedelta(days=30)
    db.session.commit()
    return offer


def ask(client, offer, quantity: int = 1):
    return client.post(f"/reuse/offers/{offer.id}/requests",
                       data={"quantity": quantity, "purpose": "Postes de la médiathèque"})


def requests_made() -> list[ReuseRequest]:
    return db.session.scalars(select(ReuseRequest)).all()


def text_of(response) -> str:
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def pdf_text(response) -> str:
    reader = PdfReader(BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def euros(app, value: str) -> str:
    with app.test_request_context(), force_locale("en"):
        return money(Decimal(value))


# --- at the cap ----------------------------------------------------------------------------------

@pytest.mark.parametrize("price, unit_value", BOUNDARY)
def test_a_commune_receives_free_a_unit_worth_up_to_300_euros_and_for_a_price_above(
        app, client, clock, owner, ivry, price, unit_value):
    offer = offer_bought_four_years_ago(owner, price)
    assert services.net_book_value(offer.devices[0], services.today()) == Decimal(unit_value)
    route = "paid_transfer" if unit_value == "300.01" else "public_transfer"
    log_in(client, ivry)

    listed = text_of(client.get("/reuse/offers"))
    page = text_of(client.get(f"/reuse/offers/{offer.id}"))
    response = ask(client, offer)

    assert response.status_code == 302
    assert ("Eligible · Transfer for a price" if route == "paid_transfer"
            else "Eligible · Free transfer between public bodies") in listed
    [made] = requests_made()
    assert (made.eligibility["route"], made.eligibility["highest_unit_value"]) == (route, unit_value)
    cap = euros(app, "300")
    if route == "paid_transfer":
        assert (f"Transfer for a price: a unit is worth more than {cap} of net book value, and article L.3212-2 "
                "of the CGPPP does not apply above that cap") in page
    else:
        assert (f"Free transfer between public bodies under the cap: every unit is worth at most {cap} of net "
                "book value (CGPPP art. L.3212-2, décret 2022-791).") in page
        assert "Transfer for a price" not in page


@pytest.mark.parametrize("price, unit_value", BOUNDARY)
def test_a_beneficiary_receives_a_donation_of_a_unit_worth_up_to_300_euros_and_nothing_above(
        client, clock, owner, association, price, unit_value):
    offer = offer_bought_four_years_ago(owner, price)
    assert services.net_book_value(offer.devices[0], services.today()) == Decimal(unit_value)
    log_in(client, association)

    response = ask(client, offer)

    if unit_value == "300.01":
        assert response.status_code == 409
        assert ("A unit's net book value is above the cap of free transfers (CGPPP art. L.3212-2): it cannot be "
                "given. The owner may sell it instead.") in text_of(response)
        assert requests_made() == []
    else:
        assert response.status_code == 302
        [made] = requests_made()
        assert (made.eligibility["route"], made.eligibility["highest_unit_value"]) == ("donation", unit_value)


@pytest.mark.parametrize("price, route", [("1500.00", "donation"), ("1500.05", "paid_transfer")])
def test_a_school_registered_as_a_public_body_may_buy_a_unit_above_the_cap(client, clock, owner, price, route):
    school = UserFactory(role=Role.BENEFICIARY, locale="en", organisation=OrganisationFactory(
        beneficiary=True, name="Collège Henri Wallon", beneficiary_category=BeneficiaryCategory.PUBLIC_BODY))
    offer = offer_bought_four_years_ago(owner, price)
    log_in(client, school)

    assert ask(client, offer).status_code == 302
    assert requests_made()[0].eligibility["route"] == route


# --- the transfer for a price --------------------------------------------------------------------

def test_a_transfer_for_a_price_charges_each_unit_s_net_book_value_on_the_handover_day(
        app, client, clock, owner, ivry):
    offer = offer_bought_four_years_ago(owner, "1500.05", "3000.00")  # worth 300.01 and 600.00 today
    log_in(client, ivry)
    assert ask(client, offer, quantity=2).status_code == 302
    [made] = requests_made()
    log_in(client, owner)
    assert client.post(f"/reuse/requests/{made.id}/approve").status_code == 302
    owner_page = text_of(client.get(f"/reuse/offers/{offer.id}"))
    # Handed over 30 days later: 1461 + 30 = 1491 days old, 1491 / 365.25 = 4.082135523613963 years, so
    # 1 - 4.082135523613963 / 5 = 0.1835728952772074 of the price is left: 1500.05 × that = 275.37 and
    # 3000.00 × that = 550.72, 826.09 in all.
    clock.moment += timedelta(days=30)

    assert client.post(f"/reuse/requests/{made.id}/hand-over").status_code == 302

    db.session.expire_all()
    devices = db.session.scalars(select(Device).order_by(Device.purchase_price)).all()
    assert [d.status for d in devices] == [DeviceStatus.HANDED_OVER] * 2
    assert [d.sale_price for d in devices] == [Decimal("275.37"), Decimal("550.72")]
    assert PAID_BASIS in owner_page and "Record the handover to" in owner_page
    agreement = client.get(f"/reuse/requests/{made.id}/agreement.pdf")
    assert agreement.status_code == 200
    text = pdf_text(agreement)
    assert "Agreement of transfer for a price" in text and "Donation agreement" not in text
    assert PAID_BASIS in text
    assert "L.3212-2 does not apply above the cap: the transfer is made for a price." in text
    assert "Price (net book value at handover)" in text
    assert all(euros(app, value) in text for value in ("275.37", "550.72"))
    assert f"Total price {euros(app, '826.09')}" in text
    assert f"the total price of {euros(app, '826.09')}" in text
    assert "2022-1413" not in text  # the resale limit binds beneficiaries of a free cession only
    # The receiving body reads the same basis on its requests.
    log_in(client, ivry)
    assert PAID_BASIS in text_of(client.get("/reuse/requests"))


def test_a_free_transfer_records_no_price(app, client, clock, owner, ivry):
    offer = offer_bought_four_years_ago(owner, "1500.00")
    made = services.request_offer(ivry, offer, 1, "Médiathèque")
    services.approve_request(owner, made)
    db.session.commit()
    log_in(client, owner)

    assert client.post(f"/reuse/requests/{made.id}/hand-over").status_code == 302

    assert db.session.scalars(select(Device)).one().sale_price is None
    text = pdf_text(client.get(f"/reuse/requests/{made.id}/agreement.pdf"))
    cap = euros(app, "300")
    assert "Transfer agreement" in text and "transfer for a price" not in text.lower()
    assert f"Free transfer between public bodies under the cap: every unit is worth at most {cap}" in text
    assert f"The net book value of each unit on the day of the handover is at most {cap}" in text
    assert euros(app, "300.00") in text and "2022-1413" in text


def test_a_free_transfer_above_the_cap_on_the_handover_day_is_refused(client, clock, owner, ivry):
    # Asked for at 300.00; then its purchase price is corrected to 2000.00: 2000.00 / 5 = 400.00 today.
    offer = offer_bought_four_years_ago(owner, "1500.00")
    made = services.request_offer(ivry, offer, 1, "Médiathèque")
    services.approve_request(owner, made)
    offer.devices[0].purchase_price = Decimal("2000.00")
    db.session.commit()
    log_in(client, owner)

    response = client.post(f"/reuse/requests/{made.id}/hand-over", follow_redirects=True)

    assert "is worth €400.00 today (net book value), above the cap of €300.00: it cannot be given free of " \
           "charge" in text_of(response)
    db.session.expire_all()
    assert db.session.get(ReuseRequest, made.id).status is RequestStatus.APPROVED
    assert db.session.scalars(select(Device)).one().status is DeviceStatus.RESERVED


# --- a value that cannot be established ----------------------------------------------------------

def test_a_unit_whose_value_cannot_be_established_goes_to_nobody(client, clock, owner, ivry, association):
    offer = offer_bought_four_years_ago(owner, None)  # no purchase price, 4 years old: value unknown
    for requester, refusal in ((ivry, "Transfer not possible:"), (association, "Donation not possible:")):
        log_in(client, requester)
        page = text_of(client.get(f"/reuse/offers/{offer.id}"))
        assert refusal in page
        assert "The owner must record the purchase price before the unit can be given or transferred." in page
        assert ask(client, offer).status_code == 409
    assert db.session.scalar(select(func.count(ReuseRequest.id))) == 0


def test_a_fully_depreciated_unit_is_worth_nothing_even_without_its_price(app, client, clock, owner, association):
    today = services.today()
    # Five years are 5 × 365.25 = 1826.25 days: at 1826 days a unit is not fully depreciated yet.
    almost = DeviceFactory(purchase_price=None, purchase_date=today - timedelta(days=1826))
    assert services.net_book_value(almost, today) is None
    offer = offer_bought_four_years_ago(owner, None, purchase_date=today - timedelta(days=1827))
    assert services.net_book_value(offer.devices[0], today) == Decimal("0.00")
    log_in(client, association)

    assert ask(client, offer).status_code == 302
    assert requests_made()[0].eligibility == {"route": "donation", "cap": "300", "highest_unit_value": "0.00",
                                              "eligible": True, "reasons": []}


# --- the API -----------------------------------------------------------------------------------------

def test_the_api_gives_the_route_and_its_basis(client, clock, owner, ivry):
    offer = offer_bought_four_years_ago(owner, "1500.05")  # worth 300.01
    _, token = core_services.create_api_token(ivry, "t")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    listed = client.get("/api/v1/offers", headers=headers).get_json()["items"][0]["eligibility"]
    made = client.post(f"/api/v1/offers/{offer.id}/requests", headers=headers,
                       json={"quantity": 1, "purpose": "Médiathèque"}).get_json()["eligibility"]

    for check in (listed, made):
        assert check["route"] == "paid_transfer" and check["eligible"] is True
        assert check["basis"].startswith(PAID_BASIS)
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for schema in (schemas["Offer"], schemas["ReuseRequest"]):
        assert "paid_transfer" in schema["properties"]["eligibility"]["properties"]["route"]["enum"]
