"""The reuse circuit on the JSON API: inventory, bulk import, offers and requests.

Routes live on core.api's blueprint (under /api/v1, bearer token already checked). Each one parses the
request, asks core.permissions through `require`, calls reuse.services, commits once and answers; the
rules stay in the services.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import fields
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import g, jsonify, request
from sqlalchemy import or_, select

from core.api import bp, page_args, paginated, require
from core.errors import RuleViolation, api_error
from core.extensions import db
from reuse import imports, services
from reuse.models import (
    Condition,
    Device,
    DeviceCategory,
    DeviceStatus,
    Offer,
    OfferStatus,
    ReuseRequest,
    StorageType,
)


class Invalid(ValueError):
    """One field of a request body cannot be read; the message goes into the error details."""


# --- reading request bodies ----------------------------------------------------------------------

def _text(max_length: int, nullable: bool = False):
    def parse(value):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise Invalid("Must be a string" + (" or null." if nullable else "."))
        if len(value) > max_length:
            raise Invalid(f"At most {max_length} characters.")
        return value
    return parse


def _choice(enum_type, nullable: bool = False):
    def parse(value):
        if value is None and nullable:
            return None
        try:
            return enum_type(value)
        except ValueError:
            raise Invalid("One of: " + ", ".join(member.value for member in enum_type) + ".") from None
    return parse


def _integer(minimum: int = 0, maximum: int | None = None, nullable: bool = True):
    def parse(value):
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("Must be an integer.")
        if value < minimum or (maximum is not None and value > maximum):
            raise Invalid(f"Must be between {minimum} and {maximum}." if maximum is not None
                          else f"Must be at least {minimum}.")
        return value
    return parse


def _decimal(digits: int, places: int):
    """A number sent as a JSON number or a string, kept as Decimal, within its Numeric(digits, places)."""
    def parse(value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Invalid("Must be a number or a numeric string.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid("Must be a number or a numeric string.") from None
        if not number.is_finite():
            raise Invalid("Must be a finite number.")
        if number.as_tuple().exponent < -places:
            raise Invalid(f"At most {places} decimal place(s).")
        if abs(number) >= Decimal(10) ** (digits - places):
            raise Invalid(f"Must be less than {10 ** (digits - places)}.")
        return number
    return parse


def _date(value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("Must be an ISO date (YYYY-MM-DD).")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("Must be an ISO date (YYYY-MM-DD).") from None


def _boolean(value):
    if value is None or isinstance(value, bool):
        return value
    raise Invalid("Must be true or false.")


# The writable fields of a device: those of services.DeviceData, with the limits of reuse.forms.
DEVICE_FIELDS = {
    "category": _choice(DeviceCategory),
    "brand": _text(100),
    "model": _text(150),
    "serial_number": _text(100, nullable=True),
    "asset_number": _text(100, nullable=True),
    "purchase_date": _date,
    "purchase_price": _decimal(12, 2),
    "cpu": _text(150),
    "ram_gb": _integer(0, 4096),
    "storage_type": _choice(StorageType),
    "storage_gb": _integer(0),
    "screen_inches": _decimal(4, 1),
    "condition": _choice(Condition, nullable=True),
    "weight_kg": _decimal(8, 2),
    "has_storage_media": _boolean,
    "site_id": _integer(1),
    "notes": _text(4000),
}
STATUS_NOT_WRITABLE = ("The status changes only through the lifecycle operations (reform, offer, hand over, "
                       "send for reconditioning, sell, recycle), never by editing the device.")


def _device_values(payload: dict) -> tuple[dict, dict]:
    """The fields present in `payload`, read into their Python types, and the errors by field."""
    values, errors = {}, {}
    for key, raw in payload.items():
        if key == "status":
            errors[key] = STATUS_NOT_WRITABLE
        elif key not in DEVICE_FIELDS:
            errors[key] = "Unknown field."
        else:
            try:
                values[key] = DEVICE_FIELDS[key](raw)
            except Invalid as error:
                errors[key] = str(error)
    return values, errors


def _missing_for_a_new_device(values: dict, errors: dict) -> dict:
    return {"category": "Required."} if "category" not in values and "category" not in errors else {}


def _merged_device_data(device: Device, values: dict) -> services.DeviceData:
    """A partial update: the given fields over the device's current values."""
    current = {f.name: getattr(device, f.name) for f in fields(services.DeviceData)}
    return services.DeviceData(**(current | values))


