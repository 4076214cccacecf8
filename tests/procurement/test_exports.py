"""Open-data exports: DECP v2 validated against the official schema, OCDS 1.1 with the sustainability
extension validated against the release schema merged with the extension (the AGEC declaration is validated
against its Table Schema in test_agec.py); public, year required, never a bid. DECP and OCDS publish only the contracts
Circuit is the source of (tendered here, entered by hand), with only what each contract holds: imported ones
are counted, not republished; an incomplete one is left out with the fields it lacks."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import gettext
from jsonschema import Draft4Validator, Draft7Validator
from sqlalchemy import select

from core.extensions import db
from core.models import OrganisationKind, Role
from procurement import exports
from procurement.models import (ENV_CLAUSE, ENV_CRITERION, NO_SOCIAL, RESERVED, Contract, ContractSource,
                                ContractStatus, CriterionKind, Mechanism, ProcedureType, Theme)
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from procurement.services import considerations as considerations_service
from procurement.services import evaluation
from procurement.services import tenders as tender_service
from tests.factories import (OrganisationFactory, clause, close, draft_tender, published_tender, submit_bid,
                             user_for_role)
from tests.matrix import log_in

DATA = Path(__file__).parent / "data"
SEALED_PRICE = "77777.77"
PREFIX = "ocds-t3st01"  # a test value; a publisher asks the Open Contracting Partnership for its own


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture
def officer():
    vitry = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Vitry-sur-Seine", insee_code="94081")
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=vitry)


@pytest.fixture
def ocid_prefix(app, monkeypatch):
    monkeypatch.setitem(app.config, "OCDS_OCID_PREFIX", PREFIX)
    return PREFIX


def signed_tender_contract(officer, completed: bool = True) -> Contract:
    """A tender of the officer's commune with a reserved-contract clause, awarded, signed, and (unless told
    otherwise) completed by its officer with what the award does not tell."""
    tender = draft_tender(officer)
    tender_service.attach_clause(officer, tender, clause(f"RES-{tender.reference[-5:]}", Theme.RESERVED_CONTRACT,
                                                         Mechanism.SELECTION_CRITERION))
    tender_service.publish(officer, tender)
    db.session.commit()
    supplier = user_for_role(Role.SUPPLIER)
    bid = submit_bid(supplier, tender.lots[0], price="41000.00")
    close(tender)
    bid_service.open_bids(officer, tender)
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    evaluation.evaluate(officer, bid, technical, Decimal("8"), "Mémoire complet.")
    contract = evaluation.award(officer, tender.lots[0], bid)
    db.session.commit()
    contract_service.sign(officer, contract, now=contract.standstill_ends_at + timedelta(seconds=1))
    if completed:
        contract_service.complete_decp_fields(officer, contract, advance_payment=False, subcontracting_declared=False)
    db.session.commit()
    return contract


def manual_contract(officer, **overrides) -> Contract:
    """A contract entered by hand with every DECP field, each given a value other than the usual one, so
    that the export shows it took them from the contract."""
    data = contract_service.ContractData(
        decp_id="M-1", title="Écrans reconditionnés", cpv="30231300-0", procedure=ProcedureType.ADAPTED,
        amount=Decimal("12000.50"), notified_on=date(2025, 6, 1), duration_months=12,
        holder_id="35600000000048", holder_name="Écrans Solidaires", offers_received=2,
        clauses=[clause(f"E{overrides.get('decp_id', 'M-1')}", Theme.DURABILITY)],
        nature="Marché de défense ou de sécurité", techniques=["Accord-cadre"],
        execution_modalities=["Bons de commande"], innovative=True, ccag="Fournitures courantes et services",
        advance_payment=True, operator_grouping="Solidaire", place_code="94400", place_code_type="Code postal",
        price_types=["Définitif révisable"], price_form="Unitaire", subcontracting_declared=True)
    for key, value in overrides.items():
        setattr(data, key, value)
    if data.published_on is None:
        data.published_on = data.notified_on + timedelta(days=4)
    created = contract_service.create_manual(officer, officer.organisation, data)
    db.session.commit()
    return created


def imported_contract(buyer, notified_on: date, considerations: set[str], **overrides) -> Contract:
    """A complete record imported from a DECP file: published by its source, never republished here."""
    contract = Contract(buyer=buyer, decp_id="IMP-7", source=ContractSource.DECP, status=ContractStatus.NOTIFIED,
                        title="Maintenance du parc informatique", cpv="50312000-5",
                        procedure="Appel d'offres ouvert", amount=Decimal("90000"), duration_months=36,
                        notified_on=notified_on, published_on=notified_on, holder_id="35600000000048",
                        holder_name="Maintenance Services", offers_received=4, ccag="Fournitures courantes et services",
                        techniques=["Sans objet"], execution_modalities=["Sans objet"], innovative=False,
                        advance_payment=False, subcontracting_declared=False, operator_grouping="Pas de groupement",
                        place_code="94081", place_code_type="Code commune", price_types=["Définitif ferme"],
                        price_form="Forfaitaire", decp_record={"id": "IMP-7"})
    for key, value in overrides.items():
        setattr(contract, key, value)
    db.session.add(contract)
    considerations_service.refresh(contract, considerations)
    db.session.commit()
    return contract


@pytest.fixture
def register(officer):
    """The tendered contract notified this year, a manual and an imported one the same year, contracts
    that must stay out, and a tender whose bid is still sealed."""
    tendered = signed_tender_contract(officer)
    year = tendered.notified_on.year
    manual = manual_contract(officer, notified_on=date(year, 3, 2))
    imported = imported_contract(officer.organisation, date(year, 5, 1), {ENV_CRITERION, RESERVED})
    unexportable = manual_contract(officer, decp_id="M-NOID", holder_id="", notified_on=date(year, 4, 1),
                                   offers_received=None)
    malformed = manual_contract(officer, decp_id="M-CPV", notified_on=date(year, 4, 2))
    malformed.cpv = "3021XX00"  # as an older row or another tool may hold it
    last_year = manual_contract(officer, decp_id="M-OLD", notified_on=date(year - 1, 12, 31))
    outsider = OrganisationFactory(kind=OrganisationKind.EXTERNAL_BUYER, name="Ville hors plateforme")
    external = imported_contract(outsider, date(year, 2, 1), {ENV_CLAUSE}, decp_id="EXT-1")
    sealed = published_tender(title="Tablettes sous pli scellé")
    bidder = OrganisationFactory(kind=OrganisationKind.SUPPLIER, name="Fournisseur Sous Scellé")
    submit_bid(user_for_role(Role.SUPPLIER, organisation=bidder), sealed.lots[0], price=SEALED_PRICE)
    return {"year": year, "tendered": tendered, "manual": manual, "imported": imported,
            "unexportable": unexportable, "malformed": malformed, "last_year": last_year, "external": external}


# --- DECP ----------------------------------------------------------------------------------------------

def test_the_decp_export_holds_only_the_contracts_circuit_is_the_source_of_with_what_they_hold(client, register):
    response = client.get(f"/api/v1/exports/decp.json?year={register['year']}")  # no token

    assert response.status_code == 200
    document = response.get_json()
    Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
    records = {record["id"]: record for record in document["marches"]["marche"]}
    assert set(records) == {register["tendered"].decp_id, "M-1"}  # IMP-7 is its source's to publish
    assert response.headers["X-Circuit-Published-Contracts"] == "2"
    assert response.headers["X-Circuit-Not-Republished-Contracts"] == "1"
    assert response.headers["X-Circuit-Skipped-Contracts"] == "2"
    assert response.headers["X-Circuit-Skipped-Reasons"] == "codeCPV=1, offresRecues=1, titulaires=1"
    assert ("1 contract(s) imported from DECP files are published by their source and not republished."
            in response.headers["X-Circuit-Notes"])

    # Tendered here: what the award recorded, and what its officer completed (advance, subcontracting).
    tendered = records[register["tendered"].decp_id]
    contract = register["tendered"]
    assert tendered == {
        "id": contract.decp_id, "acheteur": {"id": contract.buyer.siret}, "nature": "Marché",
        "objet": contract.title, "codeCPV": "30213100-6", "techniques": {"technique": ["Sans objet"]},
        "modalitesExecution": {"modaliteExecution": ["Sans objet"]}, "marcheInnovant": False,
        "ccag": "Techniques de l'information et de la communication", "offresRecues": 1, "attributionAvance": False,
        "typeGroupementOperateurs": "Pas de groupement", "procedure": "Procédure adaptée",
        "lieuExecution": {"code": "94081", "typeCode": "Code commune"}, "dureeMois": 12,
        "dateNotification": contract.notified_on.isoformat(),
        "datePublicationDonnees": contract.notified_on.isoformat(), "montant": 41000,
        "typesPrix": {"typePrix": ["Définitif ferme"]}, "formePrix": "Forfaitaire", "sousTraitanceDeclaree": False,
        "titulaires": [{"titulaire": {"id": contract.supplier.siret, "typeIdentifiant": "SIRET"}}],
        "considerationsSociales": {"considerationSociale": [RESERVED]},
        "considerationsEnvironnementales": {"considerationEnvironnementale": [ENV_CLAUSE, ENV_CRITERION]}}

    # Entered by hand: every value as its officer gave it, none of the usual ones filled in.
    manual = records["M-1"]
    assert {key: manual[key] for key in ("nature", "techniques", "modalitesExecution", "marcheInnovant", "ccag",
                                         "offresRecues", "attributionAvance", "typeGroupementOperateurs",
                                         "lieuExecution", "datePublicationDonnees", "typesPrix", "formePrix",
                                         "sousTraitanceDeclaree", "montant")} == {
        "nature": "Marché de défense ou de sécurité", "techniques": {"technique": ["Accord-cadre"]},
        "modalitesExecution": {"modaliteExecution": ["Bons de commande"]}, "marcheInnovant": True,
        "ccag": "Fournitures courantes et services", "offresRecues": 2, "attributionAvance": True,
        "typeGroupementOperateurs": "Solidaire", "lieuExecution": {"code": "94400", "typeCode": "Code postal"},
        "datePublicationDonnees": f"{register['year']}-03-06", "typesPrix": {"typePrix": ["Définitif révisable"]},
        "formePrix": "Unitaire", "sousTraitanceDeclaree": True, "montant": 12000.5}
    assert manual["considerationsEnvironnementales"]["considerationEnvironnementale"] == [ENV_CLAUSE]
    assert manual["considerationsSociales"]["considerationSociale"] == [NO_SOCIAL]
    assert "modifications" not in manual  # none yet: the schema's array has at least one item


def test_a_contract_that_cannot_be_exported_is_left_out_with_its_reasons(app, register):
    document, report = exports.decp(register["year"])

    assert [(note.decp_id, note.contract_id, note.fields) for note in report.notes] == [
        ("M-NOID", register["unexportable"].id, ["offresRecues", "titulaires"]),
        ("M-CPV", register["malformed"].id, ["codeCPV"])]
    assert report.notes[1].message == "Not published: codeCPV missing or not valid (DECP v2.0.3)."
    assert "M-NOID" not in json.dumps(document) and "M-CPV" not in json.dumps(document)


def test_the_publication_report_counts_the_year_s_contracts_for_the_territory_and_a_buyer(app, register):
    ivry_officer = user_for_role(Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, name="Ville d'Ivry-sur-Seine", insee_code="94041"))
    manual_contract(ivry_officer, decp_id="IV-1", notified_on=date(register["year"], 1, 15), place_code="")
    imported_contract(ivry_officer.organisation, date(register["year"], 6, 1), set(), decp_id="IV-IMP")

    territory = exports.publication_report(register["year"])
    vitry = exports.publication_report(register["year"], register["tendered"].buyer)
    ivry = exports.publication_report(register["year"], ivry_officer.organisation)

    # The buyer outside the platform (EXT-1) counts nowhere; last year's contract neither.
    assert (territory.published, territory.not_republished, territory.unpublished) == (2, 2, 3)
    assert [(reason.field, reason.contracts) for reason in territory.reasons] == [
        ("codeCPV", 1), ("lieuExecution", 1), ("offresRecues", 1), ("titulaires", 1)]
    assert str(territory.reasons[0].label) == gettext("a well-formed CPV code")
    assert (vitry.published, vitry.not_republished, vitry.unpublished) == (2, 1, 2)
    assert (ivry.published, ivry.not_republished, ivry.unpublished) == (0, 1, 1)
    assert [note.decp_id for note in ivry.notes] == ["IV-1"]


def test_a_tendered_contract_is_published_once_its_officer_says_what_the_award_does_not_tell(client, officer):
    contract = signed_tender_contract(officer, completed=False)
    year = contract.notified_on.year
    assert (contract.advance_payment, contract.subcontracting_declared) == (None, None)  # not known: not guessed

    document, report = exports.decp(year)
    assert document["marches"]["marche"] == []
    assert report.notes[0].fields == ["attributionAvance", "sousTraitanceDeclaree"]
    log_in(client, officer)
    page = client.get(f"/procurement/contracts/{contract.id}").get_data(as_text=True)
    assert gettext("whether an advance is granted") in page and 'name="advance_payment"' in page

    response = client.post(f"/procurement/contracts/{contract.id}/complete",
                           data={"advance_payment": "yes", "subcontracting_declared": "no"})

    assert response.status_code == 302
    record = client.get(f"/api/v1/exports/decp.json?year={year}").get_json()["marches"]["marche"][0]
    assert (record["attributionAvance"], record["sousTraitanceDeclaree"]) == (True, False)
    assert 'name="advance_payment"' not in client.get(f"/procurement/contracts/{contract.id}").get_data(as_text=True)


def test_another_year_has_its_own_contracts_only(client, register):
    document = client.get(f"/api/v1/exports/decp.json?year={register['year'] - 1}").get_json()

    Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
    assert [record["id"] for record in document["marches"]["marche"]] == ["M-OLD"]


def test_a_buyer_without_siret_or_amount_below_one_euro_is_skipped(app):
    ept = OrganisationFactory(kind=OrganisationKind.EPT, siret=None, name="EPT sans SIRET")
    manual_contract(user_for_role(Role.PROCUREMENT_OFFICER, organisation=ept), decp_id="NOSIRET",
                    notified_on=date(2024, 2, 1))
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville avec SIRET")
    cheap = manual_contract(user_for_role(Role.PROCUREMENT_OFFICER, organisation=commune), decp_id="CHEAP",
                            notified_on=date(2024, 2, 1), amount=Decimal("0.50"))

    document, report = exports.decp(2024)

    assert document == {"marches": {"marche": []}}
    assert {note.decp_id: note.fields for note in report.notes} == {"NOSIRET": ["acheteur.id"], "CHEAP": ["montant"]}
    assert cheap.amount == Decimal("0.50")


def test_modifications_are_exported_as_decp_modifications_and_ocds_amendments(client, officer, ocid_prefix):
    contract = manual_contract(officer, notified_on=date(2025, 3, 3))
    log_in(client, officer)
    for data in ({"amount": "15000.00", "notified_on": "2025-09-01", "published_on": "2025-09-03",
                  "description": "Extension à 20 écrans de plus"},
                 {"duration_months": "18", "holder_name": "Écrans Réunis", "holder_siret": "732 829 320 00074",
                  "notified_on": "2025-11-04", "published_on": "2025-11-05"}):
        assert client.post(f"/procurement/contracts/{contract.id}/modifications", data=data).status_code == 302

    document = client.get("/api/v1/exports/decp.json?year=2025").get_json()
    Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
    [record] = document["marches"]["marche"]
    assert (record["montant"], record["dureeMois"]) == (12000.5, 12)  # the initial ones, as first published
    assert record["modifications"] == [
        {"modification": {"id": 1, "dateNotificationModification": "2025-09-01",
                          "datePublicationDonneesModification": "2025-09-03", "montant": 15000}},
        {"modification": {"id": 2, "dateNotificationModification": "2025-11-04",
                          "datePublicationDonneesModification": "2025-11-05", "dureeMois": 18,
                          "titulaires": [{"titulaire": {"id": "73282932000074", "typeIdentifiant": "SIRET"}}]}}]

    package = client.get("/api/v1/exports/ocds.json?year=2025").get_json()
    [release] = package["releases"]
    release_validator().validate(release)
    assert release["tag"] == ["award", "contract", "contractAmendment"]
    assert release["id"] == "M-1-modification-2" and release["date"] == "2025-11-04T00:00:00+01:00"
    assert release["awards"][0]["value"] == {"amount": 12000.5, "currency": "EUR"}
    assert release["contracts"][0]["value"] == {"amount": 15000, "currency": "EUR"}
    assert release["contracts"][0]["amendments"] == [
        {"id": "1", "date": "2025-09-01T00:00:00+02:00", "description": "New amount: 15000.00 EUR excluding VAT.",
         "rationale": "Extension à 20 écrans de plus"},
        {"id": "2", "date": "2025-11-04T00:00:00+01:00",
         "description": "New duration: 18 months. New holder: Écrans Réunis (SIRET 73282932000074)."}]


def test_the_demo_s_contracts_make_a_valid_decp_export(app):
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    years = sorted({contract.notified_on.year for contract in db.session.scalars(
        select(Contract).where(Contract.status == ContractStatus.NOTIFIED))})

    published = []
    for year in years:
        document, report = exports.decp(year)
        Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
        assert (report.unpublished, report.notes) == (0, []), year
        published += [record["id"] for record in document["marches"]["marche"]]

    # The three contracts entered by hand and Ivry's tendered one, signed and completed.
    assert len(published) == 4 and {"2025C0042", "2025C0101", "2024C0007"} <= set(published)


# --- OCDS ----------------------------------------------------------------------------------------------

def merge_patch(target, patch):
    """JSON Merge Patch (RFC 7386), as OCDS applies an extension's release-schema.json."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def release_validator() -> Draft4Validator:
    schema = merge_patch(load("ocds/release-schema.json"), load("ocds/sustainability-release-schema.json"))
    assert "hasSustainability" in schema["definitions"]["Tender"]["properties"]
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def package_validator() -> Draft4Validator:
    # The package schema refers to the release schema by URL: releases are validated one by one instead.
    schema = load("ocds/release-package-schema.json")
    schema["properties"]["releases"]["items"] = {"type": "object"}
    return Draft4Validator(schema)


