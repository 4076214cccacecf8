"""The search page (one box for the whole platform, answered by core.search) and its administration."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from core import audit, permissions, search
from core.extensions import db
from core.forms import ConfirmForm
from core.views import bp

PER_PAGE = 20
MAX_TEXT = 200
FACET_TITLES = {
    "kind": _l("Type"),
    "category": _l("Category"),
    "commune": _l("Commune"),
    "grade": _l("Grade"),
    "status": _l("Status"),
    "supplier_type": _l("Supplier type"),
}


def _asked() -> tuple[str, dict[str, str], int]:
    """The words, the facet values and the page the query string asks for; what does not parse is
    dropped, never an error page."""
    text = request.args.get("q", "").strip()[:MAX_TEXT]
    selected = {name: request.args.get(name, "").strip()[:MAX_TEXT] for name in search.FACETS}
    if selected["kind"] not in search.KINDS:
        selected["kind"] = ""
    page = request.args.get("page", 1, type=int)
    return text, {name: value for name, value in selected.items() if value}, max(page, 1)


@bp.get("/search", endpoint="search")
@login_required
def search_page():
    permissions.require(current_user, "search.use")
    text, selected, page = _asked()

    def url_with(**changes) -> str:
        """This search with some parameters changed (None removes one); back to page 1 unless given."""
        params = {"q": text, **selected, "page": None} | changes
        return url_for("core.search", **{name: value for name, value in params.items() if value})

    results = fallback_hits = None
    if text or selected:
        try:
            results = search.search(current_user, text, selected=selected, page=page, per_page=PER_PAGE)
        except search.SearchUnavailable:
            kinds = [selected["kind"]] if "kind" in selected else None
            fallback_hits = search.fallback(current_user, text, kinds) if text else []
    return render_template("core/search.html", text=text, selected=selected, results=results,
                           fallback_hits=fallback_hits, facet_titles=FACET_TITLES, url_with=url_with)


@bp.get("/admin/search")
@login_required
def admin_search():
    permissions.require(current_user, "search.admin")
    return render_template("core/admin_search.html", state=search.status(), kinds=search.KINDS,
                           confirm_form=ConfirmForm())


def _confirmed() -> None:
    permissions.require(current_user, "search.admin")
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/admin/search/reindex")
@login_required
def reindex_search():
    _confirmed()
    try:
        count = search.reindex()
    except search.SearchUnavailable:  # another rebuild or drain holds the lock
        flash(_("The search index is busy; try again in a moment."), "error")
        return redirect(url_for("core.admin_search"))
    audit.record(current_user, "search.reindexed", documents=count)
    db.session.commit()
    flash(ngettext("The search index is rebuilt: %(num)d document.",
                   "The search index is rebuilt: %(num)d documents.", count), "success")
    return redirect(url_for("core.admin_search"))


@bp.post("/admin/search/drain")
@login_required
def drain_search():
    _confirmed()
    try:
        applied = search.drain()
    except (search.SearchUnavailable, *search.DAMAGE):
        flash(_("The search index is unavailable, so the waiting changes cannot be applied: rebuild the "
                "index."), "error")
        return redirect(url_for("core.admin_search"))
    flash(ngettext("%(num)d waiting change is applied to the search index.",
                   "%(num)d waiting changes are applied to the search index.", applied), "success")
    return redirect(url_for("core.admin_search"))
