"""Forms of the basket and the orders."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core.forms import options
from marketplace.models import ORDER_STATUS_LABELS
from marketplace.services.basket import MAX_QUANTITY


class AddToBasketForm(FlaskForm):
    """Posted from a catalogue offer's page."""

    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=1, max=MAX_QUANTITY)],
                            default=1)
    site_id = SelectField(_l("Delivery site"), coerce=int, validators=[Optional()],
                          description=_l("Without a choice, the first site of your organisation."))
    submit = SubmitField(_l("Add to the basket"))


def add_to_basket_form(organisation) -> AddToBasketForm:
    """The form with the organisation's delivery sites to choose from."""
    form = AddToBasketForm()
    form.site_id.choices = options((site.id, site.name) for site in organisation.sites)
    return form


class BasketItemForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=0, max=MAX_QUANTITY)],
                            description=_l("0 removes the line."))
    submit = SubmitField(_l("Update"))


class PlaceOrderForm(FlaskForm):
    budget_line = StringField(_l("Budget line (optional)"), validators=[Optional(), Length(max=100)],
                              description=_l("Printed on the purchase orders, e.g. “2183 – Computer equipment”."))
    submit = SubmitField(_l("Place the orders"))


class SiteActionForm(FlaskForm):
    """Ship or confirm the delivery of one site's lines, or of the whole order without a site."""

    site_id = IntegerField(_l("Delivery site"), validators=[Optional()])
    submit = SubmitField(_l("Confirm"))


class OrderFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=options([("", _l("All"))] + [(s.value, label) for s, label in ORDER_STATUS_LABELS.items()]))
    side = SelectField(_l("Orders"), validators=[Optional()],
                       choices=options([("", _l("Placed and received")), ("placed", _l("Placed by my organisation")),
                                        ("received", _l("Received by my organisation"))]))
    submit = SubmitField(_l("Filter"))