def test_the_ocds_package_validates_and_carries_sustainability(client, register, ocid_prefix):
    response = client.get(f"/api/v1/exports/ocds.json?year={register['year']}")

    assert response.status_code == 200
    package = response.get_json()
    package_validator().validate(package)
    assert package["version"] == "1.1"
    assert package["extensions"] == [exports.SUSTAINABILITY_EXTENSION]
    validator = release_validator()
    for release in package["releases"]:
        validator.validate(release)
    releases = {release["contracts"][0]["id"]: release for release in package["releases"]}
    assert set(releases) == {register["tendered"].decp_id, "M-1"}  # the same contracts as the DECP file
    assert response.headers["X-Circuit-Not-Republished-Contracts"] == "1"
    assert response.headers["X-Circuit-Skipped-Contracts"] == "2"

    tendered = releases[register["tendered"].decp_id]
    buyer_siret = register["tendered"].buyer.siret
    assert tendered["ocid"] == f"{PREFIX}-{buyer_siret}-{register['tendered'].decp_id}"
    supplier_siret = register["tendered"].supplier.siret
    assert [(party["id"], party["identifier"]["scheme"], party["identifier"]["id"], party["roles"])
            for party in tendered["parties"]] == [
        (f"FR-RCS-{buyer_siret}", "FR-RCS", buyer_siret, ["buyer"]),
        (f"FR-RCS-{supplier_siret}", "FR-RCS", supplier_siret, ["supplier"])]
    assert tendered["buyer"]["id"] == f"FR-RCS-{buyer_siret}"
    assert tendered["tender"]["procurementMethod"] == "open"
    assert tendered["tender"]["items"][0]["classification"] == {"scheme": "CPV", "id": "30213100-6"}
    assert tendered["tender"]["hasSustainability"] is True
    assert tendered["tender"]["sustainability"] == [
        {"goal": "environmental.circularEconomy",
         "strategies": ["awardCriteria", "contractPerformanceConditions", "technicalSpecifications"]},
        {"goal": "social.disadvantagedEmploymentOpportunities", "strategies": ["reservedParticipation"]}]
    assert tendered["contracts"][0]["value"] == {"amount": 41000, "currency": "EUR"}
    assert tendered["contracts"][0]["awardID"] == tendered["awards"][0]["id"]
    assert "amendments" not in tendered["contracts"][0]


