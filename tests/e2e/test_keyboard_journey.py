"""A whole journey with the keyboard alone (no mouse, no click): an IT manager logs in, declares a laptop
surplus and offers it for reuse; an association of the same commune switches the site to English, finds the
offer and requests it; the IT manager approves the request. Only Tab, Shift+Tab, Enter, Space, the arrow
keys and typing are used; every element the focus lands on must show it (WCAG 2.4.7), and the skip link
must take the focus to the main content (WCAG 2.4.1)."""
from datetime import date

import pytest
from playwright.sync_api import expect

from core.models import BeneficiaryCategory, OrganisationKind, Role
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.browser

# What the focused element says (its text, value or label) and whether its focus can be seen.
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const label = element.labels && element.labels.length ? element.labels[0].innerText : "";
  return {
    tag: element.tagName.toLowerCase(), id: element.id,
    text: (element.innerText || element.value || element.getAttribute("aria-label") || "").trim(),
    label: label.replace("*", "").trim(),
    visible: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none",
  };
}"""
MAX_PRESSES = 80


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element named `name` has the focus, checking on the way that
    each element reached shows its focus."""
    for _ in range(MAX_PRESSES):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        element = focused(page)
        if element["tag"] == "body":
            continue  # past the last element the focus leaves the page (the browser's own controls)
        assert element["visible"], f"the focus cannot be seen on {element}"
        if name in (element["text"], element["label"]):
            return
    raise AssertionError(f"“{name}” cannot be reached with the keyboard ({MAX_PRESSES} presses)")


def press_and_wait(page, key: str = "Enter") -> None:
    """Follow a link or send a form from the keyboard, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def skip_to_content(page) -> None:
    page.keyboard.press("Tab")
    skip_link = page.locator(".skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # hidden until it has the focus, then shown
    assert focused(page)["visible"]
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()


def log_in(page, user, dashboard: str) -> None:
    page.goto("/login")
    skip_to_content(page)
    tab_to(page, "Adresse électronique")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    press_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(dashboard)


def test_offer_request_and_approve_with_the_keyboard_alone(browser, live_server):
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name="Ville de Vitry-sur-Seine",
                                  postcode="94400", city="Vitry-sur-Seine")
    it_manager = UserFactory(role=Role.IT_MANAGER, organisation=commune)
    association = OrganisationFactory(kind=OrganisationKind.BENEFICIARY, siret=None, name="Connect'Vitry",
                                      postcode="94400", city="Vitry-sur-Seine",
                                      beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY)
    contact = UserFactory(role=Role.BENEFICIARY, organisation=association)
    DeviceFactory(organisation=commune, serial_number="PF1ABCDE", brand="Lenovo", model="ThinkPad T480",
                  purchase_date=date(2021, 9, 1))

    owner_context = browser.new_context(base_url=live_server)
    receiver_context = browser.new_context(base_url=live_server)
    owner, receiver = owner_context.new_page(), receiver_context.new_page()
    try:
        # The IT manager declares the laptop surplus and publishes an offer.
        log_in(owner, it_manager, "Tableau de bord")
        tab_to(owner, "Inventaire")
        press_and_wait(owner)
        skip_to_content(owner)
        tab_to(owner, "Lenovo ThinkPad T480")
        press_and_wait(owner)
        skip_to_content(owner)
        tab_to(owner, "Déclarer en surplus")
        press_and_wait(owner, "Space")
        expect(owner.get_by_text("Réformé (surplus)")).to_be_visible()
        skip_to_content(owner)
        tab_to(owner, "Proposer au réemploi")
        press_and_wait(owner)
        skip_to_content(owner)
        tab_to(owner, "Titre")
        owner.keyboard.type("Portable Lenovo ThinkPad T480")
        tab_to(owner, "Publier l'offre")
        press_and_wait(owner)
        expect(owner.get_by_role("heading", level=1)).to_have_text("Portable Lenovo ThinkPad T480")

        # The association switches to English with the arrow keys, then requests the laptop.
        log_in(receiver, contact, "Tableau de bord")
        tab_to(receiver, "Langue")
        receiver.keyboard.press("ArrowDown")  # Français → English
        tab_to(receiver, "Changer de langue")
        press_and_wait(receiver)
        expect(receiver.locator("html")).to_have_attribute("lang", "en")
        tab_to(receiver, "Reuse offers")
        press_and_wait(receiver)
        skip_to_content(receiver)
        tab_to(receiver, "Portable Lenovo ThinkPad T480")
        press_and_wait(receiver)
        skip_to_content(receiver)
        tab_to(receiver, "What the equipment will be used for")
        receiver.keyboard.type("Atelier d'initiation au numérique")
        tab_to(receiver, "Quantity", backwards=True)
        expect(receiver.get_by_label("Quantity")).to_have_value("1")
        tab_to(receiver, "Request")
        press_and_wait(receiver, "Space")
        expect(receiver.get_by_text("Your request is sent")).to_be_visible()

        # The IT manager sees the request on the offer and approves it.
        owner.reload()
        skip_to_content(owner)
        tab_to(owner, "Approuver la demande de Connect'Vitry")
        press_and_wait(owner)
        expect(owner.get_by_text("La demande est approuvée.")).to_be_visible()
    finally:
        owner_context.close()
        receiver_context.close()
