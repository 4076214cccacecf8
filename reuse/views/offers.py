"""Offers and requests: publish, browse, request, decide, hand over, confirm receipt; the gains page."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm, options
from core.models import utcnow
from core.views.helpers import attempt
from reuse import cascade, services
from reuse.forms import ApproveForm, OfferForm, RefuseForm, RequestForm
from reuse.models import Offer, RequestStatus, ReuseRequest
from reuse.views import bp
from reuse.views.devices import devices_from_request

PAGE_SIZE = 50
OWN_PAGE_SIZE = 10  # the organisation's own offers, listed below the others
TEXT_FILTER_LENGTH = 100


@bp.route("/offers/new", methods=["GET", "POST"])
@login_required
def new_offer():
    permissions.require(current_user, "offer.create", current_user.organisation)
    devices = devices_from_request()
    form = OfferForm()
    form.site_id.choices = options((s.id, s.name) for s in current_user.organisation.sites)
    if request.method == "GET" and devices:
        first = devices[0]
        form.title.data = f"{len(devices)} × {first.category.label} {first.brand} {first.model}".strip()
        form.site_id.data = first.site_id or form.site_id.choices[0].value
    if form.validate_on_submit():
        site = next((s for s in current_user.organisation.sites if s.id == form.site_id.data), None)
        try:
            offer = services.create_offer(current_user, devices, form.title.data, form.description.data or "",
                                          site)
            db.session.commit()
            flash(_("The offer is published."), "success")
            return redirect(url_for("reuse.offer", offer_id=offer.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/offer_form.html", form=form, devices=devices), status


@bp.get("/offers")
@login_required
def offers():
    permissions.require(current_user, "offer.browse")
    if services.expire_overdue_requests():  # a commit (and its index work) only when one expired
        db.session.commit()
    text = request.args.get("q", "").strip()[:TEXT_FILTER_LENGTH]
    query, text_from_index = services.offers_to_request_matching(current_user, text)
    # Eligibility reads each offer's devices: they come in one more query for the whole page.
    page = db.paginate(query.options(selectinload(Offer.devices)), per_page=PAGE_SIZE, error_out=False)
    # The organisation's own offers, newest first, paged apart (a commune publishes hundreds over the years).
    own = db.paginate(select(Offer).where(Offer.organisation_id == current_user.organisation_id)
                      .order_by(Offer.published_at.desc(), Offer.id.desc()),
                      page=request.args.get("own_page", 1, type=int), per_page=OWN_PAGE_SIZE, error_out=False)
    return render_template("reuse/offers.html", page=page, own_offers=own, text=text,
                           text_from_index=text_from_index, routes=services.ROUTE_LABELS,
                           eligibility={offer.id: services.eligibility(offer, current_user.organisation)
                                        for offer in page.items})


@bp.get("/offers/<int:offer_id>")
@login_required
def offer(offer_id: int, request_form: RequestForm | None = None, status: int = 200):
    offer = db.get_or_404(Offer, offer_id)
    permissions.require(current_user, "offer.view", offer)
    is_owner = permissions.may(current_user, "offer.manage", offer)
    check = None if is_owner else services.eligibility(offer, current_user.organisation)
    # The owner's approved requests: their devices that may not leave yet (storage media unknown, or not
    # sanitised), to act on before the handover.
    blocked = {req.id: [device for device in req.devices if not services.cleared_to_leave(device)]
               for req in offer.requests if is_owner and req.status is RequestStatus.APPROVED}
    return render_template(
        "reuse/offer.html", offer=offer, is_owner=is_owner, eligibility=check, blocked=blocked,
        reasons=services.ELIGIBILITY_REASONS, basis=services.basis, request_form=request_form or RequestForm(),
        approve_form=ApproveForm(), refuse_form=RefuseForm(), confirm_form=ConfirmForm(),
        stage=cascade.stage_at(offer.published_at, utcnow()), stages=cascade.Stage,
        stage_opens_at=cascade.stage_opens_at,
    ), status


@bp.post("/offers/<int:offer_id>/requests")
@login_required
def request_offer(offer_id: int):
    offer_ = db.get_or_404(Offer, offer_id)
    permissions.require(current_user, "offer.view", offer_)
    form = RequestForm()
    if not form.validate_on_submit():
        return offer(offer_id, request_form=form, status=422)
    try:
        services.request_offer(current_user, offer_, form.quantity.data, form.purpose.data)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return offer(offer_id, request_form=form, status=409)
    flash(_("Your request is sent to %(owner)s.", owner=offer_.organisation.name), "success")
    return redirect(url_for("reuse.requests"))


@bp.post("/offers/<int:offer_id>/withdraw")
@login_required
def withdraw_offer(offer_id: int):
    offer_ = db.get_or_404(Offer, offer_id)
    permissions.require(current_user, "offer.manage", offer_)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: services.withdraw_offer(current_user, offer_),
            _("The offer is withdrawn; its devices are back in your surplus."))
    return redirect(url_for("reuse.offer", offer_id=offer_.id))


@bp.get("/requests")
@login_required
def requests():
    permissions.require(current_user, "offer.browse")
    organisation_id = current_user.organisation_id
    made = db.session.scalars(select(ReuseRequest).where(ReuseRequest.organisation_id == organisation_id)
                              .order_by(ReuseRequest.created_at.desc())).all()
    received = db.session.scalars(select(ReuseRequest).join(ReuseRequest.offer)
                                  .where(Offer.organisation_id == organisation_id)
                                  .order_by(ReuseRequest.created_at.desc())).all()
    return render_template("reuse/requests.html", made=made, received=received, confirm_form=ConfirmForm(),
                           reasons=services.ELIGIBILITY_REASONS, basis=services.basis)


def _request_or_404(request_id: int) -> ReuseRequest:
    reuse_request = db.get_or_404(ReuseRequest, request_id)
    permissions.require(current_user, "request.view", reuse_request)
    return reuse_request


def _decide(reuse_request: ReuseRequest, operation, success: str, *args):
    attempt(lambda: operation(current_user, reuse_request, *args), success)
    return redirect(url_for("reuse.offer", offer_id=reuse_request.offer_id))


@bp.post("/requests/<int:request_id>/approve")
@login_required
def approve_request(request_id: int):
    reuse_request = _request_or_404(request_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(reuse_request, services.approve_request, _("The request is approved."), form.collect_by.data)


@bp.post("/requests/<int:request_id>/refuse")
@login_required
def refuse_request(request_id: int):
    reuse_request = _request_or_404(request_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        flash(_("Say why the request is refused."), "error")
        return redirect(url_for("reuse.offer", offer_id=reuse_request.offer_id))
    return _decide(reuse_request, services.refuse_request, _("The request is refused."), form.reason.data)


@bp.post("/requests/<int:request_id>/hand-over")
@login_required
def hand_over(request_id: int):
    reuse_request = _request_or_404(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _decide(reuse_request, services.hand_over,
                   _("The handover is recorded; the agreement is ready to print and sign."))


@bp.post("/requests/<int:request_id>/cancel")
@login_required
def cancel_request(request_id: int):
    reuse_request = _request_or_404(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: services.cancel_request(current_user, reuse_request), _("Your request is cancelled."))
    return redirect(url_for("reuse.requests"))


@bp.post("/requests/<int:request_id>/receipt")
@login_required
def confirm_receipt(request_id: int):
    reuse_request = _request_or_404(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: services.confirm_receipt(current_user, reuse_request),
            _("Receipt confirmed. Thank you for giving this equipment a second life."))
    return redirect(url_for("reuse.requests"))


@bp.get("/gains")
@login_required
def gains():
    from reuse import gains as gain_figures

    organisation = current_user.organisation
    permissions.require(current_user, "gains.view", organisation)
    year = request.args.get("year", services.today().year, type=int)
    return render_template("reuse/gains.html", year=year,
                           figures=gain_figures.organisation_gains(organisation.id, year),
                           rate=gain_figures.reuse_rate(organisation.id, year))
