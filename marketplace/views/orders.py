"""The basket, direct orders and their follow-up (confirm, ship and deliver per site, cancel), and the
purchase orders as PDF: the order's own, and a campaign's consolidated order for one supplier."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from core import archive, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm
from core.models import Organisation, Site, utcnow
from core.pdf import render_pdf
from core.views.helpers import attempt
from marketplace.forms.orders import (BasketItemForm, OrderFilterForm, PlaceOrderForm, SiteActionForm,
                                      add_to_basket_form)
from marketplace.models import BasketItem, Campaign, CatalogueOffer, Order, OrderStatus
from marketplace.services import basket as baskets
from marketplace.services import orders as order_service
from marketplace.views import bp

ORDERS_PER_PAGE = 30


# --- the basket --------------------------------------------------------------------------------------

def _back():
    """Where the form was posted from, if it is a page of this site; else the basket."""
    referrer = request.referrer or ""
    if referrer and urlsplit(referrer).netloc == request.host:
        return redirect(referrer)
    return redirect(url_for("marketplace.basket"))


@bp.post("/catalogue/<int:offer_id>/basket")
@login_required
def add_to_basket(offer_id: int):
    permissions.require(current_user, "order.place")
    offer = db.get_or_404(CatalogueOffer, offer_id)
    permissions.require(current_user, "catalogue.view", offer)
    organisation = current_user.organisation
    form = add_to_basket_form(organisation)
    if not form.validate_on_submit():
        flash(_("Give a quantity of at least 1 and one of your delivery sites."), "error")
        return _back()
    site = (db.session.get(Site, form.site_id.data) if form.site_id.data is not None
            else (organisation.sites[0] if organisation.sites else None))
    if site is None:
        flash(_("Add a delivery site to your organisation first."), "error")
        return _back()
    if attempt(lambda: baskets.add_item(current_user, offer, site, form.quantity.data),
               _("%(n)d × %(offer)s added to your basket.", n=form.quantity.data, offer=str(offer))):
        return redirect(url_for("marketplace.basket"))
    return _back()


@bp.get("/basket")
@login_required
def basket():
    permissions.require(current_user, "order.place")
    organisation = current_user.organisation
    return render_template(
        "marketplace/orders/basket.html", basket=baskets.basket_of(organisation),
        order_form=PlaceOrderForm(), is_public_buyer=organisation.kind.is_public_buyer,
        payment_method=baskets.payment_method_for(organisation))


@bp.post("/basket/<int:item_id>")
@login_required
def update_basket_item(item_id: int):
    permissions.require(current_user, "order.place")
    item = db.get_or_404(BasketItem, item_id)
    if item.organisation_id != current_user.organisation_id:
        abort(404)
    form = BasketItemForm()
    if not form.validate_on_submit():
        flash(_("A quantity is a whole number, 0 to remove the line."), "error")
        return redirect(url_for("marketplace.basket"))
    quantity = form.quantity.data
    attempt(lambda: baskets.update_item(current_user, item, quantity),
            _("The line is removed from your basket.") if quantity == 0 else _("The quantity is updated."))
    return redirect(url_for("marketplace.basket"))


@bp.post("/basket/order")
@login_required
def place_order():
    permissions.require(current_user, "order.place")
    form = PlaceOrderForm()
    if not form.validate_on_submit():
        flash(_("The budget line has at most 100 characters."), "error")
        return redirect(url_for("marketplace.basket"))
    try:
        placed = baskets.place_order(current_user, form.budget_line.data or "")
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()  # all or nothing: no order, no stock taken, the basket as it was
        flash(str(error), "error")
        return redirect(url_for("marketplace.basket"))
    flash(_("%(n)d order(s) sent: %(references)s.", n=len(placed),
            references=", ".join(order.reference for order in placed)), "success")
    return redirect(url_for("marketplace.orders"))


# --- orders ------------------------------------------------------------------------------------------

@bp.get("/orders")
@login_required
def orders():
    permissions.require(current_user, "order.list")
    form = OrderFilterForm(request.args)
    organisation = current_user.organisation
    placed = Order.buyer_id == organisation.id
    received = Order.supplier_id == organisation.id
    valid = form.validate()  # an unknown filter value shows every order rather than an error
    side = form.side.data if valid else ""
    query = select(Order).where({"placed": placed, "received": received}.get(side, or_(placed, received)))
    if valid and form.status.data:
        query = query.where(Order.status == OrderStatus(form.status.data))
    # Each row names both parties and the campaign: they come in the page's query.
    query = query.options(joinedload(Order.buyer), joinedload(Order.supplier), joinedload(Order.campaign))
    page = db.paginate(query.order_by(Order.created_at.desc(), Order.id.desc()),
                       page=request.args.get("page", 1, type=int), per_page=ORDERS_PER_PAGE, error_out=False)
    return render_template("marketplace/orders/list.html", page=page, form=form, organisation=organisation)


def _order_or_404(order_id: int) -> Order:
    order = db.get_or_404(Order, order_id)
    permissions.require(current_user, "order.view", order)
    return order


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    order = _order_or_404(order_id)
    return render_template("marketplace/orders/order.html", order=order, **order_service.order_summary(order),
                           confirm_form=ConfirmForm(), site_form=SiteActionForm(),
                           may_supply=permissions.may(current_user, "order.supply", order),
                           may_receive=permissions.may(current_user, "order.receive", order),
                           cancellable=order.status in order_service.CANCELLABLE_STATUSES)


def _act(order_id: int, operation, success: str, form_class=ConfirmForm):
    order = _order_or_404(order_id)
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    site_id = getattr(form, "site_id", None)
    arguments = (site_id.data,) if site_id is not None else ()
    attempt(lambda: operation(current_user, order, *arguments), success)
    return redirect(url_for("marketplace.order", order_id=order.id))


@bp.post("/orders/<int:order_id>/confirm")
@login_required
def confirm_order(order_id: int):
    return _act(order_id, order_service.confirm_order, _("The order is confirmed."))


@bp.post("/orders/<int:order_id>/ship")
@login_required
def ship_order(order_id: int):
    return _act(order_id, order_service.ship, _("The shipment is recorded."), SiteActionForm)


@bp.post("/orders/<int:order_id>/delivery")
@login_required
def confirm_delivery(order_id: int):
    return _act(order_id, order_service.confirm_delivery, _("The delivery is confirmed."), SiteActionForm)


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int):
    return _act(order_id, order_service.cancel, _("The order is cancelled; its units are back in stock."))


# --- purchase orders (PDF) ---------------------------------------------------------------------------

@bp.get("/orders/<int:order_id>/purchase-order.pdf")
@login_required
def purchase_order_pdf(order_id: int):
    order = _order_or_404(order_id)
    document = archive.latest_or_issue(
        "purchase_order", order, "", f"{order.reference}.pdf",
        lambda: render_pdf("documents/purchase_order.html", order=order, **order_service.order_summary(order)),
        current_user, owner=order.buyer, recipient=order.supplier)
    db.session.commit()
    return archive.response(document)


@bp.get("/campaigns/<int:campaign_id>/suppliers/<int:supplier_id>/order.pdf")
@login_required
def campaign_supplier_pdf(campaign_id: int, supplier_id: int):
    """The orders of a campaign to one supplier, consolidated: for the supplier, the coordinator's
    procurement officers and the admins; nobody else learns it exists."""
    campaign = db.get_or_404(Campaign, campaign_id)
    supplier = db.get_or_404(Organisation, supplier_id)
    permissions.require(current_user, "campaign.supplier_order", (campaign, supplier))
    consolidated = order_service.campaign_supplier_orders(campaign, supplier)
    if not consolidated["members"]:
        abort(404)
    document = archive.latest_or_issue(
        "campaign_supplier_order", campaign, f"supplier:{supplier.id}",
        f"campaign-{campaign.id}-supplier-{supplier.id}.pdf",
        lambda: render_pdf("documents/campaign_supplier_order.html", campaign=campaign, supplier=supplier,
                           issued_on=utcnow(), **consolidated),
        current_user, owner=campaign.coordinator, recipient=supplier)
    db.session.commit()
    return archive.response(document)
