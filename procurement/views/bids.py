"""Sealed bids, the supplier's side: one bid per lot, submitted, replaced or withdrawn until the deadline
(server time), read back with its receipt. Every bid is found through procurement.services.bids, which
answers only what the user may know: before the opening a bid exists for its bidder alone, so any other
user gets the same 404 as for a bid that does not exist. Bids are addressed by their random public id."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm
from core.views.helpers import attempt
from procurement.forms.bids import bid_form as make_bid_form
from procurement.models import Bid, Lot, Tender
from procurement.services import bids as service
from procurement.views import bp


def tender_and_lot(tender_id: int, lot_id: int) -> tuple[Tender, Lot]:
    tender = db.get_or_404(Tender, tender_id)
    permissions.require(current_user, "tender.view", tender)
    lot = db.get_or_404(Lot, lot_id)
    if lot.tender_id != tender.id:
        abort(404)
    return tender, lot


def readable_bid(public_id: str) -> Bid:
    bid = service.get_readable(current_user, public_id)
    if bid is None:
        abort(404)
    return bid


@bp.app_context_processor
def bid_helpers() -> dict:
    """What the tender page's bids section asks per lot: the user's own bid, the opened bids."""

    def own_bid(lot: Lot) -> Bid | None:
        return service.own_bid(current_user, lot) if current_user.is_authenticated else None

    def opened_bids(lot: Lot) -> list[Bid]:
        return service.opened_bids(current_user, lot) if current_user.is_authenticated else []

    return {"own_bid": own_bid, "opened_bids": opened_bids, "bid_receipt": service.receipt}


def _answers(bid: Bid | None) -> dict:
    """The form pre-filled with the bid being replaced."""
    if bid is None:
        return {}
    data = {"price": bid.price}
    for commitment in bid.commitments:
        data[f"commit_{commitment.tender_clause_id}"] = commitment.committed
        data[f"evidence_{commitment.tender_clause_id}"] = commitment.evidence
    return data


@bp.route("/tenders/<int:tender_id>/lots/<int:lot_id>/bid", methods=["GET", "POST"])
@login_required
def bid_form(tender_id: int, lot_id: int):
    tender, lot = tender_and_lot(tender_id, lot_id)
    permissions.require(current_user, "bid.submit", tender)
    try:
        service.check_open(current_user, tender)
    except RuleViolation as error:
        flash(str(error), "error")
        return redirect(url_for("procurement.tender", tender_id=tender.id))
    existing = service.own_bid(current_user, lot)
    locale = str(get_locale())
    form = make_bid_form(tender.clauses, locale, replacing=existing is not None,
                         **({} if request.method == "POST" else {"data": _answers(existing)}))
    if form.validate_on_submit():
        upload = form.memo.data
        chosen = upload is not None and bool(upload.filename)
        data = service.BidData(
            price=form.price.data,
            memo_filename=(secure_filename(upload.filename) or "memo.pdf")[:200] if chosen else "",
            memo_pdf=upload.read() if chosen else None,  # none chosen: a replacement keeps its memo
            commitments=form.commitments(tender.clauses))
        try:
            bid = service.submit(current_user, lot, data)
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Your bid is submitted (version %(version)d). Receipt: %(receipt)s",
                    version=bid.version, receipt=service.receipt(bid)), "success")
            return redirect(url_for("procurement.bid", public_id=bid.public_id))
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/bids/form.html", tender=tender, lot=lot, form=form, existing=existing,
                           locale=locale), status


@bp.get("/bids")
@login_required
def my_bids():
    permissions.require(current_user, "procurement.bid")
    return render_template("procurement/bids/list.html", bids=service.own_bids(current_user))


@bp.get("/bids/<public_id>")
@login_required
def bid(public_id: str):
    bid = readable_bid(public_id)
    return render_template("procurement/bids/bid.html", bid=bid, tender=bid.lot.tender,
                           receipt=service.receipt(bid), confirm_form=ConfirmForm(), locale=str(get_locale()))


@bp.post("/bids/<public_id>/withdraw")
@login_required
def withdraw_bid(public_id: str):
    bid = readable_bid(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: service.withdraw(current_user, bid),
            _("Your bid is withdrawn. You may submit a new one until the deadline."))
    return redirect(url_for("procurement.bid", public_id=public_id))


@bp.get("/bids/<public_id>/memo.pdf")
@login_required
def bid_memo(public_id: str):
    bid = readable_bid(public_id)
    filename = secure_filename(bid.memo_filename) or "memo.pdf"
    return Response(bid.memo_pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        # A sealed document: no shared or browser cache keeps a copy.
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })
