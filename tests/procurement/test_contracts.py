"""The contracts register: manual entry with considerations derived from clauses, the environmental score
and its breakdown, the holder's locality and social-economy status, edits and signature rules, filters."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from procurement import decp
from procurement.models import (Contract, ContractSource, ContractStatus, CriterionKind, Mechanism, ProcedureType,
                                Theme)
from procurement.services import bids as bid_service
from procurement.services import considerations
from procurement.services import contracts as service
from procurement.services import evaluation
from tests.factories import OrganisationFactory, clause, close, published_tender, submit_bid, user_for_role
from tests.matrix import log_in


def page_text(response) -> str:
    return response.get_data(as_text=True)


def shown(text: str, page: str) -> bool:
    # A flashed or interpolated text is escaped; a template's own translated text is not (Jinja marks it safe).
    return str(escape(text)) in page or text in page


@pytest.fixture
def officer():
    buyer = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Vitry-sur-Seine")
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=buyer)


@pytest.fixture
def supplier():
    """A social-economy refurbisher in the territory (Vitry)."""
    return OrganisationFactory(kind=OrganisationKind.SUPPLIER, name="Ateliers Numériques Solidaires",
                               postcode="94400", city="Vitry-sur-Seine", is_ess=True, is_siae=True)


def form_data(**overrides) -> dict:
    data = {"decp_id": "2026M001", "title": "Ordinateurs portables reconditionnés", "cpv": "30213100-6",
            "procedure": ProcedureType.ADAPTED.value, "amount": "38000.00", "notified_on": "2026-03-02",
            "duration_months": "24", "supplier_id": "0", "holder_name": "", "holder_siret": "",
            "offers_received": "3"}
    data.update(overrides)
    return data


def manual_contract(officer, **overrides) -> Contract:
    data = service.ContractData(decp_id="2026M009", title="Écrans", cpv="30231300-0",
                                procedure=ProcedureType.ADAPTED, amount=Decimal("12000.00"),
                                notified_on=date(2025, 6, 1), duration_months=12, holder_name="Écrans SA")
    for key, value in overrides.items():
        setattr(data, key, value)
    created = service.create_manual(officer, officer.organisation, data)
    db.session.commit()
    return created


def awarded_contract() -> Contract:
    """A contract from a tender's award, waiting for the end of its standstill period."""
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = published_tender(officer)
    bid = submit_bid(user_for_role(Role.SUPPLIER), tender.lots[0])
    close(tender)
    bid_service.open_bids(officer, tender)
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    evaluation.evaluate(officer, bid, technical, Decimal("8"), "Mémoire complet.")
    contract = evaluation.award(officer, tender.lots[0], bid)
    db.session.commit()
    return contract


def test_a_manual_contract_takes_its_considerations_and_score_from_its_clauses(client, officer, supplier):
    take_back = clause("ENV-TB", Theme.TAKE_BACK_WEEE, Mechanism.EXECUTION_CLAUSE, title="Reprise des DEEE")
    battery = clause("ENV-BAT", Theme.BATTERY, Mechanism.AWARD_CRITERION, title="Autonomie de la batterie")
    insertion = clause("SOC-INS", Theme.INSERTION_HOURS, Mechanism.EXECUTION_CLAUSE, title="Heures d'insertion")
    log_in(client, officer)
    assert client.get("/procurement/contracts/new").status_code == 200
    response = client.post("/procurement/contracts/new", data=form_data(
        supplier_id=str(supplier.id), clauses=[str(take_back.id), str(battery.id), str(insertion.id)],
        # Considerations are not fields: whatever is posted about them is ignored.
        env_clause="y", reserved="y"))
    assert response.status_code == 302, page_text(response)[:500]
    created = db.session.scalars(select(Contract)).one()
    assert created.source is ContractSource.MANUAL and created.buyer_id == officer.organisation_id
    assert created.supplier_id == supplier.id and created.holder_name == supplier.name
    assert (created.env_clause, created.env_criterion, created.social_clause, created.reserved) == (
        True, True, True, False)
    assert created.env_score == 40
    assert [item["code"] for item in created.env_score_breakdown] == ["ENV-BAT", "ENV-TB"]

    page = page_text(client.get(response.headers["Location"]))
    assert "ENV-TB v1" in page and "ENV-BAT v1" in page and "40/100" in page
    assert str(considerations.SCORE_EXPLANATION) in page  # a lazy string renders as it is (flask-babel marks it safe)
    assert shown(Mechanism.AWARD_CRITERION.label, page) and shown(Mechanism.EXECUTION_CLAUSE.label, page)
    assert "Clause environnementale" in page and "Critère environnemental" in page and "Clause sociale" in page
    # The holder is on the platform: its locality and social-economy status are shown.
    assert shown(supplier.locality_label, page)
    for flag in supplier.social_economy_flags:
        assert shown(flag, page)


