"""Every change to devices, offers and requests: check the permission and the rule, change, record.

Services never commit; the caller commits once. Units of an offer are taken and given back only by
`_take_units` / `_return_units`, single conditional UPDATEs, so that concurrent requests for the last
unit cannot both succeed (on PostgreSQL and on SQLite alike).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from core import audit, bulk, permissions, search
from core.errors import RuleViolation
from core.extensions import db
from core.i18n import money
from core.models import BeneficiaryCategory, Organisation, OrganisationKind, Role, Site, User, utcnow
from reuse import cascade, gains
from reuse.models import (
    DATA_BEARING_CATEGORIES,
    HOLDING_STATUSES,
    TRANSITIONS,
    Condition,
    Destination,
    Device,
    DeviceCategory,
    DevicePhoto,
    DeviceStatus,
    Offer,
    OfferStatus,
    RecyclingRecord,
    RequestStatus,
    ReuseRequest,
    SanitisationRecord,
    SanitisationType,
    StorageType,
)

PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def today() -> date:
    return utcnow().date()


def _reference(prefix: str) -> str:
    # Unguessable: the reference alone lets its holder open the public verification page.
    return f"{prefix}-{today().year}-{secrets.token_hex(5).upper()}"


# --- devices -----------------------------------------------------------------------------------

@dataclass
class DeviceData:
    category: DeviceCategory
    brand: str = ""
    model: str = ""
    serial_number: str | None = None
    asset_number: str | None = None
    purchase_date: date | None = None
    purchase_price: Decimal | None = None
    cpu: str = ""
    ram_gb: int | None = None
    storage_type: StorageType = StorageType.NONE
    storage_gb: int | None = None
    screen_inches: Decimal | None = None
    condition: Condition | None = None
    weight_kg: Decimal | None = None
    has_storage_media: bool | None = None
    site_id: int | None = None
    notes: str = ""

    def cleaned(self) -> DeviceData:
        for name in ("serial_number", "asset_number"):
            value = getattr(self, name)
            setattr(self, name, value.strip() or None if isinstance(value, str) else value)
        if self.weight_kg is None:
            self.weight_kg = self.category.factors.weight_kg
        # Without an answer: a storage type says yes; a category that normally holds data stays unknown
        # (None, which blocks its leaving until someone answers); the others hold none.
        if self.has_storage_media is None:
            if self.storage_type is not StorageType.NONE:
                self.has_storage_media = True
            elif self.category not in DATA_BEARING_CATEGORIES:
                self.has_storage_media = False
        return self


def _check_device(organisation: Organisation, data: DeviceData, existing: Device | None = None,
                  check_identifiers: bool = True) -> None:
    if not data.serial_number and not data.asset_number:
        raise RuleViolation(_("Give the serial number or the asset number of the device."))
    if data.purchase_price is not None and data.purchase_price < 0:
        raise RuleViolation(_("The purchase price cannot be negative."))
    if data.purchase_date is not None and data.purchase_date > today():
        raise RuleViolation(_("The purchase date is in the future."))
    if data.weight_kg is not None and data.weight_kg <= 0:
        raise RuleViolation(_("The weight must be positive."))
    if data.site_id is not None:
        site = db.session.get(Site, data.site_id)
        if site is None or site.organisation_id != organisation.id:
            raise RuleViolation(_("This site does not belong to your organisation."))
    if not check_identifiers:
        return
    for name, label in (("serial_number", _("serial number")), ("asset_number", _("asset number"))):
        value = getattr(data, name)
        if value:
            clash = db.session.scalar(select(Device).where(
                Device.organisation_id == organisation.id, getattr(Device, name) == value))
            if clash is not None and clash is not existing:
                raise RuleViolation(_("Another device of your inventory has the %(field)s %(value)s.",
                                      field=label, value=value))


DEVICE_FIELDS = fields(DeviceData)


def _apply(device: Device, data: DeviceData) -> None:
    for field in DEVICE_FIELDS:
        setattr(device, field.name, getattr(data, field.name))


def check_new_device(actor: User, organisation: Organisation, data: DeviceData, *,
                     identifiers_checked: bool = False) -> DeviceData:
    """The rules every new device obeys, typed in a form, sent to the API or read from a CSV file: its
    data cleaned, or RuleViolation. `identifiers_checked`: the caller (the CSV import, which looks every
    row up) has made sure that no device of the organisation has this serial or asset number."""
    permissions.require(actor, "device.create", organisation)
    data = data.cleaned()
    _check_device(organisation, data, check_identifiers=not identifiers_checked)
    return data


IDENTIFIERS = ("serial_number", "asset_number")


def devices_numbered(organisation_id: int, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    """The organisation's devices with one of the `wanted` serial or asset numbers: for each of the two
    fields, number → device id. Two queries, whatever the number of numbers (an import's batch)."""
    known: dict[str, dict[str, int]] = {name: {} for name in IDENTIFIERS}
    # The numbers are written into the statement (escaped by SQLAlchemy), not bound: psycopg prepares a
    # statement run five times, and PostgreSQL's generic plan for a prepared list of 500 parameters
    # compares every device with each of them (0.3 s a batch at 20,000 devices, growing with each one).
    # A query per field, each read from its unique index: with the two in one (an OR) the databases scan
    # all the organisation's devices, a cost that grows with every batch an import writes.
    # Asked of the table on the session's connection: the ORM's handling of a statement and of its rows
    # doubled the time of a query (an import sends three per batch).
    devices = Device.__table__.c
    for name in IDENTIFIERS:
        if not wanted.get(name):
            continue
        numbers = bindparam(name, sorted(wanted[name]), literal_execute=True)
        found = db.session.connection().execute(select(devices.id, devices.serial_number, devices.asset_number)
                                                .where(devices.organisation_id == organisation_id,
                                                       devices[name].in_(numbers)))
        for device_id, serial_number, asset_number in found:
            for known_name, value in (("serial_number", serial_number), ("asset_number", asset_number)):
                if value in wanted.get(known_name, ()):
                    known[known_name][value] = device_id
    return known


def insert_devices(actor: User, organisation: Organisation, checked: list[DeviceData]) -> list[int]:
    """Write new devices, in service, that `check_new_device` accepted, with their audit entries: a
    statement for the devices and one for the entries, however many (an import of 100,000 rows would
    otherwise spend most of its time in the session's unit of work). Returns their ids, in order."""
    if not checked:
        return []
    rows = [{**vars(data), "organisation_id": organisation.id, "status": DeviceStatus.IN_SERVICE}
            for data in checked]
    # One statement for the table (core.bulk): the ORM's bulk insert groups rows by which fields are
    # empty and sends a statement per group, often per row; RETURNING the ids would make SQLAlchemy write
    # one statement of 10,000 parameters per batch, which psycopg parses in Python. The ids are reserved
    # before (PostgreSQL) or read back by number (SQLite): every device has a serial or an asset number
    # (`_check_device`), unique in its organisation.
    ids = bulk.reserved_ids(Device.__table__, len(rows))
    if ids is not None:
        for row, device_id in zip(rows, ids):
            row["id"] = device_id
    bulk.insert_rows(Device.__table__, rows)
    if ids is None:
        known = devices_numbered(organisation.id, {
            "serial_number": {data.serial_number for data in checked if data.serial_number},
            "asset_number": {data.asset_number for data in checked if not data.serial_number}})
        ids = [known["serial_number"][data.serial_number] if data.serial_number
               else known["asset_number"][data.asset_number] for data in checked]
    audit.record_created(actor, "device", [
        (device_id, organisation.id, Device.label(data.category, data.brand, data.model, data.serial_number,
                                                  data.asset_number, device_id))
        for device_id, data in zip(ids, checked)])
    return ids


def create_device(actor: User, organisation: Organisation, data: DeviceData) -> Device:
    [device_id] = insert_devices(actor, organisation, [check_new_device(actor, organisation, data)])
    return db.session.get(Device, device_id)


def update_device(actor: User, device: Device, data: DeviceData) -> Device:
    permissions.require(actor, "device.edit", device)
    data = data.cleaned()
    _check_device(device.organisation, data, existing=device)
    _apply(device, data)
    return device


def add_photo(actor: User, device: Device, content: bytes) -> DevicePhoto:
    """Keep an image after checking it really is one (JPEG, PNG or WebP) and is not too large."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    permissions.require(actor, "device.edit", device)
    if len(content) > current_app.config["MAX_PHOTO_BYTES"]:
        raise RuleViolation(_("The photo is larger than %(mb)d MB.",
                              mb=current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)))
    try:
        with Image.open(BytesIO(content)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise RuleViolation(_("The file is not an image (JPEG, PNG or WebP).")) from None
    if kind not in PHOTO_TYPES:
        raise RuleViolation(_("The file is not an image (JPEG, PNG or WebP)."))
    photo = DevicePhoto(device=device, content_type=PHOTO_TYPES[kind], data=content)
    db.session.add(photo)
    return photo


def _move(actor: User, device: Device, target: DeviceStatus, **details) -> None:
    """The one place a device changes status: only along TRANSITIONS, always audited."""
    if target not in TRANSITIONS[device.status]:
        raise RuleViolation(_("%(device)s is “%(status)s”: it cannot become “%(target)s”.",
                              device=str(device), status=device.status.label, target=target.label))
    before = device.status
    device.status = target
    audit.record(actor, "device.status_changed", device, status=[before.value, target.value], **details)


def status_counts(organisation_id: int) -> dict[DeviceStatus, int]:
    """How many devices of an organisation are in each status (inventory page and dashboard)."""
    return dict(db.session.execute(select(Device.status, func.count())
                                   .where(Device.organisation_id == organisation_id).group_by(Device.status)).all())


def is_too_old_for_reuse(device: Device, on: date | None = None) -> bool:
    """Décret 2023-266: equipment more than 10 years old goes to recycling (reuse.gains.is_over_max_age)."""
    return gains.is_over_max_age(device.purchase_date, on or today())


def cleared_to_leave(device: Device) -> bool:
    """Whether the device's data lets it leave its owner (handed over, sold, reconditioned, recycled): it
    is recorded as holding no storage media, or its data sanitisation is recorded (NIST SP 800-88). Unknown
    (None) counts as holding media: nobody may assume a disk is absent."""
    return device.has_storage_media is False or device.is_sanitised


def _require_sanitised(device: Device) -> None:
    if cleared_to_leave(device):
        return
    if device.has_storage_media is None:
        raise RuleViolation(_("Nobody has recorded whether %(device)s holds storage media: record it on the "
                              "device (edit it), or record its data sanitisation, before it leaves your "
                              "organisation.", device=str(device)))
    raise RuleViolation(_("%(device)s holds storage media: record its data sanitisation before it "
                          "leaves your organisation.", device=str(device)))


def reform(actor: User, device: Device, on: date | None = None) -> None:
    permissions.require(actor, "device.edit", device)
    _move(actor, device, DeviceStatus.REFORMED)
    device.reformed_on = on or today()


# --- offers and the cascade --------------------------------------------------------------------

def create_offer(actor: User, devices: list[Device], title: str, description: str = "",
                 site: Site | None = None) -> Offer:
    """Offer one device or a lot of identical devices (same category) for reuse."""
    if not devices:
        raise RuleViolation(_("Choose at least one device to offer."))
    owner = devices[0].organisation
    permissions.require(actor, "offer.create", owner)
    if len({d.organisation_id for d in devices}) > 1 or len({d.category for d in devices}) > 1:
        raise RuleViolation(_("A lot holds identical devices of one organisation and one category."))
    for device in devices:
        permissions.require(actor, "device.edit", device)
        if is_too_old_for_reuse(device):
            raise RuleViolation(_("%(device)s is more than 10 years old: it goes to recycling, not to an "
                                  "offer (décret 2023-266).", device=str(device)))
    if site is not None and site.organisation_id != owner.id:
        raise RuleViolation(_("This site does not belong to your organisation."))
    offer = Offer(organisation=owner, title=title.strip() or str(devices[0]), description=description,
                  category=devices[0].category, quantity=len(devices), available=len(devices),
                  site=site or devices[0].site, created_by_id=actor.id, published_at=utcnow())
    db.session.add(offer)
    for device in devices:
        _move(actor, device, DeviceStatus.OFFERED)
        device.offer = offer
        device.refurbisher_id = None
    return offer


def withdraw_offer(actor: User, offer: Offer) -> None:
    permissions.require(actor, "offer.manage", offer)
    if any(r.status in HOLDING_STATUSES for r in offer.requests):
        raise RuleViolation(_("Answer the pending and approved requests before withdrawing the offer."))
    offer.status = OfferStatus.WITHDRAWN
    for device in offer.devices:
        if device.status is DeviceStatus.OFFERED:
            _move(actor, device, DeviceStatus.REFORMED)
            device.offer = None


def _open_offers_seen_by(user: User, now: datetime, matching=None):
    """A select of the open offers with units left that the user's organisation sees now (the cascade in
    SQL), their owner and site loaded with them; only those meeting `matching` (a text filter's SQL
    condition) when given."""
    query = (select(Offer).where(Offer.status == OfferStatus.OPEN, Offer.available > 0)
             .options(joinedload(Offer.organisation), joinedload(Offer.site)))
    if user.role is not Role.ADMIN:  # an administrator sees every offer (core.permissions._may_see_offer)
        query = query.where(cascade.seen_condition(user.organisation, now))
    if matching is not None:
        query = query.where(matching)
    return query.order_by(Offer.published_at.desc(), Offer.id.desc())


def visible_offers(user: User, now: datetime | None = None, matching=None,
                   with_devices: bool = False) -> list[Offer]:
    """Open offers with units left that the user's organisation sees at this point of the cascade; only
    those meeting `matching` when given; with their devices when asked (eligibility)."""
    query = _open_offers_seen_by(user, now or utcnow(), matching)
    if with_devices:
        query = query.options(selectinload(Offer.devices))
    # The permission rule stays the judge of each offer; the SQL condition only spares it the others.
    return [offer for offer in db.session.scalars(query) if permissions.may(user, "offer.view", offer)]


def offers_to_request(user: User, matching=None, with_devices: bool = False) -> list[Offer]:
    """The offers of other organisations the user may see now: what it can ask for."""
    return [offer for offer in visible_offers(user, matching=matching, with_devices=with_devices)
            if offer.organisation_id != user.organisation_id]


def offers_to_request_query(user: User, matching=None, now: datetime | None = None):
    """offers_to_request as one select, for the lists that count and paginate."""
    return _open_offers_seen_by(user, now or utcnow(), matching).where(
        Offer.organisation_id != user.organisation_id)


def offers_to_request_matching(user: User, text: str):
    """offers_to_request_query narrowed to those matching `text`, and whether the search index answered
    (False: it was unavailable and the text was matched in SQL)."""
    if not text:
        return offers_to_request_query(user), True
    matching, text_from_index = search.text_condition(user, "device_offer", text)
    return offers_to_request_query(user, matching), text_from_index


def net_book_value(device: Device, on: date) -> Decimal | None:
    """Purchase price depreciated linearly over DEPRECIATION_YEARS from the purchase date. A device that
    old or older is worth 0 whatever its price, known or not; a younger one whose price is unknown has no
    value that can be established (None). Without a purchase date, a device counts at its full price."""
    years = Decimal(current_app.config["DEPRECIATION_YEARS"])
    age = device.age_years(on)
    age = Decimal(str(age)) if age is not None else None
    if age is not None and age >= years:
        return Decimal("0.00")
    if device.purchase_price is None:
        return None
    remaining = max(Decimal(0), Decimal(1) - (age or 0) / years)
    return (device.purchase_price * remaining).quantize(Decimal("0.01"), ROUND_HALF_UP)


# How a request's units go to the requester (ReuseRequest.eligibility["route"]).
PUBLIC_TRANSFER = "public_transfer"  # free of charge, between public bodies, every unit under the cap
DONATION = "donation"  # free of charge, to a beneficiary, every unit under the cap
PAID_TRANSFER = "paid_transfer"  # to a public body, a unit above the cap: each at its net book value


def donation_cap() -> Decimal:
    return Decimal(current_app.config["DONATION_CAP_EUR"])


def is_above_cap(value: Decimal) -> bool:
    """Whether a unit worth `value` (net book value) is too valuable to be given free of charge.

    CGPPP art. L.3212-2 lists the free cessions of movable goods a public body may make, and art. L.3212-3
    applies it to local authorities, their groupings and their public establishments. Décret 2022-791
    (6 May 2022) set the unit value at €300 in every case of L.3212-2 that applies to them: art. D.3212-3
    (IT equipment to parents', school-support, student and public-utility associations and ESUS reuse
    structures, 3°), D.3212-3-1 (4°) and D.3212-5 (7°, 9°, 10° and 11°); a free transfer to another
    public body is capped too. Reading taken, as an auditor of the préfecture would: the unit value is
    the net book value on the day (`net_book_value`); a unit worth exactly the cap may be given, one cent
    more may not. A unit whose value cannot be established may not be given at all (see `eligibility`)."""
    return value > donation_cap()


def is_public_body(organisation: Organisation) -> bool:
    """A public person: the EPT, a commune, a syndicate, or a beneficiary registered as a public body (a
    school, a CCAS, a library)."""
    return organisation.kind.is_public_buyer or (
        organisation.kind is OrganisationKind.BENEFICIARY
        and organisation.beneficiary_category is BeneficiaryCategory.PUBLIC_BODY)


def eligibility(offer: Offer, organisation: Organisation, on: date | None = None) -> dict:
    """Whether `organisation` may receive this offer, by which route, and why not (shown to both sides and
    stored with the request: its route is the basis of the handover and of the agreement).

    Every unit still offered is valued (`net_book_value`) and checked against the cap (`is_above_cap`):
    - a unit whose value cannot be established (no purchase price, not yet fully depreciated) can be
      neither given nor priced: not eligible, whoever asks ("unknown_value");
    - to a public body (`is_public_body`) with every unit under the cap: a free transfer ("public_transfer"
      between public buyers, "donation" to a beneficiary registered as a public body, which goes through
      the beneficiaries' stage of the cascade and their checks); with a unit above it, L.3212-2 does not
      apply and the units are transferred for a price ("paid_transfer"), each at its net book value on
      the day of the handover. A school, a CCAS or a library is a public person as a commune is: it may
      buy another public body's equipment from its own budget, so it gets the same route;
    - to any other beneficiary (an association, a reuse structure) under the cap: a donation, if it falls
      under a donation category and the EPT validated it; above the cap, not eligible ("over_cap"): the
      owner may sell the unit instead (`sell`), outside the circuit's requests."""
    on = on or today()
    values = [net_book_value(d, on) for d in offer.devices if d.status is DeviceStatus.OFFERED]
    known = [v for v in values if v is not None]
    highest = max(known) if known else None
    above_cap = highest is not None and is_above_cap(highest)
    public_body = is_public_body(organisation)
    reasons = []
    if not organisation.kind.is_public_buyer:
        if organisation.kind is not OrganisationKind.BENEFICIARY or organisation.beneficiary_category is None:
            reasons.append("not_a_donation_beneficiary")
        if not organisation.is_validated:
            reasons.append("not_validated")
    if len(known) < len(values):
        reasons.append("unknown_value")
    elif above_cap and not public_body:
        reasons.append("over_cap")
    if above_cap and public_body:
        route = PAID_TRANSFER
    else:
        route = PUBLIC_TRANSFER if organisation.kind.is_public_buyer else DONATION
    return {"route": route, "cap": str(donation_cap()),
            "highest_unit_value": str(highest) if highest is not None else None,
            "eligible": not reasons, "reasons": reasons}


ELIGIBILITY_REASONS = {
    "not_a_donation_beneficiary": lambda: _("The organisation does not fall under a donation category."),
    "not_validated": lambda: _("The organisation is not validated by the EPT yet."),
    "unknown_value": lambda: _("A unit's net book value cannot be established: its purchase price is unknown. "
                               "The owner must record the purchase price before the unit can be given or "
                               "transferred."),
    "over_cap": lambda: _("A unit's net book value is above the cap of free transfers (CGPPP art. L.3212-2): "
                          "it cannot be given. The owner may sell it instead."),
}
ROUTE_LABELS = {
    PUBLIC_TRANSFER: lambda: _("Free transfer between public bodies"),
    DONATION: lambda: _("Donation"),
    PAID_TRANSFER: lambda: _("Transfer for a price"),
}


def basis(check: dict) -> str:
    """The legal basis of a route, in the reader's language: what the eligibility box, the owner's view of
    a request, the agreement and the API say. `check` is an `eligibility` result or a request's stored one."""
    cap = money(Decimal(check["cap"]))
    if check["route"] == PAID_TRANSFER:
        return _("Transfer for a price: a unit is worth more than %(cap)s of net book value, and article "
                 "L.3212-2 of the CGPPP does not apply above that cap; each unit is transferred at its net book "
                 "value on the day of the handover.", cap=cap)
    if check["route"] == DONATION:
        return _("Donation under the cap: every unit is worth at most %(cap)s of net book value (CGPPP art. "
                 "L.3212-2, décret 2022-791).", cap=cap)
    return _("Free transfer between public bodies under the cap: every unit is worth at most %(cap)s of net "
             "book value (CGPPP art. L.3212-2, décret 2022-791).", cap=cap)


def _take_units(offer: Offer, quantity: int) -> bool:
    result = db.session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.status == OfferStatus.OPEN,
                            Offer.available >= quantity)
        .values(available=Offer.available - quantity)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(offer, ["available"])
    return result.rowcount == 1


