"""The JSON API: bearer tokens (hashed, revocable), the error shape, OpenAPI, health."""
from sqlalchemy import select

from core import services
from core.extensions import db
from core.models import ApiToken, Role
from tests.factories import OrganisationFactory, user_for_role


def _token_for(user) -> str:
    _, clear_token = services.create_api_token(user, "test")
    db.session.commit()
    return clear_token


def test_a_token_is_stored_hashed_and_identifies_its_user(client):
    user = user_for_role(Role.PROCUREMENT_OFFICER)
    clear_token = _token_for(user)
    stored = db.session.scalars(select(ApiToken)).one()
    assert clear_token not in (stored.token_hash, stored.prefix)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear_token}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email
    assert response.get_json()["role"] == "procurement_officer"


def test_the_session_cookie_alone_does_not_open_the_api(client, login):
    login(user_for_role(Role.ADMIN))
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_created_and_revoked_from_the_account_page(client, login):
    user = user_for_role(Role.IT_MANAGER)
    login(user)
    page = client.post("/account/tokens", data={"name": "GLPI"}).get_data(as_text=True)
    clear_token = page.split('id="clear-token"')[1].split('value="')[1].split('"')[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear_token}"}).status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear_token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_errors_have_one_json_shape(client):
    clear_token = _token_for(user_for_role(Role.SUPPLIER))
    headers = {"Authorization": f"Bearer {clear_token}"}
    for url, status in (("/api/v1/organisations/999999", 404), ("/api/v1/nothing-here", 404),
                        ("/api/v1/organisations?kind=castle", 400)):
        response = client.get(url, headers=headers)
        assert response.status_code == status
        error = response.get_json()["error"]
        assert error["status"] == status and error["code"] and error["message"]
        assert isinstance(error["details"], dict)


def test_organisations_are_listed_by_page_without_pending_ones(client):
    OrganisationFactory(name="Validated Refurb")
    OrganisationFactory(name="Pending Refurb", pending=True)
    clear_token = _token_for(user_for_role(Role.SUPPLIER))
    body = client.get("/api/v1/organisations?kind=supplier&per_page=50",
                      headers={"Authorization": f"Bearer {clear_token}"}).get_json()
    names = {item["name"] for item in body["items"]}
    assert "Validated Refurb" in names and "Pending Refurb" not in names
    assert body["total"] == len(body["items"])


def test_openapi_document_describes_the_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/me", "/organisations", "/organisations/{organisation_id}"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_every_api_route_is_in_the_openapi_document(app, client):
    import re

    paths = set(client.get("/api/v1/openapi.json").get_json()["paths"])
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_json"}
    assert routes - paths == set()
