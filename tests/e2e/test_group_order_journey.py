"""The group-order journey in a browser: the EPT opens a campaign, two communes state their needs for
their sites, the deadline passes, the coordinator awards the line and issues the purchase orders, and the
supplier confirms its order."""
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.models import OrganisationKind, Role, Site, utcnow
from marketplace.models import Campaign
from tests.conftest import PASSWORD
from tests.factories import CatalogueOfferFactory, OrganisationFactory, PriceTierFactory, UserFactory

pytestmark = pytest.mark.browser


def log_in(page, user):
    page.goto("/login")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")


def open_menu(page, name: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=name, exact=True).click()


def commune(name: str, postcode: str, city: str, extra_site: str | None = None):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None, name=name, postcode=postcode,
                                       city=city)
    if extra_site:
        db.session.add(Site(organisation=organisation, name=extra_site, address="1 place de l'École",
                            postcode=postcode, city=city))
        db.session.commit()
    return UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=organisation)


def state_need(page, site: str, quantity: int) -> None:
    page.get_by_label("Site de livraison").select_option(label=site)
    page.get_by_label("Quantité pour Portable 14 pouces").fill(str(quantity))
    page.get_by_role("button", name="Enregistrer mon besoin").click()
    expect(page.get_by_text("Votre besoin est enregistré")).to_be_visible()


def test_a_group_order_from_campaign_to_confirmed_orders(browser, live_server):
    coordinator = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(
        kind=OrganisationKind.EPT, siret=None, name="EPT Grand-Orly Seine Bièvre", postcode="94310", city="Orly"))
    ivry = commune("Ville d'Ivry-sur-Seine", "94200", "Ivry-sur-Seine", extra_site="École Joliot-Curie")
    orly = commune("Ville d'Orly", "94310", "Orly")
    offer = CatalogueOfferFactory(brand="Dell", model="Latitude 5400", unit_price=Decimal("320.00"), stock=50)
    PriceTierFactory(offer=offer, min_quantity=10, unit_price=Decimal("295.00"))
    supplier = UserFactory(role=Role.SUPPLIER, organisation=offer.supplier)

    contexts = [browser.new_context(base_url=live_server) for _ in range(4)]
    page, ivry_page, orly_page, supplier_page = (context.new_page() for context in contexts)
    try:
        log_in(page, coordinator)
        open_menu(page, "Commandes groupées")
        page.get_by_role("link", name="Ouvrir une commande groupée").click()
        page.get_by_label("Titre").fill("Portables reconditionnés 2027")
        page.get_by_label("Date limite des besoins des membres (heure de Paris)").fill("2099-03-31T17:00")
        page.get_by_role("button", name="Ouvrir la campagne").click()
        page.get_by_label("Intitulé de la ligne").fill("Portable 14 pouces")
        page.get_by_label("Spécification requise").fill("Core i5, 16 Go, SSD 256 Go, grade A")
        page.get_by_label("Quantité totale minimale").fill("8")
        page.get_by_label("Dell Latitude 5400", exact=False).check()
        page.get_by_role("button", name="Ajouter la ligne").click()
        expect(page.get_by_text("La ligne est ajoutée.")).to_be_visible()
        campaign_url = page.url

        log_in(ivry_page, ivry)
        ivry_page.goto(campaign_url)
        state_need(ivry_page, "Siège", 4)
        state_need(ivry_page, "École Joliot-Curie", 3)
        log_in(orly_page, orly)
        orly_page.goto(campaign_url)
        state_need(orly_page, "Siège", 5)
        expect(orly_page.get_by_text("Total : 12")).to_be_visible()

        # The deadline passes (server time decides).
        campaign = db.session.query(Campaign).one()
        campaign.deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()

        page.goto(campaign_url)
        expect(page.get_by_text("Le recensement est gelé")).to_be_visible()
        page.get_by_role("button", name="Attribuer « Portable 14 pouces »").click()
        expect(page.get_by_text("295,00")).to_be_visible()  # the 10-unit tier, reached by the total
        page.get_by_role("button", name="Émettre les bons de commande").click()
        expect(page.get_by_text("Les bons de commande sont émis")).to_be_visible()
        expect(page.get_by_role("link", name="BC-")).to_have_count(2)

        # A member can no longer change its need.
        ivry_page.goto(campaign_url)
        expect(ivry_page.get_by_role("button", name="Enregistrer mon besoin")).to_have_count(0)

        log_in(supplier_page, supplier)
        open_menu(supplier_page, "Commandes")
        supplier_page.get_by_role("link", name="BC-").first.click()
        supplier_page.get_by_role("button", name="Confirmer la commande").click()
        expect(supplier_page.get_by_text("Confirmée par le fournisseur").first).to_be_visible()
    finally:
        for context in contexts:
            context.close()
