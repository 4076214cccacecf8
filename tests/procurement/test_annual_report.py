"""The Activity 16 annual report (PDF): rendered for real through its route and read back from the PDF,
archived like every document, and its SQL statements counted."""
from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from flask_babel import format_date, gettext
from pypdf import PdfReader
from sqlalchemy import delete, event, select

from core import archive, pdf
from core.extensions import db
from core.i18n import money, number
from core.models import IssuedDocument, OrganisationKind, Role
from core.territory import COMMUNES
from procurement import report
from procurement.models import Mechanism, ProcedureType, Theme
from procurement.services import contracts as contract_service
from reuse.models import DeviceCategory, DeviceStatus
from reuse.services import today
from tests.factories import DeviceFactory, OrganisationFactory, clause, user_for_role
from tests.matrix import ROLES, Case, check, everyone, log_in, register

YEAR = today().year - 1  # a year over: its report says no "figures as of"
_NUMBERS = itertools.count(1)


def pdf_text(response) -> str:
    """The document's words, each run of spaces and line breaks as one space; a name broken at its
    hyphen across two lines of a table cell is whole again."""
    reader = PdfReader(BytesIO(response.get_data()))
    return words(re.sub(r"-\n", "-", "\n".join(page.extract_text() for page in reader.pages)))


def words(text: str) -> str:
    return " ".join(str(text).split())


def report_url(year: int = YEAR, buyer: str = "territory") -> str:
    return f"/procurement/indicators/report.pdf?year={year}&buyer={buyer}"


def documents() -> list[IssuedDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)))


# --- the territory of these tests ---------------------------------------------------------------------

def commune_officer(name: str, insee: str, postcode: str, city: str):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name, insee_code=insee,
                                       postcode=postcode, city=city)
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=organisation)


def contract(officer, amount: str, notified_on: date, holder=None, clauses=(), title="Ordinateurs"):
    created = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id=f"RPT{next(_NUMBERS):04d}", title=title, cpv="30213100-6", procedure=ProcedureType.ADAPTED,
        amount=Decimal(amount), notified_on=notified_on, duration_months=12, supplier=holder,
        holder_name="" if holder else "Titulaire Inconnu SARL", holder_id="", clauses=list(clauses)))
    db.session.commit()
    return created


@pytest.fixture
def territory(app):
    """The EPT; Vitry: 2 contracts of the year (one with an environmental clause, held by a local ESS
    refurbisher), 1 of the year before; Orly: 1 contract with a clause and a criterion. Vitry sold two
    laptops in the year (one reconditioned), recycled a desktop and still holds a reformed laptop; Orly
    sold one laptop."""
    ept = OrganisationFactory(ept=True, name="EPT Grand-Orly Seine Bièvre", city="Vitry-sur-Seine")
    ept_officer = user_for_role(Role.PROCUREMENT_OFFICER, organisation=ept)
    vitry = commune_officer("Ville de Vitry-sur-Seine", "94081", "94400", "Vitry-sur-Seine")
    orly = commune_officer("Ville d'Orly", "94054", "94310", "Orly")
    refurbisher = OrganisationFactory(name="Recyclerie de Vitry", postcode="94400", city="Vitry-sur-Seine",
                                      is_ess=True)
    env_clause = clause("ENV-C", Theme.TAKE_BACK_WEEE)
    env_criterion = clause("ENV-A", Theme.BATTERY, Mechanism.AWARD_CRITERION)
    local = contract(vitry, "1000.00", date(YEAR, 3, 1), refurbisher, [env_clause], title="Portables reconditionnés")
    contract(vitry, "3000.00", date(YEAR, 4, 1), title="Maintenance")
    contract(vitry, "500.00", date(YEAR - 1, 5, 1), refurbisher, [env_clause])
    contract(orly, "2000.00", date(YEAR, 6, 1), refurbisher, [env_clause, env_criterion], title="Écrans")

    reformed_before = date(YEAR - 1, 10, 1)
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_before,
                  left_on=date(YEAR, 3, 1))
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_before,
                  left_on=date(YEAR, 3, 2), refurbisher=refurbisher)
    DeviceFactory(organisation=vitry.organisation, category=DeviceCategory.DESKTOP, weight_kg=Decimal("5.30"),
                  status=DeviceStatus.RECYCLED, reformed_on=date(YEAR, 2, 1), left_on=date(YEAR, 4, 1))
    DeviceFactory(organisation=vitry.organisation, status=DeviceStatus.REFORMED, reformed_on=reformed_before)
    DeviceFactory(organisation=orly.organisation, status=DeviceStatus.SOLD, reformed_on=reformed_before,
                  left_on=date(YEAR, 9, 1))
    db.session.commit()
    return {"ept": ept, "ept_officer": ept_officer, "vitry": vitry, "orly": orly, "local_contract": local}


