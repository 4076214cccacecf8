"""Procurement on the JSON API: tenders, one's own sealed bids, the contracts register."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import services as core_services
from core.extensions import db
from core.models import AuditEntry, Role
from procurement import decp
from procurement.models import (Bid, BidStatus, Contract, CriterionKind, Mechanism, ProcedureType, Reservation,
                                Theme)
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from procurement.services import evaluation
from procurement.services import tenders as tender_service
from tests.factories import (MEMO_PDF, OrganisationFactory, clause, close, draft_tender, published_tender,
                             submit_bid, user_for_role)

API = "/api/v1"
SEALED_PRICE = "23456.78"


def bearer(user) -> dict:
    _, clear_token = core_services.create_api_token(user, "test")
    db.session.commit()
    return {"Authorization": f"Bearer {clear_token}"}


def supplier_named(name: str, **organisation):
    return user_for_role(Role.SUPPLIER, organisation=OrganisationFactory(name=name, **organisation))


def officer_of(name: str):
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(public=True, name=name))


def commitments_for(tender) -> list[dict]:
    return [{"clause_code": tc.version.clause.code, "committed": True, "evidence": "Fiche produit jointe."}
            for tc in tender.clauses]


def bid_body(tender, price="12345.00", memo: bytes | None = MEMO_PDF) -> dict:
    body = {"price": price, "memo_filename": "memoire.pdf", "commitments": commitments_for(tender)}
    if memo is not None:
        body["memo_pdf_base64"] = base64.b64encode(memo).decode()
    return body


@pytest.fixture
def officer():
    return officer_of("Ville d'Orly")


@pytest.fixture
def tender(officer):
    return published_tender(officer, lots=2)


# --- tenders -----------------------------------------------------------------------------------------

def test_tenders_lists_the_published_ones_and_the_callers_drafts(client, officer, tender):
    other_buyer = officer_of("Ville de Thiais")
    draft = draft_tender(other_buyer)
    supplier = supplier_named("ANS")

    body = client.get(f"{API}/tenders", headers=bearer(supplier)).get_json()
    assert [item["id"] for item in body["items"]] == [tender.id] and body["total"] == 1
    assert client.get(f"{API}/tenders/{draft.id}", headers=bearer(supplier)).status_code == 404
    assert client.get(f"{API}/tenders/{draft.id}", headers=bearer(officer)).status_code == 404
    own = client.get(f"{API}/tenders?status=draft", headers=bearer(other_buyer)).get_json()
    assert [item["id"] for item in own["items"]] == [draft.id]
    admin = client.get(f"{API}/tenders", headers=bearer(user_for_role(Role.ADMIN))).get_json()
    assert {item["id"] for item in admin["items"]} == {tender.id, draft.id}


def test_tenders_filters_and_pages(client, officer, tender):
    reserved = published_tender(officer, reservation=Reservation.ESS, cpv="30213200-7")
    headers = bearer(supplier_named("ANS"))

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/tenders?{query}", headers=headers)
        assert response.status_code == 200
        return sorted(item["id"] for item in response.get_json()["items"])

    assert ids("cpv=30213100-6") == [tender.id]
    assert ids("cpv=302132") == [reserved.id]
    assert ids("cpv=302") == sorted([tender.id, reserved.id])
    assert ids("reserved=true") == ids("reserved=ess") == [reserved.id]
    assert ids("reserved=false") == [tender.id]
    assert ids("reserved=siae") == []
    assert ids("status=published") == sorted([tender.id, reserved.id])
    assert ids(f"buyer_id={officer.organisation_id}") == sorted([tender.id, reserved.id])
    assert ids(f"buyer_id={officer.organisation_id + 1000}") == []
    page = client.get(f"{API}/tenders?per_page=1&page=2", headers=headers).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (2, 2, 1, 1)


@pytest.mark.parametrize("query", ["status=closed", "reserved=maybe", "cpv=laptops", "buyer_id=orly"])
def test_a_bad_tender_filter_is_a_400(client, query):
    response = client.get(f"{API}/tenders?{query}", headers=bearer(supplier_named("ANS")))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_a_tender_shows_its_lots_criteria_clauses_and_deadline_in_utc(client, tender):
    body = client.get(f"{API}/tenders/{tender.id}", headers=bearer(supplier_named("ANS"))).get_json()

    assert (body["reference"], body["status"], body["accepts_bids"]) == (tender.reference, "published", True)
    assert body["buyer"] == {"id": tender.buyer_id, "name": "Ville d'Orly", "siret": None}
    assert (body["cpv"], body["procedure"], body["estimated_value"]) == ("30213100-6", "adapted", "50000.00")
    deadline = datetime.fromisoformat(body["deadline"])
    assert deadline.utcoffset().total_seconds() == 0 and deadline == tender.deadline
    assert [(lot["number"], lot["quantity"], lot["estimated_value"], lot["bids"]) for lot in body["lots"]] == [
        (1, 100, "25000.00", None), (2, 100, "25000.00", None)]
    assert [(c["kind"], c["weight"]) for c in body["criteria"]] == [
        ("price", 60), ("technical", 20), ("environmental", 20)]
    specification, execution, award = body["clauses"]
    assert (specification["mechanism"], specification["binding"], specification["ocds_strategy"]) == (
        "technical_specification", True, "technicalSpecifications")
    assert execution | {"title": None, "text": None, "evidence": None, "id": None} == {
        "id": None, "code": tender.clauses[1].version.clause.code, "version": 1, "title": None, "text": None,
        "evidence": None, "theme": "take_back_weee", "mechanism": "execution_clause", "binding": True,
        "decp_consideration": "Clause environnementale", "ocds_goal": "environmental.circularEconomy",
        "ocds_strategy": "contractPerformanceConditions"}
    assert (award["mechanism"], award["binding"], award["decp_consideration"], award["ocds_strategy"]) == (
        "award_criterion", False, "Critère environnemental", "awardCriteria")


def test_answered_questions_are_shown_without_the_asker_except_to_the_buyer(client, officer, tender):
    asker = supplier_named("Recyclerie Curieuse")
    question = tender_service.ask(asker, tender, "Les chargeurs sont-ils inclus ?")
    unanswered = tender_service.ask(asker, tender, "Quelle garantie ?")
    db.session.commit()
    tender_service.answer(officer, question, "Oui, un chargeur par portable.")
    db.session.commit()

    other = client.get(f"{API}/tenders/{tender.id}", headers=bearer(supplier_named("ANS")))
    [shown] = other.get_json()["questions"]
    assert (shown["text"], shown["answer"], shown["mine"]) == (
        "Les chargeurs sont-ils inclus ?", "Oui, un chargeur par portable.", False)
    assert "asked_by" not in shown and "Recyclerie Curieuse" not in other.get_data(as_text=True)
    mine = client.get(f"{API}/tenders/{tender.id}", headers=bearer(asker)).get_json()["questions"]
    assert [(q["id"], q["mine"]) for q in mine] == [(question.id, True), (unanswered.id, True)]
    buyer = client.get(f"{API}/tenders/{tender.id}", headers=bearer(officer)).get_json()["questions"]
    assert [q["asked_by"] for q in buyer] == [{"id": asker.organisation_id, "name": "Recyclerie Curieuse"}] * 2


# --- submitting bids ---------------------------------------------------------------------------------

def test_a_supplier_submits_then_replaces_its_bid(client, tender):
    supplier = supplier_named("ANS")
    headers = bearer(supplier)
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"

    first = client.post(url, headers=headers, json=bid_body(tender, price="12345.00"))
    assert first.status_code == 201, first.get_data(as_text=True)
    created = first.get_json()
    assert (created["version"], created["price"], created["status"], created["lot"]["number"]) == (
        1, "12345.00", "submitted", 1)
    assert created["tender"] == {"id": tender.id, "reference": tender.reference, "title": tender.title}
    # The specification, the execution clause and the award-criterion clause of the tender.
    assert all(c["committed"] for c in created["commitments"]) and len(created["commitments"]) == 3

    replaced = client.post(url, headers=headers, json=bid_body(tender, price=11999.5, memo=None))
    assert replaced.status_code == 201, replaced.get_data(as_text=True)
    body = replaced.get_json()
    assert (body["public_id"], body["version"], body["price"]) == (created["public_id"], 2, "11999.50")
    assert body["memo_sha256"] == created["memo_sha256"]  # no new memo: the first one is kept
    bid = db.session.scalars(select(Bid)).one()
    assert (bid.version, bid.price) == (2, Decimal("11999.50"))
    assert body["receipt"] == bid_service.receipt(bid) != created["receipt"]

    own = client.get(f"{API}/bids", headers=headers).get_json()
    assert [(item["public_id"], item["version"]) for item in own["items"]] == [(bid.public_id, 2)]
    assert client.get(f"{API}/bids/{bid.public_id}", headers=headers).get_json()["receipt"] == body["receipt"]


@pytest.mark.parametrize(("change", "field"), [
    ({"price": "cheap"}, "price"),
    ({"price": "12.345"}, "price"),
    ({"price": True}, "price"),
    ({"price": None}, "price"),
    ({"memo_pdf_base64": "not base64!"}, "memo_pdf_base64"),
    ({"commitments": [{"clause_code": "NOPE", "committed": True, "evidence": "x"}]}, "commitments"),
    ({"commitments": "all"}, "commitments"),
    ({"discount": "10"}, "discount"),
])
def test_an_invalid_bid_field_is_a_422(client, tender, change, field):
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"

    response = client.post(url, headers=bearer(supplier_named("ANS")), json=bid_body(tender) | change)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]
    assert db.session.scalar(select(func.count()).select_from(Bid)) == 0


@pytest.mark.parametrize("change", [
    {"memo_pdf_base64": base64.b64encode(b"not a pdf").decode()},
    {"commitments": []},          # the execution clause binds every bidder
    {"price": "0"},
])
def test_a_bid_refused_by_a_rule_is_a_422(client, tender, change):
    body = bid_body(tender) | change
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"

    response = client.post(url, headers=bearer(supplier_named("ANS")), json=body)

    assert response.status_code == 422 and response.get_json()["error"]["code"] == "rule_violation"
    assert db.session.scalar(select(func.count()).select_from(Bid)) == 0


def test_a_first_bid_without_memo_is_refused(client, tender):
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"
    response = client.post(url, headers=bearer(supplier_named("ANS")), json=bid_body(tender, memo=None))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "rule_violation"


def test_a_bid_after_the_deadline_is_refused(client, tender):
    supplier = supplier_named("ANS")
    headers = bearer(supplier)
    bid = submit_bid(supplier, tender.lots[0])
    close(tender)
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"

    assert client.post(url, headers=headers, json=bid_body(tender)).status_code == 422
    assert client.post(f"{API}/bids/{bid.public_id}/withdraw", headers=headers).status_code == 422
    db.session.expire_all()
    assert (bid.version, bid.status) == (1, BidStatus.SUBMITTED)


@pytest.mark.parametrize("role", [Role.PROCUREMENT_OFFICER, Role.IT_MANAGER, Role.BENEFICIARY, Role.ADMIN,
                                  Role.OBSERVER])
def test_only_a_supplier_bids(client, tender, role):
    url = f"{API}/tenders/{tender.id}/lots/{tender.lots[0].id}/bids"
    response = client.post(url, headers=bearer(user_for_role(role)), json=bid_body(tender))
    assert response.status_code == 403


def test_a_pending_supplier_or_a_reserved_tender_refuses_the_bid(client, officer):
    reserved = published_tender(officer, reservation=Reservation.SIAE)
    url = f"{API}/tenders/{reserved.id}/lots/{reserved.lots[0].id}/bids"
    pending = supplier_named("Reboot Cachan", pending=True)

    assert client.post(url, headers=bearer(pending), json=bid_body(reserved)).status_code == 403
    not_siae = client.post(url, headers=bearer(supplier_named("GPI", is_siae=False)), json=bid_body(reserved))
    assert not_siae.status_code == 422
    siae = client.post(url, headers=bearer(supplier_named("ANS", is_siae=True)), json=bid_body(reserved))
    assert siae.status_code == 201


def test_a_lot_of_another_tender_is_a_404(client, officer, tender):
    other = published_tender(officer)
    url = f"{API}/tenders/{tender.id}/lots/{other.lots[0].id}/bids"
    response = client.post(url, headers=bearer(supplier_named("ANS")), json=bid_body(tender))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_supplier_withdraws_its_bid(client, tender):
    supplier = supplier_named("ANS")
    bid = submit_bid(supplier, tender.lots[0])
    headers = bearer(supplier)

    response = client.post(f"{API}/bids/{bid.public_id}/withdraw", headers=headers)

    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["withdrawn_at"] is not None) == ("withdrawn", True)
    again = client.post(f"{API}/bids/{bid.public_id}/withdraw", headers=headers)
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "rule_violation"


# --- sealing -----------------------------------------------------------------------------------------

@pytest.fixture
def sealed(officer, tender):
    bidder = supplier_named("Recyclerie Scellée")
    bid = submit_bid(bidder, tender.lots[0], price=SEALED_PRICE)
    return {"bidder": bidder, "bid": bid}


def test_before_the_opening_nobody_but_the_bidder_reads_the_bid(client, officer, tender, sealed):
    bid = sealed["bid"]
    others = [officer, user_for_role(Role.ADMIN),
              user_for_role(Role.IT_MANAGER, organisation=officer.organisation),
              user_for_role(Role.OBSERVER, organisation=officer.organisation), supplier_named("ANS")]
    unknown = client.get(f"{API}/bids/NoSuchBid000000", headers=bearer(others[0]))
    assert unknown.status_code == 404

    for user in others:
        headers = bearer(user)
        response = client.get(f"{API}/bids/{bid.public_id}", headers=headers)
        # The same answer as for a bid that does not exist.
        assert (response.status_code, response.get_json()) == (404, unknown.get_json())
        assert client.post(f"{API}/bids/{bid.public_id}/withdraw", headers=headers).status_code == 404
        for url in (f"{API}/tenders/{tender.id}", f"{API}/tenders", f"{API}/bids"):
            text = client.get(url, headers=headers).get_data(as_text=True)
            assert bid.public_id not in text and "Recyclerie Scellée" not in text and SEALED_PRICE not in text
        lots = client.get(f"{API}/tenders/{tender.id}", headers=headers).get_json()["lots"]
        assert all(lot["bids"] is None for lot in lots)
    other_supplier_bids = client.get(f"{API}/bids", headers=bearer(others[-1])).get_json()
    assert (other_supplier_bids["items"], other_supplier_bids["total"]) == ([], 0)
    # Nor does any refusal leave a trace of the bid in the audit log.
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "permission.denied")):
        assert entry.object_type != "Bid"
        assert "Recyclerie Scellée" not in entry.object_label + json.dumps(entry.changes, ensure_ascii=False)

    own = client.get(f"{API}/bids/{bid.public_id}", headers=bearer(sealed["bidder"]))
    assert (own.status_code, own.get_json()["price"], own.get_json()["supplier"]["name"]) == (
        200, SEALED_PRICE, "Recyclerie Scellée")


def test_after_the_opening_the_buyer_reads_the_bids_and_their_scores(client, officer, tender, sealed):
    rival = supplier_named("ANS")
    rival_bid = submit_bid(rival, tender.lots[0], price="30000.00", commit_award_clauses=False)
    close(tender)
    bid_service.open_bids(officer, tender)
    db.session.commit()
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    for bid in (sealed["bid"], rival_bid):
        evaluation.evaluate(officer, bid, technical, Decimal("8"), "Mémoire complet.")
    db.session.commit()

    read = client.get(f"{API}/bids/{sealed['bid'].public_id}", headers=bearer(officer))
    assert (read.status_code, read.get_json()["price"]) == (200, SEALED_PRICE)
    lot = client.get(f"{API}/tenders/{tender.id}", headers=bearer(officer)).get_json()["lots"][0]
    assert [(b["public_id"], b["price"], b["total"], b["rank"]) for b in lot["bids"]] == [
        (sealed["bid"].public_id, SEALED_PRICE, "96.00", 1), (rival_bid.public_id, "30000.00", "62.91", 2)]
    price_criterion = next(c for c in tender.criteria if c.kind is CriterionKind.PRICE)
    assert {"criterion_id": price_criterion.id, "points": "60.00"} in lot["bids"][0]["points"]
    # A bidder reads its own bid only; a supplier that did not bid reads none.
    rivals_view = client.get(f"{API}/tenders/{tender.id}", headers=bearer(rival)).get_json()["lots"][0]
    assert [b["public_id"] for b in rivals_view["bids"]] == [rival_bid.public_id]
    # ... and learns its points and rank with the decision, not while the evaluation runs.
    assert (rivals_view["bids"][0]["total"], rivals_view["bids"][0]["rank"]) == (None, None)
    evaluation.award(officer, tender.lots[0], sealed["bid"])
    db.session.commit()
    rivals_view = client.get(f"{API}/tenders/{tender.id}", headers=bearer(rival)).get_json()["lots"][0]
    assert (rivals_view["bids"][0]["total"], rivals_view["bids"][0]["rank"]) == ("62.91", 2)
    assert client.get(f"{API}/bids/{sealed['bid'].public_id}", headers=bearer(rival)).status_code == 404
    outsider = client.get(f"{API}/tenders/{tender.id}", headers=bearer(supplier_named("GPI"))).get_json()
    assert outsider["lots"][0]["bids"] == []


# --- contracts ---------------------------------------------------------------------------------------

@pytest.fixture
def register(officer):
    """A contract entered by hand with a platform supplier, one with an outside holder (2025), and one
    awarded on Circuit."""
    supplier = OrganisationFactory(name="ESAT Les Portes d'Orly", is_ess=True, is_ea_esat=True)
    weee = clause("E-WEEE", Theme.TAKE_BACK_WEEE, Mechanism.EXECUTION_CLAUSE)
    insertion = clause("S-INS", Theme.INSERTION_HOURS, Mechanism.EXECUTION_CLAUSE)
    entered = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id="2026M0001", title="Reconditionnement de portables", cpv="50320000-4",
        procedure=ProcedureType.ADAPTED, amount=Decimal("48000.00"), notified_on=date(2026, 3, 2),
        duration_months=24, supplier=supplier, clauses=[weee, insertion]))
    outside = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id="2025M0007", title="Écrans", cpv="30231300-0", procedure=ProcedureType.OPEN,
        amount=Decimal("90000.00"), notified_on=date(2025, 6, 30), duration_months=12,
        holder_id="44306184100047", holder_name="Grand Parc Informatique"))
    db.session.commit()
    return {"entered": entered, "outside": outside, "supplier": supplier}


def test_a_contract_shows_its_holder_considerations_and_score(client, officer, register):
    entered, supplier = register["entered"], register["supplier"]

    body = client.get(f"{API}/contracts/{entered.id}", headers=bearer(supplier_named("ANS"))).get_json()

    assert body["buyer"] == {"id": officer.organisation_id, "name": "Ville d'Orly", "siret": None}
    assert body["holder"] == {"id": supplier.siret, "id_type": "SIRET", "name": "ESAT Les Portes d'Orly",
                              "organisation_id": supplier.id, "locality": supplier.locality.value,
                              "is_ess": True, "is_ea_esat": True, "is_siae": False}
    assert (body["decp_id"], body["amount"], body["notified_on"], body["cpv"], body["procedure"]) == (
        "2026M0001", "48000.00", "2026-03-02", "50320000-4", "Procédure adaptée")
    assert body["considerations"] == {"environmental": ["Clause environnementale"], "social": ["Clause sociale"],
                                      "environmental_known": True, "social_known": True}
    assert body["env_score"] == 20
    assert [(item["code"], item["points"]) for item in body["env_score_breakdown"]] == [("E-WEEE", 20)]
    assert (body["source"], body["status"], body["tender"]) == ("manual", "notified", None)
    outside = client.get(f"{API}/contracts/{register['outside'].id}", headers=bearer(officer)).get_json()
    assert outside["holder"] == {"id": "44306184100047", "id_type": "SIRET", "name": "Grand Parc Informatique",
                                 "organisation_id": None, "locality": None, "is_ess": None, "is_ea_esat": None,
                                 "is_siae": None}
    assert outside["considerations"] == {"environmental": ["Pas de considération environnementale"],
                                         "social": ["Pas de considération sociale"], "environmental_known": True,
                                         "social_known": True}
    assert client.get(f"{API}/contracts/999999", headers=bearer(officer)).status_code == 404


def test_a_contract_gives_its_decp_fields_agec_figures_modifications_and_art35_flag(client, officer):
    """Entered by hand, notified after 22 August 2026 without environmental clause, then modified."""
    contract = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id="2026M0100", title="Serveurs", cpv="48820000-2", procedure=ProcedureType.ADAPTED,
        amount=Decimal("60000.00"), notified_on=date(2026, 9, 1), duration_months=36,
        holder_id="44306184100047", holder_name="Grand Parc Informatique", offers_received=4, nature="Marché",
        techniques=["Sans objet"], execution_modalities=["Tranches"], innovative=False,
        ccag="Techniques de l'information et de la communication", advance_payment=True,
        operator_grouping="Conjoint", place_code="94054", place_code_type="Code commune",
        published_on=date(2026, 9, 4), price_types=["Définitif actualisable"], price_form="Mixte",
        subcontracting_declared=False))
    db.session.commit()
    contract_service.add_modification(officer, contract, contract_service.ModificationData(
        notified_on=date(2026, 12, 1), published_on=date(2026, 12, 2), amount=Decimal("66000.00"),
        description="Deux serveurs de plus"))
    db.session.commit()

    body = client.get(f"{API}/contracts/{contract.id}", headers=bearer(officer)).get_json()

    assert {key: body[key] for key in ("nature", "techniques", "execution_modalities", "innovative", "ccag",
                                       "advance_payment", "operator_grouping", "place_of_execution", "published_on",
                                       "price_types", "price_form", "subcontracting_declared", "offers_received")} == {
        "nature": "Marché", "techniques": ["Sans objet"], "execution_modalities": ["Tranches"], "innovative": False,
        "ccag": "Techniques de l'information et de la communication", "advance_payment": True,
        "operator_grouping": "Conjoint", "place_of_execution": {"code": "94054", "type": "Code commune"},
        "published_on": "2026-09-04", "price_types": ["Définitif actualisable"], "price_form": "Mixte",
        "subcontracting_declared": False, "offers_received": 4}
    assert body["art35_missing"] is True
    # Servers are IT and telephony (AGEC); no refurbished-equipment clause: nothing from reuse.
    assert body["agec"] == {"category": "Matériel informatique et téléphonie", "reuse_amount": "0.00",
                            "recycled_amount": "0.00"}
    assert body["amount"] == "60000.00" and body["current"]["amount"] == "66000.00"
    assert body["modifications"] == [{"number": 1, "notified_on": "2026-12-01", "published_on": "2026-12-02",
                                      "amount": "66000.00", "duration_months": None, "holder": None,
                                      "description": "Deux serveurs de plus"}]


def test_an_imported_v1_record_keeps_its_v2_meaning_and_its_unknowns_in_the_api(client, officer):
    officer.organisation.siret = "21940081900013"
    db.session.commit()
    record = {"_type": "Marché", "id": "2023-002", "acheteur": {"id": "21940081900013"}, "nature": "Accord-cadre",
              "objet": "Maintenance du parc informatique", "codeCPV": "50312000-5",
              "procedure": "Appel d'offres ouvert", "dureeMois": 36, "dateNotification": "2023-04-01",
              "montant": 80000, "formePrix": "Révisable",
              "titulaires": [{"typeIdentifiant": "SIRET", "id": "55566677500013", "denominationSociale": "MAINT"}]}
    decp.import_decp(json.dumps({"marches": [record]}).encode())
    db.session.commit()
    imported = db.session.scalars(select(Contract).where(Contract.decp_id == "2023-002")).one()

    body = client.get(f"{API}/contracts/{imported.id}", headers=bearer(officer)).get_json()

    assert (body["nature"], body["techniques"], body["price_types"], body["price_form"]) == (
        "Marché", ["Accord-cadre"], ["Définitif révisable"], None)
    assert (body["ccag"], body["innovative"], body["advance_payment"], body["place_of_execution"]) == (
        None, None, None, None)
    assert body["considerations"] == {"environmental": None, "social": None, "environmental_known": False,
                                      "social_known": False}
    assert body["agec"] == {"category": None, "reuse_amount": None, "recycled_amount": None}
    assert body["art35_missing"] is False and body["modifications"] == []


def test_an_awarded_lot_enters_the_register(client, officer, tender):
    supplier = supplier_named("ANS")
    bid = submit_bid(supplier, tender.lots[0], price="24000.00")
    close(tender)
    bid_service.open_bids(officer, tender)
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    evaluation.evaluate(officer, bid, technical, Decimal("7"), "Correct.")
    contract = evaluation.award(officer, tender.lots[0], bid)
    db.session.commit()

    body = client.get(f"{API}/contracts/{contract.id}", headers=bearer(officer)).get_json()

    assert (body["source"], body["status"], body["amount"], body["notified_on"]) == (
        "tender", "awarded", "24000.00", None)
    assert body["tender"] == {"id": tender.id, "reference": tender.reference, "lot_number": 1}
    assert body["holder"]["organisation_id"] == supplier.organisation_id and body["offers_received"] == 1
    assert body["considerations"]["environmental"] == ["Clause environnementale", "Critère environnemental"]


def test_contracts_filters_and_pages(client, officer, register):
    headers = bearer(user_for_role(Role.OBSERVER))
    other_buyer = officer_of("Ville de Thiais")
    contract_service.create_manual(other_buyer, other_buyer.organisation, contract_service.ContractData(
        decp_id="2026T0001", title="Tablettes", cpv="30213200-7", procedure=ProcedureType.ADAPTED,
        amount=Decimal("41000.00"), notified_on=date(2026, 1, 15), duration_months=12, holder_name="Tab SA"))
    db.session.commit()

    def decp_ids(query: str = "") -> list[str]:
        response = client.get(f"{API}/contracts?{query}", headers=headers)
        assert response.status_code == 200
        return [item["decp_id"] for item in response.get_json()["items"]]

    assert decp_ids() == ["2026M0001", "2026T0001", "2025M0007"]  # latest notified first
    assert decp_ids("year=2025") == ["2025M0007"]
    assert decp_ids(f"buyer_id={officer.organisation_id}") == ["2026M0001", "2025M0007"]
    assert decp_ids("cpv=3023") == ["2025M0007"]
    assert decp_ids("cpv=30213200-7&year=2026") == ["2026T0001"]
    assert decp_ids("source=manual") == decp_ids() and decp_ids("source=decp") == []
    page = client.get(f"{API}/contracts?per_page=2&page=2", headers=headers).get_json()
    assert (page["total"], [item["decp_id"] for item in page["items"]]) == (3, ["2025M0007"])


@pytest.mark.parametrize("query", ["year=last", "source=excel", "cpv=écrans", "buyer_id=x"])
def test_a_bad_contract_filter_is_a_400(client, query):
    response = client.get(f"{API}/contracts?{query}", headers=bearer(supplier_named("ANS")))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_the_openapi_document_describes_the_procurement_api(client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert {"/tenders", "/tenders/{tender_id}", "/tenders/{tender_id}/lots/{lot_id}/bids", "/bids",
            "/bids/{public_id}", "/bids/{public_id}/withdraw", "/contracts",
            "/contracts/{contract_id}"} <= set(document["paths"])
    assert {"Tender", "TenderDetail", "Lot", "Bid", "BidInput", "Contract"} <= set(document["components"]["schemas"])
    assert "post" in document["paths"]["/tenders/{tender_id}/lots/{lot_id}/bids"]
