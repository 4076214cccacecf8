"""Security across the application: another organisation's objects in the permission matrix, CSRF on every
form, the cookies and headers of production, uploads checked by content and size, and injection and
cross-site-scripting probes on search, forms, imports, exports and the API.

(Login throttling: tests/core/test_auth.py; Stripe webhooks: tests/marketplace/test_payments.py.)
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from flask_babel import gettext
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select

from core import create_app
from core import services as core_services
from core.config import PROJECT_ROOT
from core.extensions import db
from core.models import Organisation, OrganisationKind, Role, User
from procurement.models import Bid, Contract, Question, Tender
from reuse.models import Device, DevicePhoto
from tests.factories import MEMO_PDF, DeviceFactory, OrganisationFactory, published_tender, user_for_role
from tests.matrix import ALL_CASES, log_in

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>']
JAVASCRIPT_URL = "javascript:alert(1)"
SQL = ["' OR '1'='1", "1; DROP TABLE users--"]
PROBES = [*XSS, JAVASCRIPT_URL, *SQL]

PDF_BYTES = MEMO_PDF
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML_BYTES = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "not what the name says")
    return buffer.getvalue()


def png_bytes(size: int = 2) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (size, size)).save(image, "PNG")
    return image.getvalue()


def row_counts() -> dict[str, int]:
    """How many rows each table holds: what a refused request must leave unchanged."""
    db.session.expire_all()
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def assert_harmless(html: str, payload: str) -> None:
    """A payload is shown as text, never as markup (and never as a link's target)."""
    if payload in XSS:
        assert payload not in html
    assert 'href="javascript:' not in html.lower() and "<img src=x" not in html


def url_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


# --- the permission matrix: another organisation's objects -----------------------------------------------

# Routes on an object that every signed-in user may see: another organisation's object is not hidden (404);
# a case of the matrix shows everyone reading it (200), or acting on it refused (403).
SEEN_BY_EVERYONE = {
    "procurement.contract": "the contracts register is open data",
    "api.contract": "the contracts register is open data",
    "procurement.edit_contract": "another buyer's contract: 403 (tests/procurement/test_contracts_matrix.py)",
    "procurement.sign_contract": "another buyer's contract: 403 (tests/procurement/test_contracts_matrix.py)",
    "procurement.contract_agec": "another buyer's contract: 403 (tests/procurement/test_contracts_matrix.py)",
    "procurement.complete_contract": "another buyer's contract: 403 (tests/procurement/test_contracts_matrix.py)",
    "procurement.add_contract_modification": "another buyer's contract: 403 "
                                             "(tests/procurement/test_contracts_matrix.py)",
    "procurement.clause": "one clause library for the whole territory",
    "procurement.bid_form": "a published tender is open to every supplier",
    "procurement.open_bids": "another buyer's tender: 403 (tests/procurement/test_bids_matrix.py)",
    "procurement.answer_question": "another buyer's tender: 403 (tests/procurement/test_tenders_matrix.py)",
}
# Routes of the administrators alone: no organisation owns what they act on.
ADMIN_ONLY = {"core.admin_organisation", "core.validate_organisation", "core.reject_organisation",
              "procurement.set_clause_active", "procurement.edit_clause"}


def all_matrix_cases() -> list:
    import importlib
    import pkgutil

    import tests

    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if not module.name.startswith("tests.e2e"):
            importlib.import_module(module.name)
    return ALL_CASES


def test_every_route_on_an_object_is_tried_with_another_organisations_object(app):
    """A route that takes an object's id has a matrix case in which a signed-in user is answered 404 (the
    object of another organisation does not exist for them), unless the object is seen by everyone
    (refused 403) or only administrators act on it."""
    from tests.core.test_permissions import PUBLIC_ENDPOINTS

    cases_of: dict[str, list] = {}
    for case in all_matrix_cases():
        cases_of.setdefault(case.endpoint, []).append(case)
    missing = []
    for rule in url_rules(app):
        if not rule.arguments or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        statuses = [case.expected for case in cases_of.get(rule.endpoint, [])]
        if rule.endpoint in SEEN_BY_EVERYONE:
            covered = any(403 in expected.values() or set(expected.values()) == {200} for expected in statuses)
        elif rule.endpoint in ADMIN_ONLY:
            covered = any(all(status == 403 for role, status in expected.items() if role is not Role.ADMIN)
                          for expected in statuses)
        else:
            covered = any(404 in expected.values() for expected in statuses)
        if not covered:
            missing.append(f"{rule.endpoint} {rule.rule}")
    assert missing == []


# --- CSRF ----------------------------------------------------------------------------------------------

CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Stripe signs its calls: no browser session, so no CSRF token (tests/marketplace/test_payments.py).
NO_SESSION_ENDPOINTS = {"marketplace.stripe_webhook"}


def sample_url(rule) -> str:
    """The rule's URL with a value of the right shape for each variable (CSRF refuses before the view)."""
    values = {name: 1 if type(converter).__name__ == "IntegerConverter" else "A" * 32
              for name, converter in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_every_form_of_the_web_pages_refuses_a_post_without_its_token(app, client, csrf_on):
    admin = user_for_role(Role.ADMIN)
    log_in(client, admin)
    before = row_counts()
    answers = {}
    for rule in url_rules(app):
        if rule.endpoint.startswith("api.") or rule.endpoint in NO_SESSION_ENDPOINTS:
            continue
        for method in sorted(rule.methods & CHANGING_METHODS):
            response = client.open(sample_url(rule), method=method, data={"name": "x"})
            answers[f"{method} {rule.rule}"] = response.status_code
            if response.status_code == 400:
                assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert len(answers) > 80  # the walk did find the application's forms
    assert {route: status for route, status in answers.items() if status != 400} == {}
    assert row_counts() == before


def test_a_form_without_its_token_changes_nothing_and_with_it_goes_through(app, client, csrf_on):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    organisation = officer.organisation
    log_in(client, officer)
    form = {"name": "Nouveau nom", "address": organisation.address, "postcode": organisation.postcode,
            "city": organisation.city, "siret": organisation.siret or ""}

    refused = client.post(f"/organisations/{organisation.id}/edit", data=form)
    page = client.get(f"/organisations/{organisation.id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post(f"/organisations/{organisation.id}/edit", data={**form, "csrf_token": token})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).name == "Nouveau nom"


def test_a_session_cookie_alone_does_not_open_the_api(app, client, csrf_on):
    manager = user_for_role(Role.IT_MANAGER)
    log_in(client, manager)
    assert client.get("/dashboard").status_code == 200  # the session is good for the pages

    me = client.get("/api/v1/me")
    created = client.post("/api/v1/devices", json={"category": "laptop", "serial_number": "SN-CSRF"})

    assert (me.status_code, created.status_code) == (401, 401)
    assert db.session.scalar(select(func.count(Device.id))) == 0


# --- cookies and headers -----------------------------------------------------------------------------------

def test_production_cookies_are_secure_httponly_and_samesite(app, monkeypatch):
    monkeypatch.setenv("CIRCUIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-for-this-test")
    production = create_app({key: app.config[key] for key in (
        "SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "IMPORT_FOLDER", "MAIL_SERVER")})
    user = user_for_role(Role.IT_MANAGER)
    try:
        client = production.test_client()
        page = client.get("/login", base_url="https://circuit.example").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        # Over HTTPS, Flask-WTF also wants a Referer of the same site, as a browser sends it.
        response = client.post("/login", base_url="https://circuit.example",
                               headers={"Referer": "https://circuit.example/login"}, data={
            "email": user.email, "password": "correct horse battery", "remember": "y", "csrf_token": token})
    finally:
        with production.app_context():
            db.engine.dispose()

    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes), cookies[name]


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";") if d.strip())}


def response_of_each_kind(client, app) -> dict:
    from core import archive

    admin = user_for_role(Role.ADMIN)
    _, api_token = core_services.create_api_token(admin, "headers")
    with app.test_request_context("/"):
        document = archive.issue("purchase_order", admin.organisation, "", "order.pdf",
                                 lambda: b"%PDF-1.7 test", admin, owner=admin.organisation)
    db.session.commit()
    anonymous = {
        "page": client.get("/"),
        "404": client.get("/no-such-page"),
        "redirect": client.get("/dashboard"),
        "static file": client.get("/static/css/circuit.css"),
        "public CSV export": client.get("/api/v1/exports/agec.csv?year=2026"),
        "JSON API": client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"}),
        "JSON API error": client.get("/api/v1/me"),
        "health": client.get("/healthz"),
    }
    log_in(client, admin)
    return {**anonymous,
            "PDF": client.get(f"/documents/{document.id}"),
            "CSV export": client.get("/procurement/indicators.csv"),
            "XLSX export": client.get("/procurement/indicators.xlsx")}


def test_every_kind_of_response_carries_the_security_headers(app, client):
    responses = response_of_each_kind(client, app)
    assert {kind: r.status_code for kind, r in responses.items()} == {
        "page": 200, "404": 404, "redirect": 302, "static file": 200, "public CSV export": 200, "JSON API": 200,
        "JSON API error": 401, "health": 200, "PDF": 200, "CSV export": 200, "XLSX export": 200}
    for kind, response in responses.items():
        directives = csp_directives(response)
        scripts = directives.get("script-src", directives["default-src"])
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, kind
        assert directives["frame-ancestors"] == ["'none'"], kind
        assert directives["object-src"] == ["'none'"], kind
        assert response.headers["X-Content-Type-Options"] == "nosniff", kind
        response.close()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "templates").rglob("*.html")),
                         ids=lambda p: str(p.relative_to(PROJECT_ROOT / "templates")))
