"""A commune's year built by hand, every indicator key checked against arithmetic written here: what an
auditor would do with a pencil before signing the Activity 16 figures.

Cachan, 2026:
- contracts notified in the year: C1 laptops 40,000 (a local ESS refurbisher; a technical specification that
  the goods are refurbished and an environmental execution clause), C2 desktops 30,000 (new, notified on 1
  September, no environmental consideration), C3 monitors 20,000 imported from a DECP v1 file (considerations
  and AGEC amounts unknown), C4 maintenance 10,000 imported from DECP v2 (an environmental criterion and a
  social clause; a work-integration supplier in Vincennes). C0, notified on 31 December 2025, is last year's.
- devices: D1 laptop sold through a refurbisher, D2 laptop handed over to Orly, D3 laptop still held, D4 a
  laptop bought in 2014 and sold (over 10 years on 1 January), D5 desktop recycled, D6 monitor reformed in
  February and donated to an association. D1 to D5 were reformed in 2025.
- purchases: 2 reconditioned laptops (249.00 each) and a new monitor (150.00) in the catalogue; 2 laptops
  under 5 years and a desktop received from Orly as donations.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest

from core.extensions import db
from core.models import BeneficiaryCategory, OrganisationKind, Role
from marketplace.services import orders as order_service
from procurement import indicators
from procurement.models import (ENV_CRITERION, SOCIAL_CLAUSE, Contract, ContractSource, ContractStatus, Mechanism,
                                ProcedureType, Theme)
from procurement.services import agec, considerations
from procurement.services import contracts as contract_service
from reuse.models import DeviceCategory, DeviceStatus, Offer, RequestStatus, ReuseRequest
from tests.factories import CatalogueOfferFactory, DeviceFactory, OrganisationFactory, clause, user_for_role

YEAR = 2026
_NUMBERS = itertools.count(1)
LAPTOP, MONITOR = DeviceCategory.LAPTOP.factors, DeviceCategory.MONITOR.factors


def fraction(part, whole) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def entered(officer, amount: str, notified_on: date, cpv: str, holder=None, clauses=()):
    contract = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id=f"CY{next(_NUMBERS):04d}", title="Équipement", cpv=cpv, procedure=ProcedureType.ADAPTED,
        amount=Decimal(amount), notified_on=notified_on, duration_months=12, supplier=holder,
        holder_name="" if holder else "Fournisseur hors plateforme SAS", clauses=list(clauses)))
    db.session.commit()
    return contract


def imported(buyer, amount: str, notified_on: date, cpv: str, names: set[str] | None, holder=None):
    contract = Contract(buyer=buyer, decp_id=f"IM{next(_NUMBERS):04d}", source=ContractSource.DECP,
                        status=ContractStatus.NOTIFIED, title="Importé", cpv=cpv, amount=Decimal(amount),
                        notified_on=notified_on, supplier=holder, holder_name="Titulaire",
                        agec_category=agec.default_category(cpv, notified_on))
    considerations.refresh(contract, names or set(), env_known=names is not None, social_known=names is not None)
    db.session.add(contract)
    db.session.commit()
    return contract


def request_of(owner, receiver, category) -> ReuseRequest:
    offer = Offer(organisation=owner, title="Surplus", category=category, quantity=1, available=0)
    request = ReuseRequest(offer=offer, organisation=receiver, quantity=1, purpose="Écoles",
                           status=RequestStatus.RECEIVED)
    db.session.add_all([offer, request])
    db.session.commit()
    return request


@pytest.fixture
def cachan(app):
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Cachan", insee_code="94016",
                                  postcode="94230", city="Cachan")
    officer = user_for_role(Role.PROCUREMENT_OFFICER, organisation=commune)
    orly = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville d'Orly", insee_code="94054",
                               postcode="94310", city="Orly")
    association = OrganisationFactory(kind=OrganisationKind.BENEFICIARY, siret=None, name="Emmaüs Connect",
                                      beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY)
    refurbisher = OrganisationFactory(name="Atelier de Cachan", postcode="94230", city="Cachan", is_ess=True)
    siae = OrganisationFactory(name="Insertion 94", postcode="94300", city="Vincennes", is_ess=False, is_siae=True)

    # Contracts.
    specification = clause("ENV-RECO-T", Theme.REFURBISHED_SHARE, Mechanism.TECHNICAL_SPECIFICATION)
    execution = clause("ENV-EXE", Theme.TAKE_BACK_WEEE)
    entered(officer, "5000.00", date(2025, 12, 31), "30213100-6")  # C0, last year
    entered(officer, "40000.00", date(2026, 3, 1), "30213100-6", refurbisher, [specification, execution])  # C1
    entered(officer, "30000.00", date(2026, 9, 1), "30213300-8")  # C2
    imported(commune, "20000.00", date(2026, 5, 1), "30231300-0", None)  # C3, a DECP v1 record
    imported(commune, "10000.00", date(2026, 10, 1), "50312000-5", {ENV_CRITERION, SOCIAL_CLAUSE}, siae)  # C4

    # Devices of Cachan's inventory.
    reformed = date(2025, 6, 1)
    laptop = {"organisation": commune, "category": DeviceCategory.LAPTOP, "weight_kg": Decimal("1.65"),
              "purchase_date": date(2021, 9, 1), "reformed_on": reformed}
    DeviceFactory(**laptop, status=DeviceStatus.SOLD, left_on=date(2026, 2, 1), refurbisher=refurbisher)  # D1
    DeviceFactory(**laptop, status=DeviceStatus.HANDED_OVER, left_on=date(2026, 4, 1),
                  request=request_of(commune, orly, DeviceCategory.LAPTOP))  # D2
    DeviceFactory(**laptop, status=DeviceStatus.REFORMED)  # D3
    DeviceFactory(**{**laptop, "purchase_date": date(2014, 6, 1)}, status=DeviceStatus.SOLD,
                  left_on=date(2026, 3, 1))  # D4
    DeviceFactory(organisation=commune, category=DeviceCategory.DESKTOP, weight_kg=Decimal("5.30"),
                  purchase_date=date(2019, 1, 1), reformed_on=date(2025, 1, 1), status=DeviceStatus.RECYCLED,
                  left_on=date(2026, 5, 1))  # D5
    DeviceFactory(organisation=commune, category=DeviceCategory.MONITOR, weight_kg=Decimal("5.70"),
                  purchase_date=date(2020, 1, 1), reformed_on=date(2026, 2, 1), status=DeviceStatus.HANDED_OVER,
                  left_on=date(2026, 6, 1), has_storage_media=False,
                  request=request_of(commune, association, DeviceCategory.MONITOR))  # D6

    # Purchases: the catalogue, and donations received from Orly.
    reconditioned = CatalogueOfferFactory(supplier=refurbisher, unit_price=Decimal("249.00"))
    new_monitor = CatalogueOfferFactory(supplier=refurbisher, category=DeviceCategory.MONITOR, cpv="30231300-0",
                                        unit_price=Decimal("150.00"), is_reconditioned=False)
    order = order_service.issue_order(officer, commune, refurbisher, [
        order_service.LineData(offer=reconditioned, quantity=2, unit_price=Decimal("249.00"), site=None),
        order_service.LineData(offer=new_monitor, quantity=1, unit_price=Decimal("150.00"), site=None)])
    order.created_at = datetime(2026, 4, 15, tzinfo=timezone.utc)
    for category in (DeviceCategory.LAPTOP, DeviceCategory.LAPTOP, DeviceCategory.DESKTOP):
        DeviceFactory(organisation=orly, category=category, purchase_date=date(2023, 1, 1),
                      reformed_on=date(2026, 1, 15), status=DeviceStatus.HANDED_OVER, left_on=date(2026, 7, 1),
                      request=request_of(orly, commune, category))
    db.session.commit()
    return commune


def test_every_indicator_of_the_commune_s_year_is_the_auditor_s_arithmetic(cachan):
    figures = indicators.compute(YEAR, cachan)

    expected = {
        # Contracts: C1 to C4. Environmental considerations known for C1, C2, C4; C1 has clauses (the
        # specification and the execution clause), C4 a criterion.
        "contracts_total": 4,
        "contracts_env_clause": 1, "contracts_env_criterion": 1, "contracts_env_any": 2,
        "contracts_env_any_share": fraction(2, 3), "contracts_env_any_target": Decimal("1.0"),
        "contracts_env_unknown": 1,
        "contracts_social_any": 1, "contracts_social_any_share": fraction(1, 3),
        "contracts_social_any_target": Decimal("0.30"), "contracts_social_unknown": 1,
        # Scores of the known: C1 15 (specification) + 20 (execution clause), C2 0, C4 20 (a criterion).
        "env_score_mean": (Decimal(15 + 20 + 0 + 20) / 3).quantize(Decimal("0.01"), ROUND_HALF_UP),
        # C2, notified on 1 September 2026 with no environmental consideration.
        "contracts_art35_missing": 1,
        # Spend 100,000: C1 40,000 in the territory (an ESS), C4 10,000 in the 94 (an SIAE); C2 and C3's
        # holders are not organisations of the platform.
        "spend_total": Decimal("100000.00"),
        "local_spend_share_territory": fraction(40000, 100000), "local_spend_share_departments": fraction(50000, 100000),
        "local_spend_share_ile_de_france": fraction(50000, 100000),
        "local_contract_share_territory": fraction(1, 4), "local_contract_share_departments": fraction(2, 4),
        "local_contract_share_ile_de_france": fraction(2, 4),
        "ess_spend_share": fraction(40000, 100000), "ea_esat_spend_share": Decimal("0"),
        "siae_spend_share": fraction(10000, 100000),
        # Devices reused in 2026: D1 (sold), D2 (to Orly), D4 (sold), D6 (donated).
        "devices_reused": 4,
        "devices_reused_by_route": {"public_body": 1, "donation": 1, "sale": 2},
        "devices_reconditioned": 1, "devices_recycled": 1,
        "weee_kg_diverted": Decimal("1.65") * 3 + Decimal("5.70"),
        "co2e_kg_avoided": LAPTOP.embodied_kgco2e * 3 + MONITOR.embodied_kgco2e,
        "euros_avoided": (LAPTOP.new_price_eur * 3 + MONITOR.new_price_eur).quantize(Decimal("0.01")),
        # Décret 2023-266: A = D1, D2, D6; B = D1, D2, D3, D5 (held on 1 January); D4 is in neither.
        "reuse_rate_2023_266_sent": 3, "reuse_rate_2023_266_stock": 4,
        "reuse_rate_2023_266": fraction(3, 4), "reuse_rate_2023_266_target": Decimal("0.5"),
        # AGEC, IT and telephony: catalogue 2 × 249 + 150 = 648 (498 reconditioned); contracts C1 40,000 (all
        # refurbished) and C2 30,000 (new); C3's 20,000 unknown, counted apart; donations 2 laptops × 200,
        # the desktop not valued yet.
        "agec_it_amount": Decimal("648.00") + Decimal("40000.00") + Decimal("30000.00") + Decimal("400.00"),
        "agec_it_reuse_amount": Decimal("498.00") + Decimal("40000.00") + Decimal("400.00"),
        "agec_it_reuse_share": fraction(498 + 40000 + 400, 648 + 70000 + 400),
        "agec_it_reuse_target": Decimal("0.2"),
        "agec_it_recycled_amount": Decimal("0.00"), "agec_it_donations_value": Decimal("400.00"),
        "agec_it_donations_unvalued": 1, "agec_it_contracts_unknown": 1,
        "agec_it_contracts_unknown_amount": Decimal("20000.00"),
    }
    assert figures == expected
    assert set(expected) == set(indicators.DEFINITIONS)  # every key defined is checked here
    assert figures["agec_it_reuse_share"] == Decimal("0.5756")


def test_the_territory_adds_the_commune_and_its_neighbours(cachan):
    """Orly gave D-devices and received D2: the territory counts each device once, the AGEC share for the
    receiving buyers only."""
    territory = indicators.compute(YEAR)
    commune = indicators.compute(YEAR, cachan)
    assert territory["contracts_total"] == commune["contracts_total"] == 4
    # Orly's 3 devices handed over to Cachan are reused too: 4 + 3.
    assert territory["devices_reused"] == 7
    assert territory["devices_reused_by_route"] == {"public_body": 4, "donation": 1, "sale": 2}
    # Orly received D2 as a donation: one more laptop valued at 200.
    assert territory["agec_it_donations_value"] == Decimal("600.00")
