"""The IT manager's inventory: devices, their lifecycle operations, sanitisation and recycling."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm, options
from core.models import Organisation, OrganisationKind, ValidationStatus
from core.views.helpers import attempt
from reuse import services
from reuse.forms import DeviceForm, PhotoForm, ReconditioningForm, RecyclingForm, SaleForm, SanitisationForm
from reuse.models import (CATEGORY_LABELS, STATUS_LABELS, Condition, Destination, Device, DeviceCategory,
                          DevicePhoto, DeviceStatus, SanitisationRecord, SanitisationType, StorageType)
from reuse.views import bp

PAGE_SIZE = 50


def devices_from_request() -> list[Device]:
    """The devices ticked in a list (`device` values), each one the user may edit (else 404)."""
    ids = request.values.getlist("device", type=int)
    devices = db.session.scalars(select(Device).where(Device.id.in_(ids)).order_by(Device.id)).all() if ids else []
    if len(devices) != len(set(ids)):
        abort(404)
    for device in devices:
        permissions.require(current_user, "device.edit", device)
    return devices


def _site_choices(form: DeviceForm) -> None:
    form.site_id.choices = options([(0, "—")] + [(s.id, s.name) for s in current_user.organisation.sites])


def device_data(form: DeviceForm) -> services.DeviceData:
    return services.DeviceData(
        category=DeviceCategory(form.category.data), brand=form.brand.data or "", model=form.model.data or "",
        serial_number=form.serial_number.data, asset_number=form.asset_number.data,
        purchase_date=form.purchase_date.data, purchase_price=form.purchase_price.data, cpu=form.cpu.data or "",
        ram_gb=form.ram_gb.data, storage_type=StorageType(form.storage_type.data), storage_gb=form.storage_gb.data,
        screen_inches=form.screen_inches.data,
        condition=Condition(form.condition.data) if form.condition.data else None,
        weight_kg=form.weight_kg.data, has_storage_media=form.has_storage_media.data,
        site_id=form.site_id.data or None, notes=form.notes.data or "",
    )


@bp.get("/devices")
@login_required
def inventory():
    organisation = current_user.organisation
    permissions.require(current_user, "device.list", organisation)
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    text = request.args.get("q", "").strip()
    # Each row says whether the device is sanitised: its records come in one query for the whole page.
    query = (select(Device).where(Device.organisation_id == organisation.id).order_by(Device.id.desc())
             .options(selectinload(Device.sanitisations)))
    if status in {s.value for s in DeviceStatus}:
        query = query.where(Device.status == DeviceStatus(status))
    if category in {c.value for c in DeviceCategory}:
        query = query.where(Device.category == DeviceCategory(category))
    if text:
        pattern = f"%{text}%"
        query = query.where(or_(Device.serial_number.ilike(pattern), Device.asset_number.ilike(pattern),
                                Device.brand.ilike(pattern), Device.model.ilike(pattern)))
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    counts = services.status_counts(organisation.id)
    return render_template("reuse/inventory.html", page=page, status=status, category=category, q=text,
                           statuses=STATUS_LABELS, categories=CATEGORY_LABELS, counts=counts)


@bp.route("/devices/new", methods=["GET", "POST"])
@login_required
def new_device():
    permissions.require(current_user, "device.create", current_user.organisation)
    form = DeviceForm()
    _site_choices(form)
    if form.validate_on_submit():
        try:
            device = services.create_device(current_user, current_user.organisation, device_data(form))
            db.session.commit()
            flash(_("The device is added to the inventory."), "success")
            return redirect(url_for("reuse.device", device_id=device.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/device_form.html", form=form, device=None), status


@bp.get("/devices/<int:device_id>")
@login_required
def device(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.view", device)
    refurbishers = db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.kind == OrganisationKind.SUPPLIER,
        Organisation.validation_status == ValidationStatus.VALIDATED).order_by(Organisation.name)).all()
    reconditioning_form = ReconditioningForm()
    reconditioning_form.refurbisher_id.choices = options((r.id, r.name) for r in refurbishers)
    return render_template("reuse/device.html", device=device, confirm_form=ConfirmForm(),
                           photo_form=PhotoForm(), reconditioning_form=reconditioning_form, sale_form=SaleForm(),
                           too_old=services.is_too_old_for_reuse(device),
                           net_book_value=services.net_book_value(device, services.today()))


@bp.route("/devices/<int:device_id>/edit", methods=["GET", "POST"])
@login_required
def edit_device(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.edit", device)
    form = DeviceForm(obj=device)
    _site_choices(form)
    if request.method == "GET":
        form.category.data = device.category.value
        form.storage_type.data = device.storage_type.value
        form.condition.data = device.condition.value if device.condition else ""
        form.site_id.data = device.site_id or 0
    if form.validate_on_submit():
        try:
            services.update_device(current_user, device, device_data(form))
            db.session.commit()
            flash(_("The device is saved."), "success")
            return redirect(url_for("reuse.device", device_id=device.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/device_form.html", form=form, device=device), status


def _operation(device: Device, operation, success: str, *args):
    """Run one lifecycle operation on a device and go back to its page."""
    attempt(lambda: operation(current_user, device, *args), success)
    return redirect(url_for("reuse.device", device_id=device.id))


@bp.post("/devices/<int:device_id>/reform")
@login_required
def reform_device(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.edit", device)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _operation(device, services.reform, _("The device is declared surplus."))


@bp.post("/devices/<int:device_id>/reconditioning")
@login_required
def recondition_device(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.edit", device)
    form = ReconditioningForm()
    refurbisher = db.session.get(Organisation, request.form.get("refurbisher_id", type=int) or 0)
    if refurbisher is None:
        flash(_("Choose a validated supplier as refurbisher."), "error")
        return redirect(url_for("reuse.device", device_id=device.id))
    form.refurbisher_id.choices = options([(refurbisher.id, refurbisher.name)])
    if not form.validate_on_submit():
        abort(400)
    return _operation(device, services.send_for_reconditioning, _("The device is sent for reconditioning."),
                      refurbisher)


@bp.post("/devices/<int:device_id>/sale")
@login_required
def sell_device(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.edit", device)
    form = SaleForm()
    if not form.validate_on_submit():
        flash(" ".join(" ".join(errors) for errors in form.errors.values()), "error")
        return redirect(url_for("reuse.device", device_id=device.id))
    return _operation(device, services.sell, _("The sale is recorded."), form.price.data, form.buyer.data)


@bp.post("/devices/<int:device_id>/photos")
@login_required
def add_photo(device_id: int):
    device = db.get_or_404(Device, device_id)
    permissions.require(current_user, "device.edit", device)
    form = PhotoForm()
    if not form.validate_on_submit():
        flash(" ".join(" ".join(errors) for errors in form.errors.values()), "error")
        return redirect(url_for("reuse.device", device_id=device.id))
    return _operation(device, services.add_photo, _("The photo is added."), form.photo.data.read())


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    photo = db.get_or_404(DevicePhoto, photo_id)
    # A photo is seen by whoever sees its device, or the offer it is part of.
    if not (permissions.may(current_user, "device.view", photo.device)
            or (photo.device.offer and permissions.may(current_user, "offer.view", photo.device.offer))):
        abort(404)
    return Response(photo.data, mimetype=photo.content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


@bp.route("/sanitisations/new", methods=["GET", "POST"])
@login_required
def new_sanitisation():
    permissions.require(current_user, "device.create", current_user.organisation)
    devices = devices_from_request()
    form = SanitisationForm()
    if request.method == "GET":
        form.performed_on.data = form.validated_on.data = services.today()
        form.performed_by.data = current_user.full_name
    if form.validate_on_submit():
        data = services.SanitisationData(
            media_type=form.media_type.data, sanitisation_type=SanitisationType(form.sanitisation_type.data),
            method=form.method.data, tool=form.tool.data, tool_version=form.tool_version.data or "",
            verification_method=form.verification_method.data, destination=Destination(form.destination.data),
            performed_by=form.performed_by.data, performed_on=form.performed_on.data,
            validated_by=form.validated_by.data, validated_on=form.validated_on.data)
        try:
            record = services.record_sanitisation(current_user, devices, data)
            db.session.commit()
            flash(_("The sanitisation is recorded; its certificate is ready."), "success")
            return redirect(url_for("reuse.sanitisation", record_id=record.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/sanitisation_form.html", form=form, devices=devices), status


@bp.get("/sanitisations/<int:record_id>")
@login_required
def sanitisation(record_id: int):
    record = db.get_or_404(SanitisationRecord, record_id)
    permissions.require(current_user, "sanitisation.view", record)
    return render_template("reuse/sanitisation.html", record=record)


@bp.route("/recycling/new", methods=["GET", "POST"])
@login_required
def recycle_devices():
    permissions.require(current_user, "device.create", current_user.organisation)
    devices = devices_from_request()
    form = RecyclingForm()
    if request.method == "GET":
        form.pickup_on.data = services.today()
    if form.validate_on_submit():
        try:
            services.recycle(current_user, devices, form.operator.data, form.pickup_on.data, form.weight_kg.data,
                             form.tracking_reference.data)
            db.session.commit()
            flash(_("The recycling of %(n)d device(s) is recorded.", n=len(devices)), "success")
            return redirect(url_for("reuse.inventory", status=DeviceStatus.RECYCLED.value))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/recycle_form.html", form=form, devices=devices), status