def test_a_holder_outside_the_platform_needs_a_valid_siret(client, officer):
    log_in(client, officer)
    response = client.post("/procurement/contracts/new", data=form_data(holder_name="Écrans SA",
                                                                        holder_siret="12345678901234"))
    assert response.status_code == 422
    assert db.session.scalars(select(Contract)).first() is None
    response = client.post("/procurement/contracts/new", data=form_data(holder_name="Écrans SA",
                                                                        holder_siret="555 666 775 00013"))
    assert response.status_code == 302
    created = db.session.scalars(select(Contract)).one()
    assert (created.holder_id, created.supplier_id, created.env_score) == ("55566677500013", None, 0)
    assert created.environmental_considerations == ["Pas de considération environnementale"]
    page = page_text(client.get(f"/procurement/contracts/{created.id}"))
    assert shown(gettext("Not known: the holder is not on the platform."), page)


def test_a_contract_needs_a_holder_and_a_number_of_its_own(client, officer):
    manual_contract(officer, decp_id="2026M001")
    log_in(client, officer)
    assert client.post("/procurement/contracts/new", data=form_data(holder_name="Écrans SA")).status_code == 422
    assert client.post("/procurement/contracts/new", data=form_data(decp_id="2026M002")).status_code == 422
    assert len(db.session.scalars(select(Contract)).all()) == 1


def test_editing_a_manual_contract_derives_its_considerations_again(client, officer):
    reserved = clause("SOC-RES", Theme.RESERVED_CONTRACT, Mechanism.SELECTION_CRITERION)
    contract = manual_contract(officer)
    log_in(client, officer)
    page = page_text(client.get(f"/procurement/contracts/{contract.id}/edit"))
    assert "2026M009" in page
    response = client.post(f"/procurement/contracts/{contract.id}/edit", data=form_data(
        decp_id="2026M009", holder_name="Écrans SA", amount="15000.00", clauses=[str(reserved.id)]))
    assert response.status_code == 302
    db.session.refresh(contract)
    assert contract.amount == Decimal("15000.00") and contract.reserved and contract.env_score == 0
    assert contract.social_considerations == ["Marché réservé"]


def test_a_tendered_or_imported_contract_is_not_edited_here(client):
    contract = awarded_contract()
    buyer_officer = contract.buyer.users[0]
    log_in(client, buyer_officer)
    response = client.get(f"/procurement/contracts/{contract.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/procurement/contracts/{contract.id}")
    response = client.post(f"/procurement/contracts/{contract.id}/edit", data=form_data(holder_name="Autre"))
    assert response.status_code == 302
    db.session.refresh(contract)
    assert contract.source is ContractSource.TENDER and contract.holder_name != "Autre"

    buyer_officer.organisation.siret = "21940081900013"
    db.session.commit()
    record = {"id": "D-1", "acheteur": {"id": "21940081900013"}, "objet": "Portables",
              "codeCPV": "30213100", "procedure": "Procédure adaptée", "dateNotification": "2024-01-10",
              "montant": 41000, "dureeMois": 12, "titulaires": []}
    assert decp.import_decp(json.dumps({"marches": {"marche": [record]}}).encode()).imported == 1
    db.session.commit()
    imported = db.session.scalars(select(Contract).where(Contract.decp_id == "D-1")).one()
    assert client.get(f"/procurement/contracts/{imported.id}/edit").status_code == 302
    response = client.post(f"/procurement/contracts/{imported.id}/edit", data=form_data(
        decp_id="D-1", holder_name="Autre", clauses=[]))
    assert response.status_code == 302
    db.session.refresh(imported)
    assert imported.source is ContractSource.DECP and imported.holder_name == ""


