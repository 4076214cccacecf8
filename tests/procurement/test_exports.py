"""Open-data exports: DECP v2 validated against the official schema, OCDS 1.1 with the sustainability
extension validated against the release schema merged with the extension, the AGEC declaration validated
against its Table Schema; public, year required, never a bid."""
from __future__ import annotations

import copy
import csv
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft7Validator

from core.extensions import db
from core.models import OrganisationKind, Role
from marketplace.services import orders as order_service
from procurement import exports
from procurement.models import (ENV_CLAUSE, ENV_CRITERION, NO_SOCIAL, RESERVED, Contract, ContractSource,
                                ContractStatus, CriterionKind, Mechanism, ProcedureType, Theme)
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from procurement.services import considerations as considerations_service
from procurement.services import evaluation
from procurement.services import tenders as tender_service
from reuse.models import DeviceCategory, DeviceStatus, Offer, RequestStatus, ReuseRequest
from tests.factories import (CatalogueOfferFactory, DeviceFactory, OrganisationFactory, clause, close, draft_tender,
                             published_tender, submit_bid, user_for_role)

DATA = Path(__file__).parent / "data"
SEALED_PRICE = "77777.77"


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture
def officer():
    vitry = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Vitry-sur-Seine", insee_code="94081")
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=vitry)


