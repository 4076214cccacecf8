"""The layout: landmarks, skip link, navigation by role, dashboards with empty states, security headers."""
import pytest

from core.models import Role
from core.views.dashboard import DASHBOARD_SECTIONS, names_read
from tests.factories import OrganisationFactory, UserFactory, user_for_role


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_lands_on_its_dashboard(client, login, role):
    login(user_for_role(role))
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<a class="skip-link" href="#content">' in page
    for landmark in ('<header class="site-header" role="banner">', '<main id="content"', 'role="contentinfo"',
                     'aria-label="Navigation principale"'):
        assert landmark in page
    assert 'class="empty"' in page or role is Role.ADMIN
    admin_links = ("/admin/users", "/admin/audit")
    assert all(link in page for link in admin_links) == (role is Role.ADMIN)


def test_the_dashboard_reads_what_its_page_and_the_cards_it_includes_show():
    officer = names_read("core/dashboard/procurement_officer.html")
    assert {"tender_stages", "open_campaigns", "offers_for_me", "my_requests", "current_user"} <= officer
    assert not {"device_counts", "gains", "territory_gains"} & officer
    assert {"device_counts", "requests_to_answer", "gains"} <= names_read("core/dashboard/it_manager.html")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_is_given_only_figures_its_dashboard_shows(role):
    user = user_for_role(role)
    shown = names_read(f"core/dashboard/{role.value}.html")
    given = {name for section in DASHBOARD_SECTIONS for name in section(user, shown)}
    assert given - {"reuse_year"} <= shown


def test_a_pending_organisation_is_told_it_waits_for_the_ept(client, login):
    login(UserFactory(organisation=OrganisationFactory(pending=True)))
    assert "en attente de validation par l'EPT" in client.get("/dashboard").get_data(as_text=True)


def test_breadcrumbs_lead_back(client, login):
    user = user_for_role(Role.SUPPLIER)
    login(user)
    page = client.get(f"/organisations/{user.organisation_id}").get_data(as_text=True)
    assert 'aria-label="Fil d' in page and 'href="/organisations"' in page


def test_pages_forbid_framing_and_foreign_scripts(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_stylesheet_is_served_from_the_app(client):
    response = client.get("/static/css/circuit.css")
    assert response.status_code == 200 and b"@media" in response.data
    response.close()


def test_csrf_protects_every_form(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        user = user_for_role(Role.ADMIN)
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
        assert response.status_code == 400
        assert "Le formulaire a expiré" in response.get_data(as_text=True)
        assert client.get("/dashboard").status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