@pytest.mark.parametrize("notified_on, expected", [
    (date(2019, 1, 10), "2019-01-10T00:00:00+01:00"),   # winter: Paris is UTC+1
    (date(2019, 7, 10), "2019-07-10T00:00:00+02:00"),   # summer: UTC+2
    (date(2019, 3, 31), "2019-03-31T00:00:00+01:00"),   # the night the clocks go forward, at 2:00
    (date(2019, 10, 27), "2019-10-27T00:00:00+02:00"),  # the night they go back, at 3:00
])
def test_a_date_is_exported_as_that_day_in_paris_time(app, officer, ocid_prefix, notified_on, expected):
    manual_contract(officer, notified_on=notified_on)

    package, _report = exports.ocds(2019)

    [release] = package["releases"]
    release_validator().validate(release)
    assert release["date"] == release["awards"][0]["date"] == release["contracts"][0]["dateSigned"] == expected
    assert datetime.fromisoformat(expected).date() == notified_on


def test_without_an_ocid_prefix_the_ocds_export_says_which_setting_it_needs(client, app, register, monkeypatch):
    monkeypatch.setitem(app.config, "OCDS_OCID_PREFIX", "")

    response = client.get(f"/api/v1/exports/ocds.json?year={register['year']}")

    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "not_configured" and error["details"] == {"setting": "OCDS_OCID_PREFIX"}
    assert "OCDS_OCID_PREFIX" in error["message"]
    assert "ocds-circuit" not in response.get_data(as_text=True)
    page = client.get(f"/procurement/open-data?year={register['year']}").get_data(as_text=True)
    assert "OCDS_OCID_PREFIX" in page  # the open-data page says what the OCDS file needs

    monkeypatch.setitem(app.config, "OCDS_OCID_PREFIX", PREFIX)
    assert client.get(f"/api/v1/exports/ocds.json?year={register['year']}").status_code == 200
    assert "OCDS_OCID_PREFIX" not in client.get(f"/procurement/open-data?year={register['year']}").get_data(
        as_text=True)


