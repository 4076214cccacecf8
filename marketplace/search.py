"""What the marketplace puts in the search index: catalogue offers (core.search)."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from core import search
from core.territory import commune_for
from marketplace.models import CatalogueOffer, Label, PriceTier
from reuse.models import DeviceCategory

IN_STOCK, HIDDEN = "in_stock", "hidden"
STATUS_LABELS = {IN_STOCK: _l("Available"), HIDDEN: _l("Not shown in the catalogue")}


def document(offer: CatalogueOffer) -> search.Document:
    supplier = offer.supplier
    # Who sees an offer is catalogue.view: everyone once it is active, in stock and its supplier validated.
    shown = offer.active and offer.stock > 0 and supplier.is_validated
    commune = commune_for(offer.reconditioning_postcode, offer.reconditioning_city)
    body = "\n".join(part for part in (offer.specifications, offer.cpu, supplier.name, offer.reconditioning_city,
                                       " ".join(Label(label).label for label in offer.labels or ())) if part)
    return search.Document(
        title=str(offer), body=body,
        readers=[search.EVERYONE if shown else search.organisation_token(supplier.id)],
        owner_id=supplier.id, category=offer.category.value, grade=offer.grade.value if offer.grade else "",
        commune=commune.name if commune else offer.reconditioning_city,
        status=IN_STOCK if shown else HIDDEN,
        supplier_types=search.supplier_types(supplier),
    )


search.register(search.Kind(
    name="catalogue_offer", model=CatalogueOffer, label=_l("Catalogue offers"), view_action="catalogue.view",
    loaded_with=(joinedload(CatalogueOffer.supplier),),
    url=lambda offer: url_for("marketplace.catalogue_offer", offer_id=offer.id),
    document=document,
    sql_match=lambda text: or_(CatalogueOffer.brand.icontains(text, autoescape=True),
                               CatalogueOffer.model.icontains(text, autoescape=True),
                               CatalogueOffer.specifications.icontains(text, autoescape=True)),
    status_label=lambda value: str(STATUS_LABELS[value]) if value in STATUS_LABELS else None,
))
search.follow(PriceTier, lambda tier: [("catalogue_offer", tier.offer_id)])
search.facet_labels("category", search.enum_label(DeviceCategory))
search.facet_labels("grade", lambda value: str(_l("Grade %(grade)s", grade=value)))