def _json_body(default=None):
    """The parsed JSON body, `default` when there is none, or None when it is not JSON."""
    if not request.get_data():
        return default
    return request.get_json(silent=True)


def _bad_body(expected: str):
    return api_error(400, "bad_request", f"The body must be {expected} (Content-Type: application/json).")


def _invalid(details: dict, message: str = "Some fields are not valid."):
    return api_error(422, "validation_error", message, details)


def _refused(error: RuleViolation, status: int = 422, code: str = "rule_violation"):
    db.session.rollback()
    return api_error(status, code, str(error))


def _reason(errors: dict) -> str:
    return "; ".join(f"{field}: {reason}" for field, reason in errors.items())


# --- answers ---------------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _decimal_text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def device_json(device: Device) -> dict:
    return {
        "id": device.id,
        "organisation_id": device.organisation_id,
        "site_id": device.site_id,
        "category": device.category.value,
        "brand": device.brand,
        "model": device.model,
        "serial_number": device.serial_number,
        "asset_number": device.asset_number,
        "purchase_date": _iso(device.purchase_date),
        "purchase_price": _decimal_text(device.purchase_price),
        "cpu": device.cpu,
        "ram_gb": device.ram_gb,
        "storage_type": device.storage_type.value,
        "storage_gb": device.storage_gb,
        "screen_inches": _decimal_text(device.screen_inches),
        "condition": device.condition.value if device.condition else None,
        "weight_kg": _decimal_text(device.weight_kg),
        "has_storage_media": device.has_storage_media,
        "notes": device.notes,
        "status": device.status.value,
        "reformed_on": _iso(device.reformed_on),
        "left_on": _iso(device.left_on),
        "offer_id": device.offer_id,
        "request_id": device.request_id,
        "is_sanitised": device.is_sanitised,
        "created_at": _iso(device.created_at),
    }


def _eligibility_json(offer: Offer) -> dict | None:
    organisation = g.api_user.organisation
    if offer.organisation_id == organisation.id:
        return None  # one's own offer: there is nothing to receive
    check = services.eligibility(offer, organisation)
    return {"route": check["route"], "basis": services.basis(check), "eligible": check["eligible"],
            "cap": check["cap"], "highest_unit_value": check["highest_unit_value"],
            "reasons": [{"code": code, "message": services.ELIGIBILITY_REASONS[code]()}
                        for code in check["reasons"]]}


def offer_json(offer: Offer) -> dict:
    return {
        "id": offer.id,
        "title": offer.title,
        "description": offer.description,
        "category": offer.category.value,
        "quantity": offer.quantity,
        "available": offer.available,
        "status": offer.status.value,
        "published_at": _iso(offer.published_at),
        "organisation": {"id": offer.organisation_id, "name": offer.organisation.name},
        "site": ({"postcode": offer.site.postcode, "city": offer.site.city} if offer.site else None),
        "eligibility": _eligibility_json(offer),
    }


def request_json(reuse_request: ReuseRequest) -> dict:
    offer = reuse_request.offer
    return {
        "id": reuse_request.id,
        "offer": {"id": offer.id, "title": offer.title,
                  "organisation": {"id": offer.organisation_id, "name": offer.organisation.name}},
        "organisation": {"id": reuse_request.organisation_id, "name": reuse_request.organisation.name},
        "quantity": reuse_request.quantity,
        "purpose": reuse_request.purpose,
        "status": reuse_request.status.value,
        "eligibility": {**reuse_request.eligibility, "basis": services.basis(reuse_request.eligibility)},
        "refusal_reason": reuse_request.refusal_reason,
        "collect_by": _iso(reuse_request.collect_by),
        "decided_at": _iso(reuse_request.decided_at),
        "handed_over_at": _iso(reuse_request.handed_over_at),
        "received_at": _iso(reuse_request.received_at),
        "agreement_reference": reuse_request.agreement_reference,
        "created_at": _iso(reuse_request.created_at),
    }


