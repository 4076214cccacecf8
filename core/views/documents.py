"""The document archive's pages: every document of the user's organisation, one stored document, and
issuing a new version (core.archive keeps the rules)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from core import archive, permissions
from core.extensions import db
from core.models import IssuedDocument
from core.views import bp

PAGE_SIZE = 50


@bp.app_template_global()
def issued_documents(obj, kind: str | None = None, key: str | None = None) -> list[IssuedDocument]:
    """For the `core/_documents.html` partial on an object's page (or beside one document's link)."""
    return archive.documents_for(obj, current_user, kind=kind, key=key)


@bp.app_template_global()
def archive_kind_label(kind: str) -> str:
    return archive.kind_label(kind)


@bp.app_template_global()
def may_reissue_document(document: IssuedDocument) -> bool:
    """Offered on the latest version of a document only, to whoever manages its object."""
    return archive.is_latest(document) and archive.may_reissue(current_user, document)


@bp.get("/documents")
@login_required
def documents():
    permissions.require(current_user, "document.list")
    query = select(IssuedDocument).order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
    if not permissions.may(current_user, "document.list_all"):
        query = query.where(or_(IssuedDocument.organisation_id == current_user.organisation_id,
                                IssuedDocument.recipient_organisation_id == current_user.organisation_id))
    kind = request.args.get("kind", "")
    if kind in archive.KINDS:
        query = query.where(IssuedDocument.kind == kind)
    year = request.args.get("year", type=int)
    if year and 2000 <= year <= 9998:
        query = query.where(IssuedDocument.issued_at >= datetime(year, 1, 1, tzinfo=timezone.utc),
                            IssuedDocument.issued_at < datetime(year + 1, 1, 1, tzinfo=timezone.utc))
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/documents.html", page=page, kind=kind, year=year or "",
                           kinds={value: kind_.label for value, kind_ in archive.KINDS.items()},
                           object_label=archive.object_label,
                           object_url=lambda document_: archive.object_url(document_, current_user))


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    document_ = db.get_or_404(IssuedDocument, document_id)
    permissions.require(current_user, "document.view", document_)
    return archive.response(document_)


@bp.post("/documents/<int:document_id>/reissue")
@login_required
def reissue_document(document_id: int):
    document_ = db.get_or_404(IssuedDocument, document_id)
    permissions.require(current_user, "document.view", document_)
    archive.require_reissue(current_user, document_)
    new = archive.reissue(document_)
    if new is None:  # the route served something else than an archived document (a draft's preview)
        abort(404)
    db.session.commit()
    flash(_("Document %(number)s issued: version %(version)d.", number=new.number, version=new.version), "success")
    return redirect(request.form.get("next") if _local(request.form.get("next")) else url_for("core.documents"))


def _local(url: str | None) -> bool:
    """Only a path on this site, never another host (open redirect)."""
    return bool(url) and url.startswith("/") and not url.startswith("//") and "\\" not in url
