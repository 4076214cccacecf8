"""The document archive: every PDF the platform issues is kept as issued, numbered, with its SHA-256.

A document route asks `latest_or_issue`: the first request renders and stores version 1, every later one
returns those stored bytes, so a purchase order or a letter downloaded twice is the same file. Issuing
again (`reissue`, for whoever manages the object) adds a version and never touches the previous ones.
The caller commits.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

from flask import Response, abort, current_app, g, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import permissions
from core.extensions import db
from core.models import IssuedDocument, Organisation, User, utcnow
from core.pdf import pdf_response


class Kind(NamedTuple):
    label: object
    # Who may issue a new version: (action, object it is asked about) from the document's object.
    manage: Callable[[object], tuple[str, object]]


KINDS: dict[str, Kind] = {
    "purchase_order": Kind(_l("Purchase order"), lambda order: ("order.record_payment", order)),
    "invoice": Kind(_l("Invoice"), lambda order: ("order.supply", order)),
    "campaign_supplier_order": Kind(_l("Group order to a supplier"), lambda campaign: ("campaign.manage", campaign)),
    "sanitisation_certificate": Kind(_l("Data sanitisation certificate"),
                                     lambda record: ("device.create", record.organisation)),
    "transfer_agreement": Kind(_l("Transfer or donation agreement"), lambda req: ("request.decide", req)),
    "tender_package": Kind(_l("Tender package"), lambda tender: ("tender.manage", tender)),
    "bid_analysis_report": Kind(_l("Bid analysis report"), lambda tender: ("tender.manage", tender)),
    "award_letter": Kind(_l("Award letter"), lambda tender: ("tender.manage", tender)),
    "rejection_letter": Kind(_l("Rejection letter"), lambda tender: ("tender.manage", tender)),
    # Its object is the buyer, or the EPT for the territory's report.
    "activity16_report": Kind(_l("Activity 16 report"),
                              lambda organisation: ("indicators.report_reissue", organisation)),
}

# The page of each type of object a document concerns: (endpoint, its arguments, the action that lets a
# user view it, the object that action is asked about).
OBJECT_PAGES: dict[str, Callable[[object], tuple[str, dict, str, object]]] = {
    "orders": lambda order: ("marketplace.order", {"order_id": order.id}, "order.view", order),
    "campaigns": lambda campaign: ("marketplace.campaign", {"campaign_id": campaign.id}, "campaign.view",
                                   campaign),
    "sanitisation_records": lambda record: ("reuse.sanitisation", {"record_id": record.id}, "sanitisation.view",
                                            record),
    # A reuse request has no page of its own: both parties follow it on its offer's page.
    "reuse_requests": lambda req: ("reuse.offer", {"offer_id": req.offer_id}, "offer.view", req.offer),
    "tenders": lambda tender: ("procurement.tender", {"tender_id": tender.id}, "tender.view", tender),
    "organisations": lambda organisation: ("core.organisation", {"organisation_id": organisation.id},
                                           "organisation.view", organisation),
}


def object_type(obj) -> str:
    return obj.__tablename__


def _model(type_name: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == type_name:
            return mapper.class_
    raise LookupError(type_name)


def object_of(document: IssuedDocument):
    return db.session.get(_model(document.object_type), document.object_id)


def _versions(kind: str, obj, key: str):
    return select(IssuedDocument).where(
        IssuedDocument.kind == kind, IssuedDocument.object_type == object_type(obj),
        IssuedDocument.object_id == obj.id, IssuedDocument.key == key)


def latest(kind: str, obj, key: str = "") -> IssuedDocument | None:
    return db.session.scalar(_versions(kind, obj, key).order_by(IssuedDocument.version.desc()).limit(1))


def issue(kind: str, obj, key: str, filename: str, render: Callable, actor: User | None, *,
          owner: Organisation | None, recipient: Organisation | None = None, numbered: bool = False,
          source_args: dict | None = None) -> IssuedDocument:
    """Store a new version, then render it. The number comes from the id, hence the flush before the
    rendering: `render()` makes the bytes, or `render(document)` when the document is `numbered` (it
    prints its own number, version or date of issue). `source_args` are the arguments its route is run
    with again to reissue it (the route's URL arguments unless given)."""
    if kind not in KINDS:
        raise KeyError(f"unknown document kind {kind!r}")
    previous = db.session.scalar(_versions(kind, obj, key).with_only_columns(func.max(IssuedDocument.version)))
    document = IssuedDocument(
        kind=kind, object_type=object_type(obj), object_id=obj.id, key=key, version=(previous or 0) + 1,
        organisation_id=owner.id if owner else None, recipient_organisation_id=recipient.id if recipient else None,
        filename=filename, content=b"", sha256="", size=0,
        issued_at=utcnow(), issued_by_id=actor.id if actor is not None and actor.is_authenticated else None,
        locale=str(get_locale() or ""), source_endpoint=request.endpoint or "",
        source_args=dict(request.view_args or {}) if source_args is None else source_args,
    )
    db.session.add(document)
    db.session.flush()
    document.number = f"DOC-{document.issued_at.year}-{document.id:06d}"
    content = render(document) if numbered else render()
    document.content, document.sha256, document.size = content, hashlib.sha256(content).hexdigest(), len(content)
    db.session.flush()
    return document


def latest_or_issue(kind: str, obj, key: str, filename: str, render: Callable, actor: User | None, *,
                    owner: Organisation | None, recipient: Organisation | None = None, numbered: bool = False,
                    source_args: dict | None = None) -> IssuedDocument:
    """What a document's URL serves: the stored latest version, or version 1 issued now. Under
    `reissue` (g.archive_reissue) it issues a new version instead."""
    reissuing = g.get("archive_reissue")
    document = None if reissuing else latest(kind, obj, key)
    if document is None:
        try:
            with db.session.begin_nested():
                document = issue(kind, obj, key, filename, render, actor, owner=owner, recipient=recipient,
                                 numbered=numbered, source_args=source_args)
        except IntegrityError:
            # Two first downloads at once: the other request stored version 1; serve that one.
            if reissuing or (document := latest(kind, obj, key)) is None:
                raise
            return document
        g.archive_issued = document
    return document


def visible(user: User, documents) -> list[IssuedDocument]:
    return [document for document in documents if permissions.may(user, "document.view", document)]


def documents_for(obj, user: User | None = None, kind: str | None = None,
                  key: str | None = None) -> list[IssuedDocument]:
    """Every version of every document of one object (or of one kind and key of it), newest first; only
    those `user` may read."""
    query = (select(IssuedDocument).where(IssuedDocument.object_type == object_type(obj),
                                          IssuedDocument.object_id == obj.id)
             .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc()))
    if kind is not None:
        query = query.where(IssuedDocument.kind == kind)
    if key is not None:
        query = query.where(IssuedDocument.key == key)
    documents = db.session.scalars(query).all()
    return documents if user is None else visible(user, documents)


