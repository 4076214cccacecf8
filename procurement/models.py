"""Clause library, tenders with their lots, award criteria and clauses, questions, sealed bids, evaluation
and the contracts register. States change only through procurement.services."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Audited, Organisation, User, UTCDateTime, enum_column, utcnow


class Theme(enum.StrEnum):
    DURABILITY = "durability"
    REPAIRABILITY = "repairability"
    BATTERY = "battery"
    WARRANTY = "warranty"
    REFURBISHED_SHARE = "refurbished_share"
    TAKE_BACK_WEEE = "take_back_weee"
    HAZARDOUS_SUBSTANCES = "hazardous_substances"
    ENERGY = "energy"
    PACKAGING = "packaging"
    LOW_EMISSION_DELIVERY = "low_emission_delivery"
    DATA_ERASURE = "data_erasure"
    LABELS = "labels"
    INSERTION_HOURS = "insertion_hours"
    RESERVED_CONTRACT = "reserved_contract"
    DISABLED_WORKERS = "disabled_workers"

    @property
    def label(self) -> str:
        return str(THEME_LABELS[self])

    @property
    def is_social(self) -> bool:
        return self in SOCIAL_THEMES


SOCIAL_THEMES = {Theme.INSERTION_HOURS, Theme.RESERVED_CONTRACT, Theme.DISABLED_WORKERS}

THEME_LABELS = {
    Theme.DURABILITY: _l("Durability"),
    Theme.REPAIRABILITY: _l("Repairability"),
    Theme.BATTERY: _l("Battery"),
    Theme.WARRANTY: _l("Warranty"),
    Theme.REFURBISHED_SHARE: _l("Share of refurbished equipment"),
    Theme.TAKE_BACK_WEEE: _l("Take-back and WEEE"),
    Theme.HAZARDOUS_SUBSTANCES: _l("Hazardous substances"),
    Theme.ENERGY: _l("Energy"),
    Theme.PACKAGING: _l("Packaging"),
    Theme.LOW_EMISSION_DELIVERY: _l("Low-emission delivery"),
    Theme.DATA_ERASURE: _l("Certified data erasure"),
    Theme.LABELS: _l("Labels"),
    Theme.INSERTION_HOURS: _l("Insertion hours (social)"),
    Theme.RESERVED_CONTRACT: _l("Reserved contract (social)"),
    Theme.DISABLED_WORKERS: _l("Employment of disabled workers (social)"),
}


class Mechanism(enum.StrEnum):
    TECHNICAL_SPECIFICATION = "technical_specification"
    SELECTION_CRITERION = "selection_criterion"
    AWARD_CRITERION = "award_criterion"
    EXECUTION_CLAUSE = "execution_clause"

    @property
    def label(self) -> str:
        return str(MECHANISM_LABELS[self])

    @property
    def ocds_strategy(self) -> str:
        # OCDS sustainability extension, sustainabilityStrategy codelist.
        return {
            Mechanism.TECHNICAL_SPECIFICATION: "technicalSpecifications",
            Mechanism.SELECTION_CRITERION: "selectionCriteria",
            Mechanism.AWARD_CRITERION: "awardCriteria",
            Mechanism.EXECUTION_CLAUSE: "contractPerformanceConditions",
        }[self]

    @property
    def binding(self) -> bool:
        """A bidder must commit to a specification, a selection criterion or an execution clause; an
        award criterion is optional and scores."""
        return self is not Mechanism.AWARD_CRITERION


MECHANISM_LABELS = {
    Mechanism.TECHNICAL_SPECIFICATION: _l("Technical specification"),
    Mechanism.SELECTION_CRITERION: _l("Selection criterion"),
    Mechanism.AWARD_CRITERION: _l("Award criterion"),
    Mechanism.EXECUTION_CLAUSE: _l("Execution clause"),
}

# DECP v2 considerations (schema_decp_v2.0.3.json, considerationEnvironnementale / considerationSociale).
ENV_CLAUSE = "Clause environnementale"
ENV_CRITERION = "Critère environnemental"
NO_ENV = "Pas de considération environnementale"
SOCIAL_CLAUSE = "Clause sociale"
SOCIAL_CRITERION = "Critère social"
RESERVED = "Marché réservé"
NO_SOCIAL = "Pas de considération sociale"
DECP_CONSIDERATIONS = (ENV_CLAUSE, ENV_CRITERION, SOCIAL_CLAUSE, SOCIAL_CRITERION, RESERVED)


class Clause(db.Model):
    """A clause of the library. Its content lives in versions: editing adds a version, and a tender
    keeps the version it used."""

    __tablename__ = "clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[ClauseVersion]] = relationship(back_populates="clause", order_by="ClauseVersion.number",
                                                         cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.code

    @property
    def current(self) -> ClauseVersion:
        return self.versions[-1]


class ClauseVersion(db.Model):
    __tablename__ = "clause_versions"
    __table_args__ = (UniqueConstraint("clause_id", "number", name="uq_clause_versions_clause_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    text_fr: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    evidence_fr: Mapped[str] = mapped_column(Text, default="")
    evidence_en: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[Theme] = enum_column(Theme)
    mechanism: Mapped[Mechanism] = enum_column(Mechanism)
    # What the clause stands for in the open data: one DECP consideration, one OCDS goal.
    decp_consideration: Mapped[str] = mapped_column(String(40))
    ocds_goal: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(300), default="")  # e.g. "EU GPP computers 2021, TS2.1"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    clause: Mapped[Clause] = relationship(back_populates="versions")

    def __str__(self) -> str:
        return f"{self.clause.code} v{self.number}"

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_fr

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_fr

    def evidence(self, locale: str) -> str:
        return self.evidence_en if locale == "en" else self.evidence_fr

    @property
    def is_environmental(self) -> bool:
        return not self.theme.is_social


class ProcedureType(enum.StrEnum):
    ADAPTED = "adapted"
    OPEN = "open"
    RESTRICTED = "restricted"
    NEGOTIATED = "negotiated"
    WITHOUT_NOTICE = "without_notice"
    COMPETITIVE_DIALOGUE = "competitive_dialogue"

    @property
    def label(self) -> str:
        return str(PROCEDURE_LABELS[self])

    @property
    def decp(self) -> str:
        """The name in the DECP v2 `procedure` list."""
        return DECP_PROCEDURES[self]


DECP_PROCEDURES = {
    ProcedureType.ADAPTED: "Procédure adaptée",
    ProcedureType.OPEN: "Appel d'offres ouvert",
    ProcedureType.RESTRICTED: "Appel d'offres restreint",
    ProcedureType.NEGOTIATED: "Procédure avec négociation",
    ProcedureType.WITHOUT_NOTICE: "Marché passé sans publicité ni mise en concurrence préalable",
    ProcedureType.COMPETITIVE_DIALOGUE: "Dialogue compétitif",
}

PROCEDURE_LABELS = {
    ProcedureType.ADAPTED: _l("Adapted procedure (MAPA)"),
    ProcedureType.OPEN: _l("Open call for tenders"),
    ProcedureType.RESTRICTED: _l("Restricted call for tenders"),
    ProcedureType.NEGOTIATED: _l("Negotiated procedure"),
    ProcedureType.WITHOUT_NOTICE: _l("Without prior publication or competition"),
    ProcedureType.COMPETITIVE_DIALOGUE: _l("Competitive dialogue"),
}


class Reservation(enum.StrEnum):
    """Reserved contracts: CCP L.2113-12 (EA/ESAT), L.2113-13 (SIAE), L.2113-15 (ESS)."""

    NONE = "none"
    EA_ESAT = "ea_esat"
    SIAE = "siae"
    ESS = "ess"

    @property
    def label(self) -> str:
        return str(RESERVATION_LABELS[self])

    def admits(self, supplier: Organisation) -> bool:
        return {
            Reservation.NONE: True,
            Reservation.EA_ESAT: supplier.is_ea_esat,
            Reservation.SIAE: supplier.is_siae,
            Reservation.ESS: supplier.is_ess,
        }[self]


RESERVATION_LABELS = {
    Reservation.NONE: _l("Not reserved"),
    Reservation.EA_ESAT: _l("Reserved for entreprises adaptées and ESAT (CCP L.2113-12)"),
    Reservation.SIAE: _l("Reserved for work-integration structures (CCP L.2113-13)"),
    Reservation.ESS: _l("Reserved for social-economy enterprises (CCP L.2113-15)"),
}


class TenderStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"   # open to bids until the deadline, then closed until opened
    OPENED = "opened"         # bids opened, under evaluation
    AWARDED = "awarded"       # every lot decided
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(TENDER_STATUS_LABELS[self])


TENDER_STATUS_LABELS = {
    TenderStatus.DRAFT: _l("Draft"),
    TenderStatus.PUBLISHED: _l("Published, open until the deadline"),
    TenderStatus.OPENED: _l("Bids opened"),
    TenderStatus.AWARDED: _l("Awarded"),
    TenderStatus.CANCELLED: _l("Cancelled"),
}


class Tender(Audited, db.Model):
    __tablename__ = "tenders"
    __table_args__ = (UniqueConstraint("buyer_id", "reference", name="uq_tenders_buyer_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cpv: Mapped[str] = mapped_column(String(12))
    procedure: Mapped[ProcedureType] = enum_column(ProcedureType)
    reservation: Mapped[Reservation] = enum_column(Reservation, default=Reservation.NONE)
    estimated_value: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # excluding VAT
    duration_months: Mapped[int] = mapped_column(Integer, default=12)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[TenderStatus] = enum_column(TenderStatus, default=TenderStatus.DRAFT, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    buyer: Mapped[Organisation] = relationship()
    lots: Mapped[list[Lot]] = relationship(back_populates="tender", cascade="all, delete-orphan",
                                           order_by="Lot.number")
    criteria: Mapped[list[AwardCriterion]] = relationship(back_populates="tender", cascade="all, delete-orphan",
                                                          order_by="AwardCriterion.position")
    clauses: Mapped[list[TenderClause]] = relationship(back_populates="tender", cascade="all, delete-orphan",
                                                       order_by="TenderClause.id")
    questions: Mapped[list[Question]] = relationship(back_populates="tender", cascade="all, delete-orphan",
                                                     order_by="Question.id")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def organisation_id(self) -> int:  # the audit log files it under the buyer
        return self.buyer_id

    def deadline_passed(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.deadline

    def accepts_bids(self, now: datetime | None = None) -> bool:
        return self.status is TenderStatus.PUBLISHED and not self.deadline_passed(now)

    @property
    def is_opened(self) -> bool:
        """Bids are unsealed only once the buyer has opened them, which the deadline allows."""
        return self.opened_at is not None


class Lot(Audited, db.Model):
    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("tender_id", "number", name="uq_lots_tender_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer)
    estimated_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    campaign_line_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_lines.id"), unique=True)
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsuccessful: Mapped[bool] = mapped_column(Boolean, default=False)  # déclaré infructueux
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    tender: Mapped[Tender] = relationship(back_populates="lots")
    campaign_line = relationship("CampaignLine")
    bids: Mapped[list[Bid]] = relationship(back_populates="lot", order_by="Bid.id")

    def __str__(self) -> str:
        return f"{self.tender.reference} lot {self.number}: {self.title}"

    @property
    def awarded_bid(self) -> Bid | None:
        return next((bid for bid in self.bids if bid.outcome is BidOutcome.AWARDED), None)

    @property
    def is_decided(self) -> bool:
        return self.awarded_at is not None or self.unsuccessful


class CriterionKind(enum.StrEnum):
    PRICE = "price"
    TECHNICAL = "technical"
    ENVIRONMENTAL = "environmental"
    SOCIAL = "social"

    @property
    def label(self) -> str:
        return str(CRITERION_KIND_LABELS[self])


CRITERION_KIND_LABELS = {
    CriterionKind.PRICE: _l("Price"),
    CriterionKind.TECHNICAL: _l("Technical value"),
    CriterionKind.ENVIRONMENTAL: _l("Environmental performance"),
    CriterionKind.SOCIAL: _l("Social performance"),
}


class AwardCriterion(Audited, db.Model):
    __tablename__ = "award_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[CriterionKind] = enum_column(CriterionKind)
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(Integer)  # points out of 100

    tender: Mapped[Tender] = relationship(back_populates="criteria")

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class TenderClause(db.Model):
    """A clause version attached to a tender: the tender keeps it even when the library moves on."""

    __tablename__ = "tender_clauses"
    __table_args__ = (UniqueConstraint("tender_id", "clause_version_id", name="uq_tender_clauses_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    clause_version_id: Mapped[int] = mapped_column(ForeignKey("clause_versions.id"), index=True)

    tender: Mapped[Tender] = relationship(back_populates="clauses")
    version: Mapped[ClauseVersion] = relationship()


class Question(Audited, db.Model):
    """A bidder's question. The answer is published to every bidder, never naming who asked."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tender: Mapped[Tender] = relationship(back_populates="questions")
    organisation: Mapped[Organisation] = relationship()


class BidStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(BID_STATUS_LABELS[self])


BID_STATUS_LABELS = {BidStatus.SUBMITTED: _l("Submitted"), BidStatus.WITHDRAWN: _l("Withdrawn")}


class BidOutcome(enum.StrEnum):
    AWARDED = "awarded"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(BID_OUTCOME_LABELS[self])


BID_OUTCOME_LABELS = {BidOutcome.AWARDED: _l("Awarded"), BidOutcome.REJECTED: _l("Not retained")}


def _public_id() -> str:
    return secrets.token_urlsafe(12)


class Bid(db.Model):
    """A supplier's bid on a lot. Sealed: not Audited (the audit log would reveal it before the deadline);
    addressed by a random public id, so that no sequential number tells how many bids exist. The opening
    writes its receipt to the audit log."""

    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("lot_id", "supplier_id", name="uq_bids_lot_supplier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=_public_id)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[BidStatus] = enum_column(BidStatus, default=BidStatus.SUBMITTED)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # total excluding VAT
    memo_filename: Mapped[str] = mapped_column(String(200))
    memo_pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    memo_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)  # 1, then +1 at each replacement
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[BidOutcome | None] = enum_column(BidOutcome, nullable=True)
    outcome_reason: Mapped[str] = mapped_column(Text, default="")

    lot: Mapped[Lot] = relationship(back_populates="bids")
    supplier: Mapped[Organisation] = relationship()
    commitments: Mapped[list[Commitment]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                         order_by="Commitment.id")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                         order_by="Evaluation.id")

    def __str__(self) -> str:
        return f"{self.supplier.name}: {self.lot}"

    @property
    def sealed(self) -> bool:
        return not self.lot.tender.is_opened


