"""Procurement pages: tenders. The list and its filters, drafting (lots, award grid, clauses), the
Climat et Résilience check, publication and the tender package, cancellation, questions and answers.
Bids are sealed: nothing here counts or shows them (the bids partial, procurement/bids/_tender_bids.html,
is the only part of the tender page that deals with bids)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from core import cpv as cpv_codes
from core import archive, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm
from core.models import utcnow
from core.pdf import pdf_response
from core.views.helpers import attempt
from marketplace.models import CampaignLine
from procurement import package
from procurement.forms.tenders import (AnswerForm, AttachClauseForm, CancelForm, CriteriaForm, LotForm,
                                       QuestionForm, TenderFilterForm, TenderForm)
from procurement.models import ClauseVersion, Lot, Question, Tender, TenderClause, TenderStatus
from procurement.services import tenders as service
from procurement.views import bp

PAGE_SIZE = 20


def _tender(tender_id: int) -> Tender:
    tender = db.get_or_404(Tender, tender_id)
    permissions.require(current_user, "tender.view", tender)
    return tender


def _managed(tender_id: int) -> Tender:
    tender = _tender(tender_id)
    permissions.require(current_user, "tender.manage", tender)
    return tender


def _back(tender: Tender):
    return redirect(url_for("procurement.tender", tender_id=tender.id))


def _confirmed() -> None:
    """A button carries only its CSRF token; anything else is a malformed request."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _answer_form(question: Question, formdata=None) -> AnswerForm:
    return AnswerForm(formdata=formdata, prefix=f"question{question.id}")


def _page(tender: Tender, status: int = 200, **forms):
    """The tender page; a form given in `forms` is the one just posted, shown again with its errors.
    The other forms are built empty (formdata=None), never from another form's post."""
    manages = permissions.may(current_user, "tender.manage", tender)
    draft = tender.status is TenderStatus.DRAFT
    questions = service.questions_for(current_user, tender)
    context = {
        "tender": tender,
        "manages": manages,
        "draft": draft,
        "cpv_label": cpv_codes.label(tender.cpv),
        "questions": questions,
        "can_ask": permissions.may(current_user, "tender.ask", tender) and tender.accepts_bids(),
        "question_form": forms.get("question_form") or QuestionForm(formdata=None, prefix="question"),
        "package_published": tender.published_at is not None,
    }
    if manages:
        answer_forms = {q.id: _answer_form(q) for q in questions}
        if "answer_form" in forms:
            question_id, form = forms["answer_form"]
            answer_forms[question_id] = form
        context.update(answer_forms=answer_forms,
                       cancel_form=forms.get("cancel_form") or CancelForm(formdata=None, prefix="cancel"))
        if draft:
            lot_form = forms.get("lot_form") or LotForm(formdata=None, prefix="lot")
            lot_form.set_lines(service.tenderable_lines(current_user))
            context.update(lot_form=lot_form,
                           criteria_form=forms.get("criteria_form") or CriteriaForm.for_tender(tender),
                           library=service.attachable_versions(tender), check=service.check(tender))
    return render_template("procurement/tenders/tender.html", **context), status


@bp.get("/tenders")
@login_required
def tenders():
    permissions.require(current_user, "tender.list")
    form = TenderFilterForm(request.args)
    form.set_cities(service.buyer_cities(current_user))
    query, text_from_index = service.filtered_tenders(current_user, form.filters())
    page = db.paginate(query.options(joinedload(Tender.buyer)), per_page=PAGE_SIZE, error_out=False)
    return render_template("procurement/tenders/list.html", page=page, form=form, now=utcnow(),
                           text_from_index=text_from_index)


