"""Accessibility: axe-core (tests/e2e/package.json) checks every main page against WCAG 2.1 A and AA, in
French and in English, as the role that uses it, at 360 px wide. A serious or critical violation fails the test; moderate
and minor ones are counted in a summary printed at the end of the module.

The demo data (core.demo) plus a reuse request, a group order and an order are loaded once for the module:
the pages need a realistic territory, and loading it for each test would cost minutes."""
from __future__ import annotations

import collections
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core import demo
from core.extensions import db
from core.models import Organisation, Role, User, utcnow
from marketplace.models import CatalogueOffer
from marketplace.services import basket, campaigns
from procurement.models import Contract, Tender
from reuse import services as reuse_services
from reuse.models import Device, DeviceCategory, Offer
from tests.conftest import wipe_database

pytestmark = pytest.mark.browser

AXE_SOURCE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
def axe_version() -> str:
    return json.loads((AXE_SOURCE.parent / "package.json").read_text())["version"]


FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = ("fr", "en")

# Who uses which page: the demo account of the role, and the pages (name, path) it visits.
ACCOUNTS = {
    "public": None,
    Role.ADMIN: "admin@gosb.example",
    Role.PROCUREMENT_OFFICER: "achats@gosb.example",
    Role.IT_MANAGER: "dsi.94081@ville.example",
    Role.SUPPLIER: "ans@fournisseur.example",
    Role.BENEFICIARY: "connect@beneficiaire.example",
    Role.OBSERVER: "elu@gosb.example",
}


