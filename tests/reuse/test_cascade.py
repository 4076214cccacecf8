"""The reuse cascade at its boundaries (reuse.cascade, REUSE_COMMUNE_DAYS = 7, REUSE_PUBLIC_DAYS = 14): a
public body of another commune sees an offer exactly 7 days after its publication and not one second
before; a beneficiary exactly 7 + 14 = 21 days after it and not one second before. Checked on every page
that shows offers: the list, the list filtered by words (search index), the offer's page and the search
page."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import BeneficiaryCategory, Role
from reuse import services
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role
from tests.matrix import log_in

SECOND = timedelta(seconds=1)
TITLE = "Chromebooks de la médiathèque"


def what_is_seen(client, offer) -> dict[str, bool]:
    """Where the signed-in user finds the offer, page by page."""
    listed = client.get("/reuse/offers").get_data(as_text=True)
    filtered = client.get("/reuse/offers", query_string={"q": "chromebooks"}).get_data(as_text=True)
    page = client.get(f"/reuse/offers/{offer.id}")
    found = client.get("/search", query_string={"q": "chromebooks"}).get_data(as_text=True)
    hits = "".join(re.findall(r'<ol class="search-hits">(.*?)</ol>', found, re.S))
    return {"list": TITLE in html.unescape(listed), "filtered list": TITLE in html.unescape(filtered),
            "offer page": page.status_code == 200,
            "search": TITLE in html.unescape(re.sub(r"<[^>]+>", "", hits))}  # the words found are marked


NOWHERE = {"list": False, "filtered list": False, "offer page": False, "search": False}
EVERYWHERE = {"list": True, "filtered list": True, "offer page": True, "search": True}


@pytest.fixture
def published(app, clock):
    """An offer of Vitry-sur-Seine published at the clock's moment (a whole minute)."""
    assert (app.config["REUSE_COMMUNE_DAYS"], app.config["REUSE_PUBLIC_DAYS"]) == (7, 14)
    owner = user_for_role(Role.IT_MANAGER)  # a commune of the factories: Vitry-sur-Seine
    offer = services.create_offer(owner, [DeviceFactory(organisation=owner.organisation, reformed=True)], TITLE)
    db.session.commit()
    assert offer.published_at == clock.moment
    return offer


def test_a_public_body_of_another_commune_sees_an_offer_exactly_seven_days_after_its_publication(
        client, clock, published):
    ivry = UserFactory(role=Role.PROCUREMENT_OFFICER, locale="en", organisation=OrganisationFactory(
        public=True, postcode="94200", city="Ivry-sur-Seine"))
    log_in(client, ivry)

    clock.moment = published.published_at + timedelta(days=7) - SECOND
    assert what_is_seen(client, published) == NOWHERE

    clock.moment = published.published_at + timedelta(days=7)
    assert what_is_seen(client, published) == EVERYWHERE


def test_a_beneficiary_sees_an_offer_exactly_twenty_one_days_after_its_publication(client, clock, published):
    association = UserFactory(role=Role.BENEFICIARY, locale="en", organisation=OrganisationFactory(
        beneficiary=True, postcode="94310", city="Orly",
        beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY))
    log_in(client, association)

    clock.moment = published.published_at + timedelta(days=7)  # public bodies see it: not yet beneficiaries
    assert what_is_seen(client, published) == NOWHERE

    clock.moment = published.published_at + timedelta(days=7 + 14) - SECOND
    assert what_is_seen(client, published) == NOWHERE

    clock.moment = published.published_at + timedelta(days=7 + 14)
    assert what_is_seen(client, published) == EVERYWHERE