@bp.route("/tenders/new", methods=["GET", "POST"])
@login_required
def new_tender():
    permissions.require(current_user, "tender.create", current_user.organisation)
    form = TenderForm()
    if form.validate_on_submit():
        try:
            created = service.create_tender(current_user, current_user.organisation, form.tender_data())
            db.session.commit()
            flash(_("The draft is saved; add its lots, award criteria and clauses."), "success")
            return redirect(url_for("procurement.tender", tender_id=created.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/tenders/new.html", form=form), status


@bp.get("/tenders/<int:tender_id>")
@login_required
def tender(tender_id: int):
    return _page(_tender(tender_id))


@bp.route("/tenders/<int:tender_id>/edit", methods=["GET", "POST"])
@login_required
def edit_tender(tender_id: int):
    tender_ = _managed(tender_id)
    if tender_.status is not TenderStatus.DRAFT:
        flash(_("Only a draft tender can be changed."), "error")
        return _back(tender_)
    form = TenderForm(obj=tender_)
    if not form.is_submitted():
        form.fill_from(tender_)
    elif form.validate():
        try:
            service.update_tender(current_user, tender_, form.tender_data())
            db.session.commit()
            flash(_("The draft is saved."), "success")
            return _back(tender_)
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/tenders/edit.html", form=form, tender=tender_), status


@bp.post("/tenders/<int:tender_id>/lots")
@login_required
def add_lot(tender_id: int):
    tender_ = _managed(tender_id)
    form = LotForm(prefix="lot")
    form.set_lines(service.tenderable_lines(current_user))
    if not form.validate_on_submit():
        return _page(tender_, 422, lot_form=form)
    line = db.session.get(CampaignLine, form.campaign_line_id.data) if form.from_line else None
    attempt(lambda: service.add_lot(current_user, tender_, form.title.data or "", form.quantity.data or 0,
                                    form.description.data or "", form.estimated_value.data, campaign_line=line),
            _("The lot is added."))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/lots/<int:lot_id>/remove")
@login_required
def remove_lot(tender_id: int, lot_id: int):
    tender_ = _managed(tender_id)
    lot = db.get_or_404(Lot, lot_id)
    if lot.tender_id != tender_.id:
        abort(404)
    _confirmed()
    attempt(lambda: service.remove_lot(current_user, lot), _("The lot is removed."))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/criteria")
@login_required
def set_criteria(tender_id: int):
    tender_ = _managed(tender_id)
    form = CriteriaForm(prefix="criteria")
    if not form.validate_on_submit():
        return _page(tender_, 422, criteria_form=form)
    try:
        service.set_criteria(current_user, tender_, form.criteria())
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return _page(tender_, 422, criteria_form=form)
    flash(_("The award criteria are saved."), "success")
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/clauses")
@login_required
def attach_clause(tender_id: int):
    tender_ = _managed(tender_id)
    form = AttachClauseForm()
    if not form.validate_on_submit():
        abort(400)
    version = db.get_or_404(ClauseVersion, form.clause_version_id.data)
    attempt(lambda: service.attach_clause(current_user, tender_, version),
            _("The clause %(code)s is attached.", code=version.clause.code))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/clauses/<int:tender_clause_id>/remove")
@login_required
def detach_clause(tender_id: int, tender_clause_id: int):
    tender_ = _managed(tender_id)
    tender_clause = db.get_or_404(TenderClause, tender_clause_id)
    if tender_clause.tender_id != tender_.id:
        abort(404)
    _confirmed()
    code = tender_clause.version.clause.code
    attempt(lambda: service.detach_clause(current_user, tender_clause),
            _("The clause %(code)s is removed.", code=code))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/publish")
@login_required
def publish_tender(tender_id: int):
    tender_ = _managed(tender_id)
    _confirmed()
    try:
        result = service.publish(current_user, tender_)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(tender_)
    flash(_("The tender is published: suppliers can see it and bid until the deadline. Its package is ready."),
          "success")
    for warning in result.warnings:
        flash(warning, "warning")
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/cancel")
@login_required
def cancel_tender(tender_id: int):
    tender_ = _managed(tender_id)
    form = CancelForm(prefix="cancel")
    if not form.validate_on_submit():
        return _page(tender_, 422, cancel_form=form)
    attempt(lambda: service.cancel(current_user, tender_, form.reason.data), _("The tender is cancelled."))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/questions")
@login_required
def ask_question(tender_id: int):
    tender_ = _tender(tender_id)
    permissions.require(current_user, "tender.ask", tender_)
    form = QuestionForm(prefix="question")
    if not form.validate_on_submit():
        return _page(tender_, 422, question_form=form)
    attempt(lambda: service.ask(current_user, tender_, form.text.data),
            _("Your question is sent to the buyer. Its answer will be published to every bidder, without "
              "naming you."))
    return _back(tender_)


@bp.post("/tenders/<int:tender_id>/questions/<int:question_id>/answer")
@login_required
def answer_question(tender_id: int, question_id: int):
    tender_ = _managed(tender_id)
    question = db.get_or_404(Question, question_id)
    if question.tender_id != tender_.id:
        abort(404)
    form = _answer_form(question, request.form)
    if not form.validate_on_submit():
        return _page(tender_, 422, answer_form=(question.id, form))
    attempt(lambda: service.answer(current_user, question, form.answer.data),
            _("The answer is published to every bidder."))
    return _back(tender_)


@bp.get("/tenders/<int:tender_id>/package.pdf")
@login_required
def tender_package_pdf(tender_id: int):
    tender_ = _tender(tender_id)
    # A draft's package is a preview for its buyer (tender.view lets only them see a draft); a tender
    # cancelled before publication never had one.
    if tender_.published_at is None and tender_.status is not TenderStatus.DRAFT:
        abort(404)
    if tender_.status is TenderStatus.DRAFT:  # a preview, not issued: not archived
        return pdf_response(package.render(tender_), f"{package.base_name(tender_)}-draft.pdf")
    document = _archived_package(tender_)
    db.session.commit()
    return archive.response(document)


def _archived_package(tender_):
    """The package as published: the PDF and the ZIP carry the same stored bytes."""
    return archive.latest_or_issue("tender_package", tender_, "package", f"{package.base_name(tender_)}.pdf",
                                   lambda: package.render(tender_), current_user, owner=tender_.buyer)


@bp.get("/tenders/<int:tender_id>/package.zip")
@login_required
def tender_package_zip(tender_id: int):
    tender_ = _tender(tender_id)
    if tender_.published_at is None:
        abort(404)
    zipped = package.build_zip(tender_, _archived_package(tender_).content)
    db.session.commit()
    response = Response(zipped, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{package.base_name(tender_)}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
