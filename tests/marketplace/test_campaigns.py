"""Group orders: needs until the deadline, the freeze, decisions, award at the tier of the total quantity,
one purchase order per member and supplier, stock reserved at award."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import RuleViolation
from core.extensions import db
from core.models import OrganisationKind, OutboxMessage, Role, utcnow
from marketplace.models import CampaignStatus, LineStatus, Order
from marketplace.services import campaigns as service
from reuse.models import DeviceCategory
from tests.factories import CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, UserFactory, user_for_role


@pytest.fixture
def coordinator():
    return UserFactory(role=Role.PROCUREMENT_OFFICER,
                       organisation=OrganisationFactory(kind=OrganisationKind.EPT, siret=None, name="EPT GOSB"))


def member(name: str, city: str = "Ivry-sur-Seine", postcode: str = "94200"):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name, postcode=postcode,
                                       city=city)
    return UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=organisation)


@pytest.fixture
def offer():
    laptop = CatalogueOfferFactory(unit_price=Decimal("320.00"), stock=100)
    PriceTierFactory(offer=laptop, min_quantity=20, unit_price=Decimal("300.00"))
    PriceTierFactory(offer=laptop, min_quantity=50, unit_price=Decimal("280.00"))
    return laptop


def open_campaign(coordinator, offer, minimum=10):
    campaign = service.create_campaign(coordinator, coordinator.organisation, "Portables 2027", "",
                                       utcnow() + timedelta(days=10))
    line = service.add_line(coordinator, campaign, "Portable 14 pouces", "i5, 16 Go, SSD 256 Go",
                            DeviceCategory.LAPTOP, minimum, [offer])
    db.session.commit()
    return campaign, line


def pass_deadline(campaign):
    campaign.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_members_state_and_change_needs_until_the_deadline(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer)
    ivry = member("Ville d'Ivry")
    service.set_participation(ivry, line, ivry.organisation.sites[0], 8)
    service.set_participation(ivry, line, ivry.organisation.sites[0], 12)  # a change, not a second need
    assert line.total_quantity == 12
    assert service.progress(line)["to_next_tier"] == 8  # 8 more units reach the 300 € tier
    pass_deadline(campaign)
    with pytest.raises(RuleViolation, match="frozen|gelé"):
        service.set_participation(ivry, line, ivry.organisation.sites[0], 20)
    assert campaign.status is CampaignStatus.FROZEN and line.total_quantity == 12


def test_a_member_delivers_only_to_its_own_sites(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer)
    ivry, orly = member("Ville d'Ivry"), member("Ville d'Orly", "Orly", "94310")
    with pytest.raises(RuleViolation):
        service.set_participation(ivry, line, orly.organisation.sites[0], 3)


def test_award_applies_the_tier_of_the_total_and_issues_one_order_per_member(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer)
    ivry, orly = member("Ville d'Ivry"), member("Ville d'Orly", "Orly", "94310")
    from core import services as core_services

    second_site = core_services.add_site(ivry, ivry.organisation, "École Langevin", "2 rue", "94200",
                                         "Ivry-sur-Seine")
    db.session.flush()
    service.set_participation(ivry, line, ivry.organisation.sites[0], 10)
    service.set_participation(ivry, line, second_site, 5)
    service.set_participation(orly, line, orly.organisation.sites[0], 7)
    pass_deadline(campaign)
    service.freeze_if_due(campaign)
    with pytest.raises(RuleViolation):
        service.issue_orders(coordinator, campaign)  # the line is not decided yet
    service.award_line(coordinator, line, offer)
    assert line.awarded_unit_price == Decimal("300.00")  # 22 units reach the 20-unit tier, for everyone
    assert offer.stock == 78  # reserved at award
    orders = service.issue_orders(coordinator, campaign)
    db.session.commit()
    assert sorted(o.buyer.name for o in orders) == ["Ville d'Ivry", "Ville d'Orly"]
    ivry_order = next(o for o in orders if o.buyer_id == ivry.organisation_id)
    assert sorted((l.site.name, l.quantity, l.unit_price) for l in ivry_order.lines) == [
        ("Siège", 10, Decimal("300.00")), ("École Langevin", 5, Decimal("300.00"))]
    assert campaign.status is CampaignStatus.AWARDED
    assert offer.stock == 78  # issuing the orders takes nothing more


def test_a_line_below_its_minimum_needs_a_decision_and_members_are_told(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer, minimum=30)
    ivry = member("Ville d'Ivry")
    service.set_participation(ivry, line, ivry.organisation.sites[0], 5)
    pass_deadline(campaign)
    with pytest.raises(RuleViolation, match="minimum"):
        service.award_line(coordinator, line, offer)
    service.proceed_below_minimum(coordinator, line)
    db.session.commit()
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == ivry.email)).all()
    assert mail and "Portable 14 pouces" in mail[-1].body
    service.award_line(coordinator, line, offer)
    assert line.status is LineStatus.AWARDED and line.awarded_unit_price == Decimal("320.00")


def test_extending_reopens_the_census(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer, minimum=30)
    ivry = member("Ville d'Ivry")
    service.set_participation(ivry, line, ivry.organisation.sites[0], 5)
    pass_deadline(campaign)
    service.freeze_if_due(campaign)
    service.extend_deadline(coordinator, campaign, utcnow() + timedelta(days=7))
    service.set_participation(ivry, line, ivry.organisation.sites[0], 40)
    assert campaign.status is CampaignStatus.OPEN and line.total_quantity == 40


def test_award_refuses_when_the_stock_is_short(coordinator):
    scarce = CatalogueOfferFactory(stock=3)
    campaign, line = open_campaign(coordinator, scarce, minimum=1)
    ivry = member("Ville d'Ivry")
    service.set_participation(ivry, line, ivry.organisation.sites[0], 5)
    pass_deadline(campaign)
    with pytest.raises(RuleViolation, match="3"):
        service.award_line(coordinator, line, scarce)
    assert scarce.stock == 3 and line.status is LineStatus.OPEN


def test_cancelling_an_awarded_campaign_gives_the_stock_back(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer, minimum=1)
    ivry = member("Ville d'Ivry")
    service.set_participation(ivry, line, ivry.organisation.sites[0], 5)
    pass_deadline(campaign)
    service.award_line(coordinator, line, offer)
    service.cancel_campaign(coordinator, campaign)
    assert offer.stock == 100 and campaign.status is CampaignStatus.CANCELLED


def test_only_the_coordinator_decides(coordinator, offer):
    campaign, line = open_campaign(coordinator, offer, minimum=1)
    ivry = member("Ville d'Ivry")
    pass_deadline(campaign)
    from werkzeug.exceptions import Forbidden

    with pytest.raises(Forbidden):
        service.award_line(ivry, line, offer)


def test_the_freeze_command(app, coordinator, offer):
    campaign, _ = open_campaign(coordinator, offer)
    pass_deadline(campaign)
    result = app.test_cli_runner().invoke(args=["campaigns", "freeze"])
    assert "1 campaign(s) frozen." in result.output
    db.session.expire_all()
    assert campaign.status is CampaignStatus.FROZEN


def test_the_campaign_page_through_http(client, login, coordinator, offer):
    login(coordinator)
    response = client.post("/marketplace/campaigns/new", data={
        "title": "Écrans 2027", "description": "", "deadline": "2099-01-31T17:00"})
    assert response.status_code == 302
    page_url = response.location
    response = client.post(page_url + "/lines", data={
        "title": "Écran 24 pouces", "specification": "IPS, DisplayPort", "category": "laptop",
        "min_total_quantity": "5", "offers": [str(offer.id)]}, follow_redirects=True)
    import re
    page = response.get_data(as_text=True)
    assert "La ligne est ajoutée" in page, (response.status_code, re.findall(r'class="(?:flash[^"]*|error-message)"[^>]*>([^<]*)', page))
    client.post("/logout")
    ivry = member("Ville d'Ivry")
    login(ivry)
    page = client.get(page_url).get_data(as_text=True)
    assert "Écran 24 pouces" in page and "Quantité pour Écran 24 pouces" in page
    from marketplace.models import CampaignLine

    line = db.session.scalars(select(CampaignLine)).one()
    response = client.post(f"{page_url}/lines/{line.id}/participation",
                           data={"site_id": ivry.organisation.sites[0].id, "quantity": "6"}, follow_redirects=True)
    assert "Votre besoin est enregistré" in response.get_data(as_text=True)
    db.session.expire_all()
    assert line.total_quantity == 6


def test_the_coordinator_finds_a_lines_offers_by_a_search_and_may_tick_any_it_found(client, login, coordinator):
    import re

    supplier = OrganisationFactory(is_ess=True)
    laptops = [CatalogueOfferFactory(supplier=supplier, unit_price=Decimal(300 + n)) for n in range(55)]
    monitor = CatalogueOfferFactory(supplier=supplier, category=DeviceCategory.MONITOR, brand="Iiyama",
                                    model="ProLite XUB2493", unit_price=Decimal("900.00"))
    withdrawn = CatalogueOfferFactory(supplier=supplier, active=False, brand="Iiyama", model="ProLite retiré")
    campaign = service.create_campaign(coordinator, coordinator.organisation, "Écrans 2027", "",
                                       utcnow() + timedelta(days=10))
    db.session.commit()
    login(coordinator)
    url = f"/marketplace/campaigns/{campaign.id}"

    def listed(**search) -> list[int]:
        page = client.get(url, query_string=search).get_data(as_text=True)
        return [int(value) for value in re.findall(r'name="offers" type="checkbox" value="(\d+)"', page)], page

    # The catalogue's order (cheapest first), fifty at most, and a hint that the search finds the others.
    offers, page = listed()
    assert offers == [offer.id for offer in laptops[:50]]
    assert "Seules les 50 premières offres trouvées sont listées" in page
    offers, page = listed(offers_category="monitor")
    assert offers == [monitor.id] and "Seules les" not in page
    assert listed(offers_q="prolite")[0] == [monitor.id]  # the withdrawn offer is not in the catalogue
    assert listed(offers_q="introuvable")[0] == []

    # An offer beyond the first fifty, found by a search, is accepted with the line.
    line = {"title": "Portable 14 pouces", "specification": "i5, SSD", "category": "laptop",
            "min_total_quantity": "5"}
    response = client.post(url + "/lines", data={**line, "offers": [str(laptops[54].id), str(monitor.id)]})
    assert response.status_code == 302
    assert {offer.id for offer in campaign.lines[0].eligible_offers} == {laptops[54].id, monitor.id}
    # An offer the catalogue does not show is refused, and the form comes back with what was typed.
    response = client.post(url + "/lines", data={**line, "offers": [str(withdrawn.id)]})
    assert response.status_code == 422
    assert len(campaign.lines) == 1 and 'value="Portable 14 pouces"' in response.get_data(as_text=True)
    # A form refused for another reason keeps the offer it ticked listed and ticked, found by a search or not.
    response = client.post(url + "/lines", data={**line, "title": "", "offers": [str(laptops[54].id)]})
    assert response.status_code == 422
    assert re.search(rf'<input checked[^>]*value="{laptops[54].id}"', response.get_data(as_text=True))


def test_a_member_is_not_shown_the_search_for_offers(client, login, coordinator, offer):
    campaign, _line = open_campaign(coordinator, offer)
    login(member("Ville d'Ivry"))
    page = client.get(f"/marketplace/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'name="offers_q"' not in page and 'name="offers"' not in page


def test_the_list_pages_the_campaigns_latest_deadline_first_and_freezes_those_it_shows(client, login, coordinator):
    now = utcnow()
    campaigns = [service.create_campaign(coordinator, coordinator.organisation, f"Campagne {n:02d}", "",
                                         now + timedelta(days=10)) for n in range(30)]
    for n, campaign in enumerate(campaigns):
        campaign.deadline = now + timedelta(days=n - 2, hours=1)  # the first two are past their deadline
    db.session.commit()
    login(coordinator)

    first = client.get("/marketplace/campaigns").get_data(as_text=True)
    second = client.get("/marketplace/campaigns?page=2").get_data(as_text=True)
    shown_first = [c.title for c in campaigns if f">{c.title}<" in first]
    shown_second = [c.title for c in campaigns if f">{c.title}<" in second]
    assert shown_first == [f"Campagne {n:02d}" for n in range(5, 30)] and "30 commandes groupées" in first
    assert shown_second == [f"Campagne {n:02d}" for n in range(5)] and "Page 2 sur 2" in second
    # The two whose deadline passed were on the second page, which froze them.
    db.session.expire_all()
    assert [c.status for c in campaigns[:3]] == [CampaignStatus.FROZEN, CampaignStatus.FROZEN, CampaignStatus.OPEN]
    # Newest deadline first on the page too.
    assert first.index("Campagne 29") < first.index("Campagne 05")
