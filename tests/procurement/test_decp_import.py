"""The DECP import: v2 and v1 files, messy records, idempotence, refusal of files that are not DECP, the
command line and the web page. Every summary must count each record read exactly once."""
from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select, text

from core.errors import RuleViolation
from core.extensions import db
from core.models import AuditEntry, Organisation, OrganisationKind, Role, ValidationStatus
from procurement import decp
from procurement.models import Contract, ContractModification, ContractSource, ProcedureType
from procurement.services import contracts as contract_service
from tests.factories import OrganisationFactory, user_for_role
from tests.matrix import log_in

DATA = Path(__file__).parent / "data"
# Copies of ../shared/reference/decp/*.json (Unlicense), so that the suite needs nothing outside the repo.
EXAMPLES = ("marches_avec_modifications.json", "marches_concessions.json")
VITRY = "21940081900013"
VITRY_OTHER_ESTABLISHMENT = "21940081900427"
SUPPLIER = "44455566800011"


@pytest.fixture
def buyer():
    return OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=VITRY, name="Ville de Vitry-sur-Seine")


@pytest.fixture
def supplier():
    return OrganisationFactory(kind=OrganisationKind.SUPPLIER, siret=SUPPLIER, name="Ateliers Numériques Solidaires",
                               is_ess=True, is_siae=True)


def counted_once(summary: decp.ImportSummary) -> bool:
    return summary.read == (summary.imported + summary.updated + summary.unchanged + summary.duplicates
                            + summary.skipped_other_buyers + summary.skipped_concessions + len(summary.rejected))


def run(source, all_buyers: bool = False) -> decp.ImportSummary:
    summary = decp.import_decp(DATA / source if isinstance(source, str) else source, all_buyers=all_buyers)
    db.session.commit()
    assert counted_once(summary)
    return summary


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def warned(summary: decp.ImportSummary, message: str) -> bool:
    return any(message in warning for warning in summary.warnings)


def contract(decp_id: str) -> Contract:
    return db.session.scalars(select(Contract).where(Contract.decp_id == decp_id)).one()


def test_the_examples_by_default_are_all_other_buyers(buyer):
    modifications = run("marches_avec_modifications.json")
    assert (modifications.read, modifications.skipped_other_buyers, modifications.imported) == (2, 2, 0)
    concessions = run("marches_concessions.json")
    assert (concessions.read, concessions.skipped_other_buyers, concessions.skipped_concessions) == (4, 2, 2)
    assert count(Contract) == 0
    assert count(Organisation) == 1  # the fixture's buyer only


