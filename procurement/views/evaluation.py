"""The buyer's side after the deadline: the opening, the marks, the ranking, the award or the declaration
of an unsuccessful lot, the bid analysis report and the letters to the bidders. Before the opening none of
these pages exists, for anyone: they answer 404 as an unknown page would, so they never tell whether bids
came in."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import archive, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm, options
from core.i18n import money, number
from core.models import utcnow
from core.pdf import render_pdf
from core.views.helpers import attempt
from procurement.forms.bids import AwardForm, UnsuccessfulForm, marks_form, marks_prefix
from procurement.models import Tender
from procurement.services import bids as bid_service
from procurement.services import evaluation as service
from procurement.views import bp
from procurement.views.bids import readable_bid, tender_and_lot


def _opened_lot(tender_id: int, lot_id: int):
    tender, lot = tender_and_lot(tender_id, lot_id)
    if not tender.is_opened:
        abort(404)
    return tender, lot


def _back(tender, lot, anchor: str | None = None):
    return redirect(url_for("procurement.lot_evaluation", tender_id=tender.id, lot_id=lot.id, _anchor=anchor))


def _marked(tender) -> list:
    return [criterion for criterion in tender.criteria if service.marked_by_evaluators(criterion)]


def _award_choices(scores) -> list:
    def label(score) -> str:
        rank = score.rank if score.rank is not None else "–"
        total = number(score.total, 2) if score.total is not None else "–"
        return f"{rank}. {score.bid.supplier.name} · {total} · {money(score.bid.price)}"

    return options((score.bid.public_id, label(score)) for score in scores)


@bp.post("/tenders/<int:tender_id>/open")
@login_required
def open_bids(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    permissions.require(current_user, "tender.view", tender)
    permissions.require(current_user, "tender.manage", tender)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        count = bid_service.open_bids(current_user, tender)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The bids are opened: %(n)d received.", n=count), "success")
    return redirect(url_for("procurement.tender", tender_id=tender.id))


@bp.get("/tenders/<int:tender_id>/lots/<int:lot_id>/evaluation")
@login_required
def lot_evaluation(tender_id: int, lot_id: int):
    tender, lot = _opened_lot(tender_id, lot_id)
    decision = service.lot_decision(current_user, lot)
    marked = _marked(tender)
    mark_forms = {}
    for score in decision.scores:
        existing = {}
        for evaluation in score.bid.evaluations:
            existing[f"mark_{evaluation.criterion_id}"] = evaluation.mark
            existing[f"comment_{evaluation.criterion_id}"] = evaluation.comment
        mark_forms[score.bid.id] = marks_form(marked, prefix=marks_prefix(score.bid), formdata=None,
                                              data=existing)
    award_form = AwardForm(formdata=None)
    award_form.bid.choices = _award_choices(decision.scores)
    return render_template(
        "procurement/bids/evaluation.html", tender=tender, lot=lot, decision=decision, marked=marked,
        marked_ids={criterion.id for criterion in marked}, env_clauses=service.env_award_clauses(tender),
        mark_forms=mark_forms, award_form=award_form,
        unsuccessful_form=UnsuccessfulForm(formdata=None, prefix="unsuccessful"),
        low_vs_others=service.ABNORMALLY_LOW_VS_OTHERS, low_vs_estimate=service.ABNORMALLY_LOW_VS_ESTIMATE)


@bp.post("/tenders/<int:tender_id>/lots/<int:lot_id>/marks")
@login_required
def enter_marks(tender_id: int, lot_id: int):
    tender, lot = _opened_lot(tender_id, lot_id)
    permissions.require(current_user, "tender.evaluate", tender)
    bid = readable_bid(request.form.get("bid", ""))
    if bid.lot_id != lot.id:
        abort(404)
    marked = _marked(tender)
    form = marks_form(marked, prefix=marks_prefix(bid))
    if not form.validate_on_submit():
        flash(" ".join(" ".join(errors) for errors in form.errors.values()), "error")
        return _back(tender, lot, f"bid-{bid.public_id}")
    entries = [(criterion, form.mark_field(criterion).data, form.comment_field(criterion).data or "")
               for criterion in marked if form.mark_field(criterion).data is not None]
    if not entries:
        flash(_("Enter at least one mark."), "error")
        return _back(tender, lot, f"bid-{bid.public_id}")

    def save() -> None:
        for criterion, mark, comment in entries:
            service.evaluate(current_user, bid, criterion, mark, comment)

    attempt(save, _("The marks for %(supplier)s are saved.", supplier=bid.supplier.name))
    return _back(tender, lot, f"bid-{bid.public_id}")


@bp.post("/tenders/<int:tender_id>/lots/<int:lot_id>/award")
@login_required
def award_lot(tender_id: int, lot_id: int):
    tender, lot = _opened_lot(tender_id, lot_id)
    permissions.require(current_user, "tender.manage", tender)
    scores = service.score_lot(lot)
    form = AwardForm()
    form.bid.choices = _award_choices(scores)
    if not form.validate_on_submit():
        flash(_("Choose one of the lot's bids."), "error")
        return _back(tender, lot)
    bid = next(score.bid for score in scores if score.bid.public_id == form.bid.data)
    attempt(lambda: service.award(current_user, lot, bid, form.reason.data or ""),
            _("The lot is awarded to %(supplier)s; the contract awaits the end of the standstill period.",
              supplier=bid.supplier.name))
    return _back(tender, lot)


@bp.post("/tenders/<int:tender_id>/lots/<int:lot_id>/unsuccessful")
@login_required
def declare_lot_unsuccessful(tender_id: int, lot_id: int):
    tender, lot = _opened_lot(tender_id, lot_id)
    permissions.require(current_user, "tender.manage", tender)
    form = UnsuccessfulForm(prefix="unsuccessful")
    if not form.validate_on_submit():
        abort(400)
    attempt(lambda: service.declare_unsuccessful(current_user, lot, form.reason.data or ""),
            _("The lot is declared unsuccessful."))
    return _back(tender, lot)


@bp.get("/tenders/<int:tender_id>/report.pdf")
@login_required
def analysis_report_pdf(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    permissions.require(current_user, "tender.view", tender)
    if not tender.is_opened:
        abort(404)
    report = service.analysis_report(current_user, tender)
    document = archive.latest_or_issue(
        "bid_analysis_report", tender, "report", f"{tender.reference}-{_('bid-analysis-report')}.pdf",
        lambda: render_pdf("documents/bid_analysis_report.html", report=report, tender=tender, now=utcnow(),
                           low_vs_others=service.ABNORMALLY_LOW_VS_OTHERS,
                           low_vs_estimate=service.ABNORMALLY_LOW_VS_ESTIMATE),
        current_user, owner=tender.buyer)
    db.session.commit()
    return archive.response(document)


@bp.get("/bids/<public_id>/letter.pdf")
@login_required
def bid_letter_pdf(public_id: str):
    bid = readable_bid(public_id)
    letter = service.letter(current_user, bid)
    if letter is None:
        abort(404)
    template = "documents/award_letter.html" if letter.is_award else "documents/rejection_letter.html"
    name = _("award-letter") if letter.is_award else _("rejection-letter")
    document = archive.latest_or_issue(
        "award_letter" if letter.is_award else "rejection_letter", bid.lot.tender, f"letter:{bid.public_id}",
        f"{bid.lot.tender.reference}-{_('lot')}-{bid.lot.number}-{name}.pdf",
        lambda: render_pdf(template, letter=letter, bid=bid, lot=bid.lot, tender=bid.lot.tender),
        current_user, owner=bid.lot.tender.buyer, recipient=bid.supplier)
    db.session.commit()
    return archive.response(document)