def _return_units(offer: Offer, quantity: int) -> None:
    db.session.execute(update(Offer).where(Offer.id == offer.id)
                       .values(available=Offer.available + quantity)
                       .execution_options(synchronize_session=False))
    db.session.refresh(offer, ["available"])


def request_offer(actor: User, offer: Offer, quantity: int, purpose: str) -> ReuseRequest:
    permissions.require(actor, "offer.request", offer)
    if quantity < 1:
        raise RuleViolation(_("Ask for at least one unit."))
    if not purpose.strip():
        raise RuleViolation(_("Say what the equipment will be used for."))
    check = eligibility(offer, actor.organisation)
    if not check["eligible"]:
        raise RuleViolation(" ".join(ELIGIBILITY_REASONS[r]() for r in check["reasons"]))
    if not _take_units(offer, quantity):
        raise RuleViolation(_("Only %(n)d unit(s) left: another organisation was quicker.", n=offer.available)
                            if offer.available else
                            _("No unit is left: another organisation was quicker."))
    reuse_request = ReuseRequest(offer=offer, organisation=actor.organisation, requested_by_id=actor.id,
                                 quantity=quantity, purpose=purpose.strip(), eligibility=check)
    db.session.add(reuse_request)
    return reuse_request


def approve_request(actor: User, reuse_request: ReuseRequest, collect_by: date | None = None) -> None:
    permissions.require(actor, "request.decide", reuse_request)
    if reuse_request.status is not RequestStatus.PENDING:
        raise RuleViolation(_("Only a request awaiting decision can be approved."))
    collect_by = collect_by or today() + timedelta(days=current_app.config["REUSE_COLLECT_DAYS"])
    if collect_by < today():
        raise RuleViolation(_("The collection date is in the past."))
    free = [d for d in reuse_request.offer.devices if d.status is DeviceStatus.OFFERED][:reuse_request.quantity]
    for device in free:
        _move(actor, device, DeviceStatus.RESERVED)
        device.request = reuse_request
    reuse_request.status = RequestStatus.APPROVED
    reuse_request.decided_by_id = actor.id
    reuse_request.decided_at = utcnow()
    reuse_request.collect_by = collect_by
    audit.record(actor, "reuse.request.approved", reuse_request)


