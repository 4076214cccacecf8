"""Forms of the AGEC art. 58 figures: an administrator's value for a cell of the donation grid."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class DonationValueForm(FlaskForm):
    category = HiddenField(validators=[DataRequired()])
    age_band = HiddenField(validators=[DataRequired()])
    value = DecimalField(_l("Value excl. VAT (€)"), places=2, validators=[Optional(), NumberRange(min=0)],
                         description=_l("Empty: to be completed."))
    source = StringField(_l("Where it was read"), validators=[Optional(), Length(max=500)],
                         description=_l("The arrêté's annex and its page."))
    submit = SubmitField(_l("Save"))
