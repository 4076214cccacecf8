"""The reconditioned catalogue, group orders (campaigns), orders and their payments."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, Boolean, Column, ForeignKey, Index, Integer, Numeric, String, Table, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Audited, Organisation, Site, User, UTCDateTime, enum_column, utcnow
from reuse.models import DeviceCategory


class Grade(enum.StrEnum):
    """Cosmetic grade of a reconditioned device."""

    A = "A"
    B = "B"
    C = "C"


class Label(enum.StrEnum):
    TCO_CERTIFIED = "tco_certified"
    EPEAT = "epeat"
    BLUE_ANGEL = "blue_angel"
    EU_ECOLABEL = "eu_ecolabel"

    @property
    def label(self) -> str:
        return {"tco_certified": "TCO Certified", "epeat": "EPEAT", "blue_angel": "Blue Angel",
                "eu_ecolabel": "EU Ecolabel"}[self.value]


class CatalogueOffer(Audited, db.Model):
    """A supplier's offer of reconditioned (or new) equipment."""

    __tablename__ = "catalogue_offers"
    # The catalogue's default order (price, then id): its first page is read from the index, not sorted.
    # The offers it may show (active, in stock) by supplier: "page x of y" counts them from this small
    # index alone rather than reading every row of the table (8 -> 3 ms at 10,000 offers).
    __table_args__ = (
        Index("ix_catalogue_offers_price", "unit_price", "id"),
        Index("ix_catalogue_offers_in_stock", "supplier_id",
              postgresql_where=text("active IS true AND stock > 0"), sqlite_where=text("active IS 1 AND stock > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    category: Mapped[DeviceCategory] = enum_column(DeviceCategory, index=True)
    cpv: Mapped[str] = mapped_column(String(12))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(150))
    specifications: Mapped[str] = mapped_column(Text, default="")
    cpu: Mapped[str] = mapped_column(String(150), default="")
    ram_gb: Mapped[int | None] = mapped_column(Integer)
    storage_gb: Mapped[int | None] = mapped_column(Integer)
    screen_inches: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    is_reconditioned: Mapped[bool] = mapped_column(Boolean, default=True)
    grade: Mapped[Grade | None] = enum_column(Grade, nullable=True)
    battery_health_pct: Mapped[int | None] = mapped_column(Integer)
    warranty_months: Mapped[int] = mapped_column(Integer, default=12)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # excluding VAT
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("20.00"))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=5)
    reconditioning_postcode: Mapped[str] = mapped_column(String(10), default="")
    reconditioning_city: Mapped[str] = mapped_column(String(120), default="")
    labels: Mapped[list] = mapped_column(JSON, default=list)
    repairability_index: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    spare_parts_years: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supplier: Mapped[Organisation] = relationship()
    tiers: Mapped[list[PriceTier]] = relationship(back_populates="offer", cascade="all, delete-orphan",
                                                  order_by="PriceTier.min_quantity")

    def __str__(self) -> str:
        return f"{self.brand} {self.model}"

    def unit_price_for(self, quantity: int) -> Decimal:
        """The price of the highest volume tier the quantity reaches, else the base price."""
        price = self.unit_price
        for tier in self.tiers:
            if quantity >= tier.min_quantity:
                price = tier.unit_price
        return price

    def next_tier(self, quantity: int) -> PriceTier | None:
        return next((tier for tier in self.tiers if tier.min_quantity > quantity), None)

    @property
    def kgco2e_avoided(self) -> Decimal | None:
        """A reconditioned device avoids the embodied footprint of the new one it replaces."""
        return self.category.factors.embodied_kgco2e if self.is_reconditioned else None