def _release(actor: User | None, reuse_request: ReuseRequest) -> None:
    """Give the request's units back to its offer."""
    for device in list(reuse_request.devices):
        _move(actor, device, DeviceStatus.OFFERED)
        device.request = None
    _return_units(reuse_request.offer, reuse_request.quantity)


def refuse_request(actor: User, reuse_request: ReuseRequest, reason: str) -> None:
    permissions.require(actor, "request.decide", reuse_request)
    if reuse_request.status is not RequestStatus.PENDING:
        raise RuleViolation(_("Only a request awaiting decision can be refused."))
    if not reason.strip():
        raise RuleViolation(_("Say why the request is refused."))
    _release(actor, reuse_request)
    reuse_request.status = RequestStatus.REFUSED
    reuse_request.refusal_reason = reason.strip()
    reuse_request.decided_by_id = actor.id
    reuse_request.decided_at = utcnow()
    audit.record(actor, "reuse.request.refused", reuse_request, reason=reason.strip())


def cancel_request(actor: User, reuse_request: ReuseRequest) -> None:
    permissions.require(actor, "request.cancel", reuse_request)
    if reuse_request.status not in HOLDING_STATUSES:
        raise RuleViolation(_("This request can no longer be cancelled."))
    _release(actor, reuse_request)
    reuse_request.status = RequestStatus.CANCELLED
    audit.record(actor, "reuse.request.cancelled", reuse_request)