def test_the_examples_with_all_buyers_create_the_buyers_and_keep_the_modification():
    summary = run("marches_avec_modifications.json", all_buyers=True)
    # TEST2022's buyer id fails the SIRET key, so it cannot be created; it has the SIREN of TEST2022Bis's buyer,
    # created from the file, and goes to it.
    assert (summary.imported, summary.buyers_created, summary.rejected) == (2, 1, [])
    assert contract("TEST2022").buyer_id == contract("TEST2022Bis").buyer_id
    imported = contract("TEST2022Bis")
    assert imported.source is ContractSource.DECP
    assert imported.buyer.kind is OrganisationKind.EXTERNAL_BUYER
    assert imported.buyer.siret == "21750001630040" and imported.buyer.users == []
    assert imported.buyer.validation_status is ValidationStatus.VALIDATED and len(imported.buyer.sites) == 1
    # The record's montant, dureeMois and titulaires stay the initial ones; modification 1 brings the new ones.
    assert imported.amount == Decimal("575000.00") and imported.duration_months == 48
    assert imported.holder_id == "55204599900869" and imported.supplier_id is None
    [modification] = imported.modifications
    assert (modification.number, modification.notified_on, modification.published_on, modification.amount,
            modification.duration_months, modification.holder_id, modification.holder_id_type) == (
        1, date(2022, 10, 18), date(2022, 10, 20), Decimal("123457.87"), 12, "868768687576575", "SIRET")
    current = contract_service.current_terms(imported)
    assert (current.amount, current.duration_months, current.holder_id) == (Decimal("123457.87"), 12,
                                                                             "868768687576575")
    assert warned(summary, gettext("A holder's SIRET is not valid: kept as given."))
    # The other DECP v2 fields, as the record gives them.
    assert (imported.techniques, imported.execution_modalities, imported.ccag) == (
        ["Concours", "Accord-cadre"], ["Tranches"], "Travaux")
    assert (imported.innovative, imported.advance_payment, imported.subcontracting_declared) == (True, True, True)
    assert (imported.operator_grouping, imported.place_code, imported.place_code_type) == (
        "Pas de groupement", "75000", "Code postal")
    assert (imported.price_types, imported.price_form, imported.offers_received) == (
        ["Définitif ferme"], "Forfaitaire", 4)
    assert imported.cpv == "45000000-7" and warned(summary, gettext("CPV code not in Circuit's list: kept as given."))
    assert imported.procedure == ProcedureType.OPEN.decp and imported.notified_on.isoformat() == "2024-05-15"
    assert imported.environmental_considerations == ["Clause environnementale"]
    assert imported.social_considerations == ["Clause sociale", "Critère social"]
    assert imported.env_score == 20
    assert imported.env_score_breakdown == [{"source": "decp", "label": "Clause environnementale",
                                             "mechanism": "execution_clause", "points": 20}]
    assert imported.decp_record["id"] == "TEST2022Bis"

    concessions = run("marches_concessions.json", all_buyers=True)
    assert (concessions.read, concessions.skipped_concessions, concessions.unchanged) == (4, 2, 2)
    again = run("marches_avec_modifications.json", all_buyers=True)
    assert (again.imported, again.updated, again.unchanged, again.buyers_created) == (0, 0, 2, 0)
    by_default = run("marches_avec_modifications.json")  # the created buyer is now on the platform
    assert (by_default.unchanged, by_default.skipped_other_buyers) == (2, 0)
    assert count(Contract) == 2


def test_a_buyer_siret_with_a_wrong_key_is_rejected_when_it_must_be_created():
    record = json.loads((DATA / "decp_mixed_bom.json").read_text(encoding="utf-8-sig"))["marches"]["marche"][0]
    content = json.dumps({"marches": {"marche": [dict(record, acheteur={"id": "12345678901234"}), record]}}).encode()
    assert run(content).skipped_other_buyers == 2  # by default it is simply not a platform buyer
    summary = run(content, all_buyers=True)
    assert summary.imported == 1 and [(r["index"], r["id"]) for r in summary.rejected] == [(0, "2024PC017")]
    assert count(Organisation) == 1