def pages_of(role, data) -> list[tuple[str, str]]:
    return {
        "public": [
            ("home", "/"), ("login", "/login"), ("register", "/register"),
            ("forgot password", "/password/forgot"), ("verify a certificate", "/reuse/verify"),
            ("page not found", "/no-such-page"),
        ],
        Role.ADMIN: [
            ("dashboard", "/dashboard"), ("account", "/account"),
            ("organisations directory", "/organisations"),
            ("organisation page", f"/organisations/{data.vitry}"),
            ("registrations", "/admin/organisations"),
            ("registration", f"/admin/organisations/{data.pending_organisation}"),
            ("users", "/admin/users"), ("audit log", "/admin/audit"), ("outbox", "/admin/outbox"),
            ("search index", "/admin/search"), ("documents", "/documents"),
            ("AGEC donation values", "/procurement/indicators/donation-values"),
        ],
        Role.PROCUREMENT_OFFICER: [
            ("dashboard", "/dashboard"), ("search results", "/search?q=reconditionnes"),
            ("catalogue", "/marketplace/catalogue"),
            ("catalogue offer", f"/marketplace/catalogue/{data.catalogue_offer}"),
            ("basket", "/marketplace/basket"),
            ("group orders", "/marketplace/campaigns"),
            ("group order", f"/marketplace/campaigns/{data.campaign}"),
            ("new group order", "/marketplace/campaigns/new"),
            ("orders", "/marketplace/orders"), ("order", f"/marketplace/orders/{data.order}"),
            ("tenders", "/procurement/tenders"), ("tender", f"/procurement/tenders/{data.open_tender}"),
            ("new tender", "/procurement/tenders/new"),
            ("contracts", "/procurement/contracts"), ("contract", f"/procurement/contracts/{data.contract}"),
            ("new contract", "/procurement/contracts/new"),
            ("own contract", f"/procurement/contracts/{data.own_contract}"),
            ("indicators", "/procurement/indicators"), ("clause library", "/procurement/clauses"),
            ("AGEC donation values", "/procurement/indicators/donation-values"),
            ("documents", "/documents"),
        ],
        Role.IT_MANAGER: [
            ("dashboard", "/dashboard"), ("search results", "/search?q=dell"),
            ("inventory", "/reuse/devices"), ("device", f"/reuse/devices/{data.device}"),
            ("new device", "/reuse/devices/new"), ("edit device", f"/reuse/devices/{data.device}/edit"),
            ("device import", "/reuse/devices/import"),
            ("surplus offers", "/reuse/offers"), ("surplus offer", f"/reuse/offers/{data.reuse_offer}"),
            ("new surplus offer", "/reuse/offers/new"),
            ("reuse requests", "/reuse/requests"), ("reuse gains", "/reuse/gains"),
        ],
        Role.SUPPLIER: [
            ("dashboard", "/dashboard"), ("account", "/account"),
            ("tenders", "/procurement/tenders"), ("tender", f"/procurement/tenders/{data.open_tender}"),
            ("bid form", f"/procurement/tenders/{data.open_tender}/lots/{data.open_lot}/bid"),
            ("my bids", "/procurement/bids"), ("my offers", "/marketplace/my-offers"),
            ("edit catalogue offer", f"/marketplace/catalogue/{data.catalogue_offer}/edit"),
            ("orders", "/marketplace/orders"), ("order", f"/marketplace/orders/{data.order}"),
        ],
        Role.BENEFICIARY: [
            ("dashboard", "/dashboard"), ("surplus offers", "/reuse/offers"),
            ("surplus offer", f"/reuse/offers/{data.reuse_offer}"), ("reuse requests", "/reuse/requests"),
            ("catalogue", "/marketplace/catalogue"),
        ],
        Role.OBSERVER: [
            ("dashboard", "/dashboard"), ("indicators", "/procurement/indicators"),
            ("contracts", "/procurement/contracts"),
        ],
    }[role]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Replaces tests/conftest.py's per-test wipe: this module's data lives as long as the module."""
    with app.app_context():
        yield


@pytest.fixture(scope="module")
def data(app):
    with app.app_context():
        demo.load()
        officer, it_manager = _user("achats@gosb.example"), _user("dsi.94081@ville.example")
        beneficiary, supplier = _user("connect@beneficiaire.example"), _user("ans@fournisseur.example")
        reuse_offer = db.session.scalar(select(Offer))
        reuse_services.request_offer(beneficiary, reuse_offer, 1, "Atelier numérique pour les seniors.")
        catalogue_offer = db.session.scalar(select(CatalogueOffer).where(
            CatalogueOffer.supplier_id == supplier.organisation_id, CatalogueOffer.category == DeviceCategory.LAPTOP))
        campaign = campaigns.create_campaign(officer, officer.organisation, "Portables 2027",
                                             "Achat groupé de portables reconditionnés.", utcnow() + timedelta(days=20))
        line = campaigns.add_line(officer, campaign, "Portable 14 pouces", "8 Go, SSD 256 Go", DeviceCategory.LAPTOP,
                                  20, [catalogue_offer])
        campaigns.set_participation(officer, line, officer.organisation.sites[0], 5)
        basket.add_item(officer, catalogue_offer, officer.organisation.sites[0], 3)
        order = basket.place_order(officer, "6064 Fournitures informatiques")[0]
        open_tender = db.session.scalar(select(Tender).where(Tender.reference == "GOSB-2027-01"))
        pending = db.session.scalar(select(Organisation).where(Organisation.name == "Reboot Cachan"))
        db.session.commit()
        ids = SimpleNamespace(
            vitry=it_manager.organisation_id, pending_organisation=pending.id,
            reuse_offer=reuse_offer.id, catalogue_offer=catalogue_offer.id, campaign=campaign.id, order=order.id,
            open_tender=open_tender.id, open_lot=open_tender.lots[0].id,
            contract=db.session.scalar(select(Contract.id).order_by(Contract.id)),
            # One of the officer's own: its page carries the AGEC, completion and modification forms.
            own_contract=db.session.scalar(select(Contract.id).where(Contract.buyer_id == officer.organisation_id)
                                           .order_by(Contract.id)),
            device=db.session.scalar(select(Device.id).where(Device.organisation_id == it_manager.organisation_id)
                                     .order_by(Device.id)),
        )
        yield ids
        wipe_database()


@pytest.fixture(scope="module")
def findings(request):
    """Every violation found, by page; the moderate and minor ones are summed up at the end."""
    found: list[dict] = []
    yield found
    by_rule = collections.Counter((v["impact"], v["id"]) for v in found)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"axe-core {axe_version()}: {len(found)} violation(s) "
                            f"on {len({v['page'] for v in found})} page(s)")
        for (impact, rule), count in sorted(by_rule.items()):
            reporter.write_line(f"  {impact:9} {rule}: {count} page(s)")


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/dashboard")


def choose_language(page, language: str) -> None:
    """The switcher in the header (core.set_language): saved on the account once logged in."""
    page.select_option("#language-select", language)
    page.locator(".language-switcher button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language


def axe(page) -> list[dict]:
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", AXE_TAGS)
    assert result["passes"], f"axe checked nothing on {page.url}"
    return result["violations"]


def describe(violation: dict) -> str:
    targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
    more = f" (+{len(violation['nodes']) - 3} more)" if len(violation["nodes"]) > 3 else ""
    return f"{violation['page']}: {violation['impact']} {violation['id']} ({violation['help']}) at {targets}{more}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(ACCOUNTS), ids=str)
def test_main_pages_have_no_serious_accessibility_violation(browser, live_server, data, findings, role, language):
    assert AXE_SOURCE.exists(), "axe-core is missing: run `npm ci --prefix tests/e2e` (make test does)"
    # The narrowest width the site supports: where wide tables scroll, which a keyboard must reach too.
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    # Added by the browser to every document it loads, so the page's CSP (script-src 'self') does not apply.
    context.add_init_script(path=str(AXE_SOURCE))
    page = context.new_page()
    try:
        if ACCOUNTS[role]:
            log_in(page, ACCOUNTS[role])
        else:
            page.goto("/")
        choose_language(page, language)
        serious = []
        for name, path in pages_of(role, data):
            response = page.goto(path)
            assert response.status == (404 if name == "page not found" else 200), f"{path}: {response.status}"
            assert page.locator("html").get_attribute("lang") == language, path
            for violation in axe(page):
                violation["page"] = f"{role} {language} {name} ({path})"
                findings.append(violation)
                if violation["impact"] in FAILING_IMPACTS:
                    serious.append(describe(violation))
        assert not serious, "serious or critical accessibility violations:\n" + "\n".join(serious)
    finally:
        context.close()