def expire_overdue_requests(on: date | None = None) -> int:
    """Approved requests not collected by their date expire; their units return to the offer."""
    on = on or today()
    overdue = db.session.scalars(select(ReuseRequest).where(
        ReuseRequest.status == RequestStatus.APPROVED, ReuseRequest.collect_by < on)).all()
    for reuse_request in overdue:
        _release(None, reuse_request)
        reuse_request.status = RequestStatus.EXPIRED
        audit.record(None, "reuse.request.expired", reuse_request)
    return len(overdue)


def hand_over(actor: User, reuse_request: ReuseRequest) -> None:
    permissions.require(actor, "request.decide", reuse_request)
    if reuse_request.status is not RequestStatus.APPROVED:
        raise RuleViolation(_("Only an approved request can be handed over."))
    for device in reuse_request.devices:
        _require_sanitised(device)
    # The route chosen at the request (`eligibility`) holds; the units are valued again on the day: their
    # purchase price or date may have been corrected since, and a request made before the cap applied to
    # public bodies may hold a unit above it.
    on = today()
    paid = reuse_request.eligibility.get("route") == PAID_TRANSFER
    values = {}
    for device in reuse_request.devices:
        values[device.id] = value = net_book_value(device, on)
        if value is None:
            raise RuleViolation(_("The net book value of %(device)s cannot be established: record its "
                                  "purchase price before the handover.", device=str(device)))
        if not paid and is_above_cap(value):
            raise RuleViolation(_("%(device)s is worth %(value)s today (net book value), above the cap of "
                                  "%(cap)s: it cannot be given free of charge (CGPPP art. L.3212-2). Refuse "
                                  "this request; a public body may ask again, for a transfer for a price.",
                                  device=str(device), value=money(value), cap=money(donation_cap())))
    for device in reuse_request.devices:
        _move(actor, device, DeviceStatus.HANDED_OVER)
        device.left_on = on
        if paid:  # the price of the transfer, which procurement.services.agec counts as bought
            device.sale_price = values[device.id]
    reuse_request.status = RequestStatus.HANDED_OVER
    reuse_request.handed_over_at = utcnow()
    reuse_request.agreement_reference = _reference("CES")
    offer = reuse_request.offer
    if offer.available == 0 and not any(r.status in HOLDING_STATUSES for r in offer.requests):
        offer.status = OfferStatus.CLOSED
    details = {"price": str(sum(values.values(), Decimal("0.00")))} if paid else {}
    audit.record(actor, "reuse.request.handed_over", reuse_request,
                 route=reuse_request.eligibility.get("route"), **details)