def test_templates_hold_no_inline_script(path: Path):
    """The policy forbids inline script anyway; a template holding one would be broken for the users."""
    source = path.read_text(encoding="utf-8")
    assert INLINE_SCRIPT.findall(source) == []
    assert EVENT_HANDLER.findall(source) == []
    assert "javascript:" not in source.lower()


# --- uploads: by content and size ------------------------------------------------------------------------

@pytest.fixture
def manager_and_device():
    manager = user_for_role(Role.IT_MANAGER)
    return manager, DeviceFactory(organisation=manager.organisation)


@pytest.mark.parametrize("content, filename", [
    (PDF_BYTES, "photo.jpg"), (SVG_BYTES, "photo.png"), (HTML_BYTES, "photo.png"), (zip_bytes(), "photo.webp"),
], ids=["PDF named .jpg", "SVG named .png", "HTML named .png", "ZIP named .webp"])
def test_a_photo_is_an_image_by_its_content(client, manager_and_device, content, filename):
    manager, device = manager_and_device
    log_in(client, manager)
    response = client.post(f"/reuse/devices/{device.id}/photos", data={"photo": (io.BytesIO(content), filename)},
                           follow_redirects=True)
    assert response.status_code == 200
    assert str(escape(gettext("The file is not an image (JPEG, PNG or WebP)."))) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(DevicePhoto.id))) == 0


