"""The benchmark data generator (bench/generate.py) at a hundredth of the territory: the rows it adds hold
together the way the services would have left them, the indicators find data in every family, and the
pages a user opens show them. No timing here: the benchmarks measure."""
from datetime import date

import pytest
from sqlalchemy import func, select

from bench import generate as generator
from core import demo
from core.extensions import db
from core.models import Organisation, OrganisationKind, Site, User
from marketplace.models import Campaign, CampaignStatus, Order, OrderLine
from procurement import indicators
from procurement.models import Contract, ContractSource
from reuse.models import (Device, DeviceStatus, Offer, OfferStatus, RecyclingRecord, RequestStatus, ReuseRequest,
                          SanitisationRecord)


@pytest.fixture
def generated(app):
    return generator.generate(0.01, seed=7)


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_it_adds_a_hundredth_of_the_territory_whose_rows_agree_and_feed_every_indicator(generated):
    assert generated["tables"]["devices"] == 250
    assert generated["tables"]["contracts"] == 50
    assert _count(Device) == 250 + 9  # the demo's inventory of Vitry stays
    assert generated["documents"] and generated["documents"] > generated["tables"]["catalogue_offers"]
    public_bodies = select(Organisation.id).where(Organisation.kind.in_(indicators.TERRITORY_BUYER_KINDS))
    assert _count(Device, Device.organisation_id.not_in(public_bodies)) == 0
    statuses = set(db.session.scalars(select(Device.status).distinct()))
    assert {DeviceStatus.IN_SERVICE, DeviceStatus.REFORMED, DeviceStatus.OFFERED, DeviceStatus.HANDED_OVER,
            DeviceStatus.SOLD, DeviceStatus.RECYCLED} <= statuses
    years = {day.year for day in db.session.scalars(select(Contract.notified_on)) if day}
    assert len(years) == generator.YEARS
    assert {ContractSource.MANUAL, ContractSource.DECP} <= set(db.session.scalars(select(Contract.source).distinct()))

    # The reuse circuit as the services would have left it.
    for offer in db.session.scalars(select(Offer)):
        assert offer.quantity == len(offer.devices)
        held = sum(r.quantity for r in offer.requests if r.status in (RequestStatus.PENDING, RequestStatus.APPROVED))
        left = sum(1 for d in offer.devices if d.status is DeviceStatus.HANDED_OVER)
        assert offer.available == offer.quantity - held - left, offer.title
        assert (offer.status is OfferStatus.CLOSED) == (offer.available == 0 and held == 0)
    for device in db.session.scalars(select(Device).where(Device.status == DeviceStatus.HANDED_OVER)):
        assert device.request.status in (RequestStatus.HANDED_OVER, RequestStatus.RECEIVED)
        assert device.request.organisation_id != device.organisation_id
        assert device.left_on and device.reformed_on <= device.left_on <= date.today()
        assert not device.has_storage_media or device.is_sanitised
    for device in db.session.scalars(select(Device).where(Device.status == DeviceStatus.RECYCLED)):
        assert device.recycling.pickup_on == device.left_on
    for device in db.session.scalars(select(Device).where(Device.status == DeviceStatus.SOLD)):
        assert device.refurbisher.kind is OrganisationKind.SUPPLIER and device.sale_price is not None
    assert _count(ReuseRequest, ReuseRequest.status == RequestStatus.RECEIVED) > 0
    assert _count(SanitisationRecord) > 0 and _count(RecyclingRecord) > 0

    year = date.today().year - 1
    figures = indicators.compute(year)
    for key in ("contracts_total", "contracts_env_any", "contracts_social_any", "devices_reused",
                "devices_recycled", "weee_kg_diverted", "reuse_rate_2023_266", "agec_it_reuse_share",
                "local_spend_share_territory", "ess_spend_share"):
        assert figures[key], key
    assert _count(Order, Order.campaign_id.is_not(None)) > 0
    assert _count(OrderLine) >= _count(Order)
    assert _count(Campaign, Campaign.status == CampaignStatus.OPEN) >= 2


def test_demo_accounts_open_the_pages_on_generated_data(generated, client, login):
    vitry = db.session.scalar(select(Organisation).where(Organisation.insee_code == "94081"))
    device = db.session.scalar(select(Device).where(Device.organisation_id == vitry.id,
                                                    Device.serial_number.startswith(generator.MARKER)))
    contract = db.session.scalar(select(Contract).where(Contract.decp_id.contains(generator.MARKER)))
    pages = {
        "dsi.94081@ville.example": ["/dashboard", "/reuse/devices", "/reuse/offers", "/reuse/gains",
                                    f"/reuse/devices/{device.id}"],
        "achats@gosb.example": ["/procurement/contracts", "/procurement/tenders", "/marketplace/catalogue",
                                "/marketplace/campaigns", "/marketplace/orders", f"/procurement/contracts/{contract.id}",
                                "/procurement/indicators?buyer=territory"],
        "college@beneficiaire.example": ["/reuse/offers"],
    }
    for email, urls in pages.items():
        user = db.session.scalar(select(User).where(User.email == email))
        client.post("/logout")
        login(user, demo.DEMO_PASSWORD)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (email, url)

    # New rows get fresh ids (on PostgreSQL the sequences were moved past the generated ids).
    organisation = db.session.scalar(select(Organisation).where(Organisation.insee_code == "94081"))
    db.session.add(Site(organisation_id=organisation.id, name="Annexe", address="1 rue", postcode="94400",
                        city="Vitry-sur-Seine"))
    db.session.commit()
    with pytest.raises(RuntimeError, match="already holds generated data"):
        generator.generate(0.01, seed=7)
