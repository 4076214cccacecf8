"""Organisations: profile edits, derived locality, SIRET rules, sites."""
from sqlalchemy import select

from core.extensions import db
from core.models import Locality, Organisation, Role, Site
from tests.factories import SiteFactory, user_for_role


def _profile(organisation: Organisation, **changes) -> dict:
    data = {"name": organisation.name, "siret": organisation.siret or "", "address": organisation.address,
            "postcode": organisation.postcode, "city": organisation.city}
    data.update(changes)
    return data


def test_locality_follows_the_address_and_cannot_be_typed(client, login):
    user = user_for_role(Role.SUPPLIER)
    organisation = user.organisation
    login(user)
    client.post(f"/organisations/{organisation.id}/edit",
                data=_profile(organisation, postcode="69003", city="Lyon", locality="territory"))
    db.session.expire_all()
    assert organisation.locality is Locality.ELSEWHERE
    client.post(f"/organisations/{organisation.id}/edit",
                data=_profile(organisation, postcode="91260", city="Juvisy-sur-Orge"))
    db.session.expire_all()
    assert organisation.locality is Locality.TERRITORY


def test_a_supplier_cannot_change_its_validated_siret(client, login):
    user = user_for_role(Role.SUPPLIER)
    organisation = user.organisation
    login(user)
    response = client.post(f"/organisations/{organisation.id}/edit",
                           data=_profile(organisation, siret="73282932000074"))
    assert response.status_code == 422
    assert "peut modifier le SIRET d" in response.get_data(as_text=True)


def test_an_invalid_postcode_is_explained(client, login):
    user = user_for_role(Role.SUPPLIER)
    login(user)
    response = client.post(f"/organisations/{user.organisation_id}/edit",
                           data=_profile(user.organisation, postcode="9440"))
    assert response.status_code == 422
    assert "Un code postal français comporte 5 chiffres." in response.get_data(as_text=True)


def test_sites_are_added_and_the_last_one_is_kept(client, login):
    user = user_for_role(Role.BENEFICIARY)
    organisation = user.organisation
    login(user)
    client.post(f"/organisations/{organisation.id}/sites", data={
        "site-name": "Annexe", "site-address": "4 rue", "site-postcode": "94800", "site-city": "Villejuif"})
    sites = db.session.scalars(select(Site).where(Site.organisation_id == organisation.id).order_by(Site.id)).all()
    assert [s.name for s in sites] == ["Siège", "Annexe"]
    client.post(f"/sites/{sites[0].id}/delete")
    response = client.post(f"/sites/{sites[1].id}/delete", follow_redirects=True)
    assert "au moins un site" in response.get_data(as_text=True)
    assert db.session.scalar(select(Site).where(Site.organisation_id == organisation.id)).name == "Annexe"


def test_the_directory_hides_pending_registrations(client, login):
    from tests.factories import OrganisationFactory

    OrganisationFactory(name="Visible Refurb")
    OrganisationFactory(name="Hidden Refurb", pending=True)
    login(user_for_role(Role.OBSERVER))
    page = client.get("/organisations?kind=supplier").get_data(as_text=True)
    assert "Visible Refurb" in page and "Hidden Refurb" not in page
    page = client.get("/organisations?q=refurb").get_data(as_text=True)
    assert "Visible Refurb" in page and "Hidden Refurb" not in page


def test_another_organisations_site_is_not_found(client, login):
    login(user_for_role(Role.SUPPLIER))
    other_site = SiteFactory(organisation=user_for_role(Role.SUPPLIER).organisation)
    assert client.post(f"/sites/{other_site.id}/delete").status_code == 404