def is_latest(document: IssuedDocument) -> bool:
    return db.session.scalar(
        select(func.max(IssuedDocument.version)).where(
            IssuedDocument.kind == document.kind, IssuedDocument.object_type == document.object_type,
            IssuedDocument.object_id == document.object_id, IssuedDocument.key == document.key)
    ) == document.version


def may_reissue(user: User, document: IssuedDocument) -> bool:
    obj = object_of(document)
    if obj is None or not document.source_endpoint:
        return False
    return permissions.may(user, *KINDS[document.kind].manage(obj))


def require_reissue(user: User, document: IssuedDocument) -> None:
    obj = object_of(document)
    if obj is None or not document.source_endpoint:
        abort(404)
    permissions.require(user, *KINDS[document.kind].manage(obj))


def reissue(document: IssuedDocument) -> IssuedDocument:
    """Issue a new version by running the document's own route again, so the document is rendered by
    the one function that knows it, with that route's own checks (it may answer 404 if the document no
    longer exists, e.g. a letter whose award was withdrawn)."""
    g.archive_reissue, g.archive_issued = True, None
    try:
        current_app.view_functions[document.source_endpoint](**document.source_args)
    finally:
        g.archive_reissue = False
    return g.archive_issued


def response(document: IssuedDocument) -> Response:
    served = pdf_response(document.content, document.filename)
    served.headers["X-Document-Number"] = document.number
    served.headers["X-Content-SHA256"] = document.sha256
    served.headers["ETag"] = f'"{document.sha256}"'
    return served


def kind_label(kind: str) -> str:
    return str(KINDS[kind].label) if kind in KINDS else kind


def object_label(document: IssuedDocument) -> str:
    obj = object_of(document)
    return str(obj) if obj is not None else f"{document.object_type} #{document.object_id}"


def object_url(document: IssuedDocument, user: User) -> str | None:
    """The page of the document's object, if it has one and `user` may view it."""
    page = OBJECT_PAGES.get(document.object_type)
    obj = object_of(document) if page is not None else None
    if obj is None:
        return None
    endpoint, arguments, action, subject = page(obj)
    return url_for(endpoint, **arguments) if permissions.may(user, action, subject) else None