def _unknown_filter(name: str, allowed: list[str]):
    return api_error(400, "bad_request", f"Unknown {name} {request.args.get(name)!r}.", {name: allowed})


# --- devices ---------------------------------------------------------------------------------------

@bp.get("/devices")
def devices():
    organisation = g.api_user.organisation
    require("device.list", organisation)
    query = select(Device).where(Device.organisation_id == organisation.id).order_by(Device.id)
    for name, enum_type, column in (("status", DeviceStatus, Device.status),
                                    ("category", DeviceCategory, Device.category)):
        value = request.args.get(name)
        if not value:
            continue
        allowed = [member.value for member in enum_type]
        if value not in allowed:
            return _unknown_filter(name, allowed)
        query = query.where(column == enum_type(value))
    return jsonify(paginated(query, device_json))


@bp.post("/devices")
def create_device():
    organisation = g.api_user.organisation
    require("device.create", organisation)
    payload = _json_body()
    if not isinstance(payload, dict):
        return _bad_body("a JSON object")
    values, errors = _device_values(payload)
    errors |= _missing_for_a_new_device(values, errors)
    if errors:
        return _invalid(errors)
    try:
        device = services.create_device(g.api_user, organisation, services.DeviceData(**values))
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(device_json(device)), 201


@bp.get("/devices/<int:device_id>")
def device(device_id: int):
    device = db.get_or_404(Device, device_id)
    require("device.view", device)
    return jsonify(device_json(device))


@bp.patch("/devices/<int:device_id>")
def update_device(device_id: int):
    device = db.get_or_404(Device, device_id)
    require("device.edit", device)
    payload = _json_body()
    if not isinstance(payload, dict):
        return _bad_body("a JSON object")
    values, errors = _device_values(payload)
    if errors:
        return _invalid(errors)
    try:
        services.update_device(g.api_user, device, _merged_device_data(device, values))
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(device_json(device))


def _existing_device(organisation_id: int, values: dict) -> Device | None:
    """The device a re-imported line describes: same serial number, else same asset number."""
    for name in ("serial_number", "asset_number"):
        value = (values.get(name) or "").strip()
        if value:
            found = db.session.scalar(select(Device).where(Device.organisation_id == organisation_id,
                                                           getattr(Device, name) == value))
            if found is not None:
                return found
    return None


def _import_json(organisation, items: list) -> dict:
    summary = {"read": len(items), "created": 0, "updated": 0, "rejected": []}
    for line, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            summary["rejected"].append({"line": line, "reason": "Not a JSON object."})
            continue
        values, errors = _device_values(item)
        existing = None if errors else _existing_device(organisation.id, values)
        if existing is None:
            errors |= _missing_for_a_new_device(values, errors)
        if errors:
            summary["rejected"].append({"line": line, "reason": _reason(errors)})
            continue
        # The services check every rule before changing anything, so a refused line leaves the
        # session as it was and the other lines still go in.
        try:
            if existing is not None:
                services.update_device(g.api_user, existing, _merged_device_data(existing, values))
                summary["updated"] += 1
            else:
                services.create_device(g.api_user, organisation, services.DeviceData(**values))
                summary["created"] += 1
        except RuleViolation as error:
            summary["rejected"].append({"line": line, "reason": str(error)})
    return summary


def _import_csv(organisation):
    """The CSV import of the web page (reuse.imports), on the request body: Circuit's template, a GLPI
    or a Snipe-IT export; `?category=` gives the category when the file has no such column."""
    category = request.args.get("category")
    allowed = [member.value for member in DeviceCategory]
    if category and category not in allowed:
        return _unknown_filter("category", allowed)
    # reuse.imports reads a file twice (encoding detection, then rows): the body goes to a temporary
    # file, copied in chunks so a large inventory never sits in memory.
    with tempfile.TemporaryDirectory(prefix="circuit-import-") as folder:
        path = Path(folder) / "devices.csv"
        with path.open("wb") as file:
            shutil.copyfileobj(request.stream, file)
        try:
            summary = imports.import_devices(g.api_user, organisation, path,
                                             DeviceCategory(category) if category else None)
        except RuleViolation as error:
            return _refused(error)
    db.session.commit()
    return jsonify(summary.as_json())