def test_a_photo_larger_than_the_limit_is_refused(app, client, manager_and_device, monkeypatch):
    manager, device = manager_and_device
    log_in(client, manager)
    picture = png_bytes(64)
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", len(picture) - 1)
    client.post(f"/reuse/devices/{device.id}/photos", data={"photo": (io.BytesIO(picture), "photo.png")})
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", len(picture))
    client.post(f"/reuse/devices/{device.id}/photos", data={"photo": (io.BytesIO(picture), "photo.png")})
    assert db.session.scalar(select(func.count(DevicePhoto.id))) == 1  # the same file, once within the limit


@pytest.mark.parametrize("content", [zip_bytes(), HTML_BYTES], ids=["ZIP named .pdf", "HTML named .pdf"])
def test_a_memo_is_a_pdf_by_its_content(client, content):
    from tests.procurement.test_bids import post_bid

    tender = published_tender()
    supplier = user_for_role(Role.SUPPLIER)
    log_in(client, supplier)
    response = post_bid(client, tender, memo=content, filename="memoire.pdf")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Bid.id))) == 0


@pytest.mark.parametrize("content, filename", [
    (zip_bytes(), "inventaire.csv"), (PDF_BYTES, "inventaire.csv"), (png_bytes(), "inventaire.txt"),
], ids=["ZIP named .csv", "PDF named .csv", "PNG named .txt"])
def test_an_inventory_import_is_csv_by_its_content(app, client, tmp_path, monkeypatch, content, filename):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path))
    log_in(client, user_for_role(Role.IT_MANAGER))
    response = client.post("/reuse/devices/import", data={"file": (io.BytesIO(content), filename)})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Device.id))) == 0


