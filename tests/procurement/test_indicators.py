"""The Activity 16 indicators (procurement/indicators.py) and GET /api/v1/indicators."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event

from core.extensions import db
from core.models import OrganisationKind, Role
from marketplace.services import orders as order_service
from procurement import indicators
from procurement.models import ENV_CLAUSE, Contract, ContractSource, Mechanism, ProcedureType, Theme
from procurement.services import contracts as contract_service
from procurement.services import considerations
from reuse.models import DeviceCategory, DeviceStatus
from tests.factories import CatalogueOfferFactory, DeviceFactory, OrganisationFactory, clause, user_for_role

_NUMBERS = itertools.count(1)


# --- the territory of these tests ---------------------------------------------------------------------

def commune(name: str, insee: str, postcode: str, city: str):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name, insee_code=insee,
                                       postcode=postcode, city=city)
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=organisation)


def supplier(name: str, postcode: str, city: str, **flags):
    return OrganisationFactory(name=name, postcode=postcode, city=city, **{"is_ess": False, **flags})


def contract(officer, amount: str, notified_on: date, holder=None, clauses=()) -> Contract:
    data = contract_service.ContractData(
        decp_id=f"2025C{next(_NUMBERS):04d}", title="Ordinateurs reconditionnés", cpv="30213100-6",
        procedure=ProcedureType.ADAPTED, amount=Decimal(amount), notified_on=notified_on, duration_months=12,
        supplier=holder, holder_name="" if holder else "Titulaire inconnu SARL", holder_id="",
        clauses=list(clauses))
    created = contract_service.create_manual(officer, officer.organisation, data)
    db.session.commit()
    return created


def order(officer, offer, quantity: int, created_at: datetime) -> None:
    issued = order_service.issue_order(officer, officer.organisation, offer.supplier, [
        order_service.LineData(offer=offer, quantity=quantity, unit_price=offer.unit_price, site=None)])
    issued.created_at = created_at
    db.session.commit()


@pytest.fixture
def territory(app):
    """Vitry and Orly; contracts, devices and orders in 2024 and 2025; an external buyer from a DECP file."""
    vitry = commune("Ville de Vitry-sur-Seine", "94081", "94400", "Vitry-sur-Seine")
    orly = commune("Ville d'Orly", "94054", "94310", "Orly")
    local_ess = supplier("Recyclerie de Vitry", "94400", "Vitry-sur-Seine", is_ess=True)
    departmental_siae = supplier("Insertion 94", "94300", "Vincennes", is_siae=True)
    parisian_esat = supplier("ESAT de Paris", "75011", "Paris", is_ea_esat=True)
    env_clause = clause("ENV-C", Theme.TAKE_BACK_WEEE)
    env_criterion = clause("ENV-A", Theme.BATTERY, Mechanism.AWARD_CRITERION)
    social_clause = clause("SOC-C", Theme.INSERTION_HOURS)

    june_2025 = date(2025, 6, 1)
    scored = [
        contract(vitry, "1000.00", june_2025, local_ess, [env_clause]),
        contract(vitry, "3000.00", date(2025, 1, 1), departmental_siae, [env_criterion, social_clause]),
        contract(vitry, "4000.00", date(2025, 12, 31)),  # holder not on the platform, no consideration
        contract(orly, "2000.00", june_2025, parisian_esat, [env_clause, env_criterion]),
    ]
    contract(vitry, "500.00", date(2024, 12, 31), local_ess, [env_clause])

    external = OrganisationFactory(kind=OrganisationKind.EXTERNAL_BUYER, name="Département lointain",
                                   postcode="69001", city="Lyon")
    imported = Contract(buyer=external, source=ContractSource.DECP, decp_id="EXT001", title="Imprimantes",
                        cpv="30232100-5", amount=Decimal("9000.00"), notified_on=june_2025,
                        holder_name="Quelqu'un")
    considerations.refresh(imported, {ENV_CLAUSE})
    db.session.add(imported)

    # Devices: Vitry sells two laptops reformed in 2024 (one through a refurbisher), recycles a desktop and
    # still holds a reformed laptop on 1 January 2025; Orly sells one laptop.
    reformed_2024 = date(2024, 10, 1)
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_2024,
                  left_on=date(2025, 3, 1))
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_2024,
                  left_on=date(2025, 3, 2), refurbisher=local_ess)
    DeviceFactory(organisation=vitry.organisation, category=DeviceCategory.DESKTOP, weight_kg=Decimal("5.30"),
                  status=DeviceStatus.RECYCLED, reformed_on=date(2025, 2, 1), left_on=date(2025, 4, 1))
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.REFORMED, reformed_on=reformed_2024)
    DeviceFactory(organisation=orly.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_2024,
                  left_on=date(2025, 9, 1))

    # AGEC: Vitry buys one reconditioned laptop (100) and one new desktop (200); Orly three reconditioned (300).
    reconditioned = CatalogueOfferFactory(supplier=local_ess, unit_price=Decimal("100.00"))
    new_desktop = CatalogueOfferFactory(supplier=local_ess, category=DeviceCategory.DESKTOP,
                                        unit_price=Decimal("200.00"), is_reconditioned=False)
    june = datetime(2025, 6, 1, tzinfo=timezone.utc)
    order(vitry, reconditioned, 1, june)
    order(vitry, new_desktop, 1, june)
    order(orly, reconditioned, 3, june)
    db.session.commit()
    return {"vitry": vitry.organisation, "orly": orly.organisation, "external": external, "scored": scored,
            "vitry_officer": vitry}


def _mean(*scores: int) -> Decimal:
    return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"))


# --- compute -----------------------------------------------------------------------------------------

def test_a_commune_counts_its_contracts_of_the_year_and_their_shares(territory):
    figures = indicators.compute(2025, territory["vitry"])

    assert {key: figures[key] for key in ("contracts_total", "contracts_env_clause", "contracts_env_criterion",
                                          "contracts_env_any", "contracts_social_any")} == {
        "contracts_total": 3, "contracts_env_clause": 1, "contracts_env_criterion": 1, "contracts_env_any": 2,
        "contracts_social_any": 1}
    assert figures["contracts_env_any_share"] == Decimal("0.6667")
    assert figures["contracts_social_any_share"] == Decimal("0.3333")
    assert figures["env_score_mean"] == _mean(*(c.env_score for c in territory["scored"][:3]))
    # Spend 8,000: 1,000 in the territory, 3,000 more in the 94, the unknown holder's 4,000 only counts below.
    assert figures["spend_total"] == Decimal("8000.00")
    assert figures["local_spend_share_territory"] == Decimal("0.125")
    assert figures["local_spend_share_departments"] == Decimal("0.5")
    assert figures["local_spend_share_ile_de_france"] == Decimal("0.5")
    assert figures["local_contract_share_territory"] == Decimal("0.3333")
    assert figures["ess_spend_share"] == Decimal("0.125")
    assert figures["siae_spend_share"] == Decimal("0.375")
    assert figures["ea_esat_spend_share"] == Decimal("0")  # spend without EA/ESAT is data: 0


def test_the_reuse_figures_come_from_the_devices_of_the_year(territory):
    laptop = DeviceCategory.LAPTOP.factors
    figures = indicators.compute(2025, territory["vitry"])

    assert figures["devices_reused"] == 2
    assert figures["devices_reused_by_route"] == {"public_body": 0, "donation": 0, "sale": 2}
    assert figures["devices_reconditioned"] == 1
    assert figures["devices_recycled"] == 1
    assert figures["weee_kg_diverted"] == Decimal("3.30")
    assert figures["co2e_kg_avoided"] == 2 * laptop.embodied_kgco2e
    assert figures["euros_avoided"] == 2 * laptop.new_price_eur
    # décret 2023-266: A = 2 laptops sent to reuse in 2025, B = 3 reformed laptops held on 1 January 2025.
    assert (figures["reuse_rate_2023_266_sent"], figures["reuse_rate_2023_266_stock"]) == (2, 3)
    assert figures["reuse_rate_2023_266"] == Decimal("0.6667")
    assert figures["reuse_rate_2023_266_target"] == Decimal("0.5")


def test_the_agec_share_counts_the_catalogue_and_the_register_against_the_target(territory):
    # Vitry: catalogue 100 reconditioned + 200 new; three laptop contracts of new equipment (no clause says
    # the goods are refurbished) 1,000 + 3,000 + 4,000. 100 / 8,300.
    vitry = indicators.compute(2025, territory["vitry"])
    assert (vitry["agec_it_amount"], vitry["agec_it_reuse_amount"]) == (Decimal("8300.00"), Decimal("100.00"))
    assert vitry["agec_it_reuse_share"] == (Decimal(100) / Decimal(8300)).quantize(Decimal("0.0001"))
    assert vitry["agec_it_reuse_target"] == Decimal("0.2")
    # Orly: 300 reconditioned in the catalogue, a 2,000 contract of new laptops: 300 / 2,300.
    assert indicators.compute(2025, territory["orly"])["agec_it_reuse_share"] == Decimal("0.1304")
    assert indicators.compute(2025)["agec_it_reuse_share"] == Decimal("0.0377")  # 400 of 10,600


def test_the_territory_is_the_sum_of_its_buyers_without_external_ones(territory):
    whole = indicators.compute(2025)
    vitry = indicators.compute(2025, territory["vitry"])
    orly = indicators.compute(2025, territory["orly"])

    for key in ("contracts_total", "contracts_env_clause", "contracts_env_criterion", "contracts_env_any",
                "contracts_social_any", "devices_reused", "devices_reconditioned", "devices_recycled",
                "weee_kg_diverted", "co2e_kg_avoided", "euros_avoided", "spend_total", "agec_it_amount",
                "reuse_rate_2023_266_sent", "reuse_rate_2023_266_stock"):
        assert whole[key] == vitry[key] + orly[key], key
    assert whole["contracts_total"] == 4
    assert whole["contracts_env_any_share"] == Decimal("0.75")
    assert whole["contracts_social_any_share"] == Decimal("0.25")
    assert whole["local_spend_share_territory"] == Decimal("0.1")
    assert whole["local_spend_share_departments"] == Decimal("0.4")
    assert whole["reuse_rate_2023_266"] == Decimal("0.75")  # 3 of 4
    # The external buyer answers on its own.
    external = indicators.compute(2025, territory["external"])
    assert (external["contracts_total"], external["contracts_env_clause"]) == (1, 1)
    assert external["local_spend_share_territory"] == Decimal("0")


def test_a_year_without_data_has_no_shares_but_zero_counts(territory):
    figures = indicators.compute(2023, territory["vitry"])

    assert figures["contracts_total"] == 0 and figures["devices_reused"] == 0
    for key in ("contracts_env_any_share", "contracts_social_any_share", "env_score_mean",
                "local_spend_share_territory", "local_spend_share_departments", "ess_spend_share",
                "reuse_rate_2023_266", "agec_it_reuse_share"):
        assert figures[key] is None, key
    assert figures["reuse_rate_2023_266_target"] == Decimal("0.25")
    assert figures["agec_it_reuse_target"] == Decimal("0.2")  # décret 2021-254
    assert indicators.compute(2022)["reuse_rate_2023_266_target"] is None
    assert indicators.compute(2020)["agec_it_reuse_target"] is None


def test_every_required_key_has_a_definition_and_a_source(app):
    figures = indicators.compute(2025)
    assert set(indicators.REQUIRED_KEYS) <= set(figures)
    assert set(figures) <= set(indicators.DEFINITIONS)
    for entry in indicators.DEFINITIONS.values():
        assert str(entry["definition"]) and str(entry["source"])


def test_the_change_from_the_previous_year(territory):
    result = indicators.previous_year_change(2025, territory["vitry"])

    assert result["previous"]["contracts_total"] == 1
    assert result["change"]["contracts_total"] == 2
    assert result["change"]["contracts_env_any_share"] == Decimal("0.6667") - Decimal("1")
    assert result["change"]["reuse_rate_2023_266"] is None  # no stock on 1 January 2024
    assert result["change"]["devices_reused_by_route"]["sale"] == 2


def _statements_of(call) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_the_indicators_are_aggregates_whose_statements_do_not_grow_with_the_rows(app):
    officer = commune("Ville de Cachan", "94016", "94230", "Cachan")
    holder = supplier("Atelier", "94230", "Cachan", is_ess=True)
    env_clause = clause("ENV-Q", Theme.TAKE_BACK_WEEE)
    buyer = officer.organisation

    def statements() -> tuple[int, int]:
        db.session.commit()
        buyer_id = buyer.id  # loaded before counting
        assert buyer_id
        return (_statements_of(lambda: indicators.compute(2025)),
                _statements_of(lambda: indicators.compute(2025, buyer)))

    for _ in range(5):
        contract(officer, "100.00", date(2025, 5, 1), holder, [env_clause])
    DeviceFactory.create_batch(5, organisation=buyer, status=DeviceStatus.SOLD, left_on=date(2025, 5, 1))
    with_five = statements()
    assert indicators.compute(2025)["contracts_total"] == 5

    for _ in range(45):
        contract(officer, "100.00", date(2025, 5, 1), holder, [env_clause])
    DeviceFactory.create_batch(45, organisation=buyer, status=DeviceStatus.SOLD, left_on=date(2025, 5, 1))
    assert statements() == with_five
    assert indicators.compute(2025, buyer)["contracts_total"] == 50
    assert indicators.compute(2025, buyer)["devices_reused"] == 50


# --- GET /api/v1/indicators ----------------------------------------------------------------------------

def test_the_api_answers_for_the_territory_without_a_token(client, territory):
    response = client.get("/api/v1/indicators?year=2025")

    assert response.status_code == 200
    body = response.get_json()
    assert body["year"] == 2025 and body["buyer"] is None
    assert set(indicators.REQUIRED_KEYS) <= set(body)
    assert body["contracts_total"] == 4
    assert body["contracts_env_any_share"] == 0.75
    assert body["agec_it_reuse_target"] == 0.2
    assert body["weee_kg_diverted"] == 4.95
    assert isinstance(body["euros_avoided"], (int, float))
    for key in indicators.REQUIRED_KEYS:
        entry = body["definitions"][key]
        assert entry["definition"] and entry["source"]


def test_the_api_finds_a_commune_by_insee_code_and_a_buyer_by_siret(client, territory):
    body = client.get("/api/v1/indicators?year=2025&buyer=94081").get_json()
    vitry = territory["vitry"]
    assert body["buyer"] == {"id": vitry.id, "name": vitry.name, "siret": vitry.siret, "insee_code": "94081"}
    assert body["contracts_total"] == 3
    assert body["contracts_social_any_share"] == 0.3333
    assert body["reuse_rate_2023_266"] == 0.6667

    external = territory["external"]
    body = client.get(f"/api/v1/indicators?year=2025&buyer={external.siret}").get_json()
    assert body["buyer"]["id"] == external.id and body["contracts_total"] == 1

    empty = client.get("/api/v1/indicators?year=2023&buyer=94054").get_json()
    assert empty["contracts_total"] == 0 and empty["contracts_env_any_share"] is None
    assert empty["env_score_mean"] is None


@pytest.mark.parametrize("query", ["", "?year=", "?year=abc", "?year=1800", "?year=99999",
                                   "?year=2025&buyer=abc", "?year=2025&buyer=1234567890123X"])
def test_the_api_refuses_a_missing_or_insane_year_or_buyer(client, query):
    response = client.get(f"/api/v1/indicators{query}")

    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_an_unknown_buyer_answers_404(client, territory):
    supplier_siret = OrganisationFactory().siret
    for code in ("94999", "12345678901234", supplier_siret):
        response = client.get(f"/api/v1/indicators?year=2025&buyer={code}")
        assert response.status_code == 404, code
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_openapi_document_describes_the_indicators(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/indicators"]["get"]
    assert operation["security"] == []
    assert set(indicators.REQUIRED_KEYS) <= set(document["components"]["schemas"]["Indicators"]["properties"])
