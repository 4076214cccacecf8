"""Accounts and organisations: every change to them goes through these functions.

Services check the rule, change, and record; they never commit: the caller (a view, the API, a
command) commits once, so services compose.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from stdnum.fr import siret as siret_number

from core import audit, mail, permissions, throttle
from core.errors import RuleViolation
from core.extensions import db
from core.models import (
    ROLES_BY_KIND,
    ApiToken,
    BeneficiaryCategory,
    Organisation,
    OrganisationKind,
    Role,
    Site,
    User,
    ValidationStatus,
    utcnow,
)

MIN_PASSWORD_LENGTH = 10


# --- organisations -----------------------------------------------------------------------------

def clean_siret(value: str | None) -> str | None:
    """Normalise a SIRET (spaces allowed) and check its Luhn key; None when empty."""
    if not value or not value.strip():
        return None
    if not siret_number.is_valid(value):
        raise RuleViolation(_("%(siret)s is not a valid SIRET number (14 digits with a valid key).",
                              siret=value.strip()))
    return siret_number.compact(value)


@dataclass
class OrganisationDetails:
    kind: OrganisationKind
    name: str
    address: str
    postcode: str
    city: str
    siret: str | None = None
    insee_code: str | None = None
    email: str = ""
    phone: str = ""
    website: str = ""
    description: str = ""
    is_sme: bool = False
    is_ess: bool = False
    is_ea_esat: bool = False
    is_siae: bool = False
    beneficiary_category: BeneficiaryCategory | None = None


def _check_organisation(details: OrganisationDetails, existing: Organisation | None = None) -> str | None:
    siret = clean_siret(details.siret)
    if details.kind is OrganisationKind.SUPPLIER and not siret:
        raise RuleViolation(_("A supplier must give its SIRET number."))
    if details.kind is OrganisationKind.BENEFICIARY and details.beneficiary_category is None:
        raise RuleViolation(_("A beneficiary organisation must say which donation category it falls under."))
    if siret:
        clash = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
        if clash is not None and clash is not existing:
            raise RuleViolation(_("An organisation with SIRET %(siret)s is already registered.", siret=siret))
    return siret


def _apply(organisation: Organisation, details: OrganisationDetails, siret: str | None) -> None:
    for field in ("kind", "name", "address", "postcode", "city", "insee_code", "email", "phone",
                  "website", "description", "is_sme", "is_ess", "is_ea_esat", "is_siae"):
        setattr(organisation, field, getattr(details, field))
    organisation.siret = siret
    is_beneficiary = details.kind is OrganisationKind.BENEFICIARY
    organisation.beneficiary_category = details.beneficiary_category if is_beneficiary else None


def create_organisation(details: OrganisationDetails,
                        status: ValidationStatus = ValidationStatus.PENDING) -> Organisation:
    """A new organisation with its first site at its own address."""
    siret = _check_organisation(details)
    organisation = Organisation(validation_status=status)
    _apply(organisation, details, siret)
    if status is ValidationStatus.VALIDATED:
        organisation.validated_at = utcnow()
    organisation.sites.append(Site(name=details.name, address=details.address,
                                   postcode=details.postcode, city=details.city))
    db.session.add(organisation)
    return organisation


def update_organisation(actor: User, organisation: Organisation, details: OrganisationDetails) -> None:
    permissions.require(actor, "organisation.edit", organisation)
    if details.kind is not organisation.kind:
        raise RuleViolation(_("The kind of an organisation cannot change."))
    siret = _check_organisation(details, existing=organisation)
    if siret != organisation.siret and organisation.is_validated and not permissions.may(
            actor, "organisation.validate"):
        raise RuleViolation(_("Only the EPT can change the SIRET of a validated organisation."))
    _apply(organisation, details, siret)


def validate_organisation(actor: User, organisation: Organisation) -> None:
    permissions.require(actor, "organisation.validate", organisation)
    if organisation.validation_status is ValidationStatus.VALIDATED:
        raise RuleViolation(_("This organisation is already validated."))
    organisation.validation_status = ValidationStatus.VALIDATED
    organisation.validated_at = utcnow()
    organisation.rejection_reason = ""
    audit.record(actor, "organisation.validated", organisation)
    for member in organisation.users:
        send_mail(member, "organisation_validated", organisation=organisation)


def reject_organisation(actor: User, organisation: Organisation, reason: str) -> None:
    permissions.require(actor, "organisation.validate", organisation)
    if not reason.strip():
        raise RuleViolation(_("Say why the registration is rejected."))
    organisation.validation_status = ValidationStatus.REJECTED
    organisation.rejection_reason = reason.strip()
    audit.record(actor, "organisation.rejected", organisation, reason=reason.strip())
    for member in organisation.users:
        send_mail(member, "organisation_rejected", organisation=organisation)


def add_site(actor: User, organisation: Organisation, name: str, address: str, postcode: str,
             city: str, contact: str = "", instructions: str = "") -> Site:
    permissions.require(actor, "organisation.edit", organisation)
    site = Site(name=name, address=address, postcode=postcode, city=city, contact=contact,
                instructions=instructions)
    organisation.sites.append(site)
    return site


def remove_site(actor: User, site: Site) -> None:
    permissions.require(actor, "site.edit", site)
    if len(site.organisation.sites) <= 1:
        raise RuleViolation(_("An organisation keeps at least one site."))
    db.session.delete(site)


# --- users -------------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(_("A password has at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def create_user(organisation: Organisation, email: str, full_name: str, role: Role,
                password: str | None = None, locale: str | None = None) -> User:
    email = normalise_email(email)
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise RuleViolation(_("The role %(role)s does not exist in an organisation of this kind (%(kind)s).",
                              role=role.label, kind=organisation.kind.label))
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise RuleViolation(_("An account already uses the address %(email)s.", email=email))
    user = User(email=email, full_name=full_name.strip(), role=role, organisation=organisation,
                locale=locale)
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    db.session.add(user)
    return user


def invite_user(actor: User, organisation: Organisation, email: str, full_name: str, role: Role) -> User:
    """An admin creates an account without a password; the invitee sets it from the mailed link."""
    permissions.require(actor, "user.invite", organisation)
    user = create_user(organisation, email, full_name, role)
    db.session.flush()
    send_mail(user, "invitation", organisation=organisation, inviter=actor,
                         link=url_for("core.reset_password", token=password_token(user, "invite"),
                                      _external=True))
    audit.record(actor, "user.invited", user)
    return user


def set_user_active(actor: User, user: User, active: bool) -> None:
    permissions.require(actor, "user.edit", user)
    if user.id == actor.id and not active:
        raise RuleViolation(_("You cannot deactivate your own account."))
    user.active = active


def register(details: OrganisationDetails, email: str, full_name: str, password: str) -> User:
    """Self-registration of a supplier or a beneficiary: the organisation waits for the EPT."""
    role = {OrganisationKind.SUPPLIER: Role.SUPPLIER,
            OrganisationKind.BENEFICIARY: Role.BENEFICIARY}.get(details.kind)
    if role is None:
        raise RuleViolation(_("Only suppliers and beneficiary organisations register themselves."))
    organisation = create_organisation(details)
    user = create_user(organisation, email, full_name, role, password=password)
    db.session.flush()
    audit.record(user, "organisation.registered", organisation)
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True)))
    for admin in admins:
        send_mail(admin, "registration_to_validate", organisation=organisation,
                             link=url_for("core.admin_organisation", organisation_id=organisation.id,
                                          _external=True))
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise RuleViolation(_("The current password is not correct."))
    check_password_strength(new_password)
    user.set_password(new_password)
    audit.record(user, "user.password_changed", user)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise RuleViolation(_("This language is not available."))
    user.locale = locale


# --- login and its throttling ------------------------------------------------------------------

def authenticate(email: str, password: str, ip_address: str) -> User:
    """The user with these credentials, or RuleViolation. Too many recent failures for the account
    or for the address block the attempt before the password is even checked."""
    email = normalise_email(email)
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    for_account, for_address = throttle.store().recent_failures(email, ip_address, window)
    if (for_account >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or for_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        user = db.session.scalar(select(User).where(User.email == email))
        audit.record(None, "login.throttled", user, email=email)
        raise RuleViolation(_("Too many failed attempts. Wait %(minutes)d minutes and try again.",
                              minutes=window // 60))
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active or not user.check_password(password):
        throttle.store().record_failure(email, ip_address, window)
        audit.record(None, "login.failed", user, email=email)
        raise RuleViolation(_("Unknown email address or wrong password."))
    user.last_login_at = utcnow()
    audit.record(user, "login.succeeded", user)
    return user


# --- signed tokens for password reset and invitations -----------------------------------------

def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"circuit-{purpose}")


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes, every earlier link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def password_token(user: User, purpose: str = "reset") -> str:
    return _serializer("password").dumps({"user": user.id, "pw": _password_fingerprint(user),
                                          "purpose": purpose})


def user_for_password_token(token: str) -> User:
    try:
        payload = _serializer("password").loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired:
        raise RuleViolation(_("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise RuleViolation(_("This link is not valid.")) from None
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    if payload.get("purpose") == "reset":
        try:
            _serializer("password").loads(token, max_age=max_age)
        except SignatureExpired:
            raise RuleViolation(_("This link has expired. Ask for a new one.")) from None
    user = db.session.get(User, payload.get("user"))
    if user is None or not user.is_active or payload.get("pw") != _password_fingerprint(user):
        raise RuleViolation(_("This link has already been used or is no longer valid."))
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account discovery)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        return
    send_mail(user, "password_reset",
                         link=url_for("core.reset_password", token=password_token(user), _external=True))
    audit.record(None, "user.password_reset_requested", user)


def reset_password(token: str, new_password: str) -> User:
    user = user_for_password_token(token)
    check_password_strength(new_password)
    user.set_password(new_password)
    audit.record(user, "user.password_reset", user)
    return user


# --- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "circ_"  # nosec B105 # a visible prefix, not a secret


def _token_digest(clear_token: str) -> str:
    return hashlib.sha256(clear_token.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its clear value, which is shown once and never stored."""
    if not name.strip():
        raise RuleViolation(_("Give the token a name that says where it is used."))
    clear_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip(), token_hash=_token_digest(clear_token),
                     prefix=clear_token[:len(TOKEN_PREFIX) + 4])
    db.session.add(token)
    return token, clear_token


def revoke_api_token(actor: User, token: ApiToken) -> None:
    permissions.require(actor, "token.manage", token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def user_for_api_token(clear_token: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(clear_token)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user


# --- mail in the recipient's language ----------------------------------------------------------

def send_mail(user: User, template: str, **context) -> None:
    """Mail a user in their own language, from templates/mail/<template>.subject.txt and .body.txt."""
    from flask import render_template

    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = render_template(f"mail/{template}.subject.txt", user=user, **context).strip()
        body = render_template(f"mail/{template}.body.txt", user=user, **context)
    mail.send(user.email, subject, body)