def test_signing_waits_for_the_end_of_the_standstill(client):
    contract = awarded_contract()
    assert contract.status is ContractStatus.AWARDED and contract.standstill_ends_at > utcnow()
    officer = contract.buyer.users[0]
    log_in(client, officer)
    page = page_text(client.get(f"/procurement/contracts/{contract.id}"))
    assert f"/procurement/contracts/{contract.id}/sign" in page
    assert client.post(f"/procurement/contracts/{contract.id}/sign").status_code == 302
    db.session.refresh(contract)
    assert contract.status is ContractStatus.AWARDED and contract.notified_on is None

    contract.standstill_ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.post(f"/procurement/contracts/{contract.id}/sign").status_code == 302
    db.session.refresh(contract)
    assert contract.status is ContractStatus.NOTIFIED and contract.notified_on is not None
    page = page_text(client.get(f"/procurement/contracts/{contract.id}"))
    assert f"/procurement/contracts/{contract.id}/sign" not in page


def test_a_tendered_contract_shows_the_tender_grid_in_its_score(client):
    contract = awarded_contract()
    log_in(client, user_for_role(Role.OBSERVER))
    page = page_text(client.get(f"/procurement/contracts/{contract.id}"))
    # Each commitment once: the technical specification (15), the execution clause (20) and the grid's
    # environmental criterion (its weight, 20), which the award-criterion clause is scored within.
    assert contract.env_score == 15 + 20 + 20
    assert [(item["source"], item["points"]) for item in contract.env_score_breakdown] == [
        ("clause", 15), ("clause", 20), ("criterion", 20)]
    assert "Performance environnementale" in page and shown(gettext("Award criterion of the tender"), page)
    assert shown(contract.supplier.locality_label, page)


def test_the_register_filters(client, officer):
    env = clause("ENV-DUR", Theme.DURABILITY)
    laptops = manual_contract(officer, decp_id="A-2025", cpv="30213100-6", clauses=[env],
                              notified_on=date(2025, 3, 1))
    screens = manual_contract(officer, decp_id="B-2024", notified_on=date(2024, 3, 1))
    other = manual_contract(user_for_role(Role.PROCUREMENT_OFFICER), decp_id="C-2025", notified_on=date(2025, 5, 1))
    log_in(client, user_for_role(Role.SUPPLIER))

    def listed(**args) -> set[str]:
        response = client.get("/procurement/contracts", query_string=args)
        assert response.status_code == 200
        page = page_text(response)
        return {c.decp_id for c in (laptops, screens, other) if f">{c.decp_id}<" in page}

    assert listed() == {"A-2025", "B-2024", "C-2025"}
    assert listed(year="2025") == {"A-2025", "C-2025"}
    assert listed(buyer=str(officer.organisation_id)) == {"A-2025", "B-2024"}
    assert listed(cpv="30213") == {"A-2025"}
    assert listed(environmental="yes") == {"A-2025"}
    assert listed(environmental="no", year="2025") == {"C-2025"}
    assert listed(social="yes") == set()
    assert listed(source="manual") == {"A-2025", "B-2024", "C-2025"}
    assert listed(source="decp") == set()
    assert listed(year="not a year", buyer="x") == {"A-2025", "B-2024", "C-2025"}  # ignored, never an error


def test_the_register_is_paginated(client, officer):
    for number in range(55):
        manual_contract(officer, decp_id=f"P{number:03d}")
    log_in(client, officer)
    first = page_text(client.get("/procurement/contracts"))
    second = page_text(client.get("/procurement/contracts", query_string={"page": 2}))
    assert first.count('<th scope="row"><a href="/procurement/contracts/') == 50
    assert second.count('<th scope="row"><a href="/procurement/contracts/') == 5
