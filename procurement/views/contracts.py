"""The contracts register: the list and its filters, a contract's page with its environmental score, its
DECP fields, AGEC figures and modifications, the signature after the standstill, the manual entry and the
DECP import."""
from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from core import cpv as cpv_codes
from core import permissions
from core.errors import RuleViolation
from core.extensions import db
from core.forms import options
from core.models import Organisation, OrganisationKind, ValidationStatus
from core.services import clean_siret
from core.views.helpers import attempt
from procurement import decp, exports
from procurement.forms.contracts import (NO_AGEC_CATEGORY, AgecFiguresForm, CompleteDecpForm, ContractFilterForm,
                                         ContractForm, DecpImportForm, ModificationForm)
from procurement.models import (DECP_PROCEDURES, Clause, ClauseVersion, Contract, ContractSource, ContractStatus,
                                Mechanism, ProcedureType, Theme)
from procurement.services import agec, climate, considerations
from procurement.services import contracts as service
from procurement.views import bp

PAGE_SIZE = 50
BREAKDOWN_SOURCES = {"clause": lambda: _("Clause"), "criterion": lambda: _("Award criterion of the tender"),
                     "decp": lambda: _("DECP file")}


def _contract(contract_id: int) -> Contract:
    contract = db.get_or_404(Contract, contract_id)
    permissions.require(current_user, "contract.view", contract)
    return contract


def _back(contract: Contract):
    return redirect(url_for("procurement.contract", contract_id=contract.id))


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _filters_from(form: ContractFilterForm) -> service.RegisterFilters:
    """What the query string asks for; a value that does not parse is ignored, never an error page."""
    form.validate()

    def valid(field) -> str:
        return (field.data or "") if not field.errors else ""

    return service.RegisterFilters(
        buyer_id=int(valid(form.buyer)) if valid(form.buyer).isdigit() else None,
        year=int(valid(form.year)) if valid(form.year).isdigit() else None,
        source=ContractSource(valid(form.source)) if valid(form.source) else None,
        cpv=valid(form.cpv).strip(), environmental=_yes_no(valid(form.environmental)),
        social=_yes_no(valid(form.social)))


@bp.get("/contracts")
@login_required
def contracts():
    permissions.require(current_user, "contract.list")
    form = ContractFilterForm(request.args)
    form.buyer.choices = options([("", _("All buyers"))] + [(str(b.id), b.name) for b in service.register_buyers()])
    form.year.choices = options([("", _("All years"))] + [(str(y), str(y)) for y in service.register_years()])
    page = db.paginate(service.search_contracts(current_user, _filters_from(form)), per_page=PAGE_SIZE,
                       error_out=False)
    return render_template("procurement/contracts/list.html", page=page, form=form)


def _agec_form(contract: Contract, formdata=None) -> AgecFiguresForm:
    form = AgecFiguresForm(formdata=formdata)
    if formdata is None:
        form.category.data = contract.agec_category or NO_AGEC_CATEGORY
        form.reuse_amount.data, form.recycled_amount.data = contract.agec_reuse_amount, contract.agec_recycled_amount
    return form


def _render_contract(contract: Contract, agec_form: AgecFiguresForm | None = None,
                     complete_form: CompleteDecpForm | None = None,
                     modification_form: ModificationForm | None = None, status: int = 200):
    """The contract's page; the forms its buyer's officer may send, each as it was posted when it comes back
    refused."""
    tender_url = None
    # The tender pages are another module's; link to them once they exist.
    if contract.lot is not None and "procurement.tender" in current_app.view_functions:
        tender_url = url_for("procurement.tender", tender_id=contract.lot.tender_id)
    record = json.dumps(contract.decp_record, ensure_ascii=False, indent=2) if contract.decp_record else None
    may_edit = permissions.may(current_user, "contract.edit", contract)
    notified = contract.status is ContractStatus.NOTIFIED
    if not may_edit:
        agec_form = complete_form = modification_form = None
    else:
        agec_form = agec_form or _agec_form(contract)
        if contract.source is ContractSource.TENDER and None in (contract.advance_payment,
                                                                 contract.subcontracting_declared):
            complete_form = complete_form or CompleteDecpForm(formdata=None)
        if contract.source is not ContractSource.DECP and notified:
            modification_form = modification_form or ModificationForm(formdata=None)
    missing = []
    if contract.source in exports.PUBLISHED_HERE and notified:
        missing = [exports.REQUIRED_FIELDS[name] for name in exports.missing_fields(contract)]
    return render_template(
        "procurement/contracts/contract.html", contract=contract, tender_url=tender_url, record=record,
        cpv_label=cpv_codes.label(contract.cpv),
        explanation=considerations.SCORE_EXPLANATION, mechanisms={m.value: m.label for m in Mechanism},
        breakdown_sources={key: label() for key, label in BREAKDOWN_SOURCES.items()},
        may_sign=contract.status is ContractStatus.AWARDED and may_edit, may_edit=may_edit,
        misses_art35=climate.misses_art35(contract), current=service.current_terms(contract), missing=missing,
        agec_form=agec_form, complete_form=complete_form, modification_form=modification_form), status


