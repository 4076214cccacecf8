"""The landing page after login, one per role. Each domain adds its figures through
`DASHBOARD_SECTIONS`: functions of the user and of the names the role's page reads, returning the
template variables among those names, so that no figure is computed for a page that does not show it."""
from __future__ import annotations

import functools

from flask import current_app, render_template
from flask_login import current_user, login_required
from jinja2 import meta
from sqlalchemy import func, select

from core import permissions
from core.extensions import db
from core.models import Organisation, Role, User, ValidationStatus
from core.views import bp

DASHBOARD_SECTIONS: list = []
# A dashboard's lists show their first few items and link to the whole list: the page stays the same
# size whatever the organisation's history.
LISTED = 5


@bp.get("/dashboard")
@login_required
def dashboard():
    permissions.require(current_user, "dashboard.view")
    template = f"core/dashboard/{current_user.role.value}.html"
    shown = names_read(template)
    context = {"listed": LISTED}
    if current_user.role is Role.ADMIN:
        if "pending_registrations" in shown:
            context["pending_registrations"] = db.session.scalar(
                select(func.count(Organisation.id)).where(
                    Organisation.validation_status == ValidationStatus.PENDING)
            )
        if "organisation_count" in shown:
            context["organisation_count"] = db.session.scalar(select(func.count(Organisation.id)))
            context["user_count"] = db.session.scalar(select(func.count(User.id)))
    for section in DASHBOARD_SECTIONS:
        context.update(section(current_user, shown))
    return render_template(template, **context)


@functools.cache
def names_read(template_name: str) -> frozenset[str]:
    """The variables a template reads, with those of the templates it extends or includes: Jinja's own
    analysis of their source, done once per process."""
    environment = current_app.jinja_env
    source = environment.loader.get_source(environment, template_name)[0]
    tree = environment.parse(source)
    names = set(meta.find_undeclared_variables(tree))
    for referenced in meta.find_referenced_templates(tree):
        if referenced is not None:  # a name computed at run time: none in the dashboards
            names |= names_read(referenced)
    return frozenset(names)