def test_a_messy_v1_file_is_mapped_or_reported_record_by_record(buyer, supplier):
    summary = run("decp_v1_messy.json")
    assert summary.format == "v1"
    assert (summary.read, summary.imported, summary.duplicates, summary.skipped_concessions,
            summary.skipped_other_buyers) == (11, 5, 1, 1, 1)
    assert [(r["index"], r["id"]) for r in summary.rejected] == [(5, "2023-004"), (7, "2023-006"), (8, "2023-007")]
    assert all(r["reason"] for r in summary.rejected)

    first = contract("2023-001")  # date with a time-zone suffix, CPV without check digit, platform holder
    assert first.notified_on.isoformat() == "2023-03-15" and first.cpv == "30213100-6"
    assert first.supplier_id == supplier.id and first.holder_name == supplier.name
    # v1 "Ferme" is a v2 price type; the price form is not known.
    assert first.amount == Decimal("45000.50") and (first.price_types, first.price_form) == (["Définitif ferme"], "")
    assert (first.place_code, first.place_code_type) == ("94400", "Code postal")
    # A v1 record states no considerations: unknown, not "none"; nor techniques, CCAG, advance...
    assert not first.env_considerations_known and first.environmental_considerations == []
    assert (first.techniques, first.ccag, first.advance_payment, first.innovative) == ([], "", None, None)
    assert first.env_score == 0

    framework = contract("2023-002")  # v1 nature "Accord-cadre", price form "Révisable"
    assert framework.nature == "Marché" and framework.procedure == ProcedureType.NEGOTIATED.decp
    assert framework.techniques == ["Accord-cadre"]
    assert (framework.price_types, framework.price_form) == (["Définitif révisable"], "")
    assert (contract("2023-003").price_types, contract("2023-003").price_form) == (["Définitif actualisable"], "")
    assert contract("2023-009").techniques == ["Accord-cadre"]  # "Marché subséquent": under a framework agreement
    assert framework.amount == Decimal("0.00") and framework.duration_months == 36
    assert framework.notified_on.isoformat() == "2023-04-01" and framework.published_on.isoformat() == "2023-04-03"
    assert framework.supplier_id is None and framework.holder_id == "55566677500013"
    assert framework.holder_name == "MAINTENANCE SA"
    assert warned(summary, gettext("Amount 0 or missing: kept as 0 (indicators may leave such contracts out)."))
    assert warned(summary, gettext("Procedure “%(given)s” read as “%(mapped)s”.",
                                   given="Procédure négociée avec mise en concurrence préalable",
                                   mapped=ProcedureType.NEGOTIATED.decp))
    assert warned(summary, gettext("Nature “%(given)s” (DECP v1) read as “Marché” (technique Accord-cadre in "
                                   "DECP v2).", given="Accord-cadre"))
    assert warned(summary, gettext("Price form “%(given)s” (DECP v1) read as the price type “%(mapped)s” (DECP "
                                   "v2); the price form is not known.", given="Révisable",
                                   mapped="Définitif révisable"))

    screens = contract("2023-003")  # French date, malformed CPV, amount as French text, no holder
    assert screens.notified_on.isoformat() == "2023-05-15" and screens.cpv == ""
    assert screens.amount == Decimal("12500.00") and screens.holder_id == "" and screens.holder_name == ""
    assert screens.procedure == ProcedureType.WITHOUT_NOTICE.decp
    assert warned(summary, gettext("CPV code missing or malformed: left empty."))
    assert warned(summary, gettext("No holder (titulaires): the holder is left empty."))

    works = contract("2023-008")  # unknown procedure and CPV kept; its initial amount and duration
    assert works.procedure == "Procédure spéciale" and works.cpv == "45000000-7"
    assert works.amount == Decimal("50000.00") and works.duration_months == 12
    # Its v1 modifications give no publication date, which a listed modification needs: kept in the record only.
    assert works.modifications == [] and len(works.decp_record["modifications"]) == 2
    assert warned(summary, gettext("A modification has no readable notification or publication date: kept in the "
                                   "record only, not listed."))
    assert warned(summary, gettext("Procedure “%(given)s” is not in the DECP v2 list: kept as given.",
                                   given="Procédure spéciale"))

    projectors = contract("2023-009")  # another establishment of the buyer's SIREN
    assert projectors.buyer_id == buyer.id and projectors.holder_id == "12345678901234"
    assert warned(summary, gettext("A holder's SIRET is not valid: kept as given."))
    assert any("#3 2023-001" in w for w in summary.warnings)  # the repeated record is named
    assert count(Organisation) == 2  # nothing created without --all-buyers

    again = run("decp_v1_messy.json")
    assert (again.imported, again.updated, again.unchanged, again.duplicates, len(again.rejected)) == (0, 0, 5, 1, 3)
    assert count(Contract) == 5


def test_a_v2_file_with_a_bom_reads_the_considerations_and_skips_the_concessions(buyer, supplier):
    summary = run("decp_mixed_bom.json")
    assert (summary.format, summary.read, summary.imported, summary.skipped_concessions) == ("v2", 3, 2, 1)
    reserved = contract("2024PC017")
    assert (reserved.env_clause, reserved.env_criterion, reserved.social_clause, reserved.reserved) == (
        True, True, True, True)
    assert reserved.social_criterion is False and reserved.env_score == 40
    assert reserved.offers_received == 3 and reserved.supplier_id == supplier.id
    phones = contract("2022-044")  # a v1-shaped record inside a v2 file
    assert phones.cpv == "32250000-0" and phones.holder_name == "MOBILES SOLIDAIRES" and not phones.env_clause