def test_a_contract_without_consideration_has_no_sustainability_and_stays_valid(app, officer, ocid_prefix):
    manual_contract(officer, notified_on=date(2024, 2, 1), clauses=[])

    release = exports.ocds(2024)[0]["releases"][0]

    release_validator().validate(release)
    assert release["tender"]["hasSustainability"] is False and "sustainability" not in release["tender"]
    broken = copy.deepcopy(release)
    broken["tender"]["sustainability"] = [{"goal": "social", "strategies": []}]
    assert list(release_validator().iter_errors(broken))  # the merged extension is really checked


# --- access and secrecy --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["decp.json", "ocds.json", "agec.csv"])
@pytest.mark.parametrize("query", ["", "?year=", "?year=abc", "?year=20260"])
def test_the_year_is_required(client, path, query):
    response = client.get(f"/api/v1/exports/{path}{query}")

    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"year": "A year such as 2026."}


def test_no_sealed_bid_appears_in_any_export(client, register, ocid_prefix):
    texts = [client.get(f"/api/v1/exports/{path}?year={register['year']}").get_data(as_text=True)
             for path in ("decp.json", "ocds.json", "agec.csv")]

    for text in texts:
        assert "77777" not in text and "Sous Scell" not in text and "sous pli" not in text
        assert "EXT-1" not in text  # a buyer outside the platform is not published either
        assert "IMP-7" not in text  # nor an imported contract (published by its source)