class Commitment(db.Model):
    """What a bid commits to for one clause of the tender, and its evidence."""

    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("bid_id", "tender_clause_id", name="uq_commitments_bid_clause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    tender_clause_id: Mapped[int] = mapped_column(ForeignKey("tender_clauses.id"))
    committed: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(Text, default="")

    bid: Mapped[Bid] = relationship(back_populates="commitments")
    tender_clause: Mapped[TenderClause] = relationship()


class Evaluation(Audited, db.Model):
    """An evaluator's mark (0 to 10) of a bid against a technical or social criterion, with a comment."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("bid_id", "criterion_id", name="uq_evaluations_bid_criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("award_criteria.id"))
    mark: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    comment: Mapped[str] = mapped_column(Text, default="")
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="evaluations")
    criterion: Mapped[AwardCriterion] = relationship()
    evaluator: Mapped[User | None] = relationship()

    @property
    def organisation_id(self) -> int:  # the audit log files it under the buyer
        return self.criterion.tender.buyer_id


class ContractSource(enum.StrEnum):
    TENDER = "tender"
    MANUAL = "manual"
    DECP = "decp"

    @property
    def label(self) -> str:
        return str(CONTRACT_SOURCE_LABELS[self])


CONTRACT_SOURCE_LABELS = {
    ContractSource.TENDER: _l("Tendered on Circuit"),
    ContractSource.MANUAL: _l("Entered by hand"),
    ContractSource.DECP: _l("Imported from DECP"),
}


class ContractStatus(enum.StrEnum):
    AWARDED = "awarded"      # awaiting signature after the standstill period
    NOTIFIED = "notified"    # signed and notified to the holder

    @property
    def label(self) -> str:
        return str(CONTRACT_STATUS_LABELS[self])


CONTRACT_STATUS_LABELS = {
    ContractStatus.AWARDED: _l("Awarded, awaiting signature"),
    ContractStatus.NOTIFIED: _l("Notified"),
}

contract_clauses = db.Table(
    "contract_clauses", db.metadata,
    db.Column("contract_id", ForeignKey("contracts.id"), primary_key=True),
    db.Column("clause_version_id", ForeignKey("clause_versions.id"), primary_key=True),
)


class Contract(Audited, db.Model):
    """A contract of the register. Its considerations are derived from its clauses (tendered or entered
    contracts) or read from the DECP file (imported ones), and stored so indicators aggregate in SQL."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("buyer_id", "decp_id", name="uq_contracts_buyer_decp_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    decp_id: Mapped[str] = mapped_column(String(16))  # the buyer's contract number, DECP `id`
    source: Mapped[ContractSource] = enum_column(ContractSource, index=True)
    status: Mapped[ContractStatus] = enum_column(ContractStatus, default=ContractStatus.NOTIFIED)
    title: Mapped[str] = mapped_column(String(1000))
    nature: Mapped[str] = mapped_column(String(40), default="Marché")
    cpv: Mapped[str] = mapped_column(String(12), index=True)
    procedure: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # excluding VAT
    duration_months: Mapped[int | None] = mapped_column(Integer)
    notified_on: Mapped[date | None] = mapped_column(Date, index=True)
    published_on: Mapped[date | None] = mapped_column(Date)
    price_form: Mapped[str] = mapped_column(String(40), default="")
    offers_received: Mapped[int | None] = mapped_column(Integer)
    # The holder: a platform organisation when its SIRET is known here, else only as the file names it.
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    holder_id: Mapped[str] = mapped_column(String(20), default="")
    holder_id_type: Mapped[str] = mapped_column(String(10), default="SIRET")
    holder_name: Mapped[str] = mapped_column(String(300), default="")
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), unique=True)
    standstill_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # DECP v2 fields kept as the source gave them (the award, the officer's form, the imported file). Empty
    # or None: nobody said, and the DECP export leaves the contract out rather than publish a default.
    place_code: Mapped[str] = mapped_column(String(10), default="")           # lieuExecution.code
    place_code_type: Mapped[str] = mapped_column(String(20), default="")      # lieuExecution.typeCode
    price_types: Mapped[list] = mapped_column(JSON, default=list)             # typesPrix.typePrix
    techniques: Mapped[list] = mapped_column(JSON, default=list)              # techniques.technique
    execution_modalities: Mapped[list] = mapped_column(JSON, default=list)    # modalitesExecution
    ccag: Mapped[str] = mapped_column(String(60), default="")
    innovative: Mapped[bool | None] = mapped_column(Boolean)                  # marcheInnovant
    advance_payment: Mapped[bool | None] = mapped_column(Boolean)             # attributionAvance
    subcontracting_declared: Mapped[bool | None] = mapped_column(Boolean)     # sousTraitanceDeclaree
    operator_grouping: Mapped[str] = mapped_column(String(20), default="")    # typeGroupementOperateurs
    # Derived considerations (procurement.services.considerations.refresh). A DECP v1 record carries none:
    # its considerations are unknown, which is not "none".
    env_considerations_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    social_considerations_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    env_clause: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    env_criterion: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    social_clause: Mapped[bool] = mapped_column(Boolean, default=False)
    social_criterion: Mapped[bool] = mapped_column(Boolean, default=False)
    reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    env_score: Mapped[int] = mapped_column(Integer, default=0)
    env_score_breakdown: Mapped[list] = mapped_column(JSON, default=list)
    decp_record: Mapped[dict | None] = mapped_column(JSON)  # the imported record as read, for the record
    # Loi AGEC art. 58 (procurement.services.agec): the product category of the declaration (None: none of
    # them), and the part of the amount excl. VAT from reuse or re-use, and with recycled material. None:
    # not known (an imported contract until its officer says), counted apart, never guessed.
    agec_category: Mapped[str | None] = mapped_column(String(80))
    agec_reuse_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    agec_recycled_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_id])
    supplier: Mapped[Organisation | None] = relationship(foreign_keys=[supplier_id])
    lot: Mapped[Lot | None] = relationship()
    clauses: Mapped[list[ClauseVersion]] = relationship(secondary=contract_clauses, order_by="ClauseVersion.id")
    modifications: Mapped[list[ContractModification]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractModification.number")

    audit_ignored = {"decp_record"}

    def __str__(self) -> str:
        return f"{self.decp_id} {self.title[:80]}"

    @property
    def organisation_id(self) -> int:  # the audit log files it under the buyer
        return self.buyer_id

    @property
    def environmental_considerations(self) -> list[str]:
        """The DECP v2 list; empty when unknown (a DECP v1 record states none)."""
        if not self.env_considerations_known:
            return []
        found = [name for flag, name in ((self.env_clause, ENV_CLAUSE), (self.env_criterion, ENV_CRITERION))
                 if flag]
        return found or [NO_ENV]

    @property
    def social_considerations(self) -> list[str]:
        """The DECP v2 list; empty when unknown (a DECP v1 record states none)."""
        if not self.social_considerations_known:
            return []
        found = [name for flag, name in ((self.social_clause, SOCIAL_CLAUSE),
                                         (self.social_criterion, SOCIAL_CRITERION), (self.reserved, RESERVED))
                 if flag]
        return found or [NO_SOCIAL]


class ContractModification(Audited, db.Model):
    """A modification (avenant) of a contract after its first publication. DECP records are never edited:
    each modification is appended, numbered from 1 in the order of notification, with the new amount,
    duration or holder it brings (None or empty: unchanged)."""

    __tablename__ = "contract_modifications"
    __table_args__ = (UniqueConstraint("contract_id", "number", name="uq_contract_modifications_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    notified_on: Mapped[date] = mapped_column(Date)       # dateNotificationModification
    published_on: Mapped[date] = mapped_column(Date)      # datePublicationDonneesModification
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # the new amount excl. VAT
    duration_months: Mapped[int | None] = mapped_column(Integer)   # the new duration
    holder_id: Mapped[str] = mapped_column(String(20), default="")
    holder_id_type: Mapped[str] = mapped_column(String(10), default="")
    holder_name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="modifications")

    def __str__(self) -> str:
        return f"{self.contract.decp_id} modification {self.number}"

    @property
    def organisation_id(self) -> int:  # the audit log files it under the buyer
        return self.contract.buyer_id


class DonationValue(db.Model):
    """A cell of the flat-value grid by which a public buyer counts the goods it received as donations in its
    AGEC art. 58 share (arrêté of 29 February 2024, NOR TRED2403742A), as an administrator completed it from
    the arrêté. The values read so far, with their source, are data (procurement/data/agec_donation_grid.json);
    a row here holds a value an administrator copied, with where it was read, and wins over the file."""

    __tablename__ = "agec_donation_values"
    __table_args__ = (UniqueConstraint("grid", "category", "age_band", name="uq_agec_donation_values_cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid: Mapped[str] = mapped_column(String(80))         # which arrêté (version of the grid)
    category: Mapped[str] = mapped_column(String(20))     # a reuse.models.DeviceCategory value
    age_band: Mapped[str] = mapped_column(String(20))     # procurement.services.agec.AGE_BANDS
    value_eur: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    source: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
