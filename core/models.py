"""Organisations, their sites and users, API tokens, the audit log, login failures, the mail outbox."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, DateTime, Enum, ForeignKey, Index, LargeBinary, String, Text, TypeDecorator,
                        UniqueConstraint, event)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from core.extensions import db
from core.territory import Locality, locality_of


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC, read back as aware UTC: SQLite keeps no time zone, PostgreSQL the same way."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def enum_column(enum_class: type[enum.Enum], **kwargs):
    """Enums are stored as their string values in a VARCHAR: portable and easy to migrate."""
    return mapped_column(
        Enum(enum_class, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e],
             validate_strings=True),
        **kwargs,
    )


class Audited:
    """Marker: creations, field changes and deletions of these models go to the audit log."""


class OrganisationKind(enum.StrEnum):
    EPT = "ept"
    COMMUNE = "commune"
    SYNDICATE = "syndicate"
    SUPPLIER = "supplier"
    BENEFICIARY = "beneficiary"
    # A public buyer known only from an imported DECP file: it has no account on the platform.
    EXTERNAL_BUYER = "external_buyer"

    @property
    def label(self) -> str:
        return str(ORGANISATION_KIND_LABELS[self])

    @property
    def is_public_buyer(self) -> bool:
        return self in {OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE}


ORGANISATION_KIND_LABELS = {
    OrganisationKind.EPT: _l("Territorial public body (EPT)"),
    OrganisationKind.COMMUNE: _l("Commune"),
    OrganisationKind.SYNDICATE: _l("IT syndicate"),
    OrganisationKind.SUPPLIER: _l("Supplier"),
    OrganisationKind.BENEFICIARY: _l("Beneficiary organisation"),
    OrganisationKind.EXTERNAL_BUYER: _l("Public buyer outside the platform"),
}


class BeneficiaryCategory(enum.StrEnum):
    """Who may receive a free transfer of surplus goods (CGPPP L.3212-2)."""

    PUBLIC_BODY = "public_body"
    PARENTS_STUDENTS_ASSOCIATION = "parents_students_association"
    RECOGNISED_PUBLIC_UTILITY = "recognised_public_utility"
    GENERAL_INTEREST_PRECARITY = "general_interest_precarity"
    ESUS_REUSE = "esus_reuse"

    @property
    def label(self) -> str:
        return str(BENEFICIARY_CATEGORY_LABELS[self])


BENEFICIARY_CATEGORY_LABELS = {
    BeneficiaryCategory.PUBLIC_BODY: _l("Public body (school, CCAS, library…)"),
    BeneficiaryCategory.PARENTS_STUDENTS_ASSOCIATION: _l("Parents' or students' association"),
    BeneficiaryCategory.RECOGNISED_PUBLIC_UTILITY: _l("Association recognised of public utility"),
    BeneficiaryCategory.GENERAL_INTEREST_PRECARITY: _l(
        "General-interest association equipping people in precarity"
    ),
    BeneficiaryCategory.ESUS_REUSE: _l("ESUS-approved reuse structure"),
}


class ValidationStatus(enum.StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(VALIDATION_STATUS_LABELS[self])


VALIDATION_STATUS_LABELS = {
    ValidationStatus.PENDING: _l("Awaiting validation"),
    ValidationStatus.VALIDATED: _l("Validated"),
    ValidationStatus.REJECTED: _l("Rejected"),
}

LOCALITY_LABELS = {
    Locality.TERRITORY: _l("In the territory"),
    Locality.DEPARTMENTS: _l("In Val-de-Marne or Essonne"),
    Locality.ILE_DE_FRANCE: _l("In Île-de-France"),
    Locality.ELSEWHERE: _l("Elsewhere"),
}


class Role(enum.StrEnum):
    ADMIN = "admin"
    PROCUREMENT_OFFICER = "procurement_officer"
    IT_MANAGER = "it_manager"
    SUPPLIER = "supplier"
    BENEFICIARY = "beneficiary"
    OBSERVER = "observer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Platform administrator"),
    Role.PROCUREMENT_OFFICER: _l("Procurement officer"),
    Role.IT_MANAGER: _l("IT manager"),
    Role.SUPPLIER: _l("Supplier"),
    Role.BENEFICIARY: _l("Beneficiary contact"),
    Role.OBSERVER: _l("Observer (read only)"),
}

# Which roles an organisation of each kind may hold.
ROLES_BY_KIND = {
    OrganisationKind.EPT: {Role.ADMIN, Role.PROCUREMENT_OFFICER, Role.IT_MANAGER, Role.OBSERVER},
    OrganisationKind.COMMUNE: {Role.PROCUREMENT_OFFICER, Role.IT_MANAGER, Role.OBSERVER},
    OrganisationKind.SYNDICATE: {Role.PROCUREMENT_OFFICER, Role.IT_MANAGER, Role.OBSERVER},
    OrganisationKind.SUPPLIER: {Role.SUPPLIER},
    OrganisationKind.BENEFICIARY: {Role.BENEFICIARY},
    OrganisationKind.EXTERNAL_BUYER: set(),
}


class Organisation(Audited, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = enum_column(OrganisationKind, index=True)
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    insee_code: Mapped[str | None] = mapped_column(String(5), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # Derived from postcode and city by an event below; no form may set it.
    locality: Mapped[Locality] = enum_column(Locality, index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    is_sme: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ess: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ea_esat: Mapped[bool] = mapped_column(Boolean, default=False)
    is_siae: Mapped[bool] = mapped_column(Boolean, default=False)
    beneficiary_category: Mapped[BeneficiaryCategory | None] = enum_column(
        BeneficiaryCategory, nullable=True
    )
    validation_status: Mapped[ValidationStatus] = enum_column(
        ValidationStatus, default=ValidationStatus.PENDING, index=True
    )
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # The supplier's Stripe Connect account, to which card payments go (destination charges).
    stripe_account_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sites: Mapped[list[Site]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Site.id"
    )
    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.email")

    def __str__(self) -> str:
        return self.name

    @property
    def is_validated(self) -> bool:
        return self.validation_status is ValidationStatus.VALIDATED

    @property
    def siren(self) -> str | None:
        return self.siret[:9] if self.siret else None

    @property
    def locality_label(self) -> str:
        return str(LOCALITY_LABELS[self.locality])

    @property
    def social_economy_flags(self) -> list[str]:
        flags = [
            (self.is_sme, _l("SME")),
            (self.is_ess, _l("Social and solidarity economy (ESS)")),
            (self.is_ea_esat, _l("Entreprise adaptée or ESAT")),
            (self.is_siae, _l("Work-integration structure (SIAE)")),
        ]
        return [str(label) for present, label in flags if present]


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def _derive_locality(mapper, connection, organisation: Organisation) -> None:
    organisation.locality = locality_of(organisation.postcode, organisation.city)


class Site(Audited, db.Model):
    """An address of an organisation where equipment is delivered or picked up."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(200), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="sites")

    def __str__(self) -> str:
        return f"{self.name}, {self.address}, {self.postcode} {self.city}"


