"""The catalogue: buyers browse offers, an offer's and a supplier's pages; suppliers keep their offers."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, OrganisationKind
from marketplace.forms.catalogue import CatalogueFilterForm, OfferForm, vat_label
from marketplace.forms.orders import add_to_basket_form
from marketplace.models import CatalogueOffer, Grade, Label
from marketplace.money import line_amounts
from marketplace.services import catalogue as services
from marketplace.views import bp
from reuse import factors
from reuse.models import DeviceCategory

PAGE_SIZE = 25


def _filters_from(form: CatalogueFilterForm) -> services.CatalogueFilters:
    """What the query string asks for; a value that does not parse is ignored, never an error page."""
    form.validate()
    return services.CatalogueFilters(
        category=DeviceCategory(form.category.data) if form.category.data and not form.category.errors else None,
        grade=Grade(form.grade.data) if form.grade.data and not form.grade.errors else None,
        max_price=form.max_price.data if not form.max_price.errors else None,
        in_territory=bool(form.in_territory.data), social_economy=bool(form.social_economy.data),
        label=Label(form.label.data) if form.label.data and not form.label.errors else None,
        reconditioned_only=bool(form.reconditioned_only.data), text=(form.q.data or "").strip()[:100],
        sort=form.sort.data if form.sort.data and not form.sort.errors else "price",
    )


@bp.get("/catalogue")
@login_required
def catalogue():
    permissions.require(current_user, "catalogue.browse")
    form = CatalogueFilterForm(request.args)
    query, text_from_index = services.visible_offers(_filters_from(form), current_user)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("marketplace/catalogue/catalogue.html", page=page, form=form,
                           text_from_index=text_from_index)


@bp.get("/catalogue/<int:offer_id>")
@login_required
def catalogue_offer(offer_id: int):
    offer = db.get_or_404(CatalogueOffer, offer_id)
    permissions.require(current_user, "catalogue.view", offer)
    # Posted to marketplace.add_to_basket (the orders' pages), with the form those pages read.
    may_order = permissions.may(current_user, "order.place")
    basket_form = add_to_basket_form(current_user.organisation) if may_order else None
    return render_template(
        "marketplace/catalogue/offer.html", offer=offer, basket_form=basket_form,
        cpv_label=services.CPV_CODES.get(offer.cpv, ""), grade_labels=services.GRADE_LABELS,
        label_names={label.value: label.label for label in Label},
        vat_label=vat_label, price_incl_vat=line_amounts(1, offer.unit_price, offer.vat_rate).gross,
        factor_version=factors.version(), factor_source=factors.table()["sources"]["embodied"],
        hidden_reasons=services.hidden_reasons(offer),
    )


@bp.get("/suppliers/<int:organisation_id>")
@login_required
def supplier(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    if organisation.kind is not OrganisationKind.SUPPLIER:
        abort(404)
    permissions.require(current_user, "organisation.view", organisation)
    query, _text_from_index = services.visible_offers(services.CatalogueFilters(supplier_id=organisation.id))
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("marketplace/catalogue/supplier.html", organisation=organisation, page=page)


def _require_seller():
    """Only a validated supplier sells; a supplier awaiting validation is told why, not just refused."""
    organisation = current_user.organisation
    if (not permissions.may(current_user, "catalogue.create", organisation)
            and organisation.kind is OrganisationKind.SUPPLIER and not organisation.is_validated):
        audit.record_now(current_user, "permission.denied", organisation, permission="catalogue.create")
        return render_template("marketplace/catalogue/not_validated.html", organisation=organisation), 403
    permissions.require(current_user, "catalogue.create", organisation)
    return None


@bp.get("/my-offers")
@login_required
def my_offers():
    refusal = _require_seller()
    if refusal:
        return refusal
    page = db.paginate(services.supplier_offers(current_user.organisation), per_page=PAGE_SIZE, error_out=False)
    return render_template("marketplace/catalogue/my_offers.html", page=page,
                           organisation=current_user.organisation, hidden_reasons=services.hidden_reasons)


@bp.route("/my-offers/new", methods=["GET", "POST"])
@login_required
def new_catalogue_offer():
    refusal = _require_seller()
    if refusal:
        return refusal
    form = OfferForm()
    if request.method == "GET":
        organisation = current_user.organisation
        form.reconditioning_postcode.data, form.reconditioning_city.data = organisation.postcode, organisation.city
    if form.validate_on_submit():
        try:
            offer = services.create_offer(current_user, current_user.organisation, form.offer_data())
            db.session.commit()
            flash(_("The offer is saved."), "success")
            return redirect(url_for("marketplace.catalogue_offer", offer_id=offer.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("marketplace/catalogue/offer_form.html", form=form, offer=None), status


@bp.route("/catalogue/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_catalogue_offer(offer_id: int):
    offer = db.get_or_404(CatalogueOffer, offer_id)
    # Whoever may not see the offer is answered as if it did not exist; whoever sees it but is not its
    # supplier is refused.
    permissions.require(current_user, "catalogue.view", offer)
    permissions.require(current_user, "catalogue.edit", offer)
    form = OfferForm(obj=offer)
    if request.method == "GET":
        form.fill_from(offer)
    if form.validate_on_submit():
        try:
            services.update_offer(current_user, offer, form.offer_data())
            db.session.commit()
            flash(_("The offer is saved."), "success")
            return redirect(url_for("marketplace.catalogue_offer", offer_id=offer.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("marketplace/catalogue/offer_form.html", form=form, offer=offer), status
