"""An IT manager searches from the header box without accents, narrows by a facet, follows a "did you
mean" suggestion and opens a result; at 360 px, with no console error."""
import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from core.models import Role
from reuse.models import DeviceCategory
from tests.conftest import PASSWORD
from tests.factories import CatalogueOfferFactory, user_for_role

pytestmark = pytest.mark.browser


def test_search_from_the_header_narrow_and_follow_a_suggestion(page, app):
    console_errors = []  # a script error or a CSP refusal shows here
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    CatalogueOfferFactory(category=DeviceCategory.MONITOR, brand="Écran", model="reconditionné Dell 24 pouces")
    CatalogueOfferFactory(brand="Lenovo", model="ordinateur portable reconditionné")
    user = user_for_role(Role.IT_MANAGER)
    with app.test_request_context(), force_locale("fr"):
        monitor = DeviceCategory.MONITOR.label

    page.goto("/login")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    box = page.get_by_role("searchbox", name="Rechercher dans Circuit")
    box.fill("reconditionnes")
    box.press("Enter")
    expect(page.get_by_role("heading", name="2 résultats")).to_be_visible()
    expect(page.locator(".search-results mark").first).to_be_visible()

    page.locator(".search-facets").get_by_role("link", name=f"{monitor} (1)").click()
    expect(page.get_by_role("heading", name="1 résultat")).to_be_visible()
    expect(page.locator(".search-results")).to_contain_text("Écran reconditionné Dell 24 pouces")

    box = page.get_by_role("searchbox", name="Rechercher dans Circuit")
    box.fill("ordinatuer")
    box.press("Enter")
    expect(page.get_by_text("Rien ne correspond à ces mots.")).to_be_visible()
    page.locator(".search-suggestion").get_by_role("link", name="ordinateur").click()
    expect(page.get_by_role("heading", name="1 résultat")).to_be_visible()
    page.locator(".search-results").get_by_role("link", name="Lenovo ordinateur portable reconditionné").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lenovo ordinateur portable reconditionné")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert console_errors == []