class PriceTier(db.Model):
    __tablename__ = "price_tiers"
    __table_args__ = (UniqueConstraint("offer_id", "min_quantity", name="uq_price_tiers_offer_quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("catalogue_offers.id"), index=True)
    min_quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    offer: Mapped[CatalogueOffer] = relationship(back_populates="tiers")


class CampaignStatus(enum.StrEnum):
    OPEN = "open"          # members state their needs until the deadline
    FROZEN = "frozen"      # census frozen, lines being decided and awarded
    AWARDED = "awarded"    # every line awarded, tendered or cancelled; orders issued
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(CAMPAIGN_STATUS_LABELS[self])


CAMPAIGN_STATUS_LABELS = {
    CampaignStatus.OPEN: _l("Open to members"),
    CampaignStatus.FROZEN: _l("Census frozen"),
    CampaignStatus.AWARDED: _l("Awarded"),
    CampaignStatus.CANCELLED: _l("Cancelled"),
}


class LineStatus(enum.StrEnum):
    OPEN = "open"
    PROCEEDING = "proceeding"   # below its minimum, the coordinator goes on anyway
    CANCELLED = "cancelled"
    AWARDED = "awarded"
    TENDERED = "tendered"       # handed to a tender (procurement)

    @property
    def label(self) -> str:
        return str(LINE_STATUS_LABELS[self])


LINE_STATUS_LABELS = {
    LineStatus.OPEN: _l("Open"),
    LineStatus.PROCEEDING: _l("Proceeding below the minimum"),
    LineStatus.CANCELLED: _l("Cancelled"),
    LineStatus.AWARDED: _l("Awarded"),
    LineStatus.TENDERED: _l("Handed to a tender"),
}

campaign_line_offers = Table(
    "campaign_line_offers", db.metadata,
    Column("line_id", ForeignKey("campaign_lines.id"), primary_key=True),
    Column("offer_id", ForeignKey("catalogue_offers.id"), primary_key=True),
)


class Campaign(Audited, db.Model):
    """A group order (groupement de commandes, CCP L.2113-6 to 8) run by a coordinator."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[CampaignStatus] = enum_column(CampaignStatus, default=CampaignStatus.OPEN, index=True)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    coordinator: Mapped[Organisation] = relationship()
    lines: Mapped[list[CampaignLine]] = relationship(back_populates="campaign", cascade="all, delete-orphan",
                                                     order_by="CampaignLine.id")

    def __str__(self) -> str:
        return self.title


class CampaignLine(Audited, db.Model):
    __tablename__ = "campaign_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str] = mapped_column(Text)
    category: Mapped[DeviceCategory] = enum_column(DeviceCategory)
    min_total_quantity: Mapped[int] = mapped_column(Integer, default=1)
    to_be_tendered: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[LineStatus] = enum_column(LineStatus, default=LineStatus.OPEN)
    awarded_offer_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_offers.id"))
    awarded_unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    campaign: Mapped[Campaign] = relationship(back_populates="lines")
    eligible_offers: Mapped[list[CatalogueOffer]] = relationship(secondary=campaign_line_offers,
                                                                 order_by="CatalogueOffer.id")
    awarded_offer: Mapped[CatalogueOffer | None] = relationship(foreign_keys=[awarded_offer_id])
    participations: Mapped[list[Participation]] = relationship(back_populates="line",
                                                               cascade="all, delete-orphan",
                                                               order_by="Participation.id")

    def __str__(self) -> str:
        return self.title

    @property
    def total_quantity(self) -> int:
        return sum(p.quantity for p in self.participations)


class Participation(Audited, db.Model):
    """A member's need on a campaign line, for one delivery site."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("line_id", "organisation_id", "site_id",
                                       name="uq_participations_line_organisation_site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("campaign_lines.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    line: Mapped[CampaignLine] = relationship(back_populates="participations")
    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site] = relationship()

    def __str__(self) -> str:
        return f"{self.organisation.name}: {self.quantity} × {self.line.title}"


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(ORDER_STATUS_LABELS[self])


ORDER_STATUS_LABELS = {
    OrderStatus.PLACED: _l("Placed, awaiting the supplier"),
    OrderStatus.CONFIRMED: _l("Confirmed by the supplier"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.DELIVERED: _l("Delivered"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}


class PaymentMethod(enum.StrEnum):
    MANDATE = "mandate"   # administrative mandate: the public accountant pays the invoice
    CARD = "card"         # Stripe Checkout, to the supplier's connected account

    @property
    def label(self) -> str:
        return str(PAYMENT_METHOD_LABELS[self])


PAYMENT_METHOD_LABELS = {
    PaymentMethod.MANDATE: _l("Administrative mandate"),
    PaymentMethod.CARD: _l("Card"),
}


class PaymentStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return str(PAYMENT_STATUS_LABELS[self])


PAYMENT_STATUS_LABELS = {
    PaymentStatus.UNPAID: _l("Not paid"),
    PaymentStatus.PENDING: _l("Payment in progress"),
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.REFUNDED: _l("Refunded"),
}


class Order(Audited, db.Model):
    """A purchase order of one buyer to one supplier: direct, or issued from a campaign."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    status: Mapped[OrderStatus] = enum_column(OrderStatus, default=OrderStatus.PLACED, index=True)
    payment_method: Mapped[PaymentMethod] = enum_column(PaymentMethod, default=PaymentMethod.MANDATE)
    payment_status: Mapped[PaymentStatus] = enum_column(PaymentStatus, default=PaymentStatus.UNPAID)
    budget_line: Mapped[str] = mapped_column(String(100), default="")
    invoice_number: Mapped[str] = mapped_column(String(60), default="")
    invoice_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mandate_reference: Mapped[str] = mapped_column(String(60), default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_id])
    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_id])
    campaign: Mapped[Campaign | None] = relationship()
    placed_by: Mapped[User | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                  order_by="OrderLine.id")

    def __str__(self) -> str:
        return self.reference


class OrderLine(db.Model):
    """One item of an order, delivered to one site. Prices are frozen when the order is issued."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_offers.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    description: Mapped[str] = mapped_column(String(300))
    category: Mapped[DeviceCategory] = enum_column(DeviceCategory)
    cpv: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # excluding VAT
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # AGEC art. 58: whether the purchase comes from reuse or reconditioning, per buyer and year.
    is_reconditioned: Mapped[bool] = mapped_column(Boolean, default=True)
    is_reused: Mapped[bool] = mapped_column(Boolean, default=False)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="lines")
    offer: Mapped[CatalogueOffer | None] = relationship()
    site: Mapped[Site | None] = relationship()


class BasketItem(db.Model):
    """The basket of a buyer organisation for a direct order, before it becomes orders (one per supplier)."""

    __tablename__ = "basket_items"
    __table_args__ = (UniqueConstraint("organisation_id", "offer_id", "site_id",
                                       name="uq_basket_items_organisation_offer_site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("catalogue_offers.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    offer: Mapped[CatalogueOffer] = relationship()
    site: Mapped[Site] = relationship()


class StripeEvent(db.Model):
    """Each Stripe webhook event takes effect once: its id is kept when it is processed."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
