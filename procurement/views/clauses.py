"""Procurement pages: the clause library. Everyone signed in reads it; admins add, edit (a new version
each time) and retire clauses."""
from __future__ import annotations

from dataclasses import asdict

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from core import permissions, search
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm
from core.models import User
from core.views.helpers import attempt
from procurement.forms.clauses import ClauseFilterForm, ClauseForm, NewClauseForm
from procurement.models import SOCIAL_THEMES, Clause, ClauseVersion, Mechanism, TenderClause, Theme
from procurement.services import clauses as service
from procurement.services.clauses import ClauseData
from procurement.views import bp


def _locale() -> str:
    return str(get_locale())


def _clause(clause_id: int) -> Clause:
    clause = db.get_or_404(Clause, clause_id)
    permissions.require(current_user, "clause.list", clause)
    return clause


def _library_query(form: ClauseFilterForm, default_status: str):
    """Each clause with its current version, filtered on that version; a filter value that does not
    parse is ignored, never an error page. Also the status shown and whether the search index answered
    the text filter (False: it was unavailable and the text was matched in SQL)."""
    form.validate()
    current_number = (select(ClauseVersion.clause_id, func.max(ClauseVersion.number).label("number"))
                      .group_by(ClauseVersion.clause_id).subquery())
    query = (select(Clause, ClauseVersion)
             .join(current_number, current_number.c.clause_id == Clause.id)
             .join(ClauseVersion, and_(ClauseVersion.clause_id == Clause.id,
                                       ClauseVersion.number == current_number.c.number))
             .order_by(Clause.code))
    if form.theme.data and not form.theme.errors:
        query = query.where(ClauseVersion.theme == Theme(form.theme.data))
    if form.mechanism.data and not form.mechanism.errors:
        query = query.where(ClauseVersion.mechanism == Mechanism(form.mechanism.data))
    if form.kind.data == "social" and not form.kind.errors:
        query = query.where(ClauseVersion.theme.in_(SOCIAL_THEMES))
    elif form.kind.data == "environmental" and not form.kind.errors:
        query = query.where(ClauseVersion.theme.not_in(SOCIAL_THEMES))
    status = form.status.data if form.status.data and not form.status.errors else default_status
    if status == "active":
        query = query.where(Clause.active.is_(True))
    elif status == "retired":
        query = query.where(Clause.active.is_(False))
    text = (form.q.data or "").strip() if not form.q.errors else ""
    text_from_index = True
    if text:
        matching, text_from_index = search.text_condition(current_user, "clause", text)
        query = query.where(matching)
    return query, status, text_from_index


@bp.get("/clauses")
@login_required
def clauses():
    permissions.require(current_user, "clause.list")
    # Retired clauses are listed to those who keep the library; others see them only when they ask.
    default_status = "all" if permissions.may(current_user, "clause.edit") else "active"
    form = ClauseFilterForm(request.args)
    query, status, text_from_index = _library_query(form, default_status)
    form.status.data = status
    rows = db.session.execute(query).all()
    return render_template("procurement/clauses/list.html", rows=rows, form=form, locale=_locale(),
                           text_from_index=text_from_index)


@bp.get("/clauses/<int:clause_id>")
@login_required
def clause(clause_id: int):
    clause = _clause(clause_id)
    author_ids = {v.created_by_id for v in clause.versions if v.created_by_id}
    authors = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(author_ids)))}
    uses = db.session.scalars(
        select(TenderClause).join(TenderClause.version).where(ClauseVersion.clause_id == clause.id)
        .options(joinedload(TenderClause.tender), joinedload(TenderClause.version))
        .order_by(TenderClause.id)).all()
    return render_template(
        "procurement/clauses/clause.html", clause=clause, version=clause.current, locale=_locale(),
        authors=authors, uses=[use for use in uses if permissions.may(current_user, "tender.view", use.tender)],
        # The tender pages belong to another module; link to them once they exist.
        tender_links="procurement.tender" in current_app.view_functions,
        confirm_form=ConfirmForm(),
    )


@bp.route("/clauses/new", methods=["GET", "POST"])
@login_required
def new_clause():
    permissions.require(current_user, "clause.edit")
    form = NewClauseForm()
    if form.validate_on_submit():
        try:
            created = service.create_clause(current_user, form.code.data, form.clause_data())
            db.session.commit()
            flash(_("The clause %(code)s is added to the library.", code=created.code), "success")
            return redirect(url_for("procurement.clause", clause_id=created.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/clauses/form.html", form=form, clause=None), status


def _data_of(version: ClauseVersion) -> ClauseData:
    return ClauseData(**{name: getattr(version, name) for name in ClauseData.__dataclass_fields__})


@bp.route("/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@login_required
def edit_clause(clause_id: int):
    clause = _clause(clause_id)
    permissions.require(current_user, "clause.edit", clause)
    form = ClauseForm(obj=clause.current)
    if form.validate_on_submit():
        data = form.clause_data()
        current = _data_of(clause.current)
        if {k: v.strip() if isinstance(v, str) else v for k, v in asdict(data).items()} == asdict(current):
            # Saving an unchanged form would only add a duplicate version.
            flash(_("Nothing changed: the clause stays at version %(n)d.", n=clause.current.number), "info")
            return redirect(url_for("procurement.clause", clause_id=clause.id))
        try:
            version = service.edit_clause(current_user, clause, data)
            db.session.commit()
            flash(_("Version %(n)d of %(code)s is saved; tenders keep the version they use.",
                    n=version.number, code=clause.code), "success")
            return redirect(url_for("procurement.clause", clause_id=clause.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/clauses/form.html", form=form, clause=clause), status


@bp.post("/clauses/<int:clause_id>/active")
@login_required
def set_clause_active(clause_id: int):
    clause = _clause(clause_id)
    permissions.require(current_user, "clause.edit", clause)
    active = request.form.get("active")
    if active not in ("0", "1") or not ConfirmForm().validate_on_submit():
        abort(400)
    if active == "1":
        attempt(lambda: service.set_active(current_user, clause, True),
                _("The clause %(code)s is active again: it can be attached to tenders.", code=clause.code))
    else:
        attempt(lambda: service.set_active(current_user, clause, False),
                _("The clause %(code)s is retired: it can no longer be attached to tenders.", code=clause.code))
    return redirect(url_for("procurement.clause", clause_id=clause.id))
