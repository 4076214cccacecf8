"""Forms of group orders (campaigns)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.forms import options
from marketplace.forms.catalogue import MultiCheckboxField
from reuse.models import CATEGORY_LABELS


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    deadline = DateTimeLocalField(_l("Deadline for the members' needs (Paris time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    submit = SubmitField(_l("Open the campaign"))


class CampaignLineForm(FlaskForm):
    title = StringField(_l("Line title"), validators=[DataRequired(), Length(max=200)])
    specification = TextAreaField(_l("Required specification"), validators=[DataRequired(), Length(max=4000)])
    category = SelectField(_l("Category"), choices=options((c.value, label) for c, label in CATEGORY_LABELS.items()))
    min_total_quantity = IntegerField(_l("Minimum total quantity"), default=1,
                                      validators=[InputRequired(), NumberRange(min=1)])
    offers = MultiCheckboxField(_l("Eligible catalogue offers"), coerce=int, validators=[Optional()])
    to_be_tendered = BooleanField(_l("To be tendered (no catalogue offer fits)"))
    submit = SubmitField(_l("Add the line"))


class ParticipationForm(FlaskForm):
    site_id = SelectField(_l("Delivery site"), coerce=int)
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=0)],
                            description=_l("0 withdraws your need for this site."))
    submit = SubmitField(_l("Save my need"))


class DeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(_l("New deadline (Paris time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    submit = SubmitField(_l("Extend the campaign"))


class AwardForm(FlaskForm):
    offer_id = SelectField(_l("Offer"), coerce=int)
    submit = SubmitField(_l("Award the line"))
