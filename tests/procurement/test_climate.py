"""Loi Climat et Résilience art. 35 on the contracts register (procurement/services/climate.py): a contract
notified from 22 August 2026 without an environmental consideration is flagged, listed on the dashboards and
counted in `contracts_art35_missing` (None before 2026). The tender side is in test_tenders.py."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import OrganisationKind, Role
from procurement import indicators
from procurement.models import ENV_CLAUSE, Contract, ContractSource, ContractStatus, ProcedureType, Theme
from procurement.services import climate, considerations
from procurement.services import contracts as contract_service
from tests.factories import OrganisationFactory, clause, user_for_role
from tests.matrix import log_in

_NUMBERS = itertools.count(1)


@pytest.fixture
def officer(app):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Choisy-le-Roi",
                                       insee_code="94022")
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=organisation)


def entered(officer, notified_on: date, clauses=()) -> Contract:
    created = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id=f"CR{next(_NUMBERS):04d}", title="Postes de travail", cpv="30213300-8",
        procedure=ProcedureType.ADAPTED, amount=Decimal("60000.00"), notified_on=notified_on, duration_months=24,
        holder_name="Fournisseur SAS", clauses=list(clauses)))
    db.session.commit()
    return created


def imported(buyer, notified_on: date, names: set[str] | None) -> Contract:
    """A DECP record: `names` its considerations, None when it states none (a v1 record)."""
    contract = Contract(buyer=buyer, decp_id=f"IM{next(_NUMBERS):04d}", source=ContractSource.DECP,
                        status=ContractStatus.NOTIFIED, title="Écrans", cpv="30231300-0", amount=Decimal("45000"),
                        notified_on=notified_on, holder_name="Fournisseur SAS")
    considerations.refresh(contract, names or set(), env_known=names is not None, social_known=names is not None)
    db.session.add(contract)
    db.session.commit()
    return contract


@pytest.mark.parametrize("notified_on, flagged", [(date(2026, 8, 21), False), (date(2026, 8, 22), True),
                                                  (date(2026, 8, 23), True)])
def test_a_contract_without_environmental_consideration_is_flagged_from_22_august_2026(officer, notified_on,
                                                                                        flagged):
    contract = entered(officer, notified_on)

    assert climate.misses_art35(contract) is flagged
    assert indicators.compute(2026, officer.organisation)["contracts_art35_missing"] == (1 if flagged else 0)
    # The SQL condition and the Python rule say the same.
    assert db.session.scalars(climate.contracts_missing_art35(officer.organisation_id)).all() == (
        [contract] if flagged else [])


def test_one_environmental_consideration_is_enough_and_an_unknown_one_is_counted_apart(officer):
    execution = clause("ENV-EXE", Theme.TAKE_BACK_WEEE)
    entered(officer, date(2026, 9, 1), [execution])
    imported(officer.organisation, date(2026, 10, 15), {ENV_CLAUSE})
    missing = imported(officer.organisation, date(2026, 10, 15), set())  # "Pas de considération"
    imported(officer.organisation, date(2026, 10, 15), None)  # considerations unknown: not flagged

    figures = indicators.compute(2026, officer.organisation)

    assert figures["contracts_art35_missing"] == 1
    assert figures["contracts_env_unknown"] == 1 and figures["contracts_social_unknown"] == 1
    # Shares over the contracts whose considerations are known: 2 of 3.
    assert figures["contracts_env_any_share"] == Decimal("0.6667")
    assert db.session.scalars(climate.contracts_missing_art35(officer.organisation_id)).all() == [missing]


def test_there_is_nothing_to_count_before_2026(officer):
    entered(officer, date(2025, 10, 15))
    figures = indicators.compute(2025, officer.organisation)
    assert figures["contracts_art35_missing"] is None
    assert indicators.compute(2026, officer.organisation)["contracts_art35_missing"] == 0


def test_the_officer_s_dashboard_and_the_indicators_list_the_flagged_contracts(client, officer):
    flagged = entered(officer, date(2026, 10, 15))
    other = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville d'Orly", insee_code="94054")
    elsewhere = entered(user_for_role(Role.PROCUREMENT_OFFICER, organisation=other), date(2026, 10, 16))
    log_in(client, officer)

    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"/procurement/contracts/{flagged.id}" in dashboard
    assert f"/procurement/contracts/{elsewhere.id}" not in dashboard  # another commune's

    page = client.get("/procurement/indicators?year=2026").get_data(as_text=True)
    assert f"/procurement/contracts/{flagged.id}" in page

    log_in(client, user_for_role(Role.ADMIN))
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"/procurement/contracts/{flagged.id}" in dashboard and f"/procurement/contracts/{elsewhere.id}" in dashboard


def test_an_external_buyer_s_contracts_are_not_the_territory_s(officer):
    external = OrganisationFactory(kind=OrganisationKind.EXTERNAL_BUYER, name="Département lointain")
    imported(external, date(2026, 10, 15), set())
    assert db.session.scalars(climate.contracts_missing_art35()).all() == []
    assert indicators.compute(2026)["contracts_art35_missing"] == 0
