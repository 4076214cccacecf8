"""The search page, the search box in the header, the index's admin page, and the text filters of the
list pages answering from the index, or from SQL with a notice when the index is damaged."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import search
from core.extensions import db
from core.models import Role
from marketplace.models import Grade
from reuse import services as reuse_services
from reuse.models import DeviceCategory
from tests.factories import (CatalogueOfferFactory, DeviceFactory, OrganisationFactory, UserFactory, clause,
                             draft_tender, published_tender, user_for_role)
from tests.matrix import ROLES, Case, admin_only, check, everyone, log_in, register

SIMPLE_MATCHING = "The search index is unavailable, so the text filter used simple matching"
UNAVAILABLE = "The search index is unavailable; results below come from a simpler text match"


@pytest.fixture
def buyer():
    """Users of these tests read the pages in English."""
    return user_for_role(Role.PROCUREMENT_OFFICER, locale="en")


@pytest.fixture
def admin():
    return user_for_role(Role.ADMIN, locale="en")


def page_of(client, url: str, **args) -> str:
    response = client.get(url, query_string=args or None)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def hit_titles(page: str) -> list[str]:
    """The text of each result's title, in order, highlights removed."""
    titles = re.findall(r'<ol class="search-hits">(.*?)</ol>', page, re.S)
    found = re.findall(r"<h3><a [^>]*>(.*?)</a></h3>", titles[0], re.S) if titles else []
    return [html.unescape(re.sub(r"<[^>]+>", "", title)) for title in found]


def link(page: str, text: str) -> str:
    """The address of the link whose text starts with `text`."""
    match = re.search(r'<a href="([^"]*)"[^>]*>\s*' + re.escape(text), page)
    assert match, f"no link {text!r}"
    return html.unescape(match.group(1))


def facet_counts(page: str, name: str) -> dict[str, int]:
    section = re.search(rf'<nav class="facet" aria-labelledby="facet-{name}">(.*?)</nav>', page, re.S)
    if section is None:
        return {}
    return {html.unescape(label).strip(): int(count) for label, count in
            re.findall(r'<a [^>]*>([^<]*)<span class="facet-count">\((\d+)\)</span>', section.group(1))}


def break_index(app) -> None:
    """Empty the live generation's folder, as a lost disk or a bad copy would."""
    live = (Path(app.config["SEARCH_INDEX_DIR"]) / search.CURRENT).resolve()
    for path in live.iterdir():
        path.unlink()


# --- the search page -------------------------------------------------------------------------------

def test_words_without_accents_and_in_another_form_find_the_offer_highlighted(client, buyer):
    CatalogueOfferFactory(brand="Écran", model="reconditionné 24 pouces")
    CatalogueOfferFactory(brand="Clavier", model="filaire")
    log_in(client, buyer)
    page = page_of(client, "/search", q="ecrans reconditionnes")
    assert hit_titles(page) == ["Écran reconditionné 24 pouces"]
    assert '<mark class="match term' in page
    assert "1 result" in page and "Catalogue offers" in page
    offer_link = link(page, '<mark class="match')
    assert offer_link.startswith("/marketplace/catalogue/")
    assert client.get(offer_link).status_code == 200


def test_the_header_has_a_search_box_for_signed_in_users_only(client, buyer):
    assert 'role="search"' not in page_of(client, "/login")
    log_in(client, buyer)
    page = page_of(client, "/dashboard")
    box = re.search(r'<form class="header-search" role="search" method="get" action="/search".*?</form>', page, re.S)
    assert box and 'name="q"' in box.group(0) and 'for="header-search-text"' in box.group(0)
    # On the search page it holds the words searched.
    assert 'id="header-search-text" name="q" maxlength="200" value="portable"' in page_of(client, "/search",
                                                                                           q="portable")


def test_the_empty_form_explains_and_nothing_found_says_so(client, buyer):
    log_in(client, buyer)
    assert "Type one or more words to search everything you may open on Circuit." in page_of(
        client, "/search")
    page = page_of(client, "/search", q="introuvable")
    assert "0 results" in page and "Nothing matches these words." in page


def test_facets_count_the_matches_and_narrow_them(client, buyer):
    for model in ("Latitude 5490", "Latitude 7490"):
        CatalogueOfferFactory(model=model, specifications="portable professionnel")
    CatalogueOfferFactory(category=DeviceCategory.MONITOR, brand="Dell", model="P2419H",
                          specifications="écran professionnel", grade=Grade.B)
    log_in(client, buyer)
    page = page_of(client, "/search", q="professionnel")
    assert "3 results" in page
    assert facet_counts(page, "category") == {"Laptop": 2, "Monitor": 1}
    assert facet_counts(page, "grade") == {"Grade A": 2, "Grade B": 1}
    narrowed = page_of(client, link(page, "Monitor"))
    assert hit_titles(narrowed) == ["Dell P2419H"] and "1 result" in narrowed
    assert 'class="facet-selected" aria-current="true"' in narrowed
    # The selected value links back to the search without it.
    assert len(hit_titles(page_of(client, link(narrowed, "Monitor")))) == 3