class User(Audited, UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[Role] = enum_column(Role, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")

    # The audit log never stores the hash, only that it changed; logins are recorded as events.
    audit_redacted = {"password_hash"}
    audit_ignored = {"last_login_at"}

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class ApiToken(Audited, db.Model):
    """A personal API token. Only its SHA-256 is stored; the clear token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="api_tokens")
    audit_redacted = {"token_hash"}
    audit_ignored = {"last_used_at"}

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(db.Model):
    """Append-only: rows are inserted, never updated or deleted (see core.audit)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(80), default="")
    object_id: Mapped[int | None] = mapped_column()
    object_label: Mapped[str] = mapped_column(String(300), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    actor: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class LoginFailure(db.Model):
    """A failed login, counted per account and per address for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip_address: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class OutboxMessage(db.Model):
    """Every mail the platform sends, kept for the record and, in development, instead of sending."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SearchOutbox(db.Model):
    """An object whose search document must be rebuilt (core.search): written in the transaction that
    changed it, deleted once the index has it."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuedDocument(db.Model):
    """A PDF as the platform issued it, kept byte for byte (core.archive): downloading it again returns
    these bytes, and issuing it again adds a version beside it. Not audited: the row is the record."""

    __tablename__ = "issued_documents"
    __table_args__ = (
        UniqueConstraint("kind", "object_type", "object_id", "key", "version", name="uq_issued_documents_version"),
        Index("ix_issued_documents_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived from the id once the row is flushed (core.archive), hence nullable for that instant.
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[int] = mapped_column()
    # Which document of the object, when it has several of a kind (a letter per bid, an order per supplier).
    key: Mapped[str] = mapped_column(String(80), default="")
    version: Mapped[int] = mapped_column(default=1)
    # The issuer, and the other party the document concerns (the supplier of a purchase order, the bidder
    # of a letter): both may read it.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    recipient_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    locale: Mapped[str] = mapped_column(String(10), default="")
    # The route that renders it (endpoint and its arguments), to issue a new version on demand.
    source_endpoint: Mapped[str] = mapped_column(String(120), default="")
    source_args: Mapped[dict] = mapped_column(JSON, default=dict)

    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    recipient_organisation: Mapped[Organisation | None] = relationship(foreign_keys=[recipient_organisation_id])
    issued_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"
