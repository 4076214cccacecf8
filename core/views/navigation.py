"""The main navigation: each entry is shown to whoever the permissions module allows."""
from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from core import permissions


class NavItem(NamedTuple):
    endpoint: str
    label: object
    action: str
    on_own_organisation: bool = False  # the permission is asked about the user's organisation


NAV_ITEMS = (
    NavItem("core.dashboard", _l("Dashboard"), "dashboard.view"),
    NavItem("reuse.inventory", _l("Inventory"), "device.list", True),
    NavItem("reuse.offers", _l("Reuse offers"), "offer.browse"),
    NavItem("reuse.requests", _l("Reuse requests"), "offer.browse"),
    NavItem("reuse.gains", _l("Reuse gains"), "gains.view", True),
    NavItem("marketplace.catalogue", _l("Catalogue"), "catalogue.browse"),
    NavItem("marketplace.my_offers", _l("My offers"), "catalogue.create", True),
    NavItem("marketplace.campaigns", _l("Group orders"), "campaign.list"),
    NavItem("marketplace.basket", _l("Basket"), "order.place"),
    NavItem("marketplace.orders", _l("Orders"), "order.list"),
    NavItem("procurement.tenders", _l("Tenders"), "tender.list"),
    NavItem("procurement.my_bids", _l("My bids"), "procurement.bid"),
    NavItem("procurement.contracts", _l("Contracts"), "contract.list"),
    NavItem("procurement.clauses", _l("Clause library"), "clause.list"),
    NavItem("procurement.indicators", _l("Indicators"), "indicators.view"),
    NavItem("core.documents", _l("Documents"), "document.list"),
    NavItem("core.organisations", _l("Organisations"), "organisation.list"),
    NavItem("core.admin_organisations", _l("Registrations"), "organisation.validate"),
    NavItem("core.admin_users", _l("Users"), "user.list"),
    NavItem("core.admin_audit", _l("Audit log"), "audit.view"),
    NavItem("core.admin_outbox", _l("Outbox"), "outbox.view"),
    NavItem("core.admin_search", _l("Search index"), "search.admin"),
)


def navigation_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):  # anonymous, or no user at all (mail, command)
        return []
    return [item for item in NAV_ITEMS
            if permissions.may(user, item.action, user.organisation if item.on_own_organisation else None)]
