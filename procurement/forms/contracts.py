"""Forms of the contracts register: its filters, the manual entry, what a contract's page asks (its AGEC
figures, the DECP fields the award does not tell, a modification) and the DECP import."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.cpv import CPV_CODES
from core.forms import options, validate_siret
from procurement import decp
from procurement.models import CONTRACT_SOURCE_LABELS, PROCEDURE_LABELS
from procurement.services import agec
from procurement.services.contracts import AGEC_FROM_CPV

YES_NO = [("", _l("All")), ("yes", _l("Yes")), ("no", _l("No"))]
CHOOSE = ("", _l("— choose —"))
ANSWER = [CHOOSE, ("yes", _l("Yes")), ("no", _l("No"))]
NO_AGEC_CATEGORY = "none"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _listed(names) -> list:
    """A select of one of the DECP lists: its values as they are named in the schema (French)."""
    return options([CHOOSE] + [(name, name) for name in names])


def _checkboxes(names) -> list:
    return options((name, name) for name in names)


def _agec_categories(with_default: bool) -> list:
    default = [(AGEC_FROM_CPV, _l("From the CPV code (default)"))] if with_default else []
    return options(default + [(NO_AGEC_CATEGORY, _l("None of the declaration's categories"))]
                   + [(name, name) for name in agec.CATEGORIES])


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
    offers_received = IntegerField(_l("Offers received"), validators=[InputRequired(), NumberRange(min=1)],
                                   description=_l("Every offer received, irregular or unacceptable ones included "
                                                  "(DECP)."))
    clauses = SelectMultipleField(_l("Clauses of the contract"), coerce=int, validators=[Optional()],
                                  description=_l("Its DECP considerations and environmental score are derived "
                                                 "from these clauses."))
    # What the DECP v2 schema requires of every contract (schema_decp_v2.0.3.json), asked, never defaulted;
    # the values are the schema's, in French.
    nature = SelectField(_l("Nature"), choices=_listed(decp.NATURES_V2), default="Marché",
                         validators=[DataRequired()])
    techniques = MultiCheckboxField(_l("Purchasing techniques"), choices=_checkboxes(decp.TECHNIQUES),
                                    validators=[DataRequired()],
                                    description=_l("“Sans objet” when none applies."))
    execution_modalities = MultiCheckboxField(_l("Execution modalities"),
                                              choices=_checkboxes(decp.EXECUTION_MODALITIES),
                                              validators=[DataRequired()],
                                              description=_l("“Sans objet” when none applies."))
    innovative = SelectField(_l("Innovative contract"), choices=options(ANSWER), validators=[DataRequired()])
    ccag = SelectField(_l("CCAG of reference"), choices=_listed(decp.CCAGS), validators=[DataRequired()])
    advance_payment = SelectField(_l("Advance granted to the holder"), choices=options(ANSWER),
                                  validators=[DataRequired()])
    operator_grouping = SelectField(_l("Grouping of operators"), choices=_listed(decp.OPERATOR_GROUPINGS),
                                    validators=[DataRequired()])
    place_code = StringField(_l("Place of execution: code"), validators=[DataRequired(), Length(max=10)],
                             description=_l("Preferably the commune's INSEE code, e.g. 94081."))
    place_code_type = SelectField(_l("Place of execution: kind of code"), choices=_listed(decp.PLACE_CODE_TYPES),
                                  validators=[DataRequired()])
    published_on = DateField(_l("Publication date of the data"), validators=[DataRequired()],
                             description=_l("The day the contract's essential data are (or were) first published."))
    price_types = MultiCheckboxField(_l("Price types"), choices=_checkboxes(decp.PRICE_TYPES),
                                     validators=[DataRequired()])
    price_form = SelectField(_l("Price form"), choices=_listed(decp.PRICE_FORMS_V2), validators=[DataRequired()])
    subcontracting_declared = SelectField(_l("Subcontracting declared at notification"), choices=options(ANSWER),
                                          validators=[DataRequired()])
    # Loi AGEC art. 58 (procurement.services.agec).
    agec_category = SelectField(_l("AGEC product category"), choices=_agec_categories(with_default=True),
                                default=AGEC_FROM_CPV)
    agec_reuse_amount = DecimalField(_l("Amount from reuse or re-use, excl. VAT (€)"), places=2,
                                     validators=[Optional(), NumberRange(min=0)],
                                     description=_l("Leave both amounts empty to derive them from the clauses: a "
                                                    "technical specification of refurbished equipment makes the "
                                                    "whole amount from reuse."))
    agec_recycled_amount = DecimalField(_l("Amount with recycled material, excl. VAT (€)"), places=2,
                                        validators=[Optional(), NumberRange(min=0)])
    submit = SubmitField(_l("Save the contract"))


class AgecFiguresForm(FlaskForm):
    """A contract's AGEC art. 58 figures, for its buyer's officer, whatever its source."""

    category = SelectField(_l("AGEC product category"), choices=_agec_categories(with_default=False))
    reuse_amount = DecimalField(_l("Amount from reuse or re-use, excl. VAT (€)"), places=2,
                                validators=[Optional(), NumberRange(min=0)],
                                description=_l("Leave both amounts empty while they are not known."))
    recycled_amount = DecimalField(_l("Amount with recycled material, excl. VAT (€)"), places=2,
                                   validators=[Optional(), NumberRange(min=0)])
    submit = SubmitField(_l("Save the AGEC figures"))


class CompleteDecpForm(FlaskForm):
    """What the award does not tell about a contract tendered here."""

    advance_payment = SelectField(_l("Advance granted to the holder"),
                                  choices=options([("", _l("Not known yet")), ("yes", _l("Yes")), ("no", _l("No"))]))
    subcontracting_declared = SelectField(_l("Subcontracting declared at notification"),
                                          choices=options([("", _l("Not known yet")), ("yes", _l("Yes")),
                                                           ("no", _l("No"))]))
    submit = SubmitField(_l("Complete the contract's data"))


class ModificationForm(FlaskForm):
    """A modification (avenant): what it changes, when it was notified and published."""

    amount = DecimalField(_l("New amount excl. VAT (€)"), places=2,
                          validators=[Optional(), NumberRange(min=Decimal("1"))])
    duration_months = IntegerField(_l("New duration (months)"), validators=[Optional(), NumberRange(min=1, max=1200)])
    holder_name = StringField(_l("New holder's name"), validators=[Optional(), Length(max=300)])
    holder_siret = StringField(_l("New holder's SIRET"), validators=[Optional(), validate_siret])
    notified_on = DateField(_l("Notification date of the modification"), validators=[DataRequired()])
    published_on = DateField(_l("Publication date of its data"), validators=[DataRequired()])
    description = TextAreaField(_l("What it changes, and why"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record the modification"))


class DecpImportForm(FlaskForm):
    file = FileField(_l("DECP file (JSON)"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("A DECP v2 file, or an older v1 file, as published on data.gouv.fr."))
    all_buyers = BooleanField(_l("Also import the contracts of buyers that are not on the platform (they are "
                                 "created from the file)"))
    submit = SubmitField(_l("Import"))
