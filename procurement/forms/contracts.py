"""Forms of the contracts register: its filters, the manual entry and the DECP import."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.cpv import CPV_CODES
from core.forms import options, validate_siret
from procurement.models import CONTRACT_SOURCE_LABELS, PROCEDURE_LABELS

YES_NO = [("", _l("All")), ("yes", _l("Yes")), ("no", _l("No"))]


class ContractFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    buyer = SelectField(_l("Buyer"), validators=[Optional()])  # choices: the register's buyers
    year = SelectField(_l("Year of notification"), validators=[Optional()])
    source = SelectField(_l("Source"), validators=[Optional()], choices=options(
        [("", _l("All sources"))] + [(source.value, label) for source, label in CONTRACT_SOURCE_LABELS.items()]))
    cpv = StringField(_l("CPV code"), validators=[Optional(), Length(max=12)],
                      description=_l("A code or its beginning, e.g. 30213 for computers."))
    environmental = SelectField(_l("Environmental consideration"), choices=options(YES_NO), validators=[Optional()])
    social = SelectField(_l("Social consideration"), choices=options(YES_NO), validators=[Optional()])


class ContractForm(FlaskForm):
    decp_id = StringField(_l("Contract number"), validators=[DataRequired(), Length(max=16)],
                          description=_l("Your organisation's number for the contract (DECP id, 1 to 16 characters)."))
    title = TextAreaField(_l("Subject"), validators=[DataRequired(), Length(max=1000)])
    cpv = SelectField(_l("CPV code"), choices=options((code, f"{code} {label}") for code, label in CPV_CODES.items()))
    procedure = SelectField(_l("Procedure"), choices=options(
        (procedure.value, label) for procedure, label in PROCEDURE_LABELS.items()))
    amount = DecimalField(_l("Amount excluding VAT (€)"), places=2,
                          validators=[InputRequired(), NumberRange(min=Decimal("0.01"))])
    notified_on = DateField(_l("Notification date"), validators=[DataRequired()])
    duration_months = IntegerField(_l("Duration (months)"), default=12,
                                   validators=[InputRequired(), NumberRange(min=1, max=1200)])
    supplier_id = SelectField(_l("Holder on the platform"), coerce=int,
                              description=_l("A validated supplier of the platform; otherwise give the holder's "
                                             "name and SIRET below."))
    holder_name = StringField(_l("Holder's name (not on the platform)"), validators=[Optional(), Length(max=300)])
    holder_siret = StringField(_l("Holder's SIRET (not on the platform)"), validators=[Optional(), validate_siret])
    offers_received = IntegerField(_l("Offers received"), validators=[Optional(), NumberRange(min=1)])
    clauses = SelectMultipleField(_l("Clauses of the contract"), coerce=int, validators=[Optional()],
                                  description=_l("Its DECP considerations and environmental score are derived "
                                                 "from these clauses."))
    submit = SubmitField(_l("Save the contract"))


class DecpImportForm(FlaskForm):
    file = FileField(_l("DECP file (JSON)"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("A DECP v2 file, or an older v1 file, as published on data.gouv.fr."))
    all_buyers = BooleanField(_l("Also import the contracts of buyers that are not on the platform (they are "
                                 "created from the file)"))
    submit = SubmitField(_l("Import"))
