"""Forms of the shared package. Every form posted by a browser carries a CSRF token."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError

from core.models import BENEFICIARY_CATEGORY_LABELS, ROLE_LABELS, BeneficiaryCategory, OrganisationKind, Role
from core.services import MIN_PASSWORD_LENGTH, clean_siret
from core.errors import RuleViolation

def options(pairs) -> list[SelectChoice]:
    """Choices of a select field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


POSTCODE = Regexp(r"^\d{5}$", message=_l("A French postcode has 5 digits."))


def validate_siret(form, field) -> None:
    try:
        clean_siret(field.data)
    except RuleViolation as error:
        raise ValidationError(str(error)) from None


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay logged in on this computer"))
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()],
                       render_kw={"autocomplete": "username"})
    submit = SubmitField(_l("Send me a reset link"))


def new_password_fields():
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Set the password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Change the password"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=options([("fr", "Français"), ("en", "English")]))
    submit = SubmitField(_l("Change language"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""

    submit = SubmitField(_l("Confirm"))


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Where the token is used, e.g. “GLPI synchronisation”."))
    submit = SubmitField(_l("Create a token"))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    siret = StringField(_l("SIRET"), validators=[Optional(), validate_siret],
                        description=_l("14 digits; spaces are allowed."))
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)],
                          render_kw={"autocomplete": "street-address"})
    postcode = StringField(_l("Postcode"), validators=[DataRequired(), POSTCODE],
                           render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    city = StringField(_l("Commune"), validators=[DataRequired(), Length(max=120)],
                       render_kw={"autocomplete": "address-level2"})
    email = EmailField(_l("Contact email"), validators=[Optional(), Email()])
    phone = StringField(_l("Telephone"), validators=[Optional(), Length(max=40)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    is_sme = BooleanField(_l("SME (fewer than 250 employees)"))
    is_ess = BooleanField(_l("Social and solidarity economy (ESS)"))
    is_ea_esat = BooleanField(_l("Entreprise adaptée or ESAT"))
    is_siae = BooleanField(_l("Work-integration structure (SIAE)"))
    beneficiary_category = SelectField(
        _l("Donation category"),
        choices=options([("", "—")] + [(c.value, label) for c, label in BENEFICIARY_CATEGORY_LABELS.items()]),
        validators=[Optional()],
        description=_l("Who may receive surplus equipment free of charge (CGPPP art. L.3212-2)."),
    )
    submit = SubmitField(_l("Save"))


class RegistrationForm(OrganisationForm):
    kind = SelectField(
        _l("You register"),
        choices=options([
            (OrganisationKind.SUPPLIER.value, _l("a supplier (refurbisher, reseller, recycler)")),
            (OrganisationKind.BENEFICIARY.value, _l("a school, an association, a CCAS…")),
        ]),
    )
    full_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "name"})
    user_email = EmailField(_l("Your email address"), validators=[DataRequired(), Email()],
                            render_kw={"autocomplete": "email"})
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Register"))

    def validate_beneficiary_category(self, field) -> None:
        if self.kind.data == OrganisationKind.BENEFICIARY.value and not field.data:
            raise ValidationError(_l("Choose the category your organisation falls under."))

    def validate_siret(self, field) -> None:
        if self.kind.data == OrganisationKind.SUPPLIER.value and not (field.data or "").strip():
            raise ValidationError(_l("A supplier must give its SIRET number."))


class SiteForm(FlaskForm):
    name = StringField(_l("Site name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[DataRequired(), POSTCODE])
    city = StringField(_l("Commune"), validators=[DataRequired(), Length(max=120)])
    contact = StringField(_l("Contact on site"), validators=[Optional(), Length(max=200)])
    instructions = TextAreaField(_l("Access instructions"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Add the site"))


class InviteUserForm(FlaskForm):
    full_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()])
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    role = SelectField(_l("Role"), choices=options((r.value, label) for r, label in ROLE_LABELS.items()))
    submit = SubmitField(_l("Send the invitation"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the rejection"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Reject the registration"))


class AuditFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional()])
    actor = StringField(_l("Who (email)"), validators=[Optional()])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Filter"))


def role_from(value: str) -> Role:
    return Role(value)


def beneficiary_category_from(value: str) -> BeneficiaryCategory | None:
    return BeneficiaryCategory(value) if value else None
