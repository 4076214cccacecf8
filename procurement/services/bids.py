"""Sealed bids. Until the buyer opens them after the deadline, a bid exists only for its bidder: every
read of bids goes through this module, which never counts or returns another organisation's bids."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import User, utcnow
from procurement.models import (Bid, BidStatus, Commitment, Lot, Tender, TenderClause, TenderStatus)


@dataclass
class BidData:
    price: Decimal
    memo_filename: str
    memo_pdf: bytes | None   # None when replacing a bid keeps its memo
    # tender_clause_id -> (committed, evidence)
    commitments: dict[int, tuple[bool, str]] = field(default_factory=dict)


def check_pdf(content: bytes) -> None:
    """A memo must be a PDF by its content, not by its name, and within the size limit."""
    limit = current_app.config["MAX_MEMO_BYTES"]
    if not content:
        raise RuleViolation(_("Attach the technical memo (PDF)."))
    if len(content) > limit:
        raise RuleViolation(_("The technical memo exceeds %(mb)d MB.", mb=limit // 1_000_000))
    if not content.startswith(b"%PDF-") or b"%%EOF" not in content[-2048:]:
        raise RuleViolation(_("The technical memo is not a valid PDF file."))


def _check(lot: Lot, data: BidData, replacing: Bid | None) -> None:
    if data.price is None or data.price <= 0:
        raise RuleViolation(_("The price excluding VAT must be positive."))
    if data.memo_pdf is not None or replacing is None:
        check_pdf(data.memo_pdf or b"")
    known = {tc.id for tc in lot.tender.clauses}
    if set(data.commitments) - known:
        raise RuleViolation(_("A commitment refers to a clause that is not in this tender."))
    for tender_clause in lot.tender.clauses:
        committed, evidence = data.commitments.get(tender_clause.id, (False, ""))
        version = tender_clause.version
        if version.mechanism.binding and not committed:
            raise RuleViolation(_("Commit to the clause %(code)s: it binds every bidder.", code=version.clause.code))
        if committed and not evidence.strip():
            raise RuleViolation(_("Give the evidence for the clause %(code)s.", code=version.clause.code))


def _require_open(actor: User, tender: Tender, now: datetime | None) -> None:
    permissions.require(actor, "bid.submit", tender)
    if not tender.accepts_bids(now):
        raise RuleViolation(_("The deadline has passed: bids are no longer accepted."))
    if not tender.reservation.admits(actor.organisation):
        raise RuleViolation(_("This tender is reserved: %(reservation)s.", reservation=tender.reservation.label))


def check_open(actor: User, tender: Tender, now: datetime | None = None) -> None:
    """Raise why the actor's organisation may not bid now (the deadline, server time; a reserved tender),
    so that the bid form is refused before it is filled in."""
    _require_open(actor, tender, now)


def own_bid(actor: User, lot: Lot) -> Bid | None:
    """The actor's organisation's bid on the lot, the only one it may know of before the opening."""
    return db.session.scalar(select(Bid).where(Bid.lot_id == lot.id, Bid.supplier_id == actor.organisation_id))


def submit(actor: User, lot: Lot, data: BidData, now: datetime | None = None) -> Bid:
    """Submit, or replace, the organisation's one bid on the lot, until the deadline (server time)."""
    _require_open(actor, lot.tender, now)
    bid = own_bid(actor, lot)
    _check(lot, data, bid)
    if bid is None:
        bid = Bid(lot=lot, supplier_id=actor.organisation_id, version=1)
        db.session.add(bid)
    else:
        bid.version += 1
    bid.status = BidStatus.SUBMITTED
    bid.withdrawn_at = None
    bid.price = data.price
    if data.memo_pdf is not None:
        bid.memo_pdf = data.memo_pdf
        bid.memo_filename = data.memo_filename or "memoire-technique.pdf"
        bid.memo_sha256 = hashlib.sha256(data.memo_pdf).hexdigest()
    bid.submitted_at = now or utcnow()
    bid.submitted_by_id = actor.id
    by_clause = {c.tender_clause_id: c for c in bid.commitments}
    for tender_clause in lot.tender.clauses:
        committed, evidence = data.commitments.get(tender_clause.id, (False, ""))
        commitment = by_clause.get(tender_clause.id) or Commitment(tender_clause=tender_clause)
        if commitment not in bid.commitments:
            bid.commitments.append(commitment)
        commitment.committed = committed
        commitment.evidence = evidence.strip() if committed else ""
    return bid


def withdraw(actor: User, bid: Bid, now: datetime | None = None) -> None:
    permissions.require(actor, "bid.change", bid)
    _require_open(actor, bid.lot.tender, now)
    if bid.status is BidStatus.WITHDRAWN:
        raise RuleViolation(_("This bid is already withdrawn."))
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = now or utcnow()


def receipt(bid: Bid) -> str:
    """What proves the bid as submitted: its content's fingerprint, shown to the bidder."""
    content = f"{bid.public_id}|{bid.version}|{bid.price}|{bid.memo_sha256}|{bid.submitted_at.isoformat()}"
    return hashlib.sha256(content.encode()).hexdigest()


def readable(actor: User, bid: Bid) -> bool:
    return permissions.may(actor, "bid.read", bid)


def get_readable(actor: User, public_id: str) -> Bid | None:
    """A bid by its public id, or None (404) when the actor may not read it: sealed, or another's."""
    bid = db.session.scalar(select(Bid).where(Bid.public_id == public_id))
    if bid is None or not readable(actor, bid):
        return None
    return bid


def own_bids(actor: User) -> list[Bid]:
    return list(db.session.scalars(select(Bid).where(Bid.supplier_id == actor.organisation_id)
                                   .order_by(Bid.submitted_at.desc())))


def opened_bids(actor: User, lot: Lot) -> list[Bid]:
    """The submitted bids of an opened lot, for whoever may read them; empty while sealed."""
    if not lot.tender.is_opened:
        return []
    return [bid for bid in lot.bids if bid.status is BidStatus.SUBMITTED and readable(actor, bid)]


def open_bids(actor: User, tender: Tender, now: datetime | None = None) -> int:
    """The opening, after the deadline: recorded, with each bid's receipt now entering the audit log."""
    permissions.require(actor, "tender.manage", tender)
    now = now or utcnow()
    if tender.status is not TenderStatus.PUBLISHED:
        raise RuleViolation(_("Only a published tender is opened."))
    if not tender.deadline_passed(now):
        raise RuleViolation(_("Bids are opened after the deadline, not before."))
    tender.status = TenderStatus.OPENED
    tender.opened_at = now
    tender.opened_by_id = actor.id
    submitted = [bid for lot in tender.lots for bid in lot.bids if bid.status is BidStatus.SUBMITTED]
    for bid in submitted:
        audit.record(actor, "bid.received", tender, lot=bid.lot.number, supplier=bid.supplier.name,
                     submitted_at=bid.submitted_at.isoformat(), version=bid.version, receipt=receipt(bid))
    audit.record(actor, "tender.opened", tender, bids=len(submitted))
    return len(submitted)