@bp.post("/devices/import")
def import_devices():
    organisation = g.api_user.organisation
    require("device.create", organisation)
    if request.mimetype == "text/csv":
        return _import_csv(organisation)
    if request.mimetype != "application/json":
        return api_error(415, "unsupported_media_type",
                         "Send a JSON array of devices (application/json) or a CSV file (text/csv).")
    items = _json_body()
    if not isinstance(items, list):
        return _bad_body("a JSON array of devices")
    summary = _import_json(organisation, items)
    db.session.commit()
    return jsonify(summary)


# --- offers and requests ---------------------------------------------------------------------------

@bp.get("/offers")
def offers():
    require("offer.browse")
    visible = services.visible_offers(g.api_user)
    page, per_page = page_args()
    shown = visible[(page - 1) * per_page:page * per_page]
    return jsonify({"items": [offer_json(offer) for offer in shown], "page": page, "per_page": per_page,
                    "total": len(visible)})


@bp.post("/offers/<int:offer_id>/requests")
def request_offer(offer_id: int):
    offer = db.get_or_404(Offer, offer_id)
    require("offer.view", offer)
    payload = _json_body()
    if not isinstance(payload, dict):
        return _bad_body("a JSON object")
    errors = {}
    quantity = payload.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        errors["quantity"] = "Required, an integer."
    purpose = payload.get("purpose")
    if not isinstance(purpose, str):
        errors["purpose"] = "Required, a string."
    elif len(purpose) > 2000:
        errors["purpose"] = "At most 2000 characters."
    errors |= {key: "Unknown field." for key in payload if key not in ("quantity", "purpose")}
    if errors:
        return _invalid(errors)
    try:
        reuse_request = services.request_offer(g.api_user, offer, quantity, purpose)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        offer = db.session.get(Offer, offer_id)
        # Someone else holds the units (or the offer closed): the state of the offer is in the way.
        if offer.status is not OfferStatus.OPEN or offer.available < quantity:
            return _refused(error, 409, "conflict")
        return _refused(error)
    return jsonify(request_json(reuse_request)), 201


@bp.get("/requests")
def requests():
    # No rule lists requests as such: taking part in the reuse circuit (offer.browse) opens the list,
    # and each request listed is one the caller's organisation is a party to (request.view).
    require("offer.browse")
    organisation_id = g.api_user.organisation_id
    made = ReuseRequest.organisation_id == organisation_id
    received = ReuseRequest.offer.has(Offer.organisation_id == organisation_id)
    sides = {"made": made, "received": received, None: or_(made, received)}
    side = request.args.get("side") or None
    if side not in sides:
        return _unknown_filter("side", ["made", "received"])
    query = select(ReuseRequest).where(sides[side]).order_by(ReuseRequest.id.desc())
    return jsonify(paginated(query, request_json))


def _decision_target(request_id: int) -> ReuseRequest:
    reuse_request = db.get_or_404(ReuseRequest, request_id)
    require("request.view", reuse_request)
    return reuse_request


@bp.post("/requests/<int:request_id>/approve")
def approve_request(request_id: int):
    reuse_request = _decision_target(request_id)
    payload = _json_body(default={})
    if not isinstance(payload, dict):
        return _bad_body("a JSON object or empty")
    errors = {key: "Unknown field." for key in payload if key != "collect_by"}
    try:
        collect_by = _date(payload.get("collect_by"))
    except Invalid as error:
        errors["collect_by"] = str(error)
    if errors:
        return _invalid(errors)
    try:
        services.approve_request(g.api_user, reuse_request, collect_by)
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(request_json(reuse_request))


@bp.post("/requests/<int:request_id>/refuse")
def refuse_request(request_id: int):
    reuse_request = _decision_target(request_id)
    payload = _json_body()
    if not isinstance(payload, dict):
        return _bad_body("a JSON object")
    errors = {key: "Unknown field." for key in payload if key != "reason"}
    reason = payload.get("reason")
    if not isinstance(reason, str):
        errors["reason"] = "Required, a string."
    elif len(reason) > 2000:
        errors["reason"] = "At most 2000 characters."
    if errors:
        return _invalid(errors)
    try:
        services.refuse_request(g.api_user, reuse_request, reason)
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(request_json(reuse_request))
