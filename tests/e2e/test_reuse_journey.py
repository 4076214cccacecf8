"""The reuse journey in a browser: an IT manager offers a laptop, an association requests it, the request
is approved, the laptop is wiped and handed over, the association confirms receipt, and the gains show on
both dashboards."""
from datetime import date

import pytest
from playwright.sync_api import expect

from core.models import BeneficiaryCategory, OrganisationKind, Role
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.browser


def log_in(page, user):
    page.goto("/login")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")


def open_menu(page, name: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=name, exact=True).click()


def test_a_laptop_goes_from_a_commune_to_an_association(browser, live_server):
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name="Ville de Vitry-sur-Seine",
                                  postcode="94400", city="Vitry-sur-Seine")
    it_manager = UserFactory(role=Role.IT_MANAGER, organisation=commune, full_name="Chloé Bernard")
    association = OrganisationFactory(kind=OrganisationKind.BENEFICIARY, siret=None, name="Connect'Vitry",
                                      postcode="94400", city="Vitry-sur-Seine",
                                      beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY)
    contact = UserFactory(role=Role.BENEFICIARY, organisation=association, full_name="Awa Traoré")
    DeviceFactory(organisation=commune, serial_number="PF1ABCDE", brand="Lenovo", model="ThinkPad T480",
                  purchase_date=date(2021, 9, 1))

    owner_context = browser.new_context(base_url=live_server)
    receiver_context = browser.new_context(base_url=live_server)
    owner, receiver = owner_context.new_page(), receiver_context.new_page()
    try:
        # The IT manager declares the laptop surplus and offers it.
        log_in(owner, it_manager)
        open_menu(owner, "Inventaire")
        owner.get_by_role("link", name="Lenovo ThinkPad T480").click()
        owner.get_by_role("button", name="Déclarer en surplus").click()
        expect(owner.get_by_text("Réformé (surplus)")).to_be_visible()
        owner.get_by_role("link", name="Proposer au réemploi").click()
        owner.get_by_label("Titre").fill("Portable Lenovo ThinkPad T480")
        owner.get_by_role("button", name="Publier l'offre").click()
        expect(owner.get_by_role("heading", level=1)).to_have_text("Portable Lenovo ThinkPad T480")
        offer_url = owner.url

        # The association, in the same commune, sees it at once and requests it.
        log_in(receiver, contact)
        open_menu(receiver, "Offres de réemploi")
        receiver.get_by_role("link", name="Portable Lenovo ThinkPad T480").click()
        expect(receiver.get_by_text("Don possible")).to_be_visible()
        receiver.get_by_label("À quoi servira le matériel").fill("Atelier d'initiation au numérique")
        receiver.get_by_role("button", name="Demander").click()
        expect(receiver.get_by_text("Votre demande est envoyée")).to_be_visible()

        # The IT manager approves, records the wipe, hands over.
        owner.reload()
        owner.get_by_role("button", name="Approuver la demande de Connect'Vitry").click()
        expect(owner.get_by_text("La demande est approuvée.")).to_be_visible()
        owner.get_by_role("link", name="enregistrer l'effacement").click()
        owner.get_by_label("Type de support").fill("SSD NVMe")
        owner.get_by_label("Méthode", exact=True).fill("Effacement cryptographique")
        owner.get_by_label("Outil", exact=True).fill("nwipe")
        owner.get_by_label("Méthode de vérification").fill("Lecture de contrôle")
        owner.get_by_label("Validé par").fill("Alice Martin")
        owner.get_by_role("button", name="Enregistrer l'effacement").click()
        expect(owner.get_by_role("heading", level=1)).to_contain_text("EFF-")
        owner.goto(offer_url)
        owner.get_by_role("button", name="Enregistrer la remise à Connect'Vitry").click()
        expect(owner.get_by_role("link", name="Convention CES-")).to_be_visible()

        # The association confirms receipt; the gains show on both dashboards.
        open_menu(receiver, "Demandes de réemploi")
        receiver.get_by_role("button", name="Confirmer la réception").click()
        expect(receiver.get_by_text("Réception confirmée")).to_be_visible()
        open_menu(receiver, "Tableau de bord")
        expect(receiver.get_by_text("Reçu : 1 appareil(s)")).to_be_visible()
        open_menu(owner, "Tableau de bord")
        expect(owner.get_by_text("Donné : 1 appareil(s)")).to_be_visible()
    finally:
        owner_context.close()
        receiver_context.close()
