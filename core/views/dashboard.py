"""The landing page after login, one per role."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from core import permissions
from core.extensions import db
from core.models import Organisation, Role, User, ValidationStatus
from core.views import bp


@bp.get("/dashboard")
@login_required
def dashboard():
    permissions.require(current_user, "dashboard.view")
    context = {}
    if current_user.role is Role.ADMIN:
        context["pending_registrations"] = db.session.scalar(
            select(func.count(Organisation.id)).where(
                Organisation.validation_status == ValidationStatus.PENDING)
        )
        context["organisation_count"] = db.session.scalar(select(func.count(Organisation.id)))
        context["user_count"] = db.session.scalar(select(func.count(User.id)))
    return render_template(f"core/dashboard/{current_user.role.value}.html", **context)