# --- what the report says --------------------------------------------------------------------------

def test_the_territory_report_has_its_cover_indicators_contracts_communes_and_method(app, client, territory):
    log_in(client, territory["vitry"])

    response = client.get(report_url())

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response)
    [document] = documents()
    laptop = DeviceCategory.LAPTOP.factors
    with app.test_request_context():
        # The cover: title, year, scope, date of issue, the archive's number.
        assert words(f"{gettext('Activity 16 report')} {YEAR} · {gettext('Grand-Orly Seine Bièvre territory')}") in text
        assert document.number in text and response.headers["X-Document-Number"] == document.number
        assert gettext("Contents") in text
        assert gettext("Figures as of %(date)s.", date="|").partition("|")[0].strip() not in text  # a year over
        # An indicator from the contracts above: 3 notified this year, 1 the year before.
        assert words(f"{gettext('Contracts notified')} 3 1 ▲ +2 —") in text
        assert words(f"{gettext('With an environmental consideration')} 2 1 ▲ +1 —") in text
        # A contract with its considerations, holder, locality and amount.
        local = territory["local_contract"]
        assert words(f"{local.decp_id} Portables reconditionnés Ville de Vitry-sur-Seine Recyclerie de Vitry "
                     f"{local.supplier.locality_label} {money(Decimal('1000'))} Clause environnementale "
                     f"Pas de considération sociale {local.env_score}/100") in text
        assert "Titulaire Inconnu SARL" in text
        # A commune's reuse row: 2 reused, 1 reconditioned, 1 recycled, 3.30 kg, 2 laptops' kgCO2e, A / B = 2 / 3.
        assert words(f"Ville de Vitry-sur-Seine 2 1 1 {number(Decimal('3.30'))} kg "
                     f"{number(2 * laptop.embodied_kgco2e)} kgCO2e {number(Decimal('66.67'), 1)} % (2 / 3)") in text
        # Each of the 24 communes has its row, on the platform or not.
        assert all(commune.name in text for commune in COMMUNES if commune.insee not in ("94081", "94054"))
        assert words(f"Ablon-sur-Seine ({gettext('not on Circuit')})") in text
        assert "EPT Grand-Orly Seine Bièvre 0 0 0" in text
        # The method: a definition with its source, the factor table with its sources and version.
        assert "loi AGEC art. 58, décrets 2021-254 et 2024-134" in text
        assert "ADEME Base Empreinte, manufacture phase, as shipped in Boavizta's data" in text
        assert report.factor_table()["version"] in text


def test_a_buyers_report_has_only_that_buyers_figures(app, client, territory):
    vitry = territory["vitry"]
    log_in(client, vitry)

    response = client.get(report_url(buyer=str(vitry.organisation.id)))

    text = pdf_text(response)
    with app.test_request_context():
        assert words(f"{gettext('Activity 16 report')} {YEAR} · Ville de Vitry-sur-Seine") in text
        assert words(f"{gettext('Contracts notified')} 2 1 ▲ +1 —") in text
        assert "Ville d'Orly" not in text and "Écrans" not in text
        assert "Ablon-sur-Seine" not in text  # no territory list, no total
    [document] = documents()
    assert (document.kind, document.object_type, document.object_id, document.key) == (
        "activity16_report", "organisations", vitry.organisation_id, str(YEAR))
    assert document.organisation_id == vitry.organisation_id
    assert document.filename.endswith(f"-{YEAR}-94081.pdf")