def test_a_suppliers_siret_given_as_buyer_is_another_buyer(supplier):
    data = json.loads((DATA / "decp_mixed_bom.json").read_text(encoding="utf-8-sig"))
    for record in data["marches"]["marche"]:
        record["acheteur"] = {"id": SUPPLIER}
    summary = run(json.dumps(data).encode())
    assert summary.imported == 0 and summary.skipped_other_buyers >= 1
    assert count(Contract) == 0


def test_a_later_publication_updates_the_contract(buyer):
    run("decp_mixed_bom.json")
    data = json.loads((DATA / "decp_mixed_bom.json").read_text(encoding="utf-8-sig"))
    data["marches"]["marche"][0]["modifications"] = [{"modification": {
        "id": 1, "montant": 70000, "dateNotificationModification": "2024-09-01",
        "datePublicationDonneesModification": "2024-09-05"}}]
    summary = run(json.dumps(data).encode())
    assert (summary.updated, summary.unchanged, summary.imported) == (1, 1, 0)
    updated = contract("2024PC017")
    assert updated.amount == Decimal("64000.00")  # the initial montant, as published
    assert [(m.number, m.amount, m.notified_on) for m in updated.modifications] == [
        (1, Decimal("70000.00"), date(2024, 9, 1))]
    assert contract_service.current_terms(updated).amount == Decimal("70000.00")
    assert count(Contract) == 2

    assert run(json.dumps(data).encode()).unchanged == 2  # the same publication again changes nothing
    data["marches"]["marche"][0]["modifications"].append({"modification": {
        "id": 2, "dureeMois": 30, "dateNotificationModification": "2025-01-10",
        "datePublicationDonneesModification": "2025-01-12"}})
    assert run(json.dumps(data).encode()).updated == 1
    db.session.refresh(updated)
    assert [(m.number, m.amount, m.duration_months) for m in updated.modifications] == [
        (1, Decimal("70000.00"), None), (2, None, 30)]
    assert count(ContractModification) == 2


def test_v2_values_outside_the_schema_lists_are_left_out_with_a_warning(buyer):
    data = json.loads((DATA / "decp_mixed_bom.json").read_text(encoding="utf-8-sig"))
    record = data["marches"]["marche"][0]
    record.update(ccag="CCAG maison", marcheInnovant="oui", typeGroupementOperateurs="Consortium",
                  techniques={"technique": ["Sans objet", "Bidule"]}, typesPrix={"typePrix": ["Ferme"]},
                  lieuExecution={"code": "94081", "typeCode": "Code INSEE"}, formePrix="Au forfait")
    summary = run(json.dumps({"marches": {"marche": [record]}}).encode())

    imported = contract("2024PC017")
    assert (imported.ccag, imported.innovative, imported.operator_grouping) == ("", None, "")
    assert (imported.techniques, imported.price_types, imported.price_form) == (["Sans objet"], [], "")
    assert (imported.place_code, imported.place_code_type) == ("", "")
    # What the record gives within the lists is kept.
    assert (imported.execution_modalities, imported.advance_payment, imported.offers_received) == (
        ["Bons de commande"], False, 3)
    for field, given in (("ccag", "CCAG maison"), ("typeGroupementOperateurs", "Consortium"),
                         ("technique", "Bidule"), ("typePrix", "Ferme"), ("formePrix", "Au forfait")):
        assert warned(summary, gettext("%(field)s “%(given)s” is not in the DECP v2 list: left out.", field=field,
                                       given=given)), field
    assert warned(summary, gettext("%(field)s “%(given)s” is not true or false: left out.",
                                   field="marcheInnovant", given="oui"))
    assert warned(summary, gettext("The place of execution (lieuExecution) is incomplete or not valid: left out."))


