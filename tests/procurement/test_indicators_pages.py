"""The indicators dashboard, its CSV and XLSX downloads, and the public open-data page."""
from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from flask_babel import gettext, ngettext

from core.extensions import db
from core.i18n import number
from core.models import OrganisationKind, Role
from procurement.indicators import REQUIRED_KEYS
from procurement.models import Mechanism, ProcedureType, Theme
from procurement.services import contracts as contract_service
from procurement.spreadsheet import xlsx
from reuse.services import today
from tests.factories import OrganisationFactory, clause, user_for_role
from tests.matrix import ROLES, log_in

_NUMBERS = itertools.count(1)
YEAR = today().year
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _commune(name: str, insee: str):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name, insee_code=insee)
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=organisation)


def _contract(officer, amount: str, notified_on: date, clauses=()):
    contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        # Maintenance: a service, in no AGEC product category (these pages' AGEC figures stay without data).
        decp_id=f"IND{next(_NUMBERS):04d}", title="Maintenance du parc", cpv="50312000-5",
        procedure=ProcedureType.ADAPTED, amount=Decimal(amount), notified_on=notified_on, duration_months=12,
        holder_name="Titulaire SARL", clauses=list(clauses)))


@pytest.fixture
def territory(app):
    """Vitry: 2 contracts this year (one with an environmental clause), 1 last year (with one); Orly: 1
    contract this year with a clause and a criterion."""
    vitry = _commune("Ville de Vitry-sur-Seine", "94081")
    orly = _commune("Ville d'Orly", "94054")
    env_clause = clause("ENV-C", Theme.TAKE_BACK_WEEE)
    env_criterion = clause("ENV-A", Theme.BATTERY, Mechanism.AWARD_CRITERION)
    _contract(vitry, "1000.00", date(YEAR, 3, 1), [env_clause])
    _contract(vitry, "3000.00", date(YEAR, 4, 1))
    _contract(vitry, "500.00", date(YEAR - 1, 5, 1), [env_clause])
    _contract(orly, "2000.00", date(YEAR, 6, 1), [env_clause, env_criterion])
    db.session.commit()
    return {"vitry": vitry, "orly": orly}