def confirm_receipt(actor: User, reuse_request: ReuseRequest) -> None:
    permissions.require(actor, "request.confirm", reuse_request)
    if reuse_request.status is not RequestStatus.HANDED_OVER:
        raise RuleViolation(_("Only equipment handed over can be confirmed as received."))
    reuse_request.status = RequestStatus.RECEIVED
    reuse_request.received_at = utcnow()
    audit.record(actor, "reuse.request.received", reuse_request)


# --- reconditioning, sale, recycling ---------------------------------------------------------

def send_for_reconditioning(actor: User, device: Device, refurbisher: Organisation) -> None:
    permissions.require(actor, "device.edit", device)
    if refurbisher.kind is not OrganisationKind.SUPPLIER or not refurbisher.is_validated:
        raise RuleViolation(_("Choose a validated supplier as refurbisher."))
    _require_sanitised(device)
    if device.status is DeviceStatus.OFFERED:
        if not _take_units(device.offer, 1):
            raise RuleViolation(_("All units of the offer are requested: answer the requests first."))
        device.offer.quantity -= 1
        device.offer = None
    _move(actor, device, DeviceStatus.RECONDITIONING, refurbisher=refurbisher.name)
    device.refurbisher = refurbisher


def sell(actor: User, device: Device, price: Decimal, buyer: str) -> None:
    permissions.require(actor, "device.edit", device)
    if price < 0:
        raise RuleViolation(_("The sale price cannot be negative."))
    _require_sanitised(device)
    _move(actor, device, DeviceStatus.SOLD, price=str(price), buyer=buyer)
    device.sale_price = price
    device.sold_to = buyer.strip()
    device.left_on = today()


