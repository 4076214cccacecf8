"""Devices of an organisation's inventory, their offers and requests, sanitisation, handover and
recycling records. A device's path is its status, changed only by reuse.services."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, Boolean, Column, Date, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Table,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Audited, Organisation, Site, User, UTCDateTime, enum_column, utcnow
from reuse import factors


class DeviceCategory(enum.StrEnum):
    LAPTOP = "laptop"
    DESKTOP = "desktop"
    MONITOR = "monitor"
    TABLET = "tablet"
    SMARTPHONE = "smartphone"
    PRINTER = "printer"
    SERVER = "server"
    NETWORK = "network"
    PROJECTOR = "projector"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])

    @property
    def factors(self) -> factors.CategoryFactors:
        return factors.for_category(self.value)


CATEGORY_LABELS = {
    DeviceCategory.LAPTOP: _l("Laptop"),
    DeviceCategory.DESKTOP: _l("Desktop computer"),
    DeviceCategory.MONITOR: _l("Monitor"),
    DeviceCategory.TABLET: _l("Tablet"),
    DeviceCategory.SMARTPHONE: _l("Smartphone"),
    DeviceCategory.PRINTER: _l("Printer"),
    DeviceCategory.SERVER: _l("Server"),
    DeviceCategory.NETWORK: _l("Network equipment"),
    DeviceCategory.PROJECTOR: _l("Video projector"),
    DeviceCategory.OTHER: _l("Other"),
}

# The categories that normally hold data (a disk, flash memory). Without an answer, whether a device of
# these holds storage media is unknown, and that blocks its leaving as "yes" does (reuse.services); the
# others hold none unless someone says so. Printers count: Circuit's one printer category cannot tell a
# multifunction printer (with a disk or flash memory) from a simple one.
DATA_BEARING_CATEGORIES = frozenset({DeviceCategory.LAPTOP, DeviceCategory.DESKTOP, DeviceCategory.TABLET,
                                     DeviceCategory.SMARTPHONE, DeviceCategory.SERVER, DeviceCategory.PRINTER})


class StorageType(enum.StrEnum):
    NONE = "none"
    HDD = "hdd"
    SSD = "ssd"
    EMMC = "emmc"
    OTHER = "other"


class Condition(enum.StrEnum):
    """Grades as refurbishers use them."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def label(self) -> str:
        return str(CONDITION_LABELS[self])


CONDITION_LABELS = {
    Condition.A: _l("A: as new"),
    Condition.B: _l("B: light wear"),
    Condition.C: _l("C: visible wear, works"),
    Condition.D: _l("D: faulty or for parts"),
}


class DeviceStatus(enum.StrEnum):
    IN_SERVICE = "in_service"
    REFORMED = "reformed"
    OFFERED = "offered"
    RESERVED = "reserved"
    HANDED_OVER = "handed_over"
    RECONDITIONING = "reconditioning"
    SOLD = "sold"
    RECYCLED = "recycled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    DeviceStatus.IN_SERVICE: _l("In service"),
    DeviceStatus.REFORMED: _l("Reformed (surplus)"),
    DeviceStatus.OFFERED: _l("Offered"),
    DeviceStatus.RESERVED: _l("Reserved"),
    DeviceStatus.HANDED_OVER: _l("Handed over"),
    DeviceStatus.RECONDITIONING: _l("Sent for reconditioning"),
    DeviceStatus.SOLD: _l("Sold"),
    DeviceStatus.RECYCLED: _l("Recycled"),
}

# The lifecycle: the only moves reuse.services allows.
TRANSITIONS: dict[DeviceStatus, set[DeviceStatus]] = {
    DeviceStatus.IN_SERVICE: {DeviceStatus.REFORMED},
    DeviceStatus.REFORMED: {DeviceStatus.OFFERED, DeviceStatus.RECONDITIONING, DeviceStatus.RECYCLED},
    DeviceStatus.OFFERED: {DeviceStatus.RESERVED, DeviceStatus.RECONDITIONING, DeviceStatus.REFORMED},
    DeviceStatus.RESERVED: {DeviceStatus.HANDED_OVER, DeviceStatus.OFFERED},
    DeviceStatus.RECONDITIONING: {DeviceStatus.OFFERED, DeviceStatus.SOLD},
    DeviceStatus.HANDED_OVER: set(),
    DeviceStatus.SOLD: set(),
    DeviceStatus.RECYCLED: set(),
}
# Statuses in which a device has left its owner for reuse (décret 2023-266, numerator A).
REUSED_STATUSES = {DeviceStatus.HANDED_OVER, DeviceStatus.SOLD}


