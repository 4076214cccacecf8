"""Log in, log out, register, reset a forgotten password, accept an invitation."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core import services
from core.errors import RuleViolation
from core.extensions import db
from core.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    beneficiary_category_from,
)
from core.models import OrganisationKind
from core.views import bp


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute or protocol-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("core.dashboard")


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    return render_template("core/home.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except RuleViolation as error:
            db.session.commit()  # the failure itself is kept: it counts toward throttling
            flash(str(error), "error")
            return render_template("core/login.html", form=form), 401
        db.session.commit()
        login_user(user, remember=form.remember.data)
        flash(_("Welcome, %(name)s.", name=user.full_name), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("core/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("core.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegistrationForm()
    if form.validate_on_submit():
        details = services.OrganisationDetails(
            kind=OrganisationKind(form.kind.data), name=form.name.data, address=form.address.data,
            postcode=form.postcode.data, city=form.city.data, siret=form.siret.data,
            email=form.email.data or "", phone=form.phone.data or "", website=form.website.data or "",
            description=form.description.data or "", is_sme=form.is_sme.data, is_ess=form.is_ess.data,
            is_ea_esat=form.is_ea_esat.data, is_siae=form.is_siae.data,
            beneficiary_category=beneficiary_category_from(form.beneficiary_category.data),
        )
        try:
            user = services.register(details, form.user_email.data, form.full_name.data,
                                     form.password.data)
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
            return render_template("core/register.html", form=form), 422
        login_user(user)
        flash(_("Your registration is recorded. The EPT will validate it; you will receive an email."),
              "success")
        return redirect(url_for("core.dashboard"))
    status = 422 if form.is_submitted() else 200
    return render_template("core/register.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses this address, a reset link is on its way."), "info")
        return redirect(url_for("core.login"))
    return render_template("core/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = services.user_for_password_token(token)
    except RuleViolation as error:
        flash(str(error), "error")
        return redirect(url_for("core.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
            db.session.commit()
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("core.forgot_password"))
        flash(_("Your password is set. You can log in."), "success")
        return redirect(url_for("core.login"))
    return render_template("core/reset_password.html", form=form, user=user)
