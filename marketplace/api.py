"""The marketplace on the JSON API: the catalogue, group orders (campaigns) and the members' needs, orders.

Routes live on core.api's blueprint (under /api/v1, bearer token already checked). Each one parses the
request, asks core.permissions through `require`, calls the marketplace services, commits once and
answers; the rules stay in the services. Amounts are decimals written as strings ("1234.50").
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import g, jsonify, request
from sqlalchemy import and_, or_, select

from core.api import bp, paginated, require
from core.errors import RuleViolation, api_error
from core.extensions import db
from core.models import Organisation, Role, Site, ValidationStatus, utcnow
from marketplace import money
from marketplace.models import (Campaign, CampaignLine, CampaignStatus, CatalogueOffer, Order, OrderLine,
                                OrderStatus, Participation)
from marketplace.services import campaigns as campaign_service
from reuse.models import DeviceCategory


# --- answers -----------------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _amount(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _organisation_ref(organisation: Organisation) -> dict:
    return {"id": organisation.id, "name": organisation.name}


def _site_json(site: Site | None) -> dict | None:
    if site is None:
        return None
    return {"id": site.id, "name": site.name, "address": site.address, "postcode": site.postcode,
            "city": site.city}


def catalogue_offer_json(offer: CatalogueOffer) -> dict:
    supplier = offer.supplier
    return {
        "id": offer.id,
        "supplier": {"id": supplier.id, "name": supplier.name, "locality": supplier.locality.value,
                     "is_sme": supplier.is_sme, "is_ess": supplier.is_ess, "is_ea_esat": supplier.is_ea_esat,
                     "is_siae": supplier.is_siae},
        "category": offer.category.value,
        "cpv": offer.cpv,
        "brand": offer.brand,
        "model": offer.model,
        "specifications": offer.specifications,
        "cpu": offer.cpu,
        "ram_gb": offer.ram_gb,
        "storage_gb": offer.storage_gb,
        "screen_inches": _amount(offer.screen_inches),
        "is_reconditioned": offer.is_reconditioned,
        "grade": offer.grade.value if offer.grade else None,
        "battery_health_pct": offer.battery_health_pct,
        "warranty_months": offer.warranty_months,
        "unit_price": _amount(offer.unit_price),
        "vat_rate": _amount(offer.vat_rate),
        "tiers": [{"min_quantity": tier.min_quantity, "unit_price": _amount(tier.unit_price)}
                  for tier in offer.tiers],
        "stock": offer.stock,
        "lead_time_days": offer.lead_time_days,
        "reconditioning_postcode": offer.reconditioning_postcode,
        "reconditioning_city": offer.reconditioning_city,
        "labels": list(offer.labels or []),
        "repairability_index": _amount(offer.repairability_index),
        "spare_parts_years": offer.spare_parts_years,
        "kgco2e_avoided": _amount(offer.kgco2e_avoided),
        "active": offer.active,
    }


def participation_json(participation: Participation) -> dict:
    return {"id": participation.id, "line_id": participation.line_id,
            "organisation_id": participation.organisation_id, "site": _site_json(participation.site),
            "quantity": participation.quantity, "updated_at": _iso(participation.updated_at)}


def campaign_line_json(line: CampaignLine, mine: list[Participation]) -> dict:
    progress = campaign_service.progress(line)
    offer = progress["offer"]
    tier = progress["next_tier"]
    return {
        "id": line.id,
        "title": line.title,
        "specification": line.specification,
        "category": line.category.value,
        "status": line.status.value,
        "to_be_tendered": line.to_be_tendered,
        "min_total_quantity": line.min_total_quantity,
        "total_quantity": progress["total"],
        "minimum_reached": progress["reached"],
        "offer": ({"id": offer.id, "name": str(offer), "supplier": _organisation_ref(offer.supplier)}
                  if offer is not None else None),
        "eligible_offer_ids": [eligible.id for eligible in line.eligible_offers],
        "unit_price": _amount(progress["unit_price"]),
        "next_tier": ({"min_quantity": tier.min_quantity, "unit_price": _amount(tier.unit_price),
                       "missing_quantity": progress["to_next_tier"]} if tier is not None else None),
        "my_participations": [participation_json(participation) for participation in mine],
    }


def campaign_json(campaign: Campaign, with_lines: bool = False) -> dict:
    answer = {
        "id": campaign.id,
        "title": campaign.title,
        "description": campaign.description,
        "coordinator": _organisation_ref(campaign.coordinator),
        "deadline": _iso(campaign.deadline),
        "status": campaign.status.value,
        "frozen_at": _iso(campaign.frozen_at),
        "line_count": len(campaign.lines),
    }
    if with_lines:
        mine = campaign_service.my_participations(g.api_user, campaign)
        answer["lines"] = [campaign_line_json(line, mine.get(line.id, [])) for line in campaign.lines]
    return answer


def _totals_json(totals: money.Totals) -> dict:
    return {"net": _amount(totals.net), "vat": _amount(totals.vat), "gross": _amount(totals.gross),
            "vat_by_rate": [{"rate": _amount(rate), "vat": _amount(vat)} for rate, vat in totals.vat_by_rate.items()]}


def _order_line_json(line: OrderLine) -> dict:
    amounts = money.line_amounts(line.quantity, line.unit_price, line.vat_rate)
    return {"id": line.id, "offer_id": line.offer_id, "description": line.description,
            "category": line.category.value, "cpv": line.cpv, "quantity": line.quantity,
            "unit_price": _amount(line.unit_price), "vat_rate": _amount(line.vat_rate),
            "net": _amount(amounts.net), "vat": _amount(amounts.vat), "gross": _amount(amounts.gross),
            "is_reconditioned": line.is_reconditioned, "is_reused": line.is_reused,
            "site": _site_json(line.site), "shipped_at": _iso(line.shipped_at),
            "delivered_at": _iso(line.delivered_at)}


def order_json(order: Order) -> dict:
    return {
        "id": order.id,
        "reference": order.reference,
        "status": order.status.value,
        "buyer": _organisation_ref(order.buyer),
        "supplier": _organisation_ref(order.supplier),
        "campaign": {"id": order.campaign.id, "title": order.campaign.title} if order.campaign else None,
        "payment_method": order.payment_method.value,
        "payment_status": order.payment_status.value,
        "budget_line": order.budget_line,
        "created_at": _iso(order.created_at),
        "confirmed_at": _iso(order.confirmed_at),
        "cancelled_at": _iso(order.cancelled_at),
        "lines": [_order_line_json(line) for line in order.lines],
        "totals": _totals_json(money.totals(order.lines)),
    }


def _unknown_filter(name: str, allowed: list[str]):
    return api_error(400, "bad_request", f"Unknown {name} {request.args.get(name)!r}.", {name: allowed})


# --- catalogue ---------------------------------------------------------------------------------------

def _visible_offers_query():
    """What core.permissions' catalogue.view lets the caller see, as one query."""
    user = g.api_user
    query = select(CatalogueOffer)
    if user.role is not Role.ADMIN:
        on_sale = and_(CatalogueOffer.active.is_(True), CatalogueOffer.stock > 0,
                       CatalogueOffer.supplier.has(Organisation.validation_status == ValidationStatus.VALIDATED))
        query = query.where(or_(on_sale, CatalogueOffer.supplier_id == user.organisation_id))
    return query