class Device(Audited, db.Model):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("organisation_id", "serial_number", name="uq_devices_organisation_serial"),
        UniqueConstraint("organisation_id", "asset_number", name="uq_devices_organisation_asset"),
        # An inventory of 20,000 devices: its newest page, its count per status, and its year's gains
        # (status, category and weight in the index, so the figures are read from it alone).
        Index("ix_devices_organisation_id_id", "organisation_id", "id"),
        Index("ix_devices_organisation_status", "organisation_id", "status"),
        Index("ix_devices_organisation_left", "organisation_id", "left_on", "status", "category", "weight_kg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    category: Mapped[DeviceCategory] = enum_column(DeviceCategory, index=True)
    brand: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(150), default="")
    serial_number: Mapped[str | None] = mapped_column(String(100))
    asset_number: Mapped[str | None] = mapped_column(String(100))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    purchase_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cpu: Mapped[str] = mapped_column(String(150), default="")
    ram_gb: Mapped[int | None] = mapped_column(Integer)
    storage_type: Mapped[StorageType] = enum_column(StorageType, default=StorageType.NONE)
    storage_gb: Mapped[int | None] = mapped_column(Integer)
    screen_inches: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    condition: Mapped[Condition | None] = enum_column(Condition, nullable=True)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    # None: nobody has said yet (a device of DATA_BEARING_CATEGORIES created without an answer); it blocks
    # the device's leaving as True does, until someone records the answer (reuse.services).
    has_storage_media: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DeviceStatus] = enum_column(DeviceStatus, default=DeviceStatus.IN_SERVICE, index=True)
    # Dates that the décret 2023-266 rate needs: when it became surplus, when it left the owner.
    reformed_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("reuse_requests.id"), index=True)
    refurbisher_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # The price it left at: sold, or handed over in a transfer for a price (its net book value that day);
    # None for a free transfer or a donation (procurement.services.agec counts those as donations).
    sale_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    sold_to: Mapped[str] = mapped_column(String(200), default="")
    recycling_id: Mapped[int | None] = mapped_column(ForeignKey("recycling_records.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    site: Mapped[Site | None] = relationship()
    offer: Mapped[Offer | None] = relationship(back_populates="devices")
    request: Mapped[ReuseRequest | None] = relationship(back_populates="devices")
    refurbisher: Mapped[Organisation | None] = relationship(foreign_keys=[refurbisher_id])
    recycling: Mapped[RecyclingRecord | None] = relationship(back_populates="devices")
    photos: Mapped[list[DevicePhoto]] = relationship(back_populates="device", cascade="all, delete-orphan",
                                                     order_by="DevicePhoto.id")
    sanitisations: Mapped[list[SanitisationRecord]] = relationship(
        secondary="sanitisation_devices", back_populates="devices", order_by="SanitisationRecord.id")

    def __str__(self) -> str:
        return self.label(self.category, self.brand, self.model, self.serial_number, self.asset_number, self.id)

    @staticmethod
    def label(category: DeviceCategory, brand: str, model: str, serial_number: str | None,
              asset_number: str | None, device_id: int | None) -> str:
        """How a device is named everywhere (lists, audit log), also for one written in bulk."""
        name = " ".join(part for part in (brand, model) if part) or category.label
        return f"{name} ({serial_number or asset_number or '#' + str(device_id)})"

    @property
    def weee_category(self) -> int:
        return self.category.factors.weee

    @property
    def cpv(self) -> str:
        return self.category.factors.cpv

    @property
    def is_sanitised(self) -> bool:
        return bool(self.sanitisations)

    def age_years(self, on: date) -> float | None:
        if self.purchase_date is None:
            return None
        return (on - self.purchase_date).days / 365.25


class DevicePhoto(db.Model):
    __tablename__ = "device_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    device: Mapped[Device] = relationship(back_populates="photos")


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(OFFER_STATUS_LABELS[self])


OFFER_STATUS_LABELS = {
    OfferStatus.OPEN: _l("Open"),
    OfferStatus.CLOSED: _l("Closed"),
    OfferStatus.WITHDRAWN: _l("Withdrawn"),
}


class Offer(Audited, db.Model):
    """One device or a lot of identical devices offered for reuse."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[DeviceCategory] = enum_column(DeviceCategory, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # Units neither held by a pending or approved request nor handed over. Changed only by one atomic
    # conditional UPDATE (reuse.services), so two requests never get the same unit.
    available: Mapped[int] = mapped_column(Integer)
    status: Mapped[OfferStatus] = enum_column(OfferStatus, default=OfferStatus.OPEN, index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site | None] = relationship()
    devices: Mapped[list[Device]] = relationship(back_populates="offer", order_by="Device.id")
    requests: Mapped[list[ReuseRequest]] = relationship(back_populates="offer", order_by="ReuseRequest.id")

    def __str__(self) -> str:
        return self.title


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    HANDED_OVER = "handed_over"
    RECEIVED = "received"

    @property
    def label(self) -> str:
        return str(REQUEST_STATUS_LABELS[self])


REQUEST_STATUS_LABELS = {
    RequestStatus.PENDING: _l("Awaiting decision"),
    RequestStatus.APPROVED: _l("Approved, to collect"),
    RequestStatus.REFUSED: _l("Refused"),
    RequestStatus.CANCELLED: _l("Cancelled"),
    RequestStatus.EXPIRED: _l("Expired (not collected)"),
    RequestStatus.HANDED_OVER: _l("Handed over, receipt to confirm"),
    RequestStatus.RECEIVED: _l("Received"),
}
# Requests that hold units of their offer.
HOLDING_STATUSES = {RequestStatus.PENDING, RequestStatus.APPROVED}


class ReuseRequest(Audited, db.Model):
    __tablename__ = "reuse_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[RequestStatus] = enum_column(RequestStatus, default=RequestStatus.PENDING, index=True)
    # The eligibility check as shown to both sides when the request was made.
    eligibility: Mapped[dict] = mapped_column(JSON, default=dict)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    collect_by: Mapped[date | None] = mapped_column(Date)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreement_reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offer: Mapped[Offer] = relationship(back_populates="requests")
    organisation: Mapped[Organisation] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    devices: Mapped[list[Device]] = relationship(back_populates="request", order_by="Device.id")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.offer.title} → {self.organisation.name}"


class SanitisationType(enum.StrEnum):
    """NIST SP 800-88 Rev. 2 sanitisation types."""

    CLEAR = "clear"
    PURGE = "purge"
    DESTROY = "destroy"

    @property
    def label(self) -> str:
        return str(SANITISATION_TYPE_LABELS[self])


SANITISATION_TYPE_LABELS = {
    SanitisationType.CLEAR: _l("Clear"),
    SanitisationType.PURGE: _l("Purge"),
    SanitisationType.DESTROY: _l("Destroy"),
}


class Destination(enum.StrEnum):
    INTERNAL_REUSE = "internal_reuse"
    EXTERNAL_REUSE = "external_reuse"
    RECYCLING = "recycling"

    @property
    def label(self) -> str:
        return str(DESTINATION_LABELS[self])


DESTINATION_LABELS = {
    Destination.INTERNAL_REUSE: _l("Internal reuse"),
    Destination.EXTERNAL_REUSE: _l("External reuse"),
    Destination.RECYCLING: _l("Recycling"),
}

sanitisation_devices = Table(
    "sanitisation_devices", db.metadata,
    Column("sanitisation_id", ForeignKey("sanitisation_records.id"), primary_key=True),
    # A device's records (the inventory page says whether each device is sanitised): by device, not record.
    Column("device_id", ForeignKey("devices.id"), primary_key=True, index=True),
)


class SanitisationRecord(Audited, db.Model):
    """A data-sanitisation record (NIST SP 800-88) for one device or a batch; its reference is printed
    on the certificate and lets anyone holding it check it on the platform."""

    __tablename__ = "sanitisation_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    sanitisation_type: Mapped[SanitisationType] = enum_column(SanitisationType)
    method: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(150))
    tool_version: Mapped[str] = mapped_column(String(50), default="")
    verification_method: Mapped[str] = mapped_column(String(200))
    destination: Mapped[Destination] = enum_column(Destination)
    performed_by: Mapped[str] = mapped_column(String(200))
    performed_on: Mapped[date] = mapped_column(Date)
    validated_by: Mapped[str] = mapped_column(String(200))
    validated_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    devices: Mapped[list[Device]] = relationship(secondary=sanitisation_devices,
                                                 back_populates="sanitisations", order_by="Device.id")

    def __str__(self) -> str:
        return self.reference


class RecyclingRecord(Audited, db.Model):
    """A pick-up of devices by a WEEE operator or eco-organisme."""

    __tablename__ = "recycling_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    operator: Mapped[str] = mapped_column(String(200))
    pickup_on: Mapped[date] = mapped_column(Date)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    tracking_reference: Mapped[str] = mapped_column(String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    devices: Mapped[list[Device]] = relationship(back_populates="recycling", order_by="Device.id")

    def __str__(self) -> str:
        return f"{self.operator} {self.tracking_reference}"