def signed_tender_contract(officer) -> Contract:
    """A tender of the officer's commune with a reserved-contract clause, awarded, then signed."""
    tender = draft_tender(officer)
    tender_service.attach_clause(officer, tender, clause("RES-EXP", Theme.RESERVED_CONTRACT,
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
    db.session.commit()
    return contract


def manual_contract(officer, **overrides) -> Contract:
    data = contract_service.ContractData(
        decp_id="M-1", title="Écrans reconditionnés", cpv="30231300-0", procedure=ProcedureType.ADAPTED,
        amount=Decimal("12000.50"), notified_on=date(2025, 6, 1), duration_months=12,
        holder_id="35600000000048", holder_name="Écrans Solidaires", offers_received=2,
        clauses=[clause(f"E{overrides.get('decp_id', 'M-1')}", Theme.DURABILITY)])
    for key, value in overrides.items():
        setattr(data, key, value)
    created = contract_service.create_manual(officer, officer.organisation, data)
    db.session.commit()
    return created


def imported_contract(buyer, notified_on: date, considerations: set[str], **overrides) -> Contract:
    contract = Contract(buyer=buyer, decp_id="IMP-7", source=ContractSource.DECP, status=ContractStatus.NOTIFIED,
                        title="Maintenance du parc informatique", cpv="50312000-5",
                        procedure="Appel d'offres ouvert", amount=Decimal("90000"), duration_months=36,
                        notified_on=notified_on, published_on=notified_on, holder_id="35600000000048",
                        holder_name="Maintenance Services", offers_received=4,
                        decp_record={"ccag": "Fournitures courantes et services"})
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
    manual.price_form = "Unitaire"  # as an imported or later-edited record may give it
    imported = imported_contract(officer.organisation, date(year, 5, 1), {ENV_CRITERION, RESERVED})
    unexportable = manual_contract(officer, decp_id="M-NOID", holder_id="", notified_on=date(year, 4, 1),
                                   offers_received=None)
    last_year = manual_contract(officer, decp_id="M-OLD", notified_on=date(year - 1, 12, 31))
    outsider = OrganisationFactory(kind=OrganisationKind.EXTERNAL_BUYER, name="Ville hors plateforme")
    external = imported_contract(outsider, date(year, 2, 1), {ENV_CLAUSE}, decp_id="EXT-1")
    sealed = published_tender(title="Tablettes sous pli scellé")
    bidder = OrganisationFactory(kind=OrganisationKind.SUPPLIER, name="Fournisseur Sous Scellé")
    submit_bid(user_for_role(Role.SUPPLIER, organisation=bidder), sealed.lots[0], price=SEALED_PRICE)
    return {"year": year, "tendered": tendered, "manual": manual, "imported": imported,
            "unexportable": unexportable, "last_year": last_year, "external": external}


# --- DECP ----------------------------------------------------------------------------------------------

def test_the_decp_export_is_valid_and_holds_the_year_s_contracts_of_platform_buyers(client, register):
    response = client.get(f"/api/v1/exports/decp.json?year={register['year']}")  # no token

    assert response.status_code == 200
    document = response.get_json()
    Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
    records = {record["id"]: record for record in document["marches"]["marche"]}
    assert set(records) == {register["tendered"].decp_id, "M-1", "IMP-7"}
    assert response.headers["X-Circuit-Skipped-Contracts"] == "1"

    tendered = records[register["tendered"].decp_id]
    assert tendered["acheteur"] == {"id": register["tendered"].buyer.siret}
    assert tendered["montant"] == 41000
    assert tendered["titulaires"] == [{"titulaire": {"id": register["tendered"].supplier.siret,
                                                     "typeIdentifiant": "SIRET"}}]
    assert tendered["lieuExecution"] == {"code": "94081", "typeCode": "Code commune"}
    assert tendered["ccag"] == exports.CCAG_TIC
    assert tendered["offresRecues"] == 1 and tendered["procedure"] == "Procédure adaptée"
    assert set(tendered["considerationsEnvironnementales"]["considerationEnvironnementale"]) == {
        ENV_CLAUSE, ENV_CRITERION}
    assert tendered["considerationsSociales"]["considerationSociale"] == [RESERVED]

    manual = records["M-1"]
    assert manual["montant"] == 12000.5 and manual["formePrix"] == "Unitaire"
    assert manual["considerationsEnvironnementales"]["considerationEnvironnementale"] == [ENV_CLAUSE]
    assert manual["considerationsSociales"]["considerationSociale"] == [NO_SOCIAL]

    imported = records["IMP-7"]
    assert imported["ccag"] == exports.CCAG_FCS  # the imported record's own CCAG is kept
    assert imported["considerationsEnvironnementales"]["considerationEnvironnementale"] == [ENV_CRITERION]
    assert imported["considerationsSociales"]["considerationSociale"] == [RESERVED]


def test_a_contract_that_cannot_be_exported_is_left_out_with_its_reason(app, register):
    document, notes = exports.decp(register["year"])

    skipped = [note for note in notes if note.skipped]
    assert [(note.decp_id, note.contract_id) for note in skipped] == [("M-NOID", register["unexportable"].id)]
    assert "titulaire.id" in skipped[0].message
    assert "M-NOID" not in json.dumps(document)


def test_another_year_has_its_own_contracts_only(client, register):
    document = client.get(f"/api/v1/exports/decp.json?year={register['year'] - 1}").get_json()

    Draft7Validator(load("schema_decp_v2.0.3.json")).validate(document)
    assert [record["id"] for record in document["marches"]["marche"]] == ["M-OLD"]


def test_a_buyer_without_siret_or_amount_below_one_euro_is_skipped(app, officer):
    ept = OrganisationFactory(kind=OrganisationKind.EPT, siret=None, name="EPT sans SIRET")
    imported_contract(ept, date(2024, 2, 1), {ENV_CLAUSE})
    imported_contract(officer.organisation, date(2024, 2, 1), set(), decp_id="ZERO", amount=Decimal("0"))

    document, notes = exports.decp(2024)

    assert document == {"marches": {"marche": []}}
    reasons = {note.decp_id: note.message for note in notes}
    assert "acheteur.id" in reasons["IMP-7"] and "montant" in reasons["ZERO"]


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
    return Draft4Validator(schema)


def package_validator() -> Draft4Validator:
    # The package schema refers to the release schema by URL: releases are validated one by one instead.
    schema = load("ocds/release-package-schema.json")
    schema["properties"]["releases"]["items"] = {"type": "object"}
    return Draft4Validator(schema)


def test_the_ocds_package_validates_and_carries_sustainability(client, register):
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
    assert set(releases) == {register["tendered"].decp_id, "M-1", "IMP-7"}

    tendered = releases[register["tendered"].decp_id]
    buyer_siret = register["tendered"].buyer.siret
    assert tendered["ocid"] == f"ocds-circuit-{buyer_siret}-{register['tendered'].decp_id}"
    assert {party["roles"][0] for party in tendered["parties"]} == {"buyer", "supplier"}
    assert tendered["tender"]["procurementMethod"] == "open"
    assert tendered["tender"]["items"][0]["classification"] == {"scheme": "CPV", "id": "30213100-6"}
    assert tendered["tender"]["hasSustainability"] is True
    assert tendered["tender"]["sustainability"] == [
        {"goal": "environmental", "strategies": ["awardCriteria"]},  # the grid's environmental criterion
        {"goal": "environmental.circularEconomy",
         "strategies": ["awardCriteria", "contractPerformanceConditions"]},
        {"goal": "social.disadvantagedEmploymentOpportunities", "strategies": ["reservedParticipation"]}]
    assert tendered["contracts"][0]["value"] == {"amount": 41000, "currency": "EUR"}
    assert tendered["contracts"][0]["awardID"] == tendered["awards"][0]["id"]

    # Imported: no clauses, so DOMAIN.md's mapping of its DECP considerations.
    assert releases["IMP-7"]["tender"]["sustainability"] == [
        {"goal": "environmental", "strategies": ["awardCriteria"]},
        {"goal": "social", "strategies": ["reservedParticipation"]}]
    assert releases["IMP-7"]["tender"]["mainProcurementCategory"] == "services"


def test_a_contract_without_consideration_has_no_sustainability_and_stays_valid(app, officer):
    imported_contract(officer.organisation, date(2024, 2, 1), set())

    release = exports.ocds(2024)["releases"][0]

    release_validator().validate(release)
    assert release["tender"]["hasSustainability"] is False and "sustainability" not in release["tender"]
    broken = copy.deepcopy(release)
    broken["tender"]["sustainability"] = [{"goal": "social", "strategies": []}]
    assert list(release_validator().iter_errors(broken))  # the merged extension is really checked


# --- AGEC ----------------------------------------------------------------------------------------------

def agec_errors(text: str) -> list[str]:
    """A check of a CSV against the copied Table Schema: header order, required, types, pattern, enum."""
    fields = load("agec/schema.json")["fields"]
    rows = list(csv.reader(io.StringIO(text)))
    errors = []
    if rows[0] != [field["name"] for field in fields]:
        errors.append(f"header {rows[0]}")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(fields):
            errors.append(f"line {number}: {len(row)} cells")
            continue
        for field, value in zip(fields, row):
            where = f"line {number}, {field['name']}"
            constraints = field.get("constraints", {})
            if value == "":
                if constraints.get("required"):
                    errors.append(f"{where}: required")
                continue
            if field["type"] == "year" and not re.fullmatch(r"-?\d{4}", value):
                errors.append(f"{where}: not a year")
            if field["type"] == "number" and not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value):
                errors.append(f"{where}: not a number (decimal point)")
            if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
                errors.append(f"{where}: does not match {constraints['pattern']}")
            if "enum" in constraints and value not in constraints["enum"]:
                errors.append(f"{where}: not in the list")
    return errors


def test_the_agec_validator_accepts_the_official_example_and_refuses_a_broken_row():
    example = (DATA / "agec/exemple-valide.csv").read_text(encoding="utf-8")
    assert agec_errors(example) == []

    broken = example + "2024,1300252650001,DINUM,Ordinateurs,12,5;5,0,0,\n"
    assert len(agec_errors(broken)) == 3  # SIRET of 13 digits, product not in the list, decimal comma
    assert agec_errors(example + "2024,13002526500013,,Papier,1,1,0,0,\n") == ["line 5, raison_sociale: required"]


def test_the_agec_export_is_valid_with_the_it_and_printer_spend_of_each_buyer(client, officer):
    seller = OrganisationFactory(kind=OrganisationKind.SUPPLIER, name="Recyclerie d'Ivry")
    laptop = CatalogueOfferFactory(supplier=seller, unit_price=Decimal("100.00"))
    new_desktop = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.DESKTOP,
                                        unit_price=Decimal("200.50"), is_reconditioned=False)
    printer = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.PRINTER, unit_price=Decimal("150.00"))
    order = order_service.issue_order(officer, officer.organisation, seller, [
        order_service.LineData(offer=offer, quantity=quantity, unit_price=offer.unit_price, site=None)
        for offer, quantity in ((laptop, 3), (new_desktop, 1), (printer, 1))])
    order.created_at = datetime(2025, 6, 1, tzinfo=timezone.utc)
    OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville sans achat")
    db.session.commit()

    response = client.get("/api/v1/exports/agec.csv?year=2025")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="agec-2025.csv"'
    text = response.get_data(as_text=True)
    assert agec_errors(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["siret"], row["type_produit_acquis"], row["montant_total"],
             row["montant_reemploi_et_reutilisation"]) for row in rows] == [
        (officer.organisation.siret, "Matériel informatique et téléphonie", "500.50", "300.00"),
        (officer.organisation.siret, "Matériel de reprographie et d'impression", "150.00", "150.00")]
    assert all(row["annee"] == "2025" and row["montant_produits_issus_don"] == "0.00" for row in rows)
    assert agec_errors(client.get("/api/v1/exports/agec.csv?year=2024").get_data(as_text=True)) == []