def test_an_imported_v1_record_keeps_its_v2_meaning_on_its_page(client, buyer, supplier):
    run("decp_v1_messy.json")
    log_in(client, user_for_role(Role.OBSERVER))

    page = client.get(f"/procurement/contracts/{contract('2023-002').id}").get_data(as_text=True)

    # A template's translated labels are written as they are (Jinja marks a translation safe).
    facts = {dt: dd for dt, dd in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page)}
    assert facts[gettext("Price types")] == "Définitif révisable"
    assert facts[gettext("Purchasing techniques")] == "Accord-cadre"
    assert gettext("Not known") in facts[gettext("Price form")]
    assert gettext("Not known") in facts[gettext("CCAG of reference")]
    assert gettext("Not known: the DECP record states none.") in facts[gettext("Environmental")]


def test_a_record_repeated_with_other_content_keeps_the_first(buyer):
    data = json.loads((DATA / "decp_mixed_bom.json").read_text(encoding="utf-8-sig"))
    later = dict(data["marches"]["marche"][0], montant=99999)
    data["marches"]["marche"].append(later)
    summary = run(json.dumps(data).encode())
    assert (summary.imported, summary.duplicates) == (2, 1)
    assert contract("2024PC017").amount == Decimal("64000.00")


def test_a_contract_made_here_is_never_replaced_by_a_record(buyer):
    officer = user_for_role(Role.PROCUREMENT_OFFICER, organisation=buyer)
    manual = contract_service.create_manual(officer, buyer, contract_service.ContractData(
        decp_id="2024PC017", title="Portables", cpv="30213100-6", procedure=ProcedureType.ADAPTED,
        amount=Decimal("1000.00"), notified_on=date(2024, 5, 1), duration_months=12,
        holder_name="Holder"))
    db.session.commit()
    summary = run("decp_mixed_bom.json")
    assert summary.imported == 1 and [r["id"] for r in summary.rejected] == ["2024PC017"]
    assert str(ContractSource.MANUAL.label) in summary.rejected[0]["reason"]
    db.session.refresh(manual)
    assert manual.source is ContractSource.MANUAL and manual.amount == Decimal("1000.00")


def test_the_caller_commits_or_rolls_back_the_whole_file(buyer):
    summary = decp.import_decp(DATA / "decp_v1_messy.json", all_buyers=True)
    assert summary.imported == 6 and summary.buyers_created == 1
    db.session.rollback()  # e.g. a preview: nothing of the file stays, on SQLite as on PostgreSQL
    assert (count(Contract), count(Organisation)) == (0, 1)


def test_a_database_error_rolls_back_only_its_record(buyer, monkeypatch):
    real = decp.considerations_service.refresh

    def failing(contract, decp_considerations=None, **known):
        real(contract, decp_considerations, **known)
        if contract.decp_id == "2023-002":
            db.session.flush()
            db.session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    monkeypatch.setattr(decp.considerations_service, "refresh", failing)
    summary = run("decp_v1_messy.json")
    assert summary.imported == 4
    assert [r["index"] for r in summary.rejected] == [1, 5, 7, 8]
    assert db.session.scalar(select(Contract.id).where(Contract.decp_id == "2023-002")) is None
    assert {c.decp_id for c in db.session.scalars(select(Contract))} == {"2023-001", "2023-003", "2023-008", "2023-009"}


NOT_DECP = {
    "csv": (DATA / "not_decp.csv").read_bytes(),
    "json without marches": (DATA / "not_decp.json").read_bytes(),
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "json list": b"[{\"id\": \"1\"}]",
    "marches is text": b"{\"marches\": \"none\"}",
    "marches without lists": b"{\"marches\": {\"contrats\": []}}",
}


