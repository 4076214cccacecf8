"""Import of the device inventory from a CSV file: upload, preview (nothing saved), confirmation.

Between the preview and the confirmation the uploaded file waits in the instance folder
(`imports/<token>.csv`, with `<token>.json` saying whose it is), so the confirmation imports exactly
the file that was previewed without the browser sending it again.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm
from core.models import User
from reuse import imports
from reuse.forms import ImportForm
from reuse.models import DeviceCategory
from reuse.views import bp

PREVIEW_ROWS = 50
KEEP_UPLOADS_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# --- the uploads waiting for confirmation ------------------------------------------------------

def _folder() -> Path:
    folder = Path(current_app.config["IMPORT_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _purge_old_uploads(folder: Path) -> None:
    # An upload previewed and never confirmed is of no use after a day.
    limit = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except FileNotFoundError:  # purged by another request meanwhile
            pass


def stash_upload(user: User, upload: FileStorage, category: str | None) -> str:
    """Keep an uploaded file for `user`; the token names it."""
    folder = _folder()
    _purge_old_uploads(folder)
    token = secrets.token_urlsafe(24)
    upload.save(folder / f"{token}.csv")
    meta = {"user_id": user.id, "organisation_id": user.organisation_id, "category": category or None,
            "filename": upload.filename or "import.csv"}
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _stashed(token: str) -> tuple[Path, dict]:
    """The file and metadata of a token; 404 unless the current user uploaded it."""
    if not TOKEN.match(token):
        abort(404)
    meta_path, path = _folder() / f"{token}.json", _folder() / f"{token}.csv"
    if not (meta_path.exists() and path.exists()):
        abort(404)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["user_id"] != current_user.id or meta["organisation_id"] != current_user.organisation_id:
        abort(404)
    return path, meta


def _remember(token: str, meta: dict, summary: imports.ImportSummary) -> None:
    """Keep the rejected rows for their download."""
    meta["header"] = summary.header
    meta["rejected"] = [{"line": r.line, "reason": r.reason, "cells": r.cells} for r in summary.rejected]
    (_folder() / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")


def _discard(token: str) -> None:
    for suffix in (".csv", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _run(path: Path, meta: dict, save: bool) -> imports.ImportSummary:
    """The import of a stashed file, saved in one commit or, for the preview, rolled back entirely.

    The preview runs the very same import as the confirmation and rolls it back, so the rows it
    announces as created, updated or rejected are exactly what the confirmation does."""
    category = DeviceCategory(meta["category"]) if meta["category"] else None
    try:
        summary = imports.import_devices(current_user, current_user.organisation, path, category,
                                         sample_size=PREVIEW_ROWS)
    except Exception:
        db.session.rollback()
        raise
    if save:
        db.session.commit()
    else:
        db.session.rollback()
    return summary


def _require_import_permission() -> None:
    permissions.require(current_user, "device.create", current_user.organisation)


# --- pages -------------------------------------------------------------------------------------

@bp.route("/devices/import", methods=["GET", "POST"])
@login_required
def import_devices():
    _require_import_permission()
    form = ImportForm()
    if form.validate_on_submit():
        token = stash_upload(current_user, form.file.data, form.category.data)
        path, meta = _stashed(token)
        try:
            summary = _run(path, meta, save=False)
        except RuleViolation as error:
            _discard(token)
            form.file.errors.append(str(error))
        else:
            _remember(token, meta, summary)
            return render_template("reuse/import_preview.html", summary=summary, token=token,
                                   filename=meta["filename"], confirm_form=ConfirmForm())
    status = 422 if form.is_submitted() else 200
    return render_template("reuse/import.html", form=form, columns=imports.TEMPLATE_COLUMNS), status


@bp.post("/devices/import/<token>/confirm")
@login_required
def confirm_import(token: str):
    _require_import_permission()
    path, meta = _stashed(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        summary = _run(path, meta, save=True)
    except RuleViolation as error:
        flash(str(error), "error")
        return redirect(url_for("reuse.import_devices"))
    _remember(token, meta, summary)
    flash(_("Import done: %(created)d device(s) created, %(updated)d updated, %(rejected)d row(s) rejected.",
            created=summary.created, updated=summary.updated, rejected=len(summary.rejected)),
          "info" if summary.rejected else "success")
    return render_template("reuse/import_result.html", summary=summary, token=token, filename=meta["filename"])


@bp.get("/devices/import/<token>/rejected.csv")
@login_required
def rejected_rows(token: str):
    _require_import_permission()
    _, meta = _stashed(token)
    rejections = [imports.Rejection(r["line"], r["reason"], r["cells"]) for r in meta.get("rejected", [])]
    body = imports.rejected_csv(meta.get("header", []), rejections)
    name = Path(secure_filename(meta["filename"])).stem or "import"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-rejected.csv"'})


@bp.get("/devices/import/template.csv")
@login_required
def import_template():
    _require_import_permission()
    # The BOM tells Excel the file is UTF-8; without it accents come out garbled.
    body = "\ufeff" + imports.template_csv()
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="circuit-devices-template.csv"'})
