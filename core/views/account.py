"""The user's own page: password, language, API tokens."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import services
from core.errors import RuleViolation
from core.extensions import db
from core.forms import ApiTokenForm, ChangePasswordForm, ConfirmForm, LanguageForm
from core.models import ApiToken
from core.views import bp
from core.views.auth import _safe_next


def _account_page(status: int = 200, **forms):
    forms.setdefault("password_form", ChangePasswordForm())
    forms.setdefault("token_form", ApiTokenForm())
    return render_template("core/account.html", confirm_form=ConfirmForm(), **forms), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(422, password_form=form)
    try:
        services.change_password(current_user, form.current_password.data, form.password.data)
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return _account_page(422, password_form=form)
    flash(_("Your password is changed."), "success")
    return redirect(url_for("core.account"))


@bp.post("/account/tokens")
@login_required
def create_token():
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _account_page(422, token_form=form)
    token, clear_token = services.create_api_token(current_user, form.name.data)
    db.session.commit()
    # Shown once, on this response only: the database keeps just its hash.
    return render_template("core/token_created.html", token=token, clear_token=clear_token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke_api_token(current_user, token)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("core.account"))


@bp.post("/language")
def set_language():
    """The switcher in the header: remembered on the account, or in the session before login."""
    form = LanguageForm()
    if form.validate_on_submit():
        locale = form.locale.data
        session["locale"] = locale
        if current_user.is_authenticated:
            services.set_locale(current_user, locale)
            db.session.commit()
    elif form.locale.data not in current_app.config["LANGUAGES"]:
        abort(400)
    return redirect(_safe_next(request.form.get("next")))