def test_results_are_paginated_and_links_keep_the_search(client, buyer, monkeypatch):
    monkeypatch.setattr("core.views.search.PER_PAGE", 2)
    for n in range(5):
        CatalogueOfferFactory(model=f"Portable {n}", category=DeviceCategory.LAPTOP)
    log_in(client, buyer)
    first = page_of(client, "/search", q="portable", category="laptop")
    assert len(hit_titles(first)) == 2 and "Page 1 of 3" in first
    second_link = link(first, "Next page")
    assert "q=portable" in second_link and "category=laptop" in second_link and "page=2" in second_link
    second = page_of(client, second_link)
    assert "Page 2 of 3" in second and "Previous page" in second
    assert not set(hit_titles(first)) & set(hit_titles(second))
    # A page past the end shows the last one; a page that is not a number, the first.
    assert "Page 3 of 3" in page_of(client, "/search", q="portable", page="99")
    assert "Page 1 of 3" in page_of(client, "/search", q="portable", page="deux")
    assert "Page 1 of 3" in page_of(client, "/search", q="portable", page="-4")
    assert "Page 3 of 3" in page_of(client, "/search", q="portable", page=str(10 ** 30))


def test_bad_parameters_never_fail(client, buyer):
    CatalogueOfferFactory(brand="Dell", model="Latitude")
    log_in(client, buyer)
    assert hit_titles(page_of(client, "/search", q="latitude", kind="castle")) == ["Dell Latitude"]
    assert hit_titles(page_of(client, "/search", q="latitude", grade="Z", status="nowhere")) == []
    for text in ('"', "*", "dell AND (", "title:dell", "') OR 1=1 --", "x" * 5000):
        page_of(client, "/search", q=text)


def test_a_misspelt_word_gets_a_suggestion_link(client, buyer):
    CatalogueOfferFactory(brand="Lenovo", model="ordinateur portable")
    log_in(client, buyer)
    page = page_of(client, "/search", q="ordinatuer")
    assert "Did you mean" in page
    suggested = link(page, "ordinateur")
    assert "q=ordinateur" in suggested
    assert hit_titles(page_of(client, suggested)) == ["Lenovo ordinateur portable"]


def test_titles_and_excerpts_are_escaped(client, buyer):
    CatalogueOfferFactory(brand="Dell", model="<script>alert(1)</script> écran",
                          specifications="<img src=x onerror=alert(2)> écran")
    log_in(client, buyer)
    page = page_of(client, "/search", q="ecran")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "onerror=alert(2)&gt;" in page


def test_what_the_user_may_not_open_is_neither_shown_nor_counted(client, buyer):
    officer_elsewhere = user_for_role(Role.PROCUREMENT_OFFICER)
    draft_tender(officer_elsewhere, title="Photocopieurs secrets")
    published_tender(reference="PUB-1", title="Photocopieurs publics")
    supplier = OrganisationFactory(name="Photocopieurs Gambetta")
    CatalogueOfferFactory(supplier=supplier, brand="Photocopieurs", model="Visible")
    CatalogueOfferFactory(supplier=supplier, brand="Photocopieurs", model="Withdrawn", active=False)
    CatalogueOfferFactory(supplier=supplier, brand="Photocopieurs", model="Sold out", stock=0)
    pending = OrganisationFactory(name="Photocopieurs en attente", pending=True)
    CatalogueOfferFactory(supplier=pending, brand="Photocopieurs", model="Pending")
    log_in(client, buyer)
    page = page_of(client, "/search", q="photocopieurs")
    assert set(hit_titles(page)) == {"Photocopieurs Gambetta", "Photocopieurs Visible", "PUB-1 Photocopieurs publics"}
    assert "3 results" in page
    assert sum(facet_counts(page, "kind").values()) == 3
    assert facet_counts(page, "status").get("Draft") is None
    for hidden in ("secrets", "Withdrawn", "Sold out", "en attente", "Pending"):
        assert hidden not in page
    # The draft's buyer finds it.
    log_in(client, officer_elsewhere)
    assert any(title.endswith("Photocopieurs secrets") for title in hit_titles(page_of(client, "/search",
                                                                                        q="photocopieurs")))


def test_kinds_and_statuses_narrow_the_search(client, buyer):
    published_tender(title="Serveurs reconditionnés")
    clause("ENV-SRV", title="Serveurs reconditionnés")
    log_in(client, buyer)
    page = page_of(client, "/search", q="serveurs")
    assert facet_counts(page, "kind") == {"Tenders": 1, "Clauses": 1}
    only_clauses = page_of(client, link(page, "Clauses"))
    assert hit_titles(only_clauses) == ["ENV-SRV Serveurs reconditionnés"]
    assert facet_counts(only_clauses, "status") == {"In use": 1}


