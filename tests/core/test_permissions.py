"""Every role against every protected route and API endpoint.

Each case names its endpoint, how to call it, and the status each role gets. A route missing from this
table fails `test_every_protected_route_is_in_the_matrix`, so the matrix grows with the application.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core import services
from core.extensions import db
from core.models import Role
from tests.factories import OrganisationFactory, UserFactory, user_for_role
from tests.matrix import ALL_CASES, ANONYMOUS, ROLES, Case, admin_only, everyone, log_in, register
PUBLIC_ENDPOINTS = {
    "static", "healthz", "core.home", "core.login", "core.register", "core.forgot_password",
    "core.reset_password", "core.set_language", "api.openapi_json", "reuse.verify", "reuse.verify_form",
    "api.indicators", "api.export_decp", "api.export_ocds", "api.export_agec",
    "marketplace.stripe_webhook", "procurement.open_data",
}


@dataclass
class World:
    users: dict
    pending: object
    pending_site: object
    supplier: object
    stranger: object
    stranger_token: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    pending = OrganisationFactory(pending=True)
    supplier = OrganisationFactory()
    stranger = UserFactory(organisation=supplier)
    token, _ = services.create_api_token(stranger, "stranger's token")
    db.session.commit()
    return World(users, pending, pending.sites[0] if pending.sites else None, supplier, stranger, token)


def own_organisation(world: World, user) -> str:
    return f"/organisations/{user.organisation_id}"


WEB_CASES = register([
    Case("core.dashboard", "GET", lambda w, u: "/dashboard", everyone(200)),
    Case("core.account", "GET", lambda w, u: "/account", everyone(200)),
    Case("core.change_password", "POST", lambda w, u: "/account/password", everyone(422)),
    Case("core.create_token", "POST", lambda w, u: "/account/tokens", everyone(200),
         data=lambda w: {"name": "GLPI"}),
    Case("core.revoke_token", "POST", lambda w, u: f"/account/tokens/{w.stranger_token.id}/revoke",
         everyone(404)),
    Case("core.logout", "POST", lambda w, u: "/logout", everyone(302)),
    Case("core.organisations", "GET", lambda w, u: "/organisations", everyone(200)),
    Case("core.organisation", "GET", own_organisation, everyone(200)),
    Case("core.organisation", "GET", lambda w, u: f"/organisations/{w.pending.id}", admin_only(200, 404)),
    Case("core.organisation", "GET", lambda w, u: f"/organisations/{w.supplier.id}", everyone(200)),
    Case("core.edit_organisation", "GET", lambda w, u: own_organisation(w, u) + "/edit",
         everyone(200, observer=404)),
    Case("core.edit_organisation", "GET", lambda w, u: f"/organisations/{w.supplier.id}/edit",
         admin_only(200, 404)),
    Case("core.add_site", "POST", lambda w, u: f"/organisations/{w.supplier.id}/sites",
         admin_only(302, 404),
         data=lambda w: {"site-name": "Dépôt", "site-address": "1 rue", "site-postcode": "94200",
                         "site-city": "Ivry-sur-Seine"}),
    Case("core.delete_site", "POST", lambda w, u: f"/sites/{w.supplier.sites[0].id}/delete",
         admin_only(302, 404)),
    Case("core.admin_organisations", "GET", lambda w, u: "/admin/organisations", admin_only()),
    Case("core.admin_organisation", "GET", lambda w, u: f"/admin/organisations/{w.pending.id}", admin_only()),
    Case("core.validate_organisation", "POST", lambda w, u: f"/admin/organisations/{w.pending.id}/validate",
         admin_only(302)),
    Case("core.reject_organisation", "POST", lambda w, u: f"/admin/organisations/{w.pending.id}/reject",
         admin_only(302), data=lambda w: {"reason": "Incomplete"}),
    Case("core.admin_users", "GET", lambda w, u: "/admin/users", admin_only()),
    Case("core.invite_user", "POST", lambda w, u: "/admin/users", admin_only(422)),
    Case("core.set_user_active", "POST", lambda w, u: f"/admin/users/{w.stranger.id}/active",
         admin_only(302, 404), data=lambda w: {"active": "0"}),
    Case("core.admin_audit", "GET", lambda w, u: "/admin/audit", admin_only()),
    Case("core.admin_outbox", "GET", lambda w, u: "/admin/outbox", admin_only()),
])

API_CASES = register([
    Case("api.me", "GET", lambda w, u: "/api/v1/me", everyone(200), anonymous=401),
    Case("api.organisations", "GET", lambda w, u: "/api/v1/organisations", everyone(200), anonymous=401),
    Case("api.organisation", "GET", lambda w, u: f"/api/v1/organisations/{w.pending.id}",
         admin_only(200, 404), anonymous=401),
    Case("api.organisation", "GET", lambda w, u: f"/api/v1/organisations/{w.supplier.id}",
         everyone(200), anonymous=401),
])


def _case_id(case: Case) -> str:
    return f"{case.method} {case.endpoint} {case.url.__name__ if case.url.__name__ != '<lambda>' else ''}".strip()


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", WEB_CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(WEB_CASES)])
def test_web_route(client, world, case, role):
    user = None if role == ANONYMOUS else world.users[role]
    if user is not None:
        log_in(client, user)
    url = case.url(world, user or world.stranger)
    data = case.data(world) if case.data else {}
    response = client.open(url, method=case.method, data=data)
    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if user is None and expected == 302:
        assert response.location.startswith("/login")


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", API_CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(API_CASES)])
def test_api_endpoint(client, world, case, role):
    headers = {}
    if role != ANONYMOUS:
        _, clear_token = services.create_api_token(world.users[role], "matrix")
        db.session.commit()
        headers["Authorization"] = f"Bearer {clear_token}"
    response = client.open(case.url(world, world.users.get(role)), method=case.method, headers=headers)
    expected = case.anonymous if role == ANONYMOUS else case.expected[role]
    assert response.status_code == expected
    if expected >= 400:
        assert set(response.get_json()["error"]) == {"status", "code", "message", "details"}


def test_every_protected_route_is_in_the_matrix(app):
    import importlib
    import pkgutil

    import tests

    # Import every test module, so the matrices of all domains are registered even in a partial run.
    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        importlib.import_module(module.name)
    covered = {case.endpoint for case in ALL_CASES}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC_ENDPOINTS - covered == set()


def test_a_refusal_is_recorded_in_the_audit_log(client, world):
    from sqlalchemy import select

    from core.models import AuditEntry

    log_in(client, world.users[Role.SUPPLIER])
    assert client.get("/admin/audit").status_code == 403
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "permission.denied")).one()
    assert entry.actor_id == world.users[Role.SUPPLIER].id
    assert entry.changes == {"permission": "audit.view"}


def test_a_pending_supplier_may_not_sell_or_bid_until_validated(world):
    from core import permissions
    from core.models import ValidationStatus

    seller = UserFactory(organisation=OrganisationFactory(pending=True))
    assert not permissions.may(seller, "marketplace.sell")
    assert not permissions.may(seller, "procurement.bid")
    seller.organisation.validation_status = ValidationStatus.VALIDATED
    assert permissions.may(seller, "marketplace.sell")
    assert permissions.may(seller, "procurement.bid")
