"""The landing page after login, one per role. Each domain adds its figures through
`DASHBOARD_SECTIONS`: functions of the user returning template variables."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from core import permissions
from core.extensions import db
from core.models import Organisation, Role, User, ValidationStatus
from core.views import bp

DASHBOARD_SECTIONS: list = []


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
    for section in DASHBOARD_SECTIONS:
        context.update(section(current_user))
    return render_template(f"core/dashboard/{current_user.role.value}.html", **context)