def test_without_the_index_the_page_says_so_and_matches_in_sql(app, client, buyer):
    CatalogueOfferFactory(brand="Dell", model="OptiPlex <b>7090</b>")
    CatalogueOfferFactory(brand="Dell", model="Hidden OptiPlex", stock=0)
    break_index(app)
    log_in(client, buyer)
    page = page_of(client, "/search", q="optiplex")
    assert UNAVAILABLE in page
    assert hit_titles(page) == ["Dell OptiPlex <b>7090</b>"] and "&lt;b&gt;" in page
    assert 'class="facet' not in page
    assert UNAVAILABLE in page_of(client, "/search", q="optiplex", kind="catalogue_offer", page="3")


# --- the list pages' text filters ------------------------------------------------------------------

def test_the_catalogue_filter_answers_from_the_index_then_from_sql(app, client, buyer):
    CatalogueOfferFactory(brand="Écran", model="reconditionné 24 pouces")
    CatalogueOfferFactory(brand="Clavier", model="filaire")
    log_in(client, buyer)
    page = page_of(client, "/marketplace/catalogue", q="ecrans reconditionnes")
    assert "reconditionné 24 pouces" in page and "filaire" not in page and SIMPLE_MATCHING not in page
    break_index(app)
    page = page_of(client, "/marketplace/catalogue", q="reconditionné")
    assert "reconditionné 24 pouces" in page and "filaire" not in page and SIMPLE_MATCHING in page


def test_the_group_orders_offer_search_answers_from_the_index_then_from_sql(app, client, buyer):
    from datetime import timedelta

    from core.models import utcnow
    from marketplace.services import campaigns

    CatalogueOfferFactory(brand="Écran", model="reconditionné 24 pouces")
    CatalogueOfferFactory(brand="Clavier", model="filaire")
    campaign = campaigns.create_campaign(buyer, buyer.organisation, "Écrans 2027", "", utcnow() + timedelta(days=9))
    db.session.commit()
    log_in(client, buyer)
    url = f"/marketplace/campaigns/{campaign.id}"
    page = page_of(client, url, offers_q="ecrans reconditionnes")
    assert "reconditionné 24 pouces" in page and "filaire" not in page and SIMPLE_MATCHING not in page
    break_index(app)
    page = page_of(client, url, offers_q="reconditionné")
    assert "reconditionné 24 pouces" in page and "filaire" not in page and SIMPLE_MATCHING in page


def test_the_tenders_filter_answers_from_the_index_then_from_sql(app, client, buyer):
    published_tender(reference="VITRY-ECRANS", title="Écrans reconditionnés pour les écoles")
    published_tender(reference="VITRY-SERVEURS", title="Serveurs")
    log_in(client, buyer)
    page = page_of(client, "/procurement/tenders", q="ecran ecole")
    assert "VITRY-ECRANS" in page and "VITRY-SERVEURS" not in page and SIMPLE_MATCHING not in page
    break_index(app)
    page = page_of(client, "/procurement/tenders", q="Écrans")
    assert "VITRY-ECRANS" in page and "VITRY-SERVEURS" not in page and SIMPLE_MATCHING in page


def device_offer(owner, title: str):
    offer = reuse_services.create_offer(owner, [DeviceFactory(organisation=owner.organisation, reformed=True)], title)
    db.session.commit()
    return offer


def test_the_reuse_offers_filter_answers_from_the_index_then_from_sql(app, client):
    owner = user_for_role(Role.IT_MANAGER)  # a commune in Vitry, as the reader: it sees the offers at once
    device_offer(owner, "Écrans pour écoles")
    device_offer(owner, "Serveurs")
    reader = UserFactory(role=Role.PROCUREMENT_OFFICER, locale="en",
                         organisation=OrganisationFactory(public=True))
    log_in(client, reader)
    assert 'name="q"' in page_of(client, "/reuse/offers")
    page = page_of(client, "/reuse/offers", q="ecran ecole")
    assert "Écrans pour écoles" in page and "Serveurs" not in page and SIMPLE_MATCHING not in page
    assert "No open offer matches these words." in page_of(client, "/reuse/offers", q="imprimante")
    break_index(app)
    page = page_of(client, "/reuse/offers", q="Écrans")
    assert "Écrans pour écoles" in page and "Serveurs" not in page and SIMPLE_MATCHING in page