@bp.get("/catalogue")
def catalogue():
    require("catalogue.browse")
    query = _visible_offers_query()
    category = request.args.get("category")
    if category:
        allowed = [member.value for member in DeviceCategory]
        if category not in allowed:
            return _unknown_filter("category", allowed)
        query = query.where(CatalogueOffer.category == DeviceCategory(category))
    max_price = request.args.get("max_price")
    if max_price:
        try:
            ceiling = Decimal(max_price)
            if not ceiling.is_finite() or ceiling < 0:
                raise InvalidOperation
        except InvalidOperation:
            return api_error(400, "bad_request", f"max_price must be a positive decimal, not {max_price!r}.",
                             {"max_price": "A decimal such as 350 or 349.90."})
        query = query.where(CatalogueOffer.unit_price <= ceiling)
    return jsonify(paginated(query.order_by(CatalogueOffer.unit_price, CatalogueOffer.id), catalogue_offer_json))


@bp.get("/catalogue/<int:offer_id>")
def catalogue_offer(offer_id: int):
    offer = db.get_or_404(CatalogueOffer, offer_id)
    require("catalogue.view", offer)
    return jsonify(catalogue_offer_json(offer))


# --- campaigns ---------------------------------------------------------------------------------------

@bp.get("/campaigns")
def campaigns():
    require("campaign.list")

    def frozen_if_due(campaign: Campaign) -> dict:
        campaign_service.freeze_if_due(campaign)  # a campaign past its deadline is answered frozen
        return campaign_json(campaign)

    answer = paginated(campaign_service.visible_campaigns(g.api_user), frozen_if_due)
    db.session.commit()
    return jsonify(answer)


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    require("campaign.view", campaign)
    return campaign


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    campaign_service.freeze_if_due(campaign)
    db.session.commit()
    return jsonify(campaign_json(campaign, with_lines=True))


