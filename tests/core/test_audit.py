"""The audit log records changes with before/after values, logins and refusals, and is append-only."""
import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry, Role
from tests.factories import OrganisationFactory, user_for_role


def _entries(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)).all()


def test_an_edit_records_who_changed_which_fields_before_and_after(client, login):
    user = user_for_role(Role.SUPPLIER)
    organisation = user.organisation
    old_name = organisation.name
    login(user)
    response = client.post(f"/organisations/{organisation.id}/edit", data={
        "name": "Nouveau nom", "address": organisation.address, "postcode": "75011", "city": "Paris",
        "siret": organisation.siret, "is_sme": "y"})
    assert response.status_code == 302
    entry = _entries("organisation.updated")[-1]
    assert entry.actor_id == user.id and entry.actor_email == user.email
    assert entry.organisation_id == organisation.id and entry.object_id == organisation.id
    assert entry.changes["name"] == [old_name, "Nouveau nom"]
    # The locality follows the address: derived, never typed.
    assert entry.changes["locality"] == ["territory", "ile_de_france"]
    assert entry.ip_address == "127.0.0.1"


def test_a_creation_is_recorded(client, login):
    user = user_for_role(Role.SUPPLIER)
    login(user)
    client.post(f"/organisations/{user.organisation_id}/sites", data={
        "site-name": "Entrepôt", "site-address": "3 rue", "site-postcode": "94200", "site-city": "Ivry-sur-Seine"})
    entry = _entries("site.created")[-1]
    assert entry.actor_id == user.id and "Entrepôt" in entry.object_label


def test_logins_and_failed_logins_are_recorded(client, login):
    user = user_for_role(Role.OBSERVER)
    client.post("/login", data={"email": user.email, "password": "wrong"})
    login(user)
    assert _entries("login.failed")[-1].changes == {"email": user.email}
    assert _entries("login.succeeded")[-1].actor_id == user.id


def test_the_password_hash_never_reaches_the_log(client, login):
    from tests.conftest import PASSWORD

    user = user_for_role(Role.OBSERVER)
    login(user)
    client.post("/account/password", data={"current_password": PASSWORD, "password": "another password 1",
                                            "confirm": "another password 1"})
    entry = _entries("user.updated")[-1]
    assert entry.changes["password_hash"] == ["…", "…"]
    assert "scrypt" not in str([e.changes for e in db.session.scalars(select(AuditEntry))])


def test_entries_cannot_be_changed_or_deleted():
    OrganisationFactory()
    entry = db.session.scalars(select(AuditEntry)).first()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AuditEntry)).first())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_the_admin_page_filters_the_log(client, login):
    admin = user_for_role(Role.ADMIN)
    other = user_for_role(Role.SUPPLIER)
    client.post("/login", data={"email": other.email, "password": "wrong"})
    login(admin)
    page = client.get("/admin/audit?action=login.failed").get_data(as_text=True)
    assert "login.failed" in page and "login.succeeded" not in page
    page = client.get(f"/admin/audit?actor={admin.email}").get_data(as_text=True)
    assert "login.succeeded" in page and "login.failed" not in page
    page = client.get(f"/admin/audit?organisation_id={other.organisation_id}&object_type=organisation"
                      ).get_data(as_text=True)
    assert "organisation.created" in page and "login.succeeded" not in page
    page = client.get("/admin/audit?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "login.succeeded" not in page
