"""What reuse puts in the search index: device offers (core.search). The inventory itself (devices,
serial numbers, prices) is never indexed: an offer's document holds only what its page shows."""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import joinedload, selectinload

from core import search
from core.models import OrganisationKind, User
from core.territory import COMMUNES_BY_INSEE
from reuse import cascade
from reuse.models import Offer, OfferStatus, ReuseRequest


def document(offer: Offer) -> search.Document:
    owner = offer.organisation
    insee = cascade.commune_insee(owner) or ""
    place = offer.site.city if offer.site and offer.site.city else owner.city
    # The owner and every organisation that asked for it read the offer whatever its state; while it is
    # open, the cascade (audience below) widens its readers as time passes.
    readers = {search.organisation_token(owner.id)} | {
        search.organisation_token(request.organisation_id) for request in offer.requests}
    return search.Document(
        title=offer.title, body="\n".join(part for part in (offer.description, owner.name, place) if part),
        readers=readers, owner_id=owner.id, category=offer.category.value,
        commune=COMMUNES_BY_INSEE[insee].name if insee in COMMUNES_BY_INSEE else owner.city,
        status=offer.status.value, commune_code=insee, published=offer.published_at,
    )


def audience(user: User, now: datetime):
    """The reuse cascade (reuse.cascade.sees) as a query on open offers: the user's commune from
    publication, public bodies after the commune stage, beneficiaries after the public stage."""
    organisation = user.organisation
    if organisation.kind is OrganisationKind.SUPPLIER:
        return None
    reach = []
    insee = cascade.commune_insee(organisation)
    if insee:
        reach.append(search.Term("commune_code", insee))
    if organisation.kind.is_public_buyer:
        reach.append(search.published_before(now - cascade.stage_offset(cascade.Stage.PUBLIC_BODIES)))
    elif organisation.kind is OrganisationKind.BENEFICIARY:
        reach.append(search.published_before(now - cascade.stage_offset(cascade.Stage.BENEFICIARIES)))
    if not reach:
        return None
    return search.And([search.Term("status", f"device_offer.{OfferStatus.OPEN.value}"), search.Or(reach)])


search.register(search.Kind(
    name="device_offer", model=Offer, label=_l("Devices offered for reuse"), view_action="offer.view",
    loaded_with=(joinedload(Offer.organisation), selectinload(Offer.requests)),
    url=lambda offer: url_for("reuse.offer", offer_id=offer.id),
    document=document,
    sql_match=lambda text: or_(Offer.title.icontains(text, autoescape=True),
                               Offer.description.icontains(text, autoescape=True)),
    status_label=search.enum_label(OfferStatus),
    audience=audience,
))
search.follow(ReuseRequest, lambda request: [("device_offer", request.offer_id)])