@pytest.mark.parametrize("content", NOT_DECP.values(), ids=NOT_DECP.keys())
def test_a_file_that_is_not_decp_is_refused_and_nothing_is_written(buyer, content):
    before = (count(Contract), count(Organisation), count(AuditEntry))
    with pytest.raises(RuleViolation):
        decp.import_decp(content, all_buyers=True)
    db.session.rollback()
    assert (count(Contract), count(Organisation), count(AuditEntry)) == before


def test_dates_are_read_as_written():
    for value in ("2024-05-15", "2024-05-15+02:00", "2024-05-15T00:00:00Z", "2024-05-15T23:30:00-05:00",
                  "15/05/2024"):
        assert decp.parse_date(value).isoformat() == "2024-05-15", value
    for value in ("2024-02-30", "mai 2024", "", None, "2024-05-15 n'importe quoi"):
        assert decp.parse_date(value) is None, value


# --- command line ------------------------------------------------------------------------------

def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["contracts", "import-decp", *args])


def test_the_command_prints_the_json_summary_last(app, buyer, supplier):
    result = invoke(app, str(DATA / "decp_v1_messy.json"))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert {"read", "imported", "updated", "skipped_other_buyers", "rejected", "warnings"} <= summary.keys()
    assert (summary["read"], summary["imported"], summary["duplicates"]) == (11, 5, 1)
    assert summary["rejected"][0] == {"index": 5, "id": "2023-004", "reason": summary["rejected"][0]["reason"]}
    assert count(Contract) == 5
    again = json.loads(invoke(app, str(DATA / "decp_v1_messy.json")).output.strip().splitlines()[-1])
    assert (again["imported"], again["unchanged"]) == (0, 5)


def test_the_command_creates_the_buyers_with_all_buyers(app):
    result = invoke(app, str(DATA / "marches_avec_modifications.json"), "--all-buyers")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["imported"] == 2
    assert count(Contract) == 2


def test_the_command_refuses_a_file_that_is_not_decp(app, buyer):
    before = (count(Contract), count(Organisation))
    result = invoke(app, str(DATA / "not_decp.csv"))
    assert result.exit_code != 0
    assert "DECP" in result.output
    assert (count(Contract), count(Organisation)) == before


# --- the web page ------------------------------------------------------------------------------

def upload(client, content: bytes, **fields):
    return client.post("/procurement/contracts/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), "decp.json"), **fields})


def test_the_import_page_shows_the_summary(client, buyer, supplier):
    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER, organisation=buyer))
    assert client.get("/procurement/contracts/import").status_code == 200
    response = upload(client, (DATA / "decp_v1_messy.json").read_bytes())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for rejected_id in ("2023-004", "2023-006", "2023-007"):
        assert rejected_id in page
    assert str(escape(gettext("CPV code missing or malformed: left empty."))) in page
    assert count(Contract) == 5


def test_the_import_page_answers_422_to_a_file_that_is_not_decp(client, buyer):
    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER, organisation=buyer))
    before = (count(Contract), count(Organisation))
    content = (DATA / "not_decp.csv").read_bytes()
    with pytest.raises(RuleViolation) as refusal:
        decp.read_file(content)
    response = upload(client, content)
    assert response.status_code == 422
    assert str(escape(str(refusal.value))) in response.get_data(as_text=True)
    assert (count(Contract), count(Organisation)) == before


def test_only_an_admin_imports_all_buyers(client):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    log_in(client, officer)
    assert 'name="all_buyers"' not in client.get("/procurement/contracts/import").get_data(as_text=True)
    content = (DATA / "marches_avec_modifications.json").read_bytes()
    assert upload(client, content, all_buyers="y").status_code == 403
    assert count(Contract) == 0

    admin = user_for_role(Role.ADMIN)
    log_in(client, admin)
    assert 'name="all_buyers"' in client.get("/procurement/contracts/import").get_data(as_text=True)
    assert upload(client, content, all_buyers="y").status_code == 200
    assert count(Contract) == 2
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.kind == OrganisationKind.EXTERNAL_BUYER)) == 1
