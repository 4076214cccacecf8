"""Log in, log out, throttling, password change and reset, invitations, registration."""
import re

from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry, Organisation, OutboxMessage, Role, User, ValidationStatus
from tests.conftest import PASSWORD
from tests.factories import OrganisationFactory, UserFactory, user_for_role


def _last_mail_to(email: str) -> OutboxMessage:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                              .order_by(OutboxMessage.id.desc())).first()


def _link_in(message: OutboxMessage) -> str:
    return re.search(r"http://localhost(/\S+)", message.body).group(1)


def test_login_opens_the_dashboard_and_logout_closes_the_session(client):
    user = user_for_role(Role.IT_MANAGER)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    client.post("/logout")
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_wrong_password_is_refused_with_a_message_and_recorded(client):
    user = user_for_role(Role.SUPPLIER)
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 401
    assert "Adresse électronique inconnue ou mot de passe incorrect" in response.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "login.failed" in actions


def test_login_is_throttled_per_account(client, app):
    user = user_for_role(Role.SUPPLIER)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        client.post("/login", data={"email": user.email, "password": "wrong password"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert "login.throttled" in db.session.scalars(select(AuditEntry.action)).all()
    # Another account from the same address is not blocked yet.
    other = user_for_role(Role.SUPPLIER)
    assert client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302


def test_login_is_throttled_per_address(client, app):
    victim = user_for_role(Role.SUPPLIER)
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        client.post("/login", data={"email": f"guess{n}@example.org", "password": "x"},
                    environ_base={"REMOTE_ADDR": "203.0.113.7"})
    response = client.post("/login", data={"email": victim.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 401
    response = client.post("/login", data={"email": victim.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert response.status_code == 302


def test_a_deactivated_account_cannot_log_in(client):
    user = user_for_role(Role.OBSERVER, active=False)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401


def test_login_never_redirects_off_site(client):
    user = user_for_role(Role.OBSERVER)
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.location == "/dashboard"


def test_change_password(client, login):
    user = user_for_role(Role.IT_MANAGER)
    login(user)
    response = client.post("/account/password", data={
        "current_password": "not the password", "password": "a brand new password",
        "confirm": "a brand new password"})
    assert response.status_code == 422
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"email": user.email,
                                       "password": "a brand new password"}).status_code == 302


def test_password_reset_by_mailed_link_works_once(client):
    user = user_for_role(Role.PROCUREMENT_OFFICER)
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    link = _link_in(_last_mail_to(user.email))
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "reset password 123", "confirm": "reset password 123"})
    assert response.status_code == 302 and response.location == "/login"
    assert client.post("/login", data={"email": user.email, "password": "reset password 123"}).status_code == 302
    client.post("/logout")
    # The same link no longer works once the password has changed.
    response = client.get(link)
    assert response.status_code == 302 and response.location == "/password/forgot"


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "un lien de réinitialisation" in response.get_data(as_text=True)
    assert db.session.scalar(select(OutboxMessage)) is None


def test_an_expired_reset_link_is_refused(client, app):
    user = user_for_role(Role.PROCUREMENT_OFFICER)
    client.post("/password/forgot", data={"email": user.email})
    link = _link_in(_last_mail_to(user.email))
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        response = client.get(link, follow_redirects=True)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert "Ce lien a expiré" in response.get_data(as_text=True)


def test_admin_invites_a_user_who_sets_a_password(client, login):
    admin = user_for_role(Role.ADMIN)
    commune = OrganisationFactory(public=True)
    login(admin)
    response = client.post("/admin/users", data={"full_name": "Zoé Petit", "email": "zoe@ville.example",
                                                  "organisation_id": commune.id, "role": "it_manager"})
    assert response.status_code == 302
    client.post("/logout")
    link = _link_in(_last_mail_to("zoe@ville.example"))
    client.post(link, data={"password": "zoe's own password", "confirm": "zoe's own password"})
    response = client.post("/login", data={"email": "zoe@ville.example", "password": "zoe's own password"})
    assert response.status_code == 302


def test_invitation_refuses_a_role_the_organisation_cannot_hold(client, login):
    login(user_for_role(Role.ADMIN))
    supplier = OrganisationFactory()
    response = client.post("/admin/users", data={"full_name": "X", "email": "x@s.example",
                                                  "organisation_id": supplier.id, "role": "procurement_officer"})
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.email == "x@s.example")) is None


REGISTRATION = {
    "kind": "supplier", "name": "Reboot Gentilly", "siret": "732 829 320 00074", "address": "2 rue Raspail",
    "postcode": "94250", "city": "Gentilly", "is_ess": "y", "full_name": "Nora Diallo",
    "user_email": "nora@reboot.example", "password": "a long enough password",
    "confirm": "a long enough password",
}


def test_a_supplier_registers_and_waits_for_the_ept(client, login):
    admin = user_for_role(Role.ADMIN)
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Reboot Gentilly"))
    assert organisation.validation_status is ValidationStatus.PENDING
    assert organisation.siret == "73282932000074"
    assert organisation.locality.value == "territory"
    assert "en attente de validation" in client.get("/dashboard").get_data(as_text=True)
    assert _last_mail_to(admin.email) is not None  # the EPT is told

    client.post("/logout")
    login(admin)
    assert client.post(f"/admin/organisations/{organisation.id}/validate").status_code == 302
    db.session.expire_all()
    assert organisation.validation_status is ValidationStatus.VALIDATED
    assert "validé" in _last_mail_to("nora@reboot.example").subject


def test_registration_with_an_invalid_siret_explains_why_and_creates_nothing(client):
    response = client.post("/register", data=dict(REGISTRATION, siret="73282932000075"))
    assert response.status_code == 422
    assert "pas un numéro SIRET valide" in response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation)) is None


def test_a_beneficiary_must_give_its_donation_category(client):
    data = dict(REGISTRATION, kind="beneficiary", siret="", user_email="b@asso.example")
    response = client.post("/register", data=data)
    assert response.status_code == 422
    data["beneficiary_category"] = "general_interest_precarity"
    assert client.post("/register", data=data).status_code == 302


def test_admin_rejects_a_registration_with_a_reason(client, login):
    pending = OrganisationFactory(pending=True)
    member = UserFactory(organisation=pending)
    login(user_for_role(Role.ADMIN))
    assert client.post(f"/admin/organisations/{pending.id}/reject", data={"reason": ""}).status_code == 422
    client.post(f"/admin/organisations/{pending.id}/reject", data={"reason": "SIRET radié"})
    db.session.expire_all()
    assert pending.validation_status is ValidationStatus.REJECTED
    assert "SIRET radié" in _last_mail_to(member.email).body