def _row(html: str, key: str) -> dict:
    """The cells of one indicator's row of the tables."""
    match = re.search(rf'<tr id="indicator-{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert match, key
    cells = dict(re.findall(r'<td class="(\w+)">(.*?)</td>', match.group(1), re.S))
    return {name: " ".join(value.split()) for name, value in cells.items()}


def _percent(fraction: str) -> str:
    return f"{number(Decimal(fraction) * 100, 1)} %"


def test_a_commune_sees_its_own_figures_by_default_with_the_change(client, app, territory):
    log_in(client, territory["vitry"])
    response = client.get(f"/procurement/indicators?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.test_request_context():
        assert "Ville de Vitry-sur-Seine</span>" in html
        assert _row(html, "contracts_total")["value"] == "2"
        assert _row(html, "contracts_total")["previous"] == "1"
        assert _row(html, "contracts_total")["change"] == "▲ +1"
        share = _row(html, "contracts_env_any_share")
        assert share["value"] == _percent("0.5")
        assert share["target"] == _percent("1")
        assert share["previous"] == _percent("1")
        # 50 % after 100 %: down 50 points, said in words and arrows, not by colour only.
        assert share["change"] == f"▼ -{number(Decimal(50), 1)} {gettext('points')}"
        # No IT purchase, no reformed stock: no data, not 0.
        assert _row(html, "agec_it_reuse_share")["value"] == gettext("no data")
        assert _row(html, "reuse_rate_2023_266")["value"] == gettext("no data")
        assert _row(html, "agec_it_reuse_share")["change"] == gettext("no comparison")
        # Each indicator's definition and source.
        assert "<summary>" in html and "loi AGEC art. 58" in html


def test_the_territory_and_another_buyer(client, app, territory):
    log_in(client, territory["vitry"])
    html = client.get(f"/procurement/indicators?year={YEAR}&buyer=territory").get_data(as_text=True)
    with app.test_request_context():
        assert _row(html, "contracts_total")["value"] == "3"
        assert _row(html, "contracts_env_any")["value"] == "2"
        assert _row(html, "contracts_env_criterion")["value"] == "1"
    orly = territory["orly"].organisation
    html = client.get(f"/procurement/indicators?year={YEAR}&buyer={orly.id}").get_data(as_text=True)
    assert _row(html, "contracts_total")["value"] == "1"
    assert _row(html, "contracts_env_criterion")["value"] == "1"
    assert client.get("/procurement/indicators?buyer=999999").status_code == 404


def test_the_page_says_which_contracts_of_the_year_the_open_data_could_not_publish(client, app, territory):
    """Vitry's two contracts of the year were entered by hand without the DECP fields the schema requires
    (offers received, place of execution, price type…): both are held back, each field counted."""
    log_in(client, territory["vitry"])
    html = client.get(f"/procurement/indicators?year={YEAR}").get_data(as_text=True)
    with app.test_request_context():
        assert ngettext("%(num)d contract of the year published.", "%(num)d contracts of the year published.",
                        0) in html
        assert ngettext("%(num)d contract could not be published:", "%(num)d contracts could not be published:",
                        2) in html
        assert "(offresRecues): 2" in html and "(lieuExecution): 2" in html
    assert html.count('href="/procurement/contracts/') >= 2


def test_a_supplier_sees_the_territory_by_default(client, territory):
    log_in(client, user_for_role(Role.SUPPLIER))
    html = client.get(f"/procurement/indicators?year={YEAR}").get_data(as_text=True)
    assert _row(html, "contracts_total")["value"] == "3"


def test_each_chart_has_a_table_of_the_same_figures(client, territory):
    log_in(client, territory["vitry"])
    html = client.get(f"/procurement/indicators?year={YEAR}").get_data(as_text=True)
    charts = re.findall(r'<svg[^>]*role="img" aria-labelledby="([\w-]+)-caption"', html)
    assert {"chart-contracts", "chart-pnad", "chart-local", "chart-devices", "chart-rates"} <= set(charts)
    for chart in charts:
        assert f'<figcaption id="{chart}-caption">' in html
        svg = re.search(rf'aria-labelledby="{chart}-caption".*?</svg>', html, re.S).group(0)
        table = re.search(rf'<table class="chart-data" id="{chart}-data">.*?</table>', html, re.S).group(0)
        drawn = [" ".join(title.split()) for title in re.findall(r"<title>(.*?)</title>", svg, re.S)]
        tabled = [" ".join(f"{label}: {value}".split()) for label, value in
                  re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', table, re.S)]
        assert drawn and drawn == tabled
    contracts = re.search(r'id="chart-contracts-data">.*?</table>', html, re.S).group(0)
    assert re.findall(r"<td>(.*?)</td>", contracts) == ["2", "1", "0"]


def test_csv_download(client, territory):
    log_in(client, territory["vitry"])
    response = client.get(f"/procurement/indicators.csv?year={YEAR}&buyer=territory")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    by_key = {row[0]: row for row in rows[1:]}
    assert set(REQUIRED_KEYS) <= set(by_key)
    assert all(len(row) == len(rows[0]) for row in rows)
    assert by_key["contracts_total"][3] == "3"
    # Decimal comma for French Excel; a missing figure is an empty cell.
    assert by_key["contracts_env_any_share"][3] == "0,6667"
    assert by_key["agec_it_reuse_share"][3] == ""
    assert by_key["contracts_total"][6] == "1"  # previous year
    assert by_key["contracts_total"][7] == "2"  # change


def test_xlsx_download(client, territory):
    log_in(client, territory["vitry"])
    response = client.get(f"/procurement/indicators.xlsx?year={YEAR}")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml"} <= set(archive.namelist())
    for name in archive.namelist():
        ElementTree.fromstring(archive.read(name))  # every part is well-formed XML
    sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = sheet.findall(f"{MAIN}sheetData/{MAIN}row")
    keys = {row.find(f"{MAIN}c/{MAIN}is/{MAIN}t").text for row in rows[1:]}
    assert set(REQUIRED_KEYS) <= keys
    total = next(row for row in rows if row.find(f"{MAIN}c/{MAIN}is/{MAIN}t").text == "contracts_total")
    value = total.find(f"{MAIN}c[@r='D{total.get('r')}']")
    assert value.get("t") is None and value.find(f"{MAIN}v").text == "2"  # Vitry's, as a number


def test_spreadsheet_cells():
    archive = zipfile.ZipFile(io.BytesIO(xlsx([["a & <b>", 1, Decimal("0.25"), None]] + [[i] for i in range(30)])))
    sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    cells = sheet.findall(f"{MAIN}sheetData/{MAIN}row")[0]
    assert [cell.get("r") for cell in cells] == ["A1", "B1", "C1"]
    assert cells[0].get("t") == "inlineStr" and cells[0].find(f"{MAIN}is/{MAIN}t").text == "a & <b>"
    assert cells[2].find(f"{MAIN}v").text == "0.25"


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_open_data_is_public(client, territory, role):
    if role != "anonymous":
        log_in(client, user_for_role(role))
    response = client.get(f"/procurement/open-data?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for path in ("/api/v1/indicators", "/api/v1/exports/decp.json", "/api/v1/exports/ocds.json",
                 "/api/v1/exports/agec.csv"):
        assert f'href="{path}?year={YEAR}"' in html
    assert "Etalab 2.0" in html
    assert _row(html, "contracts_total")["value"] == "3"  # the territory's figures
    assert 'aria-labelledby="chart-contracts-caption"' in html


def test_the_footer_links_to_open_data(client):
    assert 'href="/procurement/open-data"' in client.get("/procurement/open-data").get_data(as_text=True)