def test_a_report_of_the_year_in_progress_says_as_of_when(app, client, territory):
    log_in(client, territory["vitry"])

    text = pdf_text(client.get(report_url(year=today().year)))

    [document] = documents()
    with app.test_request_context():
        assert words(gettext("Figures as of %(date)s.", date=format_date(document.issued_at, "long"))) in text


def test_the_report_follows_the_dashboards_parameters(client, territory):
    log_in(client, territory["vitry"])
    assert client.get(report_url(buyer="999999")).status_code == 404
    # Without a buyer, the user's own organisation; an unknown year is the current year, as on the dashboard.
    client.get("/procurement/indicators/report.pdf?year=1800")
    [document] = documents()
    assert (document.object_id, document.key) == (territory["vitry"].organisation_id, str(today().year))


# --- archived like every document ---------------------------------------------------------------------

def test_downloading_again_returns_the_same_bytes_and_reissuing_makes_version_2(client, territory):
    log_in(client, territory["vitry"])
    first = client.get(report_url())
    again = client.get(report_url())

    assert first.data == again.data
    assert first.headers["X-Content-SHA256"] == again.headers["X-Content-SHA256"] == hashlib.sha256(
        first.data).hexdigest()
    [v1] = documents()
    assert (v1.object_id, v1.key, v1.organisation_id) == (territory["ept"].id, f"territory-{YEAR}",
                                                          territory["ept"].id)

    # A commune's officer does not issue the territory's report again; the EPT's officer does.
    assert client.post(f"/documents/{v1.id}/reissue").status_code == 404
    log_in(client, territory["ept_officer"])
    response = client.post(f"/documents/{v1.id}/reissue", data={"next": "/procurement/indicators"})

    assert response.status_code == 302
    v1_again, v2 = documents()
    assert (v1_again.version, v2.version, v2.key) == (1, 2, f"territory-{YEAR}")
    assert v1_again.content == first.data and v2.content != first.data
    latest = client.get(report_url())
    assert latest.data == v2.content and latest.headers["X-Document-Number"] == v2.number
    assert v2.number in pdf_text(latest)


def test_the_dashboard_links_the_report_and_lists_its_versions(client, territory):
    officer = territory["ept_officer"]
    log_in(client, officer)
    dashboard = f"/procurement/indicators?year={YEAR}&buyer=territory"
    html = client.get(dashboard).get_data(as_text=True)
    assert f'href="/procurement/indicators/report.pdf?year={YEAR}&amp;buyer=territory"' in html

    client.get(report_url())
    [document] = documents()
    html = client.get(dashboard).get_data(as_text=True)
    assert document.number in html and f"/documents/{document.id}/reissue" in html
    # Another year's dashboard does not list it.
    assert document.number not in client.get(f"/procurement/indicators?year={YEAR - 1}&buyer=territory").get_data(
        as_text=True)
    # A commune's officer sees the link but neither the EPT's archived copy nor its reissue.
    log_in(client, territory["vitry"])
    html = client.get(dashboard).get_data(as_text=True)
    assert "/procurement/indicators/report.pdf" in html and f"/documents/{document.id}/reissue" not in html


def test_the_archive_page_links_the_report_to_its_organisation(client, territory):
    vitry = territory["vitry"]
    log_in(client, vitry)
    client.get(report_url(buyer=str(vitry.organisation.id)))

    html = client.get("/documents").get_data(as_text=True)

    assert f'<a href="/organisations/{vitry.organisation_id}">Ville de Vitry-sur-Seine</a>' in html


def test_the_organisation_page_lists_its_reports_to_those_who_may_read_them(client, territory):
    vitry = territory["vitry"]
    log_in(client, vitry)
    client.get(report_url(buyer=str(vitry.organisation.id)))
    [document] = documents()
    page = f"/organisations/{vitry.organisation_id}"

    assert document.number in client.get(page).get_data(as_text=True)
    log_in(client, territory["orly"])
    html = client.get(page).get_data(as_text=True)
    assert client.get(page).status_code == 200 and document.number not in html


# --- who may issue it again, and every role against the route ---------------------------------------

