"""The directory of organisations, an organisation's page, its profile and its sites."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from core import permissions, search, services
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ConfirmForm, OrganisationForm, SiteForm, beneficiary_category_from
from core.models import ORGANISATION_KIND_LABELS, Organisation, OrganisationKind, Site, ValidationStatus
from core.views import bp
from core.views.helpers import attempt

PAGE_SIZE = 50
TEXT_FILTER_LENGTH = 100


def details_from(form: OrganisationForm, organisation: Organisation) -> services.OrganisationDetails:
    return services.OrganisationDetails(
        kind=organisation.kind, name=form.name.data, address=form.address.data,
        postcode=form.postcode.data, city=form.city.data, siret=form.siret.data,
        insee_code=organisation.insee_code, email=form.email.data or "", phone=form.phone.data or "",
        website=form.website.data or "", description=form.description.data or "",
        is_sme=form.is_sme.data, is_ess=form.is_ess.data, is_ea_esat=form.is_ea_esat.data,
        is_siae=form.is_siae.data,
        beneficiary_category=beneficiary_category_from(form.beneficiary_category.data),
    )


@bp.get("/organisations")
@login_required
def organisations():
    permissions.require(current_user, "organisation.list")
    kind = request.args.get("kind", "")
    text = request.args.get("q", "").strip()[:TEXT_FILTER_LENGTH]
    public_bodies = Organisation.kind.in_([k for k in OrganisationKind if k.is_public_buyer])
    query = select(Organisation).where(
        or_(public_bodies, Organisation.validation_status == ValidationStatus.VALIDATED)
    ).order_by(Organisation.kind, Organisation.name)
    if kind in {k.value for k in OrganisationKind}:
        query = query.where(Organisation.kind == OrganisationKind(kind))
    text_from_index = True
    if text:
        matching, text_from_index = search.text_condition(current_user, "organisation", text)
        query = query.where(matching)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("core/organisations.html", page=page, kind=kind, text=text,
                           kinds=ORGANISATION_KIND_LABELS, text_from_index=text_from_index)


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.view", organisation)
    return render_template("core/organisation.html", organisation=organisation,
                           confirm_form=ConfirmForm())


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.edit", organisation)
    form = OrganisationForm(obj=organisation)
    if request.method == "GET":
        form.beneficiary_category.data = (organisation.beneficiary_category.value
                                          if organisation.beneficiary_category else "")
    site_form = SiteForm(prefix="site")
    if form.validate_on_submit():
        try:
            services.update_organisation(current_user, organisation, details_from(form, organisation))
            db.session.commit()
            flash(_("The organisation is saved."), "success")
            return redirect(url_for("core.organisation", organisation_id=organisation.id))
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
    status = 422 if form.is_submitted() else 200
    return render_template("core/organisation_edit.html", organisation=organisation, form=form,
                           site_form=site_form, confirm_form=ConfirmForm()), status


@bp.post("/organisations/<int:organisation_id>/sites")
@login_required
def add_site(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    permissions.require(current_user, "organisation.edit", organisation)
    site_form = SiteForm(prefix="site")
    if not site_form.validate_on_submit():
        form = OrganisationForm(obj=organisation)
        return render_template("core/organisation_edit.html", organisation=organisation, form=form,
                               site_form=site_form, confirm_form=ConfirmForm()), 422
    services.add_site(current_user, organisation, site_form.name.data, site_form.address.data,
                      site_form.postcode.data, site_form.city.data, site_form.contact.data or "",
                      site_form.instructions.data or "")
    db.session.commit()
    flash(_("The site is added."), "success")
    return redirect(url_for("core.edit_organisation", organisation_id=organisation.id))


@bp.post("/sites/<int:site_id>/delete")
@login_required
def delete_site(site_id: int):
    site = db.get_or_404(Site, site_id)
    permissions.require(current_user, "site.edit", site)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    organisation_id = site.organisation_id
    attempt(lambda: services.remove_site(current_user, site), _("The site is removed."))
    return redirect(url_for("core.edit_organisation", organisation_id=organisation_id))