@bp.get("/contracts/<int:contract_id>")
@login_required
def contract(contract_id: int):
    return _render_contract(_contract(contract_id))


@bp.post("/contracts/<int:contract_id>/sign")
@login_required
def sign_contract(contract_id: int):
    contract = _contract(contract_id)
    permissions.require(current_user, "contract.edit", contract)
    attempt(lambda: service.sign(current_user, contract), _("The contract is signed and notified."))
    return _back(contract)


def _attempt_or_render(contract: Contract, operation, success: str, **forms):
    """Run the service call and go back to the contract; or show the page again with the rule it broke and
    what was typed (nothing is lost)."""
    if attempt(operation, success):
        return _back(contract)
    return _render_contract(db.session.get(Contract, contract.id), status=422, **forms)


@bp.post("/contracts/<int:contract_id>/agec")
@login_required
def contract_agec(contract_id: int):
    contract = _contract(contract_id)
    permissions.require(current_user, "contract.edit", contract)
    form = _agec_form(contract, request.form)
    if not form.validate():
        return _render_contract(contract, agec_form=form, status=422)
    category = None if form.category.data == NO_AGEC_CATEGORY else form.category.data
    return _attempt_or_render(
        contract, lambda: agec.set_contract_figures(current_user, contract, category, form.reuse_amount.data,
                                                    form.recycled_amount.data),
        _("The AGEC figures are saved."), agec_form=form)


@bp.post("/contracts/<int:contract_id>/complete")
@login_required
def complete_contract(contract_id: int):
    contract = _contract(contract_id)
    permissions.require(current_user, "contract.edit", contract)
    form = CompleteDecpForm()
    if not form.validate():
        return _render_contract(contract, complete_form=form, status=422)
    return _attempt_or_render(
        contract, lambda: service.complete_decp_fields(current_user, contract, _yes_no(form.advance_payment.data),
                                                       _yes_no(form.subcontracting_declared.data)),
        _("The contract's data are completed."), complete_form=form)


@bp.post("/contracts/<int:contract_id>/modifications")
@login_required
def add_contract_modification(contract_id: int):
    contract = _contract(contract_id)
    permissions.require(current_user, "contract.edit", contract)
    form = ModificationForm()
    if not form.validate():
        return _render_contract(contract, modification_form=form, status=422)
    data = service.ModificationData(
        notified_on=form.notified_on.data, published_on=form.published_on.data, amount=form.amount.data,
        duration_months=form.duration_months.data, holder_siret=form.holder_siret.data or "",
        holder_name=form.holder_name.data or "", description=form.description.data or "")
    return _attempt_or_render(contract, lambda: service.add_modification(current_user, contract, data),
                              _("The modification is recorded."), modification_form=form)


# --- manual entry ------------------------------------------------------------------------------

def _choices(form: ContractForm, contract: Contract | None = None) -> None:
    suppliers = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.SUPPLIER,
        Organisation.validation_status == ValidationStatus.VALIDATED).order_by(Organisation.name)).all()
    form.supplier_id.choices = options([(0, _("— not on the platform —"))] + [(s.id, s.name) for s in suppliers])
    versions = {clause.current for clause in db.session.scalars(
        select(Clause).where(Clause.active.is_(True))) if clause.versions}
    # A contract keeps the versions it was entered with, even once the library moves on.
    versions.update(contract.clauses if contract is not None else [])
    order = list(Theme)
    locale = str(get_locale())
    form.clauses.choices = [
        SelectChoice(v.id, f"{v.clause.code} v{v.number} – {v.title(locale)}", optgroup=v.theme.label)
        for v in sorted(versions, key=lambda v: (order.index(v.theme), v.clause.code, v.number))]