@pytest.mark.parametrize("content", [zip_bytes(), PDF_BYTES, b"\x00\x01\x02 not json"],
                         ids=["ZIP named .json", "PDF named .json", "binary named .json"])
def test_a_decp_import_is_json_by_its_content(client, content):
    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER))
    response = client.post("/procurement/contracts/import", data={"file": (io.BytesIO(content), "decp.json")})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Contract.id))) == 0


def test_the_api_import_refuses_a_binary_file_sent_as_csv(client):
    manager = user_for_role(Role.IT_MANAGER)
    _, token = core_services.create_api_token(manager, "import")
    db.session.commit()
    response = client.post("/api/v1/devices/import", data=zip_bytes(), content_type="text/csv",
                           headers={"Authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500
    assert set(response.get_json()["error"]) == {"status", "code", "message", "details"}
    assert db.session.scalar(select(func.count(Device.id))) == 0


TOO_LARGE = ("The file sent is larger than %(size)s MB, the most the platform accepts. Nothing was saved: send a "
             "smaller file, or split it.")


@pytest.mark.parametrize("locale, size", [("fr", "0,4"), ("en", "0.4")])
def test_a_request_over_the_upload_limit_gets_a_413_page_in_the_users_language(app, client, tmp_path, monkeypatch,
                                                                               locale, size):
    from flask_babel import force_locale

    # Below Werkzeug's 500 kB, the test client keeps the body in memory (no temporary file left open).
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 400 * 1024)
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path))
    log_in(client, user_for_role(Role.IT_MANAGER, locale=locale))
    oversized = b"serial_number;category\r\n" + b"SN;laptop\r\n" * 40_000
    response = client.post("/reuse/devices/import", data={"file": (io.BytesIO(oversized), "inventaire.csv")})
    html = response.get_data(as_text=True)
    with app.test_request_context(), force_locale(locale):
        message = gettext(TOO_LARGE, size=size)  # as the template prints it (Jinja does not escape its _())
    assert response.status_code == 413
    assert f'lang="{locale}"' in html and message in html
    assert db.session.scalar(select(func.count(Device.id))) == 0


def test_every_upload_over_the_limit_is_refused_with_413(app, client, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path))
    manager = user_for_role(Role.IT_MANAGER)
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    supplier = user_for_role(Role.SUPPLIER)
    device = DeviceFactory(organisation=manager.organisation)
    tender = published_tender()
    _, token = core_services.create_api_token(manager, "import")
    db.session.commit()
    big = b"x" * (65 * 1024)
    before = row_counts()

    log_in(client, manager)
    photo = client.post(f"/reuse/devices/{device.id}/photos", data={"photo": (io.BytesIO(big), "p.png")})
    inventory = client.post("/reuse/devices/import", data={"file": (io.BytesIO(big), "i.csv")})
    api = client.post("/api/v1/devices/import", data=big, content_type="text/csv",
                      headers={"Authorization": f"Bearer {token}"})
    log_in(client, officer)
    decp = client.post("/procurement/contracts/import", data={"file": (io.BytesIO(big), "decp.json")})
    log_in(client, supplier)
    memo = client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid",
                       data={"price": "100", "memo": (io.BytesIO(big), "m.pdf")})

    assert [r.status_code for r in (photo, inventory, api, decp, memo)] == [413] * 5
    assert api.get_json()["error"]["status"] == 413
    assert row_counts() == before


