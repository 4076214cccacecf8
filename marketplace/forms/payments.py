"""Forms of the payment steps of an order (administrative mandate). The card payment button carries only
its CSRF token (core.forms.ConfirmForm)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class BudgetLineForm(FlaskForm):
    budget_line = StringField(_l("Budget line"), validators=[DataRequired(), Length(max=100)],
                              description=_l("The imputation budgétaire the order is charged to, "
                                             "e.g. “2183 – 020 – informatique”."))
    submit = SubmitField(_l("Record the budget line"))


class InvoiceForm(FlaskForm):
    invoice_number = StringField(_l("Invoice number"), validators=[DataRequired(), Length(max=60)])
    invoice_date = DateField(_l("Invoice date"), validators=[DataRequired()])
    submit = SubmitField(_l("Record the invoice"))


class MandateForm(FlaskForm):
    mandate_reference = StringField(_l("Mandate reference"), validators=[DataRequired(), Length(max=60)],
                                    description=_l("The number of the payment mandate issued by the finance "
                                                   "department."))
    paid_on = DateField(_l("Payment date"), validators=[DataRequired()])
    submit = SubmitField(_l("Record the payment"))