def test_the_clauses_filter_answers_from_the_index_then_from_sql(app, client, buyer):
    clause("ENV-ECR", title="Écrans reconditionnés")
    clause("ENV-SRV", title="Serveurs")
    log_in(client, buyer)
    page = page_of(client, "/procurement/clauses", q="ecran reconditionne", theme="durability")
    assert "ENV-ECR" in page and "ENV-SRV" not in page and SIMPLE_MATCHING not in page
    assert "ENV-ECR" not in page_of(client, "/procurement/clauses", q="ecran reconditionne", theme="battery")
    break_index(app)
    page = page_of(client, "/procurement/clauses", q="Écrans")
    assert "ENV-ECR" in page and "ENV-SRV" not in page and SIMPLE_MATCHING in page


def test_the_directory_filter_answers_from_the_index_then_from_sql(app, client, buyer):
    OrganisationFactory(name="Recyclerie numérique", description="Ateliers de réparation")
    OrganisationFactory(name="Imprimerie", description="Papier")
    OrganisationFactory(name="Recyclerie en attente", pending=True)
    OrganisationFactory(public=True, name="Ville de Cachan", postcode="94230", city="Cachan")
    log_in(client, buyer)
    page = page_of(client, "/organisations", q="reparations")
    assert "Recyclerie numérique" in page and "Imprimerie" not in page and SIMPLE_MATCHING not in page
    assert "Recyclerie en attente" not in page_of(client, "/organisations", q="recyclerie")
    # Public bodies are not in the index: their names are matched in SQL.
    page = page_of(client, "/organisations", q="cachan")
    assert "Ville de Cachan" in page and "Recyclerie" not in page
    assert "Ville de Cachan" not in page_of(client, "/organisations", q="cachan", kind="supplier")
    break_index(app)
    page = page_of(client, "/organisations", q="Recyclerie")
    assert "Recyclerie numérique" in page and "Recyclerie en attente" not in page and SIMPLE_MATCHING in page


# --- the admin page --------------------------------------------------------------------------------

def test_the_admin_page_reports_the_index_and_a_rebuild_repairs_it(app, client, admin):
    CatalogueOfferFactory(brand="Dell", model="OptiPlex")
    clause("ENV-ADM")
    search.drain()  # the tests leave the drain to the next search (conftest); the page shows the index as is
    log_in(client, admin)
    page = page_of(client, "/admin/search")
    assert "The search index is available." in page
    assert re.search(r"<th scope=\"row\">Catalogue offers</th><td class=\"amount\">1</td>", page)
    assert re.search(r"<th scope=\"row\">Clauses</th><td class=\"amount\">1</td>", page)
    assert 'action="/admin/search/reindex"' in page and 'action="/admin/search/drain"' in page

    break_index(app)
    page = page_of(client, "/admin/search")
    assert "The search index is unavailable." in page
    assert "simple text matching in the database" in page and "Rebuilding the index fixes it." in page
    response = client.post("/admin/search/drain")
    assert response.status_code == 302
    assert "rebuild the index" in page_of(client, "/admin/search")

    response = client.post("/admin/search/reindex")
    assert response.status_code == 302 and response.location.endswith("/admin/search")
    page = page_of(client, "/admin/search")
    assert "The search index is rebuilt:" in page and "The search index is available." in page
    assert hit_titles(page_of(client, "/search", q="optiplex")) == ["Dell OptiPlex"]


def test_applying_waiting_changes_empties_the_queue(app, client, admin):
    log_in(client, admin)
    CatalogueOfferFactory(brand="Asus", model="ExpertBook")  # drain on commit is off in the tests
    assert search.status().waiting > 0
    client.post("/admin/search/drain")
    assert "waiting changes are applied to the search index" in page_of(client, "/admin/search")
    assert search.status().waiting == 0
    assert hit_titles(page_of(client, "/search", q="expertbook")) == ["Asus ExpertBook"]


def test_the_admin_page_is_in_the_navigation_of_admins_only(client, admin, buyer):
    log_in(client, admin)
    assert 'href="/admin/search"' in page_of(client, "/dashboard")
    log_in(client, buyer)
    assert 'href="/admin/search"' not in page_of(client, "/dashboard")


# --- the permission matrix -------------------------------------------------------------------------

@dataclass
class World:
    users: dict


@pytest.fixture
def world() -> World:
    return World({role: user_for_role(role) for role in Role})


CASES = register([
    Case("core.search", "GET", lambda w, u: "/search?q=ordinateur", everyone(200)),
    Case("core.admin_search", "GET", lambda w, u: "/admin/search", admin_only()),
    Case("core.reindex_search", "POST", lambda w, u: "/admin/search/reindex", admin_only(302)),
    Case("core.drain_search", "POST", lambda w, u: "/admin/search/drain", admin_only(302)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_search_route(client, world, case, role):
    response = check(client, world, case, role)
    if role == "anonymous":
        assert response.location.startswith("/login")
