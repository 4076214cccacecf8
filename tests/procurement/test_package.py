"""The tender package: the PDF (really rendered), its HTML parts, and the ZIP for a buyer-profile platform
with its machine-readable consultation.json (clause versions, DECP considerations, OCDS sustainability)."""
from __future__ import annotations

import csv
import io
import json
import zipfile

from flask import render_template
from flask_babel import force_locale, gettext

from core.extensions import db
from core.i18n import to_local
from core.models import OrganisationKind, Role
from procurement import package
from procurement.models import Mechanism, Reservation, Theme
from procurement.services import clauses as clause_service
from procurement.services import tenders as service
from tests.factories import (OrganisationFactory, UserFactory, clause, draft_tender, published_tender,
                             user_for_role)
from tests.matrix import log_in

ZIP_NAMES = {"consultation.json", "clauses.csv", "LISEZMOI.txt"}


def buyer():
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name="Ville de Gentilly",
                                       city="Gentilly")
    return UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=organisation)


def with_social_clause(officer, **overrides):
    """A published tender with, besides the factory's environmental clauses, a social execution clause."""
    tender = draft_tender(officer, **overrides)
    service.attach_clause(officer, tender, clause("SOC-INS", Theme.INSERTION_HOURS, Mechanism.EXECUTION_CLAUSE))
    service.publish(officer, tender)
    db.session.commit()
    return tender