def issued_without_rendering(app, subject, year: int, buyer: str, actor) -> IssuedDocument:
    """A report archived as its route does, without rendering a real PDF."""
    key = f"territory-{year}" if buyer == "territory" else str(year)
    with app.test_request_context(report_url(year, buyer)):
        document = archive.issue("activity16_report", subject, key, "report.pdf", lambda: b"%PDF-1.7 test", actor,
                                 owner=subject, source_args={"year": year, "buyer": buyer})
    db.session.commit()
    return document


@pytest.mark.parametrize("who, status", [
    ("admin", 302), ("buyer's procurement officer", 302), ("buyer's IT manager", 403),
    ("buyer's observer", 403), ("another commune's procurement officer", 404), ("EPT's procurement officer", 404),
])
def test_who_may_issue_a_buyers_report_again(app, client, territory, who, status):
    vitry = territory["vitry"].organisation
    users = {
        "admin": lambda: user_for_role(Role.ADMIN),
        "buyer's procurement officer": lambda: territory["vitry"],
        "buyer's IT manager": lambda: user_for_role(Role.IT_MANAGER, organisation=vitry),
        "buyer's observer": lambda: user_for_role(Role.OBSERVER, organisation=vitry),
        "another commune's procurement officer": lambda: territory["orly"],
        "EPT's procurement officer": lambda: territory["ept_officer"],
    }
    document = issued_without_rendering(app, vitry, YEAR, str(vitry.id), territory["vitry"])

    log_in(client, users[who]())
    assert client.post(f"/documents/{document.id}/reissue").status_code == status
    assert [d.version for d in documents()] == ([1, 2] if status == 302 else [1])


@dataclass
class World:
    users: dict


@pytest.fixture
def world(app) -> World:
    # The admin's organisation is an EPT: the territory's report is archived under it. Issued beforehand,
    # so that each role's request is served the stored file rather than rendering one.
    users = {role: user_for_role(role) for role in Role}
    issued_without_rendering(app, report.territory_organisation(), YEAR, "territory", users[Role.ADMIN])
    return World(users)


CASES = register([
    Case("procurement.indicators_report", "GET", lambda w, u: report_url(), everyone(200)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_report_route(client, world, case, role):
    check(client, world, case, role)


# --- the statements do not grow with the rows -------------------------------------------------------

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


def test_the_reports_statements_do_not_grow_with_the_contracts_and_devices(client, territory, monkeypatch):
    # The whole route runs and its template is rendered (every lazy load would show); WeasyPrint, which
    # runs no SQL, is spared: four real renderings would only make the test slow.
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: b"%PDF-1.7 " + html.encode())
    vitry = territory["vitry"]
    holder = OrganisationFactory(name="Atelier", postcode="94230", city="Cachan", is_ess=True)
    env_clause = clause("ENV-Q", Theme.TAKE_BACK_WEEE)
    log_in(client, vitry)

    def statements(buyer: str) -> int:
        db.session.execute(delete(IssuedDocument))  # each count is of a first download, which renders
        db.session.commit()
        response = []
        count = _statements_of(lambda: response.append(client.get(report_url(buyer=buyer))))
        assert response[0].status_code == 200 and b"RPT" in response[0].data  # contracts listed
        return count

    def add(rows: int) -> None:
        for _ in range(rows):
            contract(vitry, "100.00", date(YEAR, 5, 1), holder, [env_clause])
        DeviceFactory.create_batch(rows, organisation=vitry.organisation, status=DeviceStatus.SOLD,
                                   reformed_on=date(YEAR - 1, 1, 1), left_on=date(YEAR, 5, 1))
        DeviceFactory.create_batch(rows, organisation=territory["orly"].organisation,
                                   category=DeviceCategory.MONITOR, status=DeviceStatus.RECYCLED,
                                   left_on=date(YEAR, 6, 1))
        db.session.commit()

    add(2)
    few = (statements("territory"), statements(str(vitry.organisation_id)))
    add(30)
    assert (statements("territory"), statements(str(vitry.organisation_id))) == few
    assert len(report.contracts_of_year(YEAR, None)) == 3 + 32