# --- injection and cross-site-scripting probes -----------------------------------------------------------

LIST_FILTERS = ["/search?q={}", "/reuse/devices?q={}", "/reuse/offers?q={}", "/organisations?q={}",
                "/marketplace/catalogue?q={}", "/procurement/tenders?q={}", "/procurement/contracts?q={}"]


@pytest.mark.parametrize("payload", PROBES)
def test_search_and_list_filters_show_a_probe_as_text(client, payload):
    log_in(client, user_for_role(Role.IT_MANAGER))
    users_before = db.session.scalar(select(func.count(User.id)))
    for url in LIST_FILTERS:
        response = client.get(url.format(payload.replace("&", "%26").replace("#", "%23").replace(";", "%3B")))
        assert response.status_code == 200, url
        assert_harmless(response.get_data(as_text=True), payload)
    assert db.session.scalar(select(func.count(User.id))) == users_before


@pytest.mark.parametrize("payload", PROBES)
def test_a_probe_stored_through_the_forms_comes_back_escaped(client, payload):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    organisation = officer.organisation
    manager = user_for_role(Role.IT_MANAGER, organisation=organisation)
    supplier = user_for_role(Role.SUPPLIER)
    tender = published_tender(user_for_role(Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, siret=None)))

    log_in(client, officer)
    renamed = client.post(f"/organisations/{organisation.id}/edit", data={
        "name": f"Ville {payload}", "address": organisation.address, "postcode": organisation.postcode,
        "city": organisation.city, "siret": organisation.siret or ""})
    from tests.procurement.test_tenders import tender_form

    drafted = client.post("/procurement/tenders/new", data=tender_form(reference="SEC-01", title=f"Titre {payload}"))
    log_in(client, manager)
    noted = client.post("/reuse/devices/new", data={"category": "laptop", "storage_type": "ssd",
                                                    "serial_number": "SN-PROBE", "notes": f"Note {payload}"})
    log_in(client, supplier)
    asked = client.post(f"/procurement/tenders/{tender.id}/questions", data={"question-text": f"Q {payload}"})

    assert [r.status_code for r in (renamed, drafted, noted, asked)] == [302] * 4
    device = db.session.scalars(select(Device)).one()
    new_tender = db.session.scalars(select(Tender).where(Tender.reference == "SEC-01")).one()
    assert db.session.scalars(select(Question)).one().text == f"Q {payload}"  # kept as typed
    pages = {officer: [f"/organisations/{organisation.id}", "/organisations", f"/procurement/tenders/{new_tender.id}",
                       "/procurement/tenders", f"/procurement/tenders/{tender.id}", "/search?q=Titre", "/dashboard"],
             manager: [f"/reuse/devices/{device.id}", "/reuse/devices", "/search?q=Note"]}
    for viewer, urls in pages.items():
        log_in(client, viewer)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_harmless(response.get_data(as_text=True), payload)
    log_in(client, manager)
    assert str(escape(payload)) in client.get(f"/reuse/devices/{device.id}").get_data(as_text=True)