def download_zip(client, tender) -> zipfile.ZipFile:
    response = client.get(f"/procurement/tenders/{tender.id}/package.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_package_pdf_is_a_pdf_every_reader_of_the_tender_gets(client):
    tender = published_tender(buyer())
    log_in(client, user_for_role(Role.SUPPLIER))

    response = client.get(f"/procurement/tenders/{tender.id}/package.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_a_drafts_package_is_a_preview_for_its_buyer_only(client):
    officer = buyer()
    tender = draft_tender(officer)
    log_in(client, officer)

    preview = client.get(f"/procurement/tenders/{tender.id}/package.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert "-draft.pdf" in preview.headers["Content-Disposition"]
    assert client.get(f"/procurement/tenders/{tender.id}/package.zip").status_code == 404  # nothing to load yet
    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER))
    assert client.get(f"/procurement/tenders/{tender.id}/package.pdf").status_code == 404


def test_the_zip_holds_the_pdf_the_json_the_csv_and_the_readme_dated_at_publication(client):
    tender = with_social_clause(buyer())
    log_in(client, user_for_role(Role.SUPPLIER))

    archive = download_zip(client, tender)

    pdf_name = f"{package.base_name(tender)}.pdf"
    assert set(archive.namelist()) == ZIP_NAMES | {pdf_name}
    assert archive.read(pdf_name).startswith(b"%PDF")
    stamp = to_local(tender.published_at).timetuple()[:5]
    assert {info.date_time[:5] for info in archive.infolist()} == {stamp}
    assert tender.reference in archive.read("LISEZMOI.txt").decode("utf-8")


def test_two_downloads_give_the_same_data_files(client):
    tender = published_tender(buyer())
    log_in(client, user_for_role(Role.SUPPLIER))

    first, second = download_zip(client, tender), download_zip(client, tender)

    assert [i.date_time for i in first.infolist()] == [i.date_time for i in second.infolist()]
    assert all(first.read(name) == second.read(name) for name in ZIP_NAMES)


def test_consultation_json_keeps_the_clause_versions_and_the_ocds_sustainability(client):
    officer = buyer()
    tender = with_social_clause(officer, reservation=Reservation.SIAE)
    # The library moves on after publication: the tender keeps the version it was published with.
    social = next(tc.version for tc in tender.clauses if tc.version.clause.code == "SOC-INS")
    admin = user_for_role(Role.ADMIN)
    clause_service.edit_clause(admin, social.clause, clause_service.ClauseData(
        title_fr="Heures d'insertion", title_en="Insertion hours", text_fr="Nouveau texte.", text_en="New text.",
        evidence_fr="", evidence_en="", theme=Theme.INSERTION_HOURS, mechanism=Mechanism.EXECUTION_CLAUSE,
        decp_consideration="Clause sociale", ocds_goal="social.disadvantagedEmploymentOpportunities"))
    db.session.commit()
    log_in(client, user_for_role(Role.SUPPLIER))

    document = json.loads(download_zip(client, tender).read("consultation.json"))

    clauses = {c["code"]: c for c in document["clauses"]}
    assert clauses["SOC-INS"]["version"] == 1 and clauses["SOC-INS"]["text"]["fr"] == "Texte de la clause SOC-INS."
    assert clauses["SOC-INS"]["ocds"] == {"goal": "social.disadvantagedEmploymentOpportunities",
                                          "strategy": "contractPerformanceConditions"}
    assert clauses["SOC-INS"]["decpConsideration"] == "Clause sociale"
    assert {c["mechanism"] for c in document["clauses"]} == {"award_criterion", "execution_clause",
                                                             "technical_specification"}
    assert [(c["kind"], c["weight"]) for c in document["awardCriteria"]] == [
        ("price", 60), ("technical", 20), ("environmental", 20)]
    assert document["considerationsEnvironnementales"] == ["Clause environnementale", "Critère environnemental"]
    assert document["considerationsSociales"] == ["Clause sociale", "Marché réservé"]
    assert document["estimatedValueExclVat"] == "50000.00"
    ocds = document["ocds"]["tender"]
    assert ocds["hasSustainability"] is True
    assert ocds["sustainability"] == [
        {"goal": "environmental.circularEconomy",
         "strategies": ["awardCriteria", "contractPerformanceConditions", "technicalSpecifications"]},
        {"goal": "social.disadvantagedEmploymentOpportunities",
         "strategies": ["contractPerformanceConditions", "reservedParticipation"]},
    ]
    assert (ocds["id"], ocds["status"], ocds["procurementMethodDetails"]) == (tender.reference, "active",
                                                                                "Procédure adaptée")
    assert "numberOfTenderers" not in ocds and "tenderers" not in ocds  # sealed bids


def test_clauses_csv_is_one_semicolon_row_per_clause_for_excel(client):
    tender = with_social_clause(buyer())
    log_in(client, user_for_role(Role.SUPPLIER))

    content = download_zip(client, tender).read("clauses.csv")

    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["code", "version", "mechanism"]
    assert sorted(row[0] for row in rows[1:]) == sorted(tc.version.clause.code for tc in tender.clauses)


def test_the_pdf_has_its_three_parts_with_every_clause_text_in_the_readers_language(app):
    tender = with_social_clause(buyer())

    with app.test_request_context(), force_locale("en"):
        html = render_template(package.PDF_TEMPLATE, **package.document_context(tender))
        expected = [gettext("Part 1. Rules of the consultation"), gettext("Part 2. Specification"),
                    gettext("Part 3. Scoring grid"),
                    gettext("lowest price / price × weight (the lowest bid gets the full weight)"),
                    gettext("the evaluators' mark out of 10 / 10 × weight"),
                    gettext("the share of the tender's environmental award-criterion clauses the bid commits to, "
                            "× weight"),
                    gettext("A bid is flagged abnormally low when its price is under %(others)d %% of the mean of "
                            "the other bids on the lot, or under %(estimate)d %% of the lot's estimate: the buyer "
                            "then asks the bidder to justify it (CCP R.2152-3).", others=80, estimate=70),
                    gettext("The buyer tells every bidder of the decision on each lot. The contract is signed no "
                            "earlier than %(days)d days after that (standstill period).",
                            days=app.config["STANDSTILL_DAYS"])]
    assert [text for text in expected if str(text) not in html] == []
    for tender_clause in tender.clauses:
        version = tender_clause.version
        assert version.text_en in html and f"{version.clause.code} v{version.number}" in html
    with app.test_request_context(), force_locale("fr"):
        html_fr = render_template(package.PDF_TEMPLATE, **package.document_context(tender))
    assert all(tc.version.text_fr in html_fr for tc in tender.clauses)


def test_a_draft_pdf_is_marked_as_such(app):
    tender = draft_tender(buyer())
    with app.test_request_context(), force_locale("fr"):
        html = render_template(package.PDF_TEMPLATE, **package.document_context(tender))
        assert str(gettext("DRAFT")) in html
    published = published_tender(buyer())
    with app.test_request_context(), force_locale("fr"):
        html = render_template(package.PDF_TEMPLATE, **package.document_context(published))
        assert str(gettext("DRAFT")) not in html
