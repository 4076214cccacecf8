"""The contracts register: manual entry with considerations derived from clauses and every DECP field asked,
the environmental score and its breakdown, the holder's locality and social-economy status, edits and
signature rules, filters; on a contract's page, unknown fields shown as unknown, the AGEC figures, the
modifications and the art. 35 flag."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, OrganisationKind, Role, utcnow
from procurement import decp
from procurement.models import (Contract, ContractModification, ContractSource, ContractStatus, CriterionKind,
                                Mechanism, ProcedureType, Theme)
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


# The DECP v2 fields the hand form asks, each with a value.
DECP_FIELDS = {"nature": "Marché", "techniques": ["Sans objet"], "execution_modalities": ["Bons de commande"],
               "innovative": "no", "ccag": "Techniques de l'information et de la communication",
               "advance_payment": "yes", "operator_grouping": "Pas de groupement", "place_code": "94081",
               "place_code_type": "Code commune", "published_on": "2026-03-09", "price_types": ["Définitif ferme"],
               "price_form": "Unitaire", "subcontracting_declared": "no"}


def form_data(**overrides) -> dict:
    data = {"decp_id": "2026M001", "title": "Ordinateurs portables reconditionnés", "cpv": "30213100-6",
            "procedure": ProcedureType.ADAPTED.value, "amount": "38000.00", "notified_on": "2026-03-02",
            "duration_months": "24", "supplier_id": "0", "holder_name": "", "holder_siret": "",
            "offers_received": "3", "agec_category": "from_cpv", **DECP_FIELDS}
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


# --- the DECP fields, the AGEC figures and the modifications -------------------------------------------

def error_summary(page: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    return found.group(0) if found else ""


def test_the_hand_form_refuses_a_contract_without_the_fields_the_decp_schema_requires(client, officer):
    log_in(client, officer)
    incomplete = {key: value for key, value in form_data(holder_name="Écrans SA").items()
                  if key not in DECP_FIELDS and key != "offers_received"}

    response = client.post("/procurement/contracts/new", data={**incomplete, "nature": ""})

    assert response.status_code == 422
    assert db.session.scalars(select(Contract)).first() is None
    summary = error_summary(page_text(response))
    for label in ("Nature", "Purchasing techniques", "Execution modalities", "Innovative contract",
                  "CCAG of reference", "Offers received", "Advance granted to the holder", "Grouping of operators",
                  "Place of execution: code", "Place of execution: kind of code", "Publication date of the data",
                  "Price types", "Price form", "Subcontracting declared at notification"):
        assert shown(gettext(label), summary), label
    # What was typed is kept.
    assert 'value="Écrans SA"' in page_text(response) or 'value="&#201;crans SA"' in page_text(response)


def test_a_hand_entered_contract_keeps_every_field_its_officer_gave(client, officer):
    log_in(client, officer)
    form = page_text(client.get("/procurement/contracts/new"))
    # Nature "Marché" is preselected in sight; nothing else is.
    assert re.search(r'<option selected value="Marché">|<option value="Marché" selected>', form)
    assert not re.search(r'name="techniques"[^>]*checked', form)

    response = client.post("/procurement/contracts/new", data=form_data(
        holder_name="Écrans SA", holder_siret="55566677500013", offers_received="5",
        techniques=["Accord-cadre", "Catalogue électronique"], innovative="yes", operator_grouping="Solidaire",
        place_code="94400", place_code_type="Code postal", price_types=["Définitif ferme", "Provisoire"],
        price_form="Mixte", advance_payment="no", subcontracting_declared="yes"))

    assert response.status_code == 302
    created = db.session.scalars(select(Contract)).one()
    assert (created.nature, created.techniques, created.execution_modalities) == (
        "Marché", ["Accord-cadre", "Catalogue électronique"], ["Bons de commande"])
    assert (created.innovative, created.advance_payment, created.subcontracting_declared) == (True, False, True)
    assert (created.ccag, created.operator_grouping, created.offers_received) == (
        "Techniques de l'information et de la communication", "Solidaire", 5)
    assert (created.place_code, created.place_code_type, created.published_on) == (
        "94400", "Code postal", date(2026, 3, 9))
    assert (created.price_types, created.price_form) == (["Définitif ferme", "Provisoire"], "Mixte")
    # AGEC left to its default: the CPV code's category, nothing from reuse without a refurbished clause.
    assert (created.agec_category, created.agec_reuse_amount, created.agec_recycled_amount) == (
        "Matériel informatique et téléphonie", Decimal("0.00"), Decimal("0.00"))

    edit = page_text(client.get(f"/procurement/contracts/{created.id}/edit"))
    assert re.search(r'value="Catalogue électronique"[^>]*checked|checked[^>]*value="Catalogue électronique"', edit)
    assert 'value="94400"' in edit


def test_the_hand_form_saves_the_agec_figures_through_their_service(client, officer):
    log_in(client, officer)
    too_much = client.post("/procurement/contracts/new", data=form_data(
        holder_name="Écrans SA", agec_category="none", agec_reuse_amount="30000.00",
        agec_recycled_amount="9000.00"))
    assert too_much.status_code == 422
    assert db.session.scalars(select(Contract)).first() is None
    assert shown(gettext("The amounts from reuse and with recycled material together exceed the contract's amount "
                         "(%(amount)s excl. VAT).", amount=Decimal("38000.00")), page_text(too_much))

    response = client.post("/procurement/contracts/new", data=form_data(
        holder_name="Écrans SA", agec_category="Matériel de reprographie et d'impression",
        agec_reuse_amount="30000.00", agec_recycled_amount="2000.00"))

    assert response.status_code == 302
    created = db.session.scalars(select(Contract)).one()
    assert (created.agec_category, created.agec_reuse_amount, created.agec_recycled_amount) == (
        "Matériel de reprographie et d'impression", Decimal("30000.00"), Decimal("2000.00"))
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "contract.agec_updated",
                                                         AuditEntry.object_id == created.id)) is not None


def test_a_tendered_contract_records_what_circuit_knows_at_the_award_and_no_more(client):
    contract = awarded_contract()
    buyer = contract.buyer  # a commune without INSEE code in the factory: its postcode
    assert (contract.place_code, contract.place_code_type) == (buyer.postcode, "Code postal")
    assert (contract.techniques, contract.execution_modalities, contract.price_types, contract.price_form) == (
        ["Sans objet"], ["Sans objet"], ["Définitif ferme"], "Forfaitaire")
    assert (contract.ccag, contract.innovative, contract.operator_grouping, contract.offers_received) == (
        "Techniques de l'information et de la communication", False, "Pas de groupement", 1)
    assert (contract.advance_payment, contract.subcontracting_declared, contract.published_on) == (None, None, None)

    log_in(client, user_for_role(Role.OBSERVER))
    page = page_text(client.get(f"/procurement/contracts/{contract.id}"))
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert gettext("Not known") in facts[str(escape(gettext("Advance granted to the holder")))]
    assert gettext("Not known") in facts[str(escape(gettext("Subcontracting declared at notification")))]
    assert 'name="advance_payment"' not in page  # an observer does not answer


def test_the_buyers_officer_gives_an_imported_contracts_agec_figures(client, officer):
    officer.organisation.siret = "21940081900013"
    db.session.commit()
    record = {"id": "D-7", "acheteur": {"id": "21940081900013"}, "objet": "Portables reconditionnés",
              "codeCPV": "30213100", "procedure": "Procédure adaptée", "dateNotification": "2025-01-10",
              "montant": 41000, "dureeMois": 12, "titulaires": []}
    decp.import_decp(json.dumps({"marches": {"marche": [record]}}).encode())
    db.session.commit()
    imported = db.session.scalars(select(Contract)).one()
    assert (imported.agec_category, imported.agec_reuse_amount) == ("Matériel informatique et téléphonie", None)
    other = user_for_role(Role.PROCUREMENT_OFFICER)
    log_in(client, other)
    assert 'action="/procurement/contracts/%d/agec"' % imported.id not in page_text(
        client.get(f"/procurement/contracts/{imported.id}"))
    assert client.post(f"/procurement/contracts/{imported.id}/agec", data={
        "category": "none", "reuse_amount": "1", "recycled_amount": "0"}).status_code == 403

    log_in(client, officer)
    page = page_text(client.get(f"/procurement/contracts/{imported.id}"))
    assert f'action="/procurement/contracts/{imported.id}/agec"' in page
    response = client.post(f"/procurement/contracts/{imported.id}/agec", data={
        "category": "Matériel informatique et téléphonie", "reuse_amount": "41000.00", "recycled_amount": "0"})

    assert response.status_code == 302
    db.session.refresh(imported)
    assert (imported.agec_reuse_amount, imported.agec_recycled_amount) == (Decimal("41000.00"), Decimal("0.00"))
    # One amount without the other is refused with the service's message, and nothing changes.
    response = client.post(f"/procurement/contracts/{imported.id}/agec", data={
        "category": "Matériel informatique et téléphonie", "reuse_amount": "", "recycled_amount": "5"})
    assert response.status_code == 422
    assert shown(gettext("Give both amounts, or neither while they are not known."), page_text(response))
    db.session.refresh(imported)
    assert imported.agec_reuse_amount == Decimal("41000.00")


def test_a_modification_is_recorded_with_the_next_number_and_listed(client, officer):
    contract = manual_contract(officer, notified_on=date(2025, 6, 1))
    log_in(client, officer)
    before = client.post(f"/procurement/contracts/{contract.id}/modifications", data={
        "amount": "13000.00", "notified_on": "2025-05-01", "published_on": "2025-05-02"})
    assert before.status_code == 422
    assert shown(gettext("A modification is notified after its contract (notified on %(date)s).",
                         date="01/06/2025"), page_text(before))
    nothing = client.post(f"/procurement/contracts/{contract.id}/modifications", data={
        "notified_on": "2025-07-01", "published_on": "2025-07-02", "description": "Rien"})
    assert nothing.status_code == 422
    assert 'value="2025-07-01"' in page_text(nothing)  # what was typed is kept

    for amount, notified in (("13000.00", "2025-07-01"), ("14000.00", "2025-09-01")):
        response = client.post(f"/procurement/contracts/{contract.id}/modifications", data={
            "amount": amount, "notified_on": notified, "published_on": notified, "description": "Avenant"})
        assert response.status_code == 302

    db.session.refresh(contract)
    assert [(m.number, m.amount, m.created_by_id) for m in contract.modifications] == [
        (1, Decimal("13000.00"), officer.id), (2, Decimal("14000.00"), officer.id)]
    assert contract.amount == Decimal("12000.00")  # the initial amount stays
    page = page_text(client.get(f"/procurement/contracts/{contract.id}"))
    assert "modifications-caption" in page and page.count('<th scope="row">2</th>') == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "contract.modification_added")) == 2


def test_two_modifications_recorded_at_once_do_not_both_take_the_same_number(client, officer, monkeypatch):
    contract = manual_contract(officer, notified_on=date(2025, 6, 1))
    service.add_modification(officer, contract, service.ModificationData(
        notified_on=date(2025, 7, 1), published_on=date(2025, 7, 1), duration_months=18))
    db.session.commit()
    # The second officer read the contract before the first one's modification was committed.
    monkeypatch.setattr(service, "_next_modification_number", lambda contract: 1)
    log_in(client, officer)

    response = client.post(f"/procurement/contracts/{contract.id}/modifications", data={
        "amount": "15000.00", "notified_on": "2025-07-02", "published_on": "2025-07-02"})

    assert response.status_code == 422
    assert shown(gettext("Another modification of this contract was recorded at the same moment, with the same "
                         "number: this one was not recorded. Check the contract's modifications and record it "
                         "again if it is still needed."), page_text(response))
    db.session.refresh(contract)
    assert [(m.number, m.duration_months, m.amount) for m in contract.modifications] == [(1, 18, None)]


def test_an_imported_contract_is_not_modified_here(client, officer):
    officer.organisation.siret = "21940081900013"
    db.session.commit()
    record = {"id": "D-8", "acheteur": {"id": "21940081900013"}, "objet": "Écrans", "codeCPV": "30231300",
              "procedure": "Procédure adaptée", "dateNotification": "2025-01-10", "montant": 41000,
              "dureeMois": 12, "titulaires": []}
    decp.import_decp(json.dumps({"marches": {"marche": [record]}}).encode())
    db.session.commit()
    imported = db.session.scalars(select(Contract)).one()
    log_in(client, officer)
    assert f"/procurement/contracts/{imported.id}/modifications" not in page_text(
        client.get(f"/procurement/contracts/{imported.id}"))

    response = client.post(f"/procurement/contracts/{imported.id}/modifications", data={
        "amount": "50000.00", "notified_on": "2025-03-01", "published_on": "2025-03-01"})

    assert response.status_code == 422
    assert shown(gettext("An imported contract's modifications come from its DECP file."), page_text(response))
    assert db.session.scalar(select(func.count(ContractModification.id))) == 0


def test_a_contract_notified_from_22_august_2026_without_environmental_consideration_is_flagged(client, officer):
    flagged = manual_contract(officer, decp_id="AFTER", notified_on=date(2026, 8, 22))
    earlier = manual_contract(officer, decp_id="BEFORE", notified_on=date(2026, 8, 21))
    green = manual_contract(officer, decp_id="GREEN", notified_on=date(2026, 9, 1),
                            clauses=[clause("ENV-A35", Theme.DURABILITY)])
    log_in(client, user_for_role(Role.OBSERVER))
    flag = gettext("Notified from 22 August 2026 without any environmental consideration: Loi Climat et Résilience "
                   "(art. 35) asks for them in the technical specifications (CCP L.2111-2), the execution "
                   "conditions (L.2112-2) and at least one award criterion (L.2152-7). Check its procedure.")

    assert shown(flag, page_text(client.get(f"/procurement/contracts/{flagged.id}")))
    assert not shown(flag, page_text(client.get(f"/procurement/contracts/{earlier.id}")))
    assert not shown(flag, page_text(client.get(f"/procurement/contracts/{green.id}")))
