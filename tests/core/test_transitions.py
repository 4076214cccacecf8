"""core.transitions.move: one winner among racing callers, one audit entry, the object in step."""
from __future__ import annotations

from sqlalchemy import func, select

from core import transitions
from core.extensions import db
from core.models import AuditEntry, Role
from reuse import services
from reuse.models import Offer, OfferStatus
from tests.concurrency import WON, race
from tests.factories import DeviceFactory, user_for_role

RACERS = 8


def offer_of(owner) -> Offer:
    offer = services.create_offer(owner, [DeviceFactory(organisation=owner.organisation, reformed=True)], "Lot")
    db.session.commit()
    return offer


def test_one_caller_moves_the_status_and_the_others_are_told(app):
    owner = user_for_role(Role.IT_MANAGER)
    offer_id = offer_of(owner).id

    def withdraw():
        offer = db.session.get(Offer, offer_id)
        if not transitions.move(None, offer, OfferStatus.OPEN, OfferStatus.WITHDRAWN, action="offer.withdrawn"):
            from core.errors import RuleViolation
            raise RuleViolation(f"already {offer.status.value}")

    results = race(app, [withdraw] * RACERS)

    assert results.count(WON) == 1
    assert sorted(set(results) - {WON}) == ["already withdrawn"]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "offer.withdrawn")) == 1


def test_the_object_follows_without_a_second_audit_entry(app):
    owner = user_for_role(Role.IT_MANAGER)
    offer = offer_of(owner)

    assert transitions.move(owner, offer, [OfferStatus.OPEN, OfferStatus.CLOSED], OfferStatus.WITHDRAWN,
                            available=Offer.available - 1, details={"reason": "test"})
    assert offer.status is OfferStatus.WITHDRAWN and offer.available == 0  # the counter read again
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "offer",
                                                          AuditEntry.object_id == offer.id)).all()
    moved = [entry for entry in entries if entry.action == "offer.status_changed"]
    assert [entry.changes for entry in moved] == [{"status": ["open", "withdrawn"], "reason": "test"}]
    assert not [entry for entry in entries if entry.action == "offer.updated"]
    # A second move from a status it no longer has changes nothing.
    assert not transitions.move(owner, offer, OfferStatus.OPEN, OfferStatus.CLOSED)
    assert offer.status is OfferStatus.WITHDRAWN