def _answer(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")


def _data(form: ContractForm) -> service.ContractData:
    supplier = db.session.get(Organisation, form.supplier_id.data) if form.supplier_id.data else None
    versions = db.session.scalars(select(ClauseVersion).where(ClauseVersion.id.in_(form.clauses.data or []))).all()
    amounts = (form.agec_reuse_amount.data, form.agec_recycled_amount.data)
    return service.ContractData(
        decp_id=form.decp_id.data or "", title=form.title.data or "", cpv=form.cpv.data,
        procedure=ProcedureType(form.procedure.data), amount=form.amount.data, notified_on=form.notified_on.data,
        duration_months=form.duration_months.data, supplier=supplier,
        holder_id="" if supplier is not None else (clean_siret(form.holder_siret.data) or ""),
        holder_name="" if supplier is not None else (form.holder_name.data or ""),
        offers_received=form.offers_received.data, clauses=list(versions),
        nature=form.nature.data, techniques=list(form.techniques.data),
        execution_modalities=list(form.execution_modalities.data), innovative=_yes_no(form.innovative.data),
        ccag=form.ccag.data, advance_payment=_yes_no(form.advance_payment.data),
        operator_grouping=form.operator_grouping.data, place_code=form.place_code.data or "",
        place_code_type=form.place_code_type.data, published_on=form.published_on.data,
        price_types=list(form.price_types.data), price_form=form.price_form.data,
        subcontracting_declared=_yes_no(form.subcontracting_declared.data),
        agec_category=None if form.agec_category.data == NO_AGEC_CATEGORY else form.agec_category.data,
        agec_amounts=None if amounts == (None, None) else amounts)


def _fill(form: ContractForm, contract: Contract) -> None:
    procedures = {name: procedure for procedure, name in DECP_PROCEDURES.items()}
    form.decp_id.data, form.title.data, form.cpv.data = contract.decp_id, contract.title, contract.cpv
    form.procedure.data = procedures.get(contract.procedure, ProcedureType.ADAPTED).value
    form.amount.data, form.notified_on.data = contract.amount, contract.notified_on
    form.duration_months.data, form.offers_received.data = contract.duration_months, contract.offers_received
    form.supplier_id.data = contract.supplier_id or 0
    if contract.supplier_id is None:
        form.holder_name.data, form.holder_siret.data = contract.holder_name, contract.holder_id
    form.clauses.data = [version.id for version in contract.clauses]
    form.nature.data, form.ccag.data = contract.nature, contract.ccag
    form.techniques.data, form.execution_modalities.data = contract.techniques, contract.execution_modalities
    form.price_types.data, form.price_form.data = contract.price_types, contract.price_form
    form.innovative.data, form.advance_payment.data = _answer(contract.innovative), _answer(contract.advance_payment)
    form.subcontracting_declared.data = _answer(contract.subcontracting_declared)
    form.operator_grouping.data, form.published_on.data = contract.operator_grouping, contract.published_on
    form.place_code.data, form.place_code_type.data = contract.place_code, contract.place_code_type
    form.agec_category.data = contract.agec_category or NO_AGEC_CATEGORY
    form.agec_reuse_amount.data, form.agec_recycled_amount.data = (contract.agec_reuse_amount,
                                                                   contract.agec_recycled_amount)


@bp.route("/contracts/new", methods=["GET", "POST"])
@login_required
def new_contract():
    permissions.require(current_user, "contract.create", current_user.organisation)
    form = ContractForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            created = service.create_manual(current_user, current_user.organisation, _data(form))
            db.session.commit()
            flash(_("The contract is in the register."), "success")
            return _back(created)
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/contracts/form.html", form=form, contract=None), status


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contract(contract_id: int):
    contract = _contract(contract_id)
    permissions.require(current_user, "contract.edit", contract)
    try:
        service.check_editable(contract)
    except RuleViolation as error:
        flash(str(error), "error")
        return _back(contract)
    form = ContractForm()
    _choices(form, contract)
    if form.validate_on_submit():
        try:
            service.update_manual(current_user, contract, _data(form))
            db.session.commit()
            flash(_("The contract is saved."), "success")
            return _back(contract)
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    elif not form.is_submitted():
        _fill(form, contract)
    status = 422 if form.is_submitted() else 200
    return render_template("procurement/contracts/form.html", form=form, contract=contract), status


# --- DECP import -------------------------------------------------------------------------------

@bp.route("/contracts/import", methods=["GET", "POST"])
@login_required
def import_decp():
    permissions.require(current_user, "contract.import")
    form = DecpImportForm()
    summary, status = None, 200
    if form.validate_on_submit():
        all_buyers = bool(form.all_buyers.data)
        if all_buyers:
            permissions.require(current_user, "contract.import_all_buyers")
        try:
            summary = decp.import_decp(form.file.data, all_buyers, current_user)
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            form.file.errors.append(str(error))
            status = 422
        else:
            flash(_("Import done: %(imported)d contract(s) imported, %(updated)d updated, %(rejected)d rejected.",
                    imported=summary.imported, updated=summary.updated, rejected=len(summary.rejected)),
                  "info" if summary.rejected else "success")
    elif form.is_submitted():
        status = 422
    return render_template("procurement/contracts/import.html", form=form, summary=summary,
                           filename=form.file.data.filename if summary is not None else "",
                           may_all_buyers=permissions.may(current_user, "contract.import_all_buyers")), status