def test_a_probe_in_an_imported_csv_is_kept_as_text_and_neutralised_in_the_rejected_rows(app, client, tmp_path,
                                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path))
    manager = user_for_role(Role.IT_MANAGER)
    log_in(client, manager)
    rows = [["serial_number", "category", "brand", "model", "purchase_date"],
            ["SN-XSS", "laptop", XSS[0], XSS[1], "2022-01-01"],
            ["SN-SQL", "laptop", SQL[0], SQL[1], "2022-01-01"],
            ["=HYPERLINK(\"http://evil.example\")", "laptop", "Dell", "x", "not a date"],
            ["SN-FORMULA", "laptop", "=1+2", "@SUM(A1)", "not a date"]]
    content = io.StringIO()
    csv.writer(content, delimiter=";").writerows(rows)
    upload = client.post("/reuse/devices/import", data={"file": (io.BytesIO(content.getvalue().encode()), "i.csv")})
    assert upload.status_code == 200
    preview = upload.get_data(as_text=True)
    for payload in XSS:
        assert_harmless(preview, payload)
    token = re.search(r"/reuse/devices/import/([A-Za-z0-9_-]+)/confirm", preview).group(1)
    result = client.post(f"/reuse/devices/import/{token}/confirm")
    assert result.status_code == 200

    db.session.expire_all()
    brands = dict(db.session.execute(select(Device.serial_number, Device.brand)).all())
    assert brands == {"SN-XSS": XSS[0], "SN-SQL": SQL[0]}
    assert db.session.scalar(select(func.count(User.id))) == 1
    rejected = client.get(f"/reuse/devices/import/{token}/rejected.csv").get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(rejected.lstrip("\ufeff")), delimiter=";") for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\")" in cells and "'=1+2" in cells and "'@SUM(A1)" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_serial_and_asset_numbers_that_look_like_sql_are_found_again_as_numbers(app, client, tmp_path, monkeypatch):
    # The import writes the numbers it looks up into the statement (reuse.services.devices_numbered).
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path))
    log_in(client, user_for_role(Role.IT_MANAGER))
    content = io.StringIO()
    csv.writer(content, delimiter=";").writerows(
        [["serial_number", "asset_number", "category", "brand"]] +
        [[probe, probe + "\\", "laptop", "Dell"] for probe in SQL + ["O'Brien", "\\'; --"]])
    numbered = []
    for _ in range(2):  # the second import finds each device again and updates it
        upload = client.post("/reuse/devices/import",
                             data={"file": (io.BytesIO(content.getvalue().encode()), "i.csv")})
        token = re.search(r"/reuse/devices/import/([A-Za-z0-9_-]+)/confirm", upload.get_data(as_text=True)).group(1)
        assert client.post(f"/reuse/devices/import/{token}/confirm").status_code == 200
        numbered.append(db.session.execute(select(Device.id, Device.serial_number, Device.asset_number)
                                           .order_by(Device.id)).all())
    assert len(numbered[0]) == 4 and numbered[1] == numbered[0]
    assert sorted(db.session.scalars(select(Device.serial_number))) == sorted(SQL + ["O'Brien", "\\'; --"])
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_an_organisation_name_that_looks_like_a_formula_is_neutralised_in_the_exports(client):
    from core.csv_cells import safe_cell
    from procurement.spreadsheet import xlsx

    assert [safe_cell(v) for v in ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "-12,5", "-3", "Dell", 4)] \
        == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1)", "-12,5", "-3", "Dell", 4]
    # In a workbook a text cell is an inline string, never a formula.
    with zipfile.ZipFile(io.BytesIO(xlsx([["=1+2", 3]]))) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="inlineStr"' in sheet


@pytest.mark.parametrize("payload", PROBES)
def test_the_api_takes_a_probe_as_data(client, payload):
    manager = user_for_role(Role.IT_MANAGER)
    _, token = core_services.create_api_token(manager, "probe")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    created = client.post("/api/v1/devices", headers=headers,
                          json={"category": "laptop", "serial_number": "SN-API", "brand": payload, "notes": payload})
    listed = client.get(f"/api/v1/devices?q={payload.replace('&', '%26').replace('#', '%23')}", headers=headers)
    catalogue = client.get(f"/api/v1/catalogue?q={payload.replace('&', '%26').replace('#', '%23')}", headers=headers)
    by_id = client.get(f"/api/v1/devices/{payload}", headers=headers)

    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["brand"] == payload
    assert (listed.status_code, catalogue.status_code, by_id.status_code) == (200, 200, 404)
    assert all(r.mimetype == "application/json" for r in (created, listed, catalogue, by_id))
    db.session.expire_all()
    assert db.session.scalars(select(Device.brand)).one() == payload
    assert db.session.scalar(select(func.count(User.id))) == 1
