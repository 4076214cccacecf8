"""The EPT's administration: registrations to validate, users and invitations, audit log, outbox."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from core import permissions, services
from core.errors import RuleViolation
from core.extensions import db
from core.forms import AuditFilterForm, ConfirmForm, InviteUserForm, RejectForm, options, role_from
from core.models import AuditEntry, Organisation, OutboxMessage, User, ValidationStatus
from core.views import bp
from core.views.helpers import attempt

PAGE_SIZE = 50


def _organisation_choices() -> list:
    rows = db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    return options((row.id, row.name) for row in rows)


@bp.get("/admin/organisations")
@login_required
def admin_organisations():
    permissions.require(current_user, "organisation.validate")
    status = request.args.get("status", ValidationStatus.PENDING.value)
    query = select(Organisation).order_by(Organisation.created_at.desc())
    if status in {s.value for s in ValidationStatus}:
        query = query.where(Organisation.validation_status == ValidationStatus(status))
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/admin/organisations.html", page=page, status=status,
                           statuses=list(ValidationStatus))


@bp.get("/admin/organisations/<int:organisation_id>")
@login_required
def admin_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.validate", organisation)
    return render_template("core/admin/organisation.html", organisation=organisation,
                           confirm_form=ConfirmForm(), reject_form=RejectForm())


@bp.post("/admin/organisations/<int:organisation_id>/validate")
@login_required
def validate_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.validate", organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: services.validate_organisation(current_user, organisation),
            _("%(name)s is validated.", name=organisation.name))
    return redirect(url_for("core.admin_organisations"))


@bp.post("/admin/organisations/<int:organisation_id>/reject")
@login_required
def reject_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.validate", organisation)
    form = RejectForm()
    if not form.validate_on_submit():
        return render_template("core/admin/organisation.html", organisation=organisation,
                               confirm_form=ConfirmForm(), reject_form=form), 422
    attempt(lambda: services.reject_organisation(current_user, organisation, form.reason.data),
            _("The registration of %(name)s is rejected.", name=organisation.name))
    return redirect(url_for("core.admin_organisations"))


def _users_page(form: InviteUserForm, status: int = 200):
    organisation_id = request.args.get("organisation", type=int)
    query = select(User).join(User.organisation).order_by(Organisation.name, User.email)
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/admin/users.html", page=page, form=form, confirm_form=ConfirmForm(),
                           organisations=form.organisation_id.choices,
                           organisation_id=organisation_id), status


@bp.get("/admin/users")
@login_required
def admin_users():
    permissions.require(current_user, "user.list")
    form = InviteUserForm()
    form.organisation_id.choices = _organisation_choices()
    return _users_page(form)


@bp.post("/admin/users")
@login_required
def invite_user():
    permissions.require(current_user, "user.invite")
    form = InviteUserForm()
    form.organisation_id.choices = _organisation_choices()
    if not form.validate_on_submit():
        return _users_page(form, 422)
    organisation = db.get_or_404(Organisation, form.organisation_id.data)
    try:
        user = services.invite_user(current_user, organisation, form.email.data, form.full_name.data,
                                    role_from(form.role.data))
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return _users_page(form, 422)
    flash(_("An invitation is sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("core.admin_users"))


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def set_user_active(user_id: int):
    user = db.get_or_404(User, user_id)
    permissions.require(current_user, "user.edit", user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: services.set_user_active(current_user, user, request.form.get("active") == "1"),
            _("The account of %(email)s is updated.", email=user.email))
    return redirect(url_for("core.admin_users"))


@bp.get("/admin/audit")
@login_required
def admin_audit():
    permissions.require(current_user, "audit.view")
    form = AuditFilterForm(request.args)
    form.organisation_id.choices = options([(0, "—")]) + _organisation_choices()
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if form.validate():
        if form.action.data:
            query = query.where(AuditEntry.action.contains(form.action.data.strip()))
        if form.actor.data:
            query = query.where(AuditEntry.actor_email.contains(form.actor.data.strip().lower()))
        if form.organisation_id.data:
            query = query.where(AuditEntry.organisation_id == form.organisation_id.data)
        if form.object_type.data:
            query = query.where(AuditEntry.object_type == form.object_type.data.strip().lower())
        if form.since.data:
            query = query.where(AuditEntry.at >= datetime.combine(form.since.data, time.min, timezone.utc))
        if form.until.data:
            end = datetime.combine(form.until.data, time.min, timezone.utc) + timedelta(days=1)
            query = query.where(AuditEntry.at < end)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/admin/audit.html", page=page, form=form)


@bp.get("/admin/outbox")
@login_required
def admin_outbox():
    permissions.require(current_user, "outbox.view")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/admin/outbox.html", page=page)
