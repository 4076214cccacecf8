"""The one place that answers "may this user do this action on this object?".

Views, templates (`may(...)`) and the API ask here and never test roles themselves. A refusal on an
object of another organisation answers 404, as if the object did not exist; a refusal on an action the
user's role never has answers 403. Both are recorded in the audit log.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort

from core import audit
from core.models import Organisation, OrganisationKind, Role, User

PUBLIC_BUYER_STAFF = (Role.ADMIN, Role.PROCUREMENT_OFFICER, Role.IT_MANAGER)
PUBLICLY_LISTED_KINDS = (OrganisationKind.SUPPLIER, OrganisationKind.BENEFICIARY)


def _is_admin(user: User, obj=None) -> bool:
    return user.role is Role.ADMIN


def _member_of(user: User, organisation: Organisation) -> bool:
    return user.organisation_id == organisation.id


def _may_view_organisation(user: User, organisation: Organisation) -> bool:
    # Public bodies and validated suppliers and beneficiaries are in the directory; a pending or
    # rejected registration is seen only by its own members and the admins.
    return (
        _is_admin(user)
        or _member_of(user, organisation)
        or organisation.kind.is_public_buyer
        or organisation.is_validated
    )


def _may_edit_organisation(user: User, organisation: Organisation) -> bool:
    return _is_admin(user) or (_member_of(user, organisation) and user.role is not Role.OBSERVER)


def _validated_member(role: Role) -> Callable[[User, object], bool]:
    """Suppliers and beneficiaries act only once the EPT has validated their organisation."""
    return lambda user, obj=None: user.role is role and user.organisation.is_validated


def _inventory_manager(user: User, organisation: Organisation) -> bool:
    """IT managers keep their organisation's inventory; admins may act for any organisation."""
    return _is_admin(user) or (
        _member_of(user, organisation) and user.role is Role.IT_MANAGER and organisation.kind.is_public_buyer
    )


def _may_see_offer(user: User, offer) -> bool:
    from reuse import cascade
    from reuse.models import OfferStatus
    from core.models import utcnow

    if _is_admin(user) or _member_of(user, offer.organisation):
        return True
    if offer.status is not OfferStatus.OPEN:
        return any(r.organisation_id == user.organisation_id for r in offer.requests)
    return cascade.sees(offer.organisation, user.organisation, offer.published_at, utcnow())


def _may_request(user: User, offer) -> bool:
    if _member_of(user, offer.organisation) or not _may_see_offer(user, offer):
        return False
    if user.role is Role.BENEFICIARY:
        return user.organisation.is_validated
    return user.role in (Role.PROCUREMENT_OFFICER, Role.IT_MANAGER) and user.organisation.kind.is_public_buyer


def _party_to_request(user: User, reuse_request) -> bool:
    return _member_of(user, reuse_request.organisation) or _member_of(user, reuse_request.offer.organisation)


def _requester(user: User, reuse_request) -> bool:
    return (_member_of(user, reuse_request.organisation) and user.role is not Role.OBSERVER) or _is_admin(user)


def _buyer_staff(user: User) -> bool:
    """Procurement officers and IT managers of a public body act for it in the marketplace."""
    return user.role in (Role.PROCUREMENT_OFFICER, Role.IT_MANAGER) and user.organisation.kind.is_public_buyer


def _may_see_catalogue_offer(user: User, offer) -> bool:
    if _is_admin(user) or _member_of(user, offer.supplier):
        return True
    return offer.active and offer.stock > 0 and offer.supplier.is_validated


def _may_see_campaign(user: User, campaign) -> bool:
    return _is_admin(user) or user.organisation.kind.is_public_buyer


def _party_to_order(user: User, order) -> bool:
    """The buyer, the supplier and, for a group order, the campaign's coordinator see an order."""
    return (_is_admin(user) or _member_of(user, order.buyer) or _member_of(user, order.supplier)
            or (order.campaign is not None and _member_of(user, order.campaign.coordinator)))


def _procurement_officer_of(user: User, organisation: Organisation) -> bool:
    return (user.role is Role.PROCUREMENT_OFFICER and _member_of(user, organisation)
            and organisation.kind.is_public_buyer)


def _may_see_tender(user: User, tender) -> bool:
    from procurement.models import TenderStatus

    return _is_admin(user) or _member_of(user, tender.buyer) or tender.status is not TenderStatus.DRAFT