def test_donations_received_make_a_row_valued_at_zero_with_a_comment(client, officer):
    giver = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville d'Orly", siret=None)
    offer = Offer(organisation=giver, title="Portables", category=DeviceCategory.LAPTOP, quantity=2, available=0)
    request = ReuseRequest(offer=offer, organisation=officer.organisation, quantity=2, purpose="Écoles",
                           status=RequestStatus.RECEIVED)
    db.session.add_all([offer, request])
    for _ in range(2):
        DeviceFactory(organisation=giver, status=DeviceStatus.HANDED_OVER, left_on=date(2025, 9, 1),
                      request=request, offer=offer)

    text = client.get("/api/v1/exports/agec.csv?year=2025").get_data(as_text=True)

    assert agec_errors(text) == []
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["type_produit_acquis"], row["montant_total"], row["montant_produits_issus_don"]) == (
        "Matériel informatique et téléphonie", "0.00", "0.00")
    assert "2 appareil(s)" in row["commentaires"] and "29 février 2024" in row["commentaires"]


# --- access and secrecy --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["decp.json", "ocds.json", "agec.csv"])
@pytest.mark.parametrize("query", ["", "?year=", "?year=abc", "?year=20260"])
def test_the_year_is_required(client, path, query):
    response = client.get(f"/api/v1/exports/{path}{query}")

    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"year": "A year such as 2026."}


def test_no_sealed_bid_appears_in_any_export(client, register):
    texts = [client.get(f"/api/v1/exports/{path}?year={register['year']}").get_data(as_text=True)
             for path in ("decp.json", "ocds.json", "agec.csv")]

    for text in texts:
        assert "77777" not in text and "Sous Scell" not in text and "sous pli" not in text
        assert "EXT-1" not in text  # a buyer outside the platform is not published either
