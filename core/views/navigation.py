"""The main navigation: each entry is shown to whoever the permissions module allows."""
from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from core import permissions


class NavItem(NamedTuple):
    endpoint: str
    label: object
    action: str


NAV_ITEMS = (
    NavItem("core.dashboard", _l("Dashboard"), "dashboard.view"),
    NavItem("core.organisations", _l("Organisations"), "organisation.list"),
    NavItem("core.admin_organisations", _l("Registrations"), "organisation.validate"),
    NavItem("core.admin_users", _l("Users"), "user.list"),
    NavItem("core.admin_audit", _l("Audit log"), "audit.view"),
    NavItem("core.admin_outbox", _l("Outbox"), "outbox.view"),
)


def navigation_for(user) -> list[NavItem]:
    return [item for item in NAV_ITEMS if permissions.may(user, item.action)]
