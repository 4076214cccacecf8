"""The catalogue: the rules of an offer (marketplace.services.catalogue), what buyers see and how they
filter and sort it, the offer's and the supplier's pages, and a supplier's own offers through the forms."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from werkzeug.exceptions import Forbidden

from core.errors import RuleViolation
from core.extensions import db
from core.models import AuditEntry, Role
from marketplace.models import CatalogueOffer, Grade, Label, PriceTier
from marketplace.services import catalogue as services
from marketplace.services.catalogue import CatalogueFilters, OfferData, Tier
from marketplace.views.catalogue import PAGE_SIZE
from reuse import factors
from reuse.models import DeviceCategory
from tests.factories import CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, UserFactory, user_for_role
from tests.matrix import log_in


@pytest.fixture
def seller():
    """A member of a validated supplier, reading the pages in English."""
    return user_for_role(Role.SUPPLIER, locale="en")


@pytest.fixture
def buyer():
    return user_for_role(Role.PROCUREMENT_OFFICER, locale="en")


def laptop(**overrides) -> OfferData:
    values = dict(category=DeviceCategory.LAPTOP, brand="Lenovo", model="ThinkPad T480", unit_price=Decimal("249.00"),
                  grade=Grade.B, battery_health_pct=82, stock=10)
    values.update(overrides)
    return OfferData(**values)


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def models(query) -> list[str]:
    return [offer.model for offer in db.session.scalars(query).unique()]


def shown(filters: CatalogueFilters | None = None, user=None) -> list[str]:
    """The models the catalogue lists for these filters (its text filter searches as `user`)."""
    query, text_from_index = services.visible_offers(filters, user)
    assert text_from_index
    return models(query)


# --- the rules of an offer ---------------------------------------------------------------------

def test_a_validated_supplier_publishes_an_offer_with_the_cpv_of_its_category(seller):
    offer = services.create_offer(seller, seller.organisation, laptop(
        brand=" Lenovo ", labels=[Label.EPEAT, Label.TCO_CERTIFIED], tiers=[Tier(50, Decimal("229.00")),
                                                                          Tier(10, Decimal("239.00"))]))
    db.session.commit()
    assert offer.supplier_id == seller.organisation_id and offer.brand == "Lenovo"
    assert offer.cpv == DeviceCategory.LAPTOP.factors.cpv == "30213100-6"
    assert offer.labels == ["tco_certified", "epeat"]
    assert [(t.min_quantity, t.unit_price) for t in offer.tiers] == [(10, Decimal("239.00")), (50, Decimal("229.00"))]
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == offer.id)))
    assert {"catalogueoffer.created", "catalogueoffer.tiers_set"} <= actions


def test_the_cpv_may_be_changed_to_a_code_of_the_list_only(seller):
    assert set(services.CPV_CODES) >= {"30213100-6", "30231300-0", "32250000-0", "90511000-2"}
    offer = services.create_offer(seller, seller.organisation, laptop(cpv="30237200-1"))
    assert offer.cpv == "30237200-1"
    with pytest.raises(RuleViolation, match="30213100-7"):
        services.create_offer(seller, seller.organisation, laptop(cpv="30213100-7"))


def test_a_reconditioned_device_needs_a_grade_and_a_new_one_has_none(seller):
    with pytest.raises(RuleViolation, match="grade"):
        services.create_offer(seller, seller.organisation, laptop(grade=None))
    with pytest.raises(RuleViolation, match="grade"):
        services.create_offer(seller, seller.organisation, laptop(is_reconditioned=False, grade=Grade.A))
    new = services.create_offer(seller, seller.organisation, laptop(is_reconditioned=False, grade=None))
    assert new.grade is None and new.kgco2e_avoided is None


def test_battery_health_is_for_laptops_tablets_and_smartphones_only(seller):
    with pytest.raises(RuleViolation, match="batterie"):
        services.create_offer(seller, seller.organisation, laptop(
            category=DeviceCategory.MONITOR, model="P2419H", battery_health_pct=90))
    with pytest.raises(RuleViolation, match="0 et 100"):
        services.create_offer(seller, seller.organisation, laptop(battery_health_pct=101))
    for category in (DeviceCategory.TABLET, DeviceCategory.SMARTPHONE):
        assert services.create_offer(seller, seller.organisation, laptop(category=category)).battery_health_pct == 82
    assert services.create_offer(seller, seller.organisation, laptop(
        category=DeviceCategory.MONITOR, battery_health_pct=None)).battery_health_pct is None


@pytest.mark.parametrize("tiers", [
    [Tier(10, Decimal("249.00"))],                              # not below the base price
    [Tier(10, Decimal("239.00")), Tier(20, Decimal("239.00"))],  # not strictly lower
    [Tier(10, Decimal("229.00")), Tier(20, Decimal("239.00"))],  # more units, higher price
    [Tier(10, Decimal("239.00")), Tier(10, Decimal("229.00"))],  # the same quantity twice
    [Tier(1, Decimal("239.00"))],                               # one unit is the base price
    [Tier(10, Decimal("0"))],
    [Tier(10, Decimal("239.001"))],
], ids=["not-below-base", "equal", "rising", "same-quantity", "one-unit", "free", "sub-cent"])
def test_volume_prices_go_down_as_quantities_go_up(seller, tiers):
    with pytest.raises(RuleViolation):
        services.create_offer(seller, seller.organisation, laptop(tiers=tiers))


def test_editing_replaces_the_tiers_and_a_new_base_price_must_stay_above_them(seller):
    offer = services.create_offer(seller, seller.organisation, laptop(tiers=[Tier(10, Decimal("239.00")),
                                                                             Tier(50, Decimal("229.00"))]))
    db.session.commit()
    services.update_offer(seller, offer, laptop(tiers=[Tier(10, Decimal("235.00")), Tier(100, Decimal("219.00"))]))
    db.session.commit()  # quantity 10 is kept and repriced: the (offer, quantity) pair stays unique
    assert [(t.min_quantity, t.unit_price) for t in offer.tiers] == [(10, Decimal("235.00")), (100, Decimal("219.00"))]
    assert db.session.scalar(select(func.count(PriceTier.id))) == 2
    with pytest.raises(RuleViolation):
        services.update_offer(seller, offer, laptop(unit_price=Decimal("230.00"), tiers=None))
    db.session.rollback()
    services.update_offer(seller, offer, laptop(unit_price=Decimal("199.00"), tiers=[]))
    db.session.commit()
    assert offer.tiers == [] and offer.unit_price == Decimal("199.00")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "catalogueoffer.updated")).all()[-1]
    assert entry.changes["unit_price"] == ["249.00", "199.00"]


@pytest.mark.parametrize("overrides", [
    {"unit_price": Decimal("0")}, {"unit_price": Decimal("10.005")}, {"vat_rate": Decimal("7")},
    {"repairability_index": Decimal("10.5")}, {"repairability_index": Decimal("7.25")}, {"stock": -1},
    {"warranty_months": -1}, {"brand": " "}, {"reconditioning_postcode": "944"},
    {"reconditioning_postcode": "94400", "reconditioning_city": ""},
])
def test_prices_rates_and_ranges_are_checked(seller, overrides):
    with pytest.raises(RuleViolation):
        services.create_offer(seller, seller.organisation, laptop(**overrides))


def test_the_reduced_vat_rates_are_accepted(seller):
    for rate in ("20", "10", "5.5", "0"):
        offer = services.create_offer(seller, seller.organisation, laptop(vat_rate=Decimal(rate)))
        assert offer.vat_rate == Decimal(rate)


def test_only_a_validated_supplier_sells_and_only_its_own_offers(seller):
    pending = UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(pending=True))
    with pytest.raises(Forbidden):
        services.create_offer(pending, pending.organisation, laptop())
    with pytest.raises(Forbidden):
        services.create_offer(seller, OrganisationFactory(), laptop())
    with pytest.raises(Forbidden):
        services.update_offer(seller, CatalogueOfferFactory(), laptop())
    admin = user_for_role(Role.ADMIN)
    offer = CatalogueOfferFactory()
    services.update_offer(admin, offer, laptop(model="Corrected by the EPT"))
    assert offer.model == "Corrected by the EPT"


# --- browsing ------------------------------------------------------------------------------------

def test_buyers_see_only_offers_of_validated_suppliers_active_and_in_stock(client, buyer):
    CatalogueOfferFactory(model="Visible")
    CatalogueOfferFactory(model="No stock", stock=0)
    CatalogueOfferFactory(model="Withdrawn", active=False)
    CatalogueOfferFactory(model="Pending supplier", supplier=OrganisationFactory(pending=True))
    assert shown() == ["Visible"]
    log_in(client, buyer)
    page = page_of(client, "/marketplace/catalogue")
    assert "Visible" in page
    assert not any(hidden in page for hidden in ("No stock", "Withdrawn", "Pending supplier"))


def test_each_row_shows_price_grade_warranty_stock_footprint_and_supplier(client, buyer):
    supplier = OrganisationFactory(name="Ateliers Solidaires", is_ess=True, is_siae=True)
    CatalogueOfferFactory(supplier=supplier, model="Latitude 5490", unit_price=Decimal("289.00"), grade=Grade.B,
                          warranty_months=18, stock=42)
    log_in(client, buyer)
    page = page_of(client, "/marketplace/catalogue")
    for text in ("Latitude 5490", "€289.00", ">B<", "18 months", ">42<", "181.0", "Ateliers Solidaires",
                 "Social and solidarity economy (ESS)", "Work-integration structure (SIAE)", "In the territory",
                 f'href="/marketplace/suppliers/{supplier.id}"'):
        assert text in page, text


@pytest.mark.parametrize("filters, expected", [
    (CatalogueFilters(category=DeviceCategory.MONITOR), ["Monitor"]),
    (CatalogueFilters(grade=Grade.C), ["Lyon"]),
    (CatalogueFilters(max_price=Decimal("150")), ["Monitor"]),
    (CatalogueFilters(in_territory=True), ["EliteBook ESAT", "Monitor", "New"]),
    (CatalogueFilters(social_economy=True), ["EliteBook ESAT", "Lyon", "Monitor"]),
    (CatalogueFilters(label=Label.BLUE_ANGEL), ["New"]),
    (CatalogueFilters(reconditioned_only=True), ["EliteBook ESAT", "Lyon", "Monitor"]),
    (CatalogueFilters(text="elitebook esat"), ["EliteBook ESAT"]),
    (CatalogueFilters(text="dell"), ["Lyon", "Monitor"]),
], ids=["category", "grade", "max-price", "territory", "social-economy", "label", "reconditioned", "words", "brand"])
def test_buyers_filter_the_catalogue(filters, expected):
    ess = OrganisationFactory(is_ess=False, is_ea_esat=True, postcode="94310", city="Orly")
    plain = OrganisationFactory(is_ess=False, postcode="94200", city="Ivry-sur-Seine")
    lyon = OrganisationFactory(is_ess=True, postcode="69003", city="Lyon")
    CatalogueOfferFactory(supplier=ess, brand="HP", model="EliteBook ESAT", unit_price=Decimal("300.00"))
    CatalogueOfferFactory(supplier=ess, brand="Dell", model="Monitor", category=DeviceCategory.MONITOR,
                          unit_price=Decimal("79.00"), battery_health_pct=None, labels=["epeat"])
    CatalogueOfferFactory(supplier=plain, brand="Fairphone", model="New", category=DeviceCategory.SMARTPHONE,
                          is_reconditioned=False, grade=None, unit_price=Decimal("580.00"),
                          labels=["tco_certified", "blue_angel"])
    CatalogueOfferFactory(supplier=lyon, brand="Dell", model="Lyon", grade=Grade.C, unit_price=Decimal("200.00"))
    filters.sort = "price"
    assert sorted(shown(filters, user_for_role(Role.PROCUREMENT_OFFICER))) == expected


@pytest.mark.parametrize("sort, expected", [
    ("price", ["Phone", "Laptop", "New"]),
    ("price_desc", ["New", "Laptop", "Phone"]),
    ("warranty", ["New", "Laptop", "Phone"]),
    ("co2", ["Laptop", "Phone", "New"]),
    ("lead_time", ["Phone", "New", "Laptop"]),
    ("nonsense", ["Phone", "Laptop", "New"]),
])
def test_buyers_sort_the_catalogue(sort, expected):
    CatalogueOfferFactory(model="Laptop", unit_price=Decimal("300.00"), warranty_months=24, lead_time_days=10)
    CatalogueOfferFactory(model="Phone", category=DeviceCategory.SMARTPHONE, unit_price=Decimal("200.00"),
                          warranty_months=12, lead_time_days=2)
    CatalogueOfferFactory(model="New", category=DeviceCategory.LAPTOP, is_reconditioned=False, grade=None,
                          unit_price=Decimal("900.00"), warranty_months=36, lead_time_days=5)
    assert shown(CatalogueFilters(sort=sort)) == expected


def test_the_filter_form_is_a_plain_get_form_and_bad_values_are_ignored(client, buyer):
    CatalogueOfferFactory(model="Cheap", unit_price=Decimal("100.00"), grade=Grade.A)
    CatalogueOfferFactory(model="Dear", unit_price=Decimal("400.00"), grade=Grade.A)
    log_in(client, buyer)
    page = page_of(client, "/marketplace/catalogue")
    assert '<form method="get"' in page and 'name="max_price"' in page and 'name="sort"' in page
    page = page_of(client, "/marketplace/catalogue?max_price=150&grade=A&sort=price_desc&reconditioned_only=y")
    assert "Cheap" in page and "Dear" not in page
    page = page_of(client, "/marketplace/catalogue?max_price=lots&grade=Z&category=toaster&label=x&sort=x")
    assert "Cheap" in page and "Dear" in page


def test_the_catalogue_page_costs_the_same_queries_whatever_the_number_of_offers(app, client, buyer):
    def statements_for_the_page() -> int:
        statements = []

        def count(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page_of(client, "/marketplace/catalogue")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    log_in(client, buyer)
    CatalogueOfferFactory()
    few = statements_for_the_page()
    for _ in range(6):
        CatalogueOfferFactory()  # each of another supplier
    assert statements_for_the_page() == few


def test_the_catalogue_is_paginated(client, buyer):
    for n in range(PAGE_SIZE + 1):
        CatalogueOfferFactory(model=f"Unit {n:02d}", unit_price=Decimal(100 + n))
    log_in(client, buyer)
    first = page_of(client, "/marketplace/catalogue?sort=price")
    assert "Unit 00" in first and f"Unit {PAGE_SIZE:02d}" not in first and 'rel="next"' in first
    second = page_of(client, "/marketplace/catalogue?sort=price&page=2")
    assert f"Unit {PAGE_SIZE:02d}" in second and "Unit 00" not in second and "sort=price" in second


# --- the offer's and the supplier's pages ------------------------------------------------------

def test_the_offer_page_shows_every_fact_the_tiers_and_the_footprint_with_its_source(client, buyer):
    offer = CatalogueOfferFactory(model="Latitude 5490", labels=["tco_certified", "epeat"], battery_health_pct=88,
                                  repairability_index=Decimal("7.4"), spare_parts_years=5,
                                  specifications="Windows 11 Pro", vat_rate=Decimal("5.50"))
    PriceTierFactory(offer=offer, min_quantity=20, unit_price=Decimal("300.00"))
    PriceTierFactory(offer=offer, min_quantity=50, unit_price=Decimal("290.00"))
    log_in(client, buyer)
    page = page_of(client, f"/marketplace/catalogue/{offer.id}")
    for text in ("Latitude 5490", "30213100-6", "Portable computers", "Intel Core i5-8365U", "88 %", "24 months",
                 "€320.00", "€337.60", "5.5 %", "From 20 units", "€300.00", "From 50 units", "€290.00",
                 "TCO Certified", "EPEAT", "7.4 / 10", "5 years", "Windows 11 Pro", "94400 Vitry-sur-Seine",
                 "181.0", factors.version(), f'href="/marketplace/suppliers/{offer.supplier_id}"'):
        assert text in page, text


def test_a_buyer_adds_to_the_basket_from_the_offer_page_and_others_do_not(client, buyer):
    offer = CatalogueOfferFactory()
    log_in(client, buyer)
    page = page_of(client, f"/marketplace/catalogue/{offer.id}")
    assert f'action="/marketplace/catalogue/{offer.id}/basket"' in page
    assert 'name="quantity"' in page and f'value="{buyer.organisation.sites[0].id}"' in page
    for role in (Role.SUPPLIER, Role.OBSERVER):
        log_in(client, user_for_role(role))
        assert "/basket" not in page_of(client, f"/marketplace/catalogue/{offer.id}")


def test_a_supplier_sees_its_hidden_offer_and_why_buyers_do_not(client, seller):
    offer = CatalogueOfferFactory(supplier=seller.organisation, stock=0, active=False)
    log_in(client, seller)
    page = page_of(client, f"/marketplace/catalogue/{offer.id}")
    assert "the offer is withdrawn" in page and "no unit in stock" in page
    assert f'href="/marketplace/catalogue/{offer.id}/edit"' in page


def test_the_supplier_page_shows_its_status_and_its_visible_offers(client, buyer):
    supplier = OrganisationFactory(name="ESAT Les Portes", is_ea_esat=True, is_ess=True, postcode="94310",
                                   city="Orly", description="Effacement certifié des données.")
    CatalogueOfferFactory(supplier=supplier, model="ThinkPad T490")
    CatalogueOfferFactory(supplier=supplier, model="Out of stock", stock=0)
    CatalogueOfferFactory(model="Someone else's")
    log_in(client, buyer)
    page = page_of(client, f"/marketplace/suppliers/{supplier.id}")
    for text in ("ESAT Les Portes", "Entreprise adaptée or ESAT", "Social and solidarity economy (ESS)",
                 "In the territory", "94310 Orly", "Effacement certifié des données.", "ThinkPad T490"):
        assert text in page, text
    assert "Out of stock" not in page and "Someone else" not in page


def test_a_pending_supplier_page_is_seen_by_its_members_only(client):
    member = UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(pending=True))
    log_in(client, member)
    assert client.get(f"/marketplace/suppliers/{member.organisation_id}").status_code == 200
    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER))
    assert client.get(f"/marketplace/suppliers/{member.organisation_id}").status_code == 404


# --- a supplier's offers through the forms -----------------------------------------------------

FORM = {
    "category": "laptop", "cpv": "", "brand": "HP", "model": "EliteBook 840 G5", "cpu": "Intel Core i5-8350U",
    "ram_gb": "16", "storage_gb": "512", "screen_inches": "14", "is_reconditioned": "y", "grade": "A",
    "battery_health_pct": "86", "warranty_months": "24", "unit_price": "319.00", "vat_rate": "20.00",
    "tier1_quantity": "10", "tier1_price": "305", "tier2_quantity": "", "tier2_price": "",
    "tier3_quantity": "40", "tier3_price": "289.00", "stock": "40", "lead_time_days": "10",
    "reconditioning_postcode": "94200", "reconditioning_city": "Ivry-sur-Seine", "labels": ["epeat", "tco_certified"],
    "repairability_index": "7.0", "spare_parts_years": "5", "active": "y",
}


def test_a_supplier_adds_an_offer_through_the_form(client, seller):
    log_in(client, seller)
    page = page_of(client, "/marketplace/my-offers/new")
    assert 'name="tier3_price"' in page and 'type="checkbox"' in page and 'value="94400"' in page
    response = client.post("/marketplace/my-offers/new", data=FORM)
    offer = db.session.scalars(select(CatalogueOffer)).one()
    assert response.status_code == 302 and response.location == f"/marketplace/catalogue/{offer.id}"
    assert (offer.supplier_id, offer.cpv, offer.grade, offer.unit_price) == (
        seller.organisation_id, "30213100-6", Grade.A, Decimal("319.00"))
    assert offer.labels == ["tco_certified", "epeat"] and offer.reconditioning_city == "Ivry-sur-Seine"
    assert [(t.min_quantity, t.unit_price) for t in offer.tiers] == [(10, Decimal("305.00")), (40, Decimal("289.00"))]
    assert offer.screen_inches == Decimal("14.0") and offer.repairability_index == Decimal("7.0")


@pytest.mark.parametrize("changes, message", [
    ({"grade": ""}, "cosmetic grade"),
    ({"tier2_quantity": "20"}, "Give both the quantity and the price"),
    ({"tier1_price": "330"}, "must be lower"),
    ({"category": "monitor"}, "Battery health applies"),
    ({"cpv": "12345678-9"}, "Not a valid choice"),
    ({"unit_price": ""}, "This field is required"),
], ids=["no-grade", "half-tier", "tier-above-base", "battery-on-monitor", "unknown-cpv", "no-price"])
def test_the_form_is_sent_back_with_the_broken_rule(client, seller, changes, message):
    log_in(client, seller)
    response = client.post("/marketplace/my-offers/new", data={**FORM, **changes})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CatalogueOffer.id))) == 0


def test_a_supplier_edits_its_offer_and_its_volume_prices(client, seller):
    offer = CatalogueOfferFactory(supplier=seller.organisation, model="T480", labels=["tco_certified"])
    PriceTierFactory(offer=offer, min_quantity=50, unit_price=Decimal("290.00"))
    log_in(client, seller)
    page = page_of(client, f"/marketplace/catalogue/{offer.id}/edit")
    assert 'value="T480"' in page and 'value="50"' in page and 'value="290.00"' in page
    assert '<input checked id="labels-0" name="labels" type="checkbox" value="tco_certified">' in page
    assert '<input id="labels-1" name="labels" type="checkbox" value="epeat">' in page
    response = client.post(f"/marketplace/catalogue/{offer.id}/edit", data={
        **FORM, "model": "T480", "unit_price": "300.00", "tier1_quantity": "50", "tier1_price": "280.00",
        "tier3_quantity": "", "tier3_price": "", "active": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert offer.unit_price == Decimal("300.00") and offer.active is False
    assert [(t.min_quantity, t.unit_price) for t in offer.tiers] == [(50, Decimal("280.00"))]


def test_my_offers_lists_every_offer_of_my_organisation_with_why_it_is_hidden(client, seller):
    CatalogueOfferFactory(supplier=seller.organisation, model="On sale")
    CatalogueOfferFactory(supplier=seller.organisation, model="Sold out", stock=0)
    CatalogueOfferFactory(model="Not mine")
    log_in(client, seller)
    page = page_of(client, "/marketplace/my-offers")
    assert "On sale" in page and "Sold out" in page and "no unit in stock" in page and "Not mine" not in page


def test_a_supplier_awaiting_validation_is_told_why_it_cannot_sell(client):
    pending = UserFactory(role=Role.SUPPLIER, locale="en", organisation=OrganisationFactory(pending=True))
    log_in(client, pending)
    for url in ("/marketplace/my-offers", "/marketplace/my-offers/new"):
        response = client.get(url)
        assert response.status_code == 403
        assert "has not validated the registration" in response.get_data(as_text=True)
    assert client.post("/marketplace/my-offers/new", data=FORM).status_code == 403
    assert db.session.scalar(select(func.count(CatalogueOffer.id))) == 0
    denied = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "permission.denied")).all()
    assert len(denied) == 3 and denied[0].changes == {"permission": "catalogue.create"}


# --- demo data -----------------------------------------------------------------------------------

def test_the_demo_catalogue_is_realistic_and_idempotent(app):
    from core import demo as core_demo
    from core.models import Organisation
    from marketplace import demo

    core_demo.load()  # loads the demo catalogue too
    db.session.commit()
    assert db.session.scalar(select(func.count(CatalogueOffer.id))) > 0
    assert demo.load() == 0
    counts = dict(db.session.execute(select(Organisation.name, func.count(CatalogueOffer.id))
                                     .join(CatalogueOffer, CatalogueOffer.supplier_id == Organisation.id)
                                     .group_by(Organisation.name)).all())
    assert len(counts) == len(core_demo.SUPPLIERS) and all(2 <= n <= 4 for n in counts.values())
    assert "Reboot Cachan" not in counts
    offers = db.session.scalars(select(CatalogueOffer)).all()
    assert any(not o.is_reconditioned for o in offers) and any(o.tiers for o in offers)
    assert {o.category for o in offers} >= {DeviceCategory.LAPTOP, DeviceCategory.MONITOR, DeviceCategory.SMARTPHONE}
    assert len(shown()) == len(offers)
