"""After the deadline: scores, ranking, abnormally low bids, award or no award, and the contract.

Scores, per lot, out of the grid's 100 points:
- price criterion: lowest price / price × weight (the lowest bid gets the full weight);
- technical and social criteria: the evaluators' mark out of 10 / 10 × weight;
- environmental criteria: the share of the tender's environmental award-criterion clauses the bid commits
  to, × weight; when the tender has no such clause, the evaluators mark it like a technical criterion.
A bid is flagged abnormally low when its price is under 80 % of the mean of the other bids on the lot, or
under 70 % of the lot's estimate: the buyer must then ask the bidder to justify it (CCP R.2152-3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import User, utcnow
from procurement.models import (AwardCriterion, Bid, BidOutcome, BidStatus, Contract, CriterionKind, Evaluation,
                                Lot, Mechanism, Tender, TenderStatus)
from procurement.services import contracts

ABNORMALLY_LOW_VS_OTHERS = Decimal("0.80")
ABNORMALLY_LOW_VS_ESTIMATE = Decimal("0.70")
TWO_PLACES = Decimal("0.01")


@dataclass
class BidScore:
    bid: Bid
    # criterion id -> points, or None while a mark is missing
    points: dict[int, Decimal | None] = field(default_factory=dict)
    abnormally_low: bool = False
    rank: int | None = None
    # Why a bid is flagged: the mean of the other bids it is compared with, and which test it fails.
    others_mean: Decimal | None = None
    below_others: bool = False
    below_estimate: bool = False

    @property
    def complete(self) -> bool:
        return all(value is not None for value in self.points.values())

    @property
    def total(self) -> Decimal | None:
        return sum(self.points.values(), Decimal(0)) if self.complete else None


def env_award_clauses(tender: Tender) -> list:
    return [tc for tc in tender.clauses
            if tc.version.is_environmental and tc.version.mechanism is Mechanism.AWARD_CRITERION]


def marked_by_evaluators(criterion: AwardCriterion) -> bool:
    if criterion.kind is CriterionKind.PRICE:
        return False
    if criterion.kind is CriterionKind.ENVIRONMENTAL:
        return not env_award_clauses(criterion.tender)
    return True


def _round(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def score_lot(lot: Lot) -> list[BidScore]:
    """The opened lot's submitted bids with their points, flags and rank (best first). Pure arithmetic:
    the caller has checked the bids may be read."""
    if not lot.tender.is_opened:
        return []
    bids = [bid for bid in lot.bids if bid.status is BidStatus.SUBMITTED]
    if not bids:
        return []
    lowest = min(bid.price for bid in bids)
    env_clauses = env_award_clauses(lot.tender)
    scores = []
    for bid in bids:
        score = BidScore(bid)
        marks = {e.criterion_id: e.mark for e in bid.evaluations}
        committed = {c.tender_clause_id for c in bid.commitments if c.committed}
        for criterion in lot.tender.criteria:
            weight = Decimal(criterion.weight)
            if criterion.kind is CriterionKind.PRICE:
                score.points[criterion.id] = _round(lowest / bid.price * weight)
            elif marked_by_evaluators(criterion):
                mark = marks.get(criterion.id)
                score.points[criterion.id] = None if mark is None else _round(mark / 10 * weight)
            else:
                share = Decimal(sum(1 for tc in env_clauses if tc.id in committed)) / len(env_clauses)
                score.points[criterion.id] = _round(share * weight)
        others = [other.price for other in bids if other is not bid]
        score.others_mean = _round(sum(others) / len(others)) if others else None
        score.below_others = bool(others) and bid.price < ABNORMALLY_LOW_VS_OTHERS * sum(others) / len(others)
        score.below_estimate = (lot.estimated_value is not None
                                and bid.price < ABNORMALLY_LOW_VS_ESTIMATE * lot.estimated_value)
        score.abnormally_low = score.below_others or score.below_estimate
        scores.append(score)
    if all(score.complete for score in scores):
        scores.sort(key=lambda s: (-s.total, s.bid.price, s.bid.submitted_at))
        for rank, score in enumerate(scores, start=1):
            score.rank = rank
    return scores


def scores_visible(actor: User, lot: Lot) -> bool:
    """A bidder learns its points and rank with the decision (its letter gives them), not while the
    evaluation runs: its rank would tell it where the other prices stand."""
    bidder = actor.organisation_id in {bid.supplier_id for bid in lot.bids}
    return lot.is_decided or not bidder


def evaluate(actor: User, bid: Bid, criterion: AwardCriterion, mark: Decimal, comment: str) -> Evaluation:
    tender = bid.lot.tender
    permissions.require(actor, "tender.evaluate", tender)
    if tender.status is not TenderStatus.OPENED or bid.lot.is_decided:
        raise RuleViolation(_("Marks are entered on opened lots not yet decided."))
    if criterion.tender_id != tender.id or not marked_by_evaluators(criterion):
        raise RuleViolation(_("This criterion is not marked by evaluators."))
    if bid.status is not BidStatus.SUBMITTED:
        raise RuleViolation(_("A withdrawn bid is not evaluated."))
    if mark is None or not Decimal(0) <= mark <= Decimal(10):
        raise RuleViolation(_("A mark is between 0 and 10."))
    if not comment.strip():
        raise RuleViolation(_("Justify the mark with a comment: it goes into the analysis report."))
    evaluation = next((e for e in bid.evaluations if e.criterion_id == criterion.id), None)
    if evaluation is None:
        evaluation = Evaluation(criterion=criterion)
        bid.evaluations.append(evaluation)
    evaluation.mark = mark
    evaluation.comment = comment.strip()
    evaluation.evaluator_id = actor.id
    return evaluation


def _require_decidable(actor: User, lot: Lot) -> None:
    permissions.require(actor, "tender.manage", lot.tender)
    if lot.tender.status is not TenderStatus.OPENED:
        raise RuleViolation(_("Lots are decided once the bids are opened."))
    if lot.is_decided:
        raise RuleViolation(_("This lot is already decided."))


def award(actor: User, lot: Lot, bid: Bid, reason: str = "", now: datetime | None = None):
    """Award the lot: the best-ranked bid, or another one with a written reason (an abnormally low bid
    not justified, an irregular bid). The others are rejected; the contract awaits the standstill."""
    _require_decidable(actor, lot)
    now = now or utcnow()
    scores = score_lot(lot)
    chosen = next((s for s in scores if s.bid is bid), None)
    if chosen is None:
        raise RuleViolation(_("Award the lot to one of its submitted bids."))
    if not chosen.complete:
        raise RuleViolation(_("Enter every mark before awarding: the ranking is not complete."))
    if chosen.rank != 1 and not reason.strip():
        raise RuleViolation(_("This bid is not ranked first: give the reason for passing over the better ones."))
    for score in scores:
        score.bid.outcome = BidOutcome.AWARDED if score.bid is bid else BidOutcome.REJECTED
        score.bid.outcome_reason = reason.strip() if score.bid is bid else ""
    lot.awarded_at = now
    lot.decision_reason = reason.strip()
    contract = contracts.from_award(lot, bid, offers_received=len(scores),
                                    standstill_ends_at=now + timedelta(days=current_app.config["STANDSTILL_DAYS"]))
    audit.record(actor, "tender.lot_awarded", lot.tender, lot=lot.number, supplier=bid.supplier.name,
                 price=str(bid.price), rank=chosen.rank, reason=reason.strip())
    _close_if_decided(lot.tender)
    return contract


def declare_unsuccessful(actor: User, lot: Lot, reason: str) -> None:
    """No bid, or none acceptable: the lot is declared unsuccessful (infructueux)."""
    _require_decidable(actor, lot)
    if not reason.strip():
        raise RuleViolation(_("Give the reason why the lot is unsuccessful."))
    for bid in lot.bids:
        if bid.status is BidStatus.SUBMITTED:
            bid.outcome = BidOutcome.REJECTED
    lot.unsuccessful = True
    lot.decision_reason = reason.strip()
    audit.record(actor, "tender.lot_unsuccessful", lot.tender, lot=lot.number, reason=reason.strip())
    _close_if_decided(lot.tender)


def _close_if_decided(tender: Tender) -> None:
    db.session.flush()
    if all(lot.is_decided for lot in tender.lots):
        tender.status = TenderStatus.AWARDED


# --- what the pages and documents read after the opening ------------------------------------------

@dataclass
class LotDecision:
    """An opened lot as the evaluation page, the analysis report and the letters show it."""
    lot: Lot
    scores: list[BidScore]
    contract: Contract | None

    @property
    def awarded(self) -> BidScore | None:
        return next((s for s in self.scores if s.bid.outcome is BidOutcome.AWARDED), None)

    def score_of(self, bid: Bid) -> BidScore | None:
        return next((s for s in self.scores if s.bid is bid), None)


def contract_for(lot: Lot) -> Contract | None:
    return db.session.scalar(select(Contract).where(Contract.lot_id == lot.id))


def lot_decision(actor: User, lot: Lot) -> LotDecision:
    """The scores of an opened lot for its evaluators; the caller answers 404 before the opening."""
    permissions.require(actor, "tender.evaluate", lot.tender)
    return LotDecision(lot, score_lot(lot), contract_for(lot))


@dataclass
class Report:
    """The bid analysis report (rapport d'analyse des offres)."""
    tender: Tender
    opened_by: User | None
    lots: list[LotDecision]
    marked: set[int]   # ids of the criteria the evaluators mark
    env_clauses: list  # the environmental award-criterion clauses the environmental score counts


def analysis_report(actor: User, tender: Tender) -> Report:
    permissions.require(actor, "tender.evaluate", tender)
    return Report(tender, db.session.get(User, tender.opened_by_id) if tender.opened_by_id else None,
                  [LotDecision(lot, score_lot(lot), contract_for(lot)) for lot in tender.lots],
                  {c.id for c in tender.criteria if marked_by_evaluators(c)}, env_award_clauses(tender))


@dataclass
class Letter:
    """The award letter, or the rejection letter (CCP R.2181-1 to R.2181-3, L.2181-1): the bid's score and
    rank, the awarded bidder and its score, and the end of the standstill period before the signature."""
    bid: Bid
    decision: LotDecision
    score: BidScore | None

    @property
    def is_award(self) -> bool:
        return self.bid.outcome is BidOutcome.AWARDED


def letter(actor: User, bid: Bid) -> Letter | None:
    """The bid's letter once its lot is decided, for its bidder and whoever reads the opened bids; None
    while the lot is undecided or for a withdrawn bid, which gets no letter."""
    permissions.require(actor, "bid.read", bid)
    if not bid.lot.is_decided or bid.status is not BidStatus.SUBMITTED or bid.outcome is None:
        return None
    decision = LotDecision(bid.lot, score_lot(bid.lot), contract_for(bid.lot))
    return Letter(bid, decision, decision.score_of(bid))
