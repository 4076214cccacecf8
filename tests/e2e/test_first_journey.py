"""A procurement officer logs in, sees the dashboard, switches to English, logs out; at 360 px wide."""
import pytest
from playwright.sync_api import expect

from core.models import Role
from tests.conftest import PASSWORD
from tests.factories import user_for_role

pytestmark = pytest.mark.browser


def test_log_in_see_dashboard_switch_language_log_out(page):
    user = user_for_role(Role.PROCUREMENT_OFFICER, full_name="Bruno Lefèvre")

    page.goto("/")
    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(page.get_by_text("Bienvenue, Bruno Lefèvre.")).to_be_visible()
    expect(page.get_by_role("heading", name="Consultations")).to_be_visible()

    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer de langue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Keyboard: the skip link is the first stop and leads to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # Nothing overflows the 360 px viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/dashboard")
    assert "/login" in page.url
