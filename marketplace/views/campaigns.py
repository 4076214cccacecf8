"""Group orders: the coordinator's campaign, the members' needs, the decisions and the award."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm, options
from core.i18n import local_to_utc
from core.models import Site
from core.views.helpers import attempt
from marketplace.forms.campaigns import AwardForm, CampaignForm, CampaignLineForm, DeadlineForm, ParticipationForm
from marketplace.models import Campaign, CampaignLine, CatalogueOffer, Order
from marketplace.services import campaigns as service
from marketplace.services import catalogue as catalogue_service
from marketplace.services.catalogue import CatalogueFilters
from marketplace.views import bp
from reuse.models import CATEGORY_LABELS, DeviceCategory


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    permissions.require(current_user, "campaign.view", campaign)
    if service.freeze_if_due(campaign):
        db.session.commit()
    return campaign


def _line(campaign: Campaign, line_id: int) -> CampaignLine:
    line = db.get_or_404(CampaignLine, line_id)
    if line.campaign_id != campaign.id:
        abort(404)
    return line


def _back(campaign: Campaign):
    return redirect(url_for("marketplace.campaign", campaign_id=campaign.id))


# The coordinator ticks a line's eligible offers among those the catalogue shows, found by a search: the
# whole catalogue as one list of checkboxes (10,000 offers at ten times the territory) took two seconds.
OFFERS_LISTED = 50
PAGE_SIZE = 25  # campaigns listed per page


def _offer_search() -> CatalogueFilters:
    """The coordinator's search for eligible offers, from the campaign page's query string."""
    category = request.args.get("offers_category", "")
    known = category in {c.value for c in DeviceCategory}
    return CatalogueFilters(text=request.args.get("offers_q", "").strip()[:100],
                            category=DeviceCategory(category) if known else None)


def _offer_choices(offers) -> list:
    return options((o.id, f"{o} · {o.supplier.name}") for o in offers
                   if permissions.may(current_user, "catalogue.view", o))


@bp.get("/campaigns")
@login_required
def campaigns():
    permissions.require(current_user, "campaign.list")
    page = db.paginate(service.visible_campaigns(current_user), per_page=PAGE_SIZE, error_out=False)
    for listed in page.items:
        service.freeze_if_due(listed)
    html = render_template("marketplace/campaigns/list.html", page=page)
    # A campaign whose deadline passed is now frozen. Committed once the page is rendered, since a commit
    # expires every campaign and the page would load each one again.
    db.session.commit()
    return html


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    permissions.require(current_user, "campaign.create", current_user.organisation)
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            created = service.create_campaign(current_user, current_user.organisation, form.title.data,
                                              form.description.data or "", local_to_utc(form.deadline.data))
            db.session.commit()
            flash(_("The campaign is open; add its lines."), "success")
            return redirect(url_for("marketplace.campaign", campaign_id=created.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("marketplace/campaigns/new.html", form=form), status


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int, line_form: CampaignLineForm | None = None, status: int = 200):
    campaign = _campaign(campaign_id)
    line_form = line_form or CampaignLineForm()
    # Only the coordinator, who adds lines, is shown the form and the catalogue offers it searched for.
    offer_search, more_offers, offers_from_index = _offer_search(), False, True
    ticked = list(line_form.offers.choices or [])  # a refused form's offers stay listed, ticked
    line_form.offers.choices = []
    if permissions.may(current_user, "campaign.manage", campaign):
        query, offers_from_index = catalogue_service.visible_offers(offer_search, current_user)
        offers = db.session.scalars(query.limit(OFFERS_LISTED + 1)).all()
        ticked_ids = {choice.value for choice in ticked}
        line_form.offers.choices = ticked + _offer_choices(o for o in offers[:OFFERS_LISTED] if o.id not in ticked_ids)
        more_offers = len(offers) > OFFERS_LISTED
    sites = options((s.id, s.name) for s in current_user.organisation.sites)
    award_forms = {}
    for line in campaign.lines:
        form = AwardForm(prefix=f"line{line.id}")
        form.offer_id.choices = options((o.id, f"{o} · {o.supplier.name} · stock {o.stock}")
                                        for o in line.eligible_offers)
        award_forms[line.id] = form
    orders = db.session.scalars(select(Order).where(Order.campaign_id == campaign.id)
                                .order_by(Order.reference)).all()
    return render_template(
        "marketplace/campaigns/campaign.html", campaign=campaign, line_form=line_form,
        progress={line.id: service.progress(line) for line in campaign.lines},
        mine=service.my_participations(current_user, campaign), sites=sites, award_forms=award_forms,
        deadline_form=DeadlineForm(), confirm_form=ConfirmForm(), participation_form=ParticipationForm(),
        is_open=service.census_open(campaign),
        orders=[o for o in orders if permissions.may(current_user, "order.view", o)],
        suppliers=sorted({o.supplier for o in orders}, key=lambda s: s.name),
        offer_search=offer_search, more_offers=more_offers, offers_listed=OFFERS_LISTED,
        text_from_index=offers_from_index,
        categories=CATEGORY_LABELS,
    ), status


@bp.post("/campaigns/<int:campaign_id>/lines")
@login_required
def add_campaign_line(campaign_id: int):
    campaign_ = _campaign(campaign_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    form = CampaignLineForm()
    # The ticked offers that the catalogue shows the coordinator: a search found them, any of them may be kept.
    query, _from_index = catalogue_service.visible_offers()
    ticked = db.session.scalars(query.where(CatalogueOffer.id.in_(request.form.getlist("offers", type=int)))).all()
    form.offers.choices = _offer_choices(ticked)
    if not form.validate_on_submit():
        return campaign(campaign_id, line_form=form, status=422)
    offers = [offer for offer in ticked if offer.id in (form.offers.data or [])]
    attempt(lambda: service.add_line(current_user, campaign_, form.title.data, form.specification.data,
                                     DeviceCategory(form.category.data), form.min_total_quantity.data, list(offers),
                                     form.to_be_tendered.data), _("The line is added."))
    return _back(campaign_)


@bp.post("/campaigns/<int:campaign_id>/lines/<int:line_id>/participation")
@login_required
def set_participation(campaign_id: int, line_id: int):
    campaign_ = _campaign(campaign_id)
    line = _line(campaign_, line_id)
    permissions.require(current_user, "campaign.join", campaign_)
    form = ParticipationForm()
    form.site_id.choices = options((s.id, s.name) for s in current_user.organisation.sites)
    if not form.validate_on_submit():
        flash(_("Give a quantity (0 or more) and a delivery site of your organisation."), "error")
        return _back(campaign_)
    site = db.session.get(Site, form.site_id.data)
    attempt(lambda: service.set_participation(current_user, line, site, form.quantity.data),
            _("Your need is saved: %(n)d for %(site)s.", n=form.quantity.data, site=site.name))
    return _back(campaign_)


@bp.post("/campaigns/<int:campaign_id>/deadline")
@login_required
def extend_campaign(campaign_id: int):
    campaign_ = _campaign(campaign_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    form = DeadlineForm()
    if not form.validate_on_submit():
        abort(400)
    attempt(lambda: service.extend_deadline(current_user, campaign_, local_to_utc(form.deadline.data)),
            _("The deadline is extended; the members are told."))
    return _back(campaign_)


DECISIONS = {
    "cancel": (service.cancel_line, lambda: _("The line is cancelled; the members are told.")),
    "proceed": (service.proceed_below_minimum, lambda: _("The line goes on below its minimum; the members are told.")),
    "tender": (service.hand_to_tender, lambda: _("The line is handed to a tender.")),
}


@bp.post("/campaigns/<int:campaign_id>/lines/<int:line_id>/decision")
@login_required
def decide_campaign_line(campaign_id: int, line_id: int):
    campaign_ = _campaign(campaign_id)
    line = _line(campaign_, line_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    decision = DECISIONS.get(request.form.get("decision", ""))
    if decision is None or not ConfirmForm().validate_on_submit():
        abort(400)
    operation, message = decision
    attempt(lambda: operation(current_user, line), message())
    return _back(campaign_)


@bp.post("/campaigns/<int:campaign_id>/lines/<int:line_id>/award")
@login_required
def award_campaign_line(campaign_id: int, line_id: int):
    campaign_ = _campaign(campaign_id)
    line = _line(campaign_, line_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    form = AwardForm(prefix=f"line{line.id}")
    form.offer_id.choices = options((o.id, str(o)) for o in line.eligible_offers)
    if not form.validate_on_submit():
        abort(400)
    offer = db.session.get(CatalogueOffer, form.offer_id.data)
    attempt(lambda: service.award_line(current_user, line, offer),
            _("The line is awarded to %(offer)s; the stock is reserved.", offer=str(offer)))
    return _back(campaign_)


@bp.post("/campaigns/<int:campaign_id>/orders")
@login_required
def issue_campaign_orders(campaign_id: int):
    campaign_ = _campaign(campaign_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: service.issue_orders(current_user, campaign_),
            _("The purchase orders are issued to the members and the suppliers."))
    return _back(campaign_)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@login_required
def cancel_campaign(campaign_id: int):
    campaign_ = _campaign(campaign_id)
    permissions.require(current_user, "campaign.manage", campaign_)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: service.cancel_campaign(current_user, campaign_), _("The campaign is cancelled."))
    return _back(campaign_)