def _manages_tender(user: User, tender) -> bool:
    return _is_admin(user) or _procurement_officer_of(user, tender.buyer)


def _may_read_bid(user: User, bid) -> bool:
    """Sealed: before the opening only the bidder reads its bid, whoever else asks, admins included."""
    if _member_of(user, bid.supplier):
        return True
    return bid.lot.tender.is_opened and (_is_admin(user) or (
        _member_of(user, bid.lot.tender.buyer) and user.role in PUBLIC_BUYER_STAFF + (Role.OBSERVER,)))


RULES: dict[str, Callable[..., bool]] = {
    "dashboard.view": lambda user, obj=None: True,
    "organisation.list": lambda user, obj=None: True,
    "organisation.view": _may_view_organisation,
    "organisation.edit": _may_edit_organisation,
    "organisation.view_members": lambda user, org: _is_admin(user) or _member_of(user, org),
    "organisation.validate": _is_admin,
    "site.edit": lambda user, site: _may_edit_organisation(user, site.organisation),
    "user.list": _is_admin,
    "user.invite": _is_admin,
    "user.edit": lambda user, other: _is_admin(user),
    "token.manage": lambda user, token: token.user_id == user.id,
    "audit.view": _is_admin,
    "outbox.view": _is_admin,
    # Capabilities the later issues build on.
    "marketplace.sell": _validated_member(Role.SUPPLIER),
    "procurement.bid": _validated_member(Role.SUPPLIER),
    # Reuse: inventory, offers, requests, sanitisation.
    "device.list": lambda user, organisation: _is_admin(user) or (
        _member_of(user, organisation) and organisation.kind.is_public_buyer),
    "device.create": _inventory_manager,
    "device.view": lambda user, device: _is_admin(user) or _member_of(user, device.organisation),
    "device.edit": lambda user, device: _inventory_manager(user, device.organisation),
    "offer.create": _inventory_manager,
    "offer.browse": lambda user, obj=None: user.role is not Role.SUPPLIER,
    "offer.view": _may_see_offer,
    "offer.manage": lambda user, offer: _inventory_manager(user, offer.organisation),
    "offer.request": _may_request,
    "request.view": lambda user, reuse_request: _is_admin(user) or _party_to_request(user, reuse_request),
    "request.decide": lambda user, reuse_request: _inventory_manager(user, reuse_request.offer.organisation),
    "request.cancel": _requester,
    "request.confirm": _requester,
    "sanitisation.view": lambda user, record: _is_admin(user) or _member_of(user, record.organisation),
    "gains.view": lambda user, organisation: _is_admin(user) or _member_of(user, organisation),
    # Marketplace: catalogue, group orders (campaigns), orders and payments.
    "catalogue.browse": lambda user, obj=None: True,
    "catalogue.view": _may_see_catalogue_offer,
    "catalogue.create": lambda user, organisation: _validated_member(Role.SUPPLIER)(user)
    and _member_of(user, organisation),
    "catalogue.edit": lambda user, offer: _is_admin(user) or (
        _validated_member(Role.SUPPLIER)(user) and _member_of(user, offer.supplier)),
    "campaign.list": lambda user, obj=None: _is_admin(user) or user.organisation.kind.is_public_buyer,
    "campaign.create": lambda user, organisation: _is_admin(user) or (
        user.role is Role.PROCUREMENT_OFFICER and _member_of(user, organisation)
        and organisation.kind in (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE)),
    "campaign.view": _may_see_campaign,
    "campaign.manage": lambda user, campaign: _is_admin(user) or (
        user.role is Role.PROCUREMENT_OFFICER and _member_of(user, campaign.coordinator)),
    "campaign.join": lambda user, campaign: _buyer_staff(user),
    # The consolidated order of a campaign to one supplier: obj is (campaign, supplier).
    "campaign.supplier_order": lambda user, pair: RULES["campaign.manage"](user, pair[0])
    or _member_of(user, pair[1]),
    "participation.edit": lambda user, participation: _buyer_staff(user)
    and _member_of(user, participation.organisation),
    "order.list": lambda user, obj=None: True,
    "order.place": lambda user, obj=None: _buyer_staff(user) or _validated_member(Role.BENEFICIARY)(user),
    "order.view": _party_to_order,
    "order.supply": lambda user, order: _is_admin(user) or (
        user.role is Role.SUPPLIER and _member_of(user, order.supplier)),
    "order.receive": lambda user, order: _member_of(user, order.buyer) and user.role is not Role.OBSERVER,
    # Either side may cancel an order before it ships.
    "order.cancel": lambda user, order: RULES["order.supply"](user, order) or RULES["order.receive"](user, order),
    "order.record_payment": lambda user, order: _is_admin(user) or (
        user.role is Role.PROCUREMENT_OFFICER and _member_of(user, order.buyer)),
    "order.pay_by_card": lambda user, order: _member_of(user, order.buyer) and user.role is not Role.OBSERVER,
    # Procurement: clause library, tenders, sealed bids, evaluation, contracts register.
    "clause.list": lambda user, obj=None: True,
    "clause.edit": _is_admin,
    "tender.list": lambda user, obj=None: True,
    "tender.create": lambda user, organisation: _is_admin(user) or _procurement_officer_of(user, organisation),
    "tender.view": _may_see_tender,
    "tender.list_all": _is_admin,  # every draft of every buyer
    "tender.manage": _manages_tender,
    # Evaluators: the buyer's procurement officers and IT managers, once the bids are opened.
    "tender.evaluate": lambda user, tender: tender.is_opened and (_manages_tender(user, tender) or (
        user.role is Role.IT_MANAGER and _member_of(user, tender.buyer))),
    "tender.ask": lambda user, tender: _validated_member(Role.SUPPLIER)(user) and _may_see_tender(user, tender),
    "bid.submit": lambda user, tender: _validated_member(Role.SUPPLIER)(user) and _may_see_tender(user, tender),
    "bid.read": _may_read_bid,
    "bid.change": lambda user, bid: _validated_member(Role.SUPPLIER)(user) and _member_of(user, bid.supplier),
    "contract.list": lambda user, obj=None: True,
    "contract.view": lambda user, contract: True,
    "contract.create": lambda user, organisation: _is_admin(user) or _procurement_officer_of(user, organisation),
    "contract.edit": lambda user, contract: _is_admin(user) or _procurement_officer_of(user, contract.buyer),
    "contract.import": lambda user, obj=None: _is_admin(user) or (
        user.role is Role.PROCUREMENT_OFFICER and user.organisation.kind.is_public_buyer),
    # Importing a national or regional file creates the buyers it names.
    "contract.import_all_buyers": _is_admin,
    "agec.edit_values": _is_admin,
    # The document archive: a document is read by its issuer and by the other party it concerns.
    "document.list": lambda user, obj=None: True,
    # The Activity 16 indicators: published as open data anyway, so every signed-in user sees them.
    "indicators.view": lambda user, obj=None: True,
    # A new version of the Activity 16 report of a buyer, or of the territory (whose object is the EPT).
    "indicators.report_reissue": lambda user, organisation: _is_admin(user)
    or _procurement_officer_of(user, organisation),
    "document.list_all": _is_admin,
    "document.view": lambda user, document: _is_admin(user) or user.organisation_id in (
        document.organisation_id, document.recipient_organisation_id),
    # Search (core.search): every signed-in user searches; each hit is still checked with its own rule.
    "search.use": lambda user, obj=None: True,
    "search.admin": _is_admin,
}

# Actions on one organisation's object: a refusal there must not reveal that the object exists.
OBJECT_ACTIONS = {
    "organisation.view", "organisation.edit", "organisation.view_members", "site.edit",
    "user.edit", "token.manage", "device.view", "device.edit", "offer.view", "offer.manage",
    "request.view", "request.cancel", "request.confirm", "sanitisation.view",
    "catalogue.view", "campaign.view", "order.view", "campaign.supplier_order",
    "tender.view", "bid.read", "bid.change", "document.view",
}


def may(user, action: str, obj=None) -> bool:
    if action not in RULES:
        raise KeyError(f"unknown action {action!r}")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(RULES[action](user, obj))


def require(user, action: str, obj=None) -> None:
    if may(user, action, obj):
        return
    if getattr(obj, "sealed", False):
        # Even a refusal would tell the audit page that a sealed bid exists: answer 404, record nothing.
        abort(404)
    audit.record_now(user if user is not None and user.is_authenticated else None,
                     "permission.denied", obj, permission=action)
    abort(404 if action in OBJECT_ACTIONS and obj is not None else 403)