def _integer(payload: dict, name: str, minimum: int) -> tuple[int | None, str | None]:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "Required, an integer."
    if value < minimum:
        return None, f"At least {minimum}."
    return value, None


@bp.put("/campaigns/<int:campaign_id>/lines/<int:line_id>/participations")
def set_participation(campaign_id: int, line_id: int):
    """The caller's need on a line for one of its sites: the quantity replaces the previous one, 0
    withdraws it."""
    campaign = _campaign_or_404(campaign_id)
    line = db.get_or_404(CampaignLine, line_id)
    if line.campaign_id != campaign.id:
        return api_error(404, "not_found", "No such line in this campaign.")
    require("campaign.join", campaign)
    payload = request.get_json(silent=True) if request.get_data() else None
    if not isinstance(payload, dict):
        return api_error(400, "bad_request", "The body must be a JSON object (Content-Type: application/json).")
    errors = {key: "Unknown field." for key in payload if key not in ("site_id", "quantity")}
    site_id, error = _integer(payload, "site_id", 1)
    if error:
        errors["site_id"] = error
    quantity, error = _integer(payload, "quantity", 0)
    if error:
        errors["quantity"] = error
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site_id is not None and (site is None or site.organisation_id != g.api_user.organisation_id):
        errors["site_id"] = "Not a site of your organisation."
    if errors:
        return api_error(422, "validation_error", "Some fields are not valid.", errors)
    try:
        participation = campaign_service.set_participation(g.api_user, line, site, quantity)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        campaign = db.session.get(Campaign, campaign_id)
        frozen = campaign.status is not CampaignStatus.OPEN or campaign.deadline <= utcnow()
        return api_error(409, "census_frozen" if frozen else "conflict", str(error))
    mine = campaign_service.my_participations(g.api_user, campaign)
    return jsonify({"participation": participation_json(participation) if participation is not None else None,
                    "line": campaign_line_json(line, mine.get(line.id, []))})


# --- orders ------------------------------------------------------------------------------------------

@bp.get("/orders")
def orders():
    require("order.list")
    organisation_id = g.api_user.organisation_id
    placed = Order.buyer_id == organisation_id
    received = Order.supplier_id == organisation_id
    sides = {"placed": placed, "received": received, None: or_(placed, received)}
    side = request.args.get("side") or None
    if side not in sides:
        return _unknown_filter("side", ["placed", "received"])
    query = select(Order).where(sides[side])
    status = request.args.get("status")
    if status:
        allowed = [member.value for member in OrderStatus]
        if status not in allowed:
            return _unknown_filter("status", allowed)
        query = query.where(Order.status == OrderStatus(status))
    return jsonify(paginated(query.order_by(Order.id.desc()), order_json))


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    order = db.get_or_404(Order, order_id)
    require("order.view", order)
    return jsonify(order_json(order))