def recycle(actor: User, devices: list[Device], operator: str, pickup_on: date, weight_kg: Decimal | None,
            tracking_reference: str) -> RecyclingRecord:
    if not devices:
        raise RuleViolation(_("Choose at least one device to recycle."))
    owner = devices[0].organisation
    for device in devices:
        permissions.require(actor, "device.edit", device)
        if device.organisation_id != owner.id:
            raise RuleViolation(_("A pick-up holds devices of one organisation."))
        _require_sanitised(device)
    if not operator.strip() or not tracking_reference.strip():
        raise RuleViolation(_("Name the WEEE operator and give the waste-tracking reference."))
    weight = weight_kg if weight_kg is not None else sum((d.weight_kg for d in devices), Decimal(0))
    record = RecyclingRecord(organisation_id=owner.id, operator=operator.strip(), pickup_on=pickup_on,
                             weight_kg=weight, tracking_reference=tracking_reference.strip(),
                             recorded_by_id=actor.id)
    db.session.add(record)
    for device in devices:
        _move(actor, device, DeviceStatus.RECYCLED, operator=operator.strip())
        device.recycling = record
        device.left_on = pickup_on
    return record


# --- data sanitisation -------------------------------------------------------------------------

@dataclass
class SanitisationData:
    media_type: str
    sanitisation_type: SanitisationType
    method: str
    tool: str
    tool_version: str
    verification_method: str
    destination: Destination
    performed_by: str
    performed_on: date
    validated_by: str
    validated_on: date


def record_sanitisation(actor: User, devices: list[Device], data: SanitisationData) -> SanitisationRecord:
    if not devices:
        raise RuleViolation(_("Choose at least one device."))
    owner = devices[0].organisation
    for device in devices:
        permissions.require(actor, "device.edit", device)
        if device.organisation_id != owner.id:
            raise RuleViolation(_("A certificate covers devices of one organisation."))
        if device.status in {DeviceStatus.HANDED_OVER, DeviceStatus.SOLD, DeviceStatus.RECYCLED}:
            raise RuleViolation(_("%(device)s has already left your organisation.", device=str(device)))
    if data.validated_on < data.performed_on:
        raise RuleViolation(_("The validation cannot come before the sanitisation."))
    if data.performed_on > today():
        raise RuleViolation(_("The sanitisation date is in the future."))
    record = SanitisationRecord(reference=_reference("EFF"), organisation_id=owner.id, recorded_by_id=actor.id,
                                **{f.name: getattr(data, f.name) for f in fields(SanitisationData)})
    record.devices = list(devices)
    db.session.add(record)
    return record
