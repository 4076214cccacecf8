"""Forms of the catalogue: a supplier's offer and the buyers' filters. (Adding an offer to the basket is
marketplace.forms.orders.AddToBasketForm.)"""
from __future__ import annotations

from decimal import Decimal

from flask_babel import LazyString, format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DecimalField, IntegerField, SearchField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import POSTCODE, options
from marketplace.models import Grade, Label
from marketplace.services.catalogue import CPV_CODES, GRADE_LABELS, SORTS, VAT_RATES, OfferData, Tier
from reuse.models import CATEGORY_LABELS, DeviceCategory

MAX_TIER_ROWS = 3


def vat_label(rate: Decimal) -> LazyString:
    """20 %, 5,5 % in French, 5.5 % in English: formatted when shown, in the reader's locale."""
    return LazyString(lambda: f"{format_decimal(rate, format='#,##0.#')} %")


def _category_choices():
    return [(c.value, label) for c, label in CATEGORY_LABELS.items()]


def _grade_choices():
    return [(g.value, label) for g, label in GRADE_LABELS.items()]


def _label_choices():
    return [(label.value, label.label) for label in Label]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _tier_fields(n: int):
    quantity = IntegerField(_l("Volume price %(n)d: from (units)", n=n),
                            validators=[Optional(), NumberRange(min=2)])
    price = DecimalField(_l("Volume price %(n)d: unit price excl. VAT (€)", n=n), places=2,
                         validators=[Optional(), NumberRange(min=Decimal("0.01"))])
    return quantity, price


class OfferForm(FlaskForm):
    category = SelectField(_l("Category"), choices=options(_category_choices()))
    cpv = SelectField(_l("CPV code"),
                      choices=options([("", _l("The category's code"))]
                                      + [(code, f"{code} · {label}") for code, label in CPV_CODES.items()]),
                      validators=[Optional()],
                      description=_l("Left on the category's code, it follows the factor table of the platform."))
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=100)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=150)])
    specifications = TextAreaField(_l("Specifications"), validators=[Optional(), Length(max=4000)])
    cpu = StringField(_l("Processor"), validators=[Optional(), Length(max=150)])
    ram_gb = IntegerField(_l("Memory (GB)"), validators=[Optional(), NumberRange(min=0, max=4096)])
    storage_gb = IntegerField(_l("Storage size (GB)"), validators=[Optional(), NumberRange(min=0)])
    screen_inches = DecimalField(_l("Screen size (inches)"), places=1,
                                 validators=[Optional(), NumberRange(min=0, max=150)])
    is_reconditioned = BooleanField(_l("Reconditioned device"), default=True)
    grade = SelectField(_l("Cosmetic grade"), choices=options([("", "—")] + _grade_choices()),
                        validators=[Optional()], description=_l("Required for a reconditioned device."))
    battery_health_pct = IntegerField(_l("Battery health (%)"), validators=[Optional(), NumberRange(min=0, max=100)],
                                      description=_l("Laptops, tablets and smartphones only."))
    warranty_months = IntegerField(_l("Warranty (months)"), default=12,
                                   validators=[InputRequired(), NumberRange(min=0, max=120)])
    unit_price = DecimalField(_l("Unit price excl. VAT (€)"), places=2,
                              validators=[InputRequired(), NumberRange(min=Decimal("0.01"))])
    vat_rate = SelectField(_l("VAT rate"), coerce=Decimal, default=VAT_RATES[0],
                           choices=options((str(rate), vat_label(rate)) for rate in VAT_RATES))
    tier1_quantity, tier1_price = _tier_fields(1)
    tier2_quantity, tier2_price = _tier_fields(2)
    tier3_quantity, tier3_price = _tier_fields(3)
    stock = IntegerField(_l("Units in stock"), default=0, validators=[InputRequired(), NumberRange(min=0)])
    lead_time_days = IntegerField(_l("Lead time (days)"), default=5,
                                  validators=[InputRequired(), NumberRange(min=0, max=365)])
    reconditioning_postcode = StringField(_l("Reconditioning site: postcode"), validators=[Optional(), POSTCODE])
    reconditioning_city = StringField(_l("Reconditioning site: commune"), validators=[Optional(), Length(max=120)])
    labels = MultiCheckboxField(_l("Labels"), choices=options(_label_choices()))
    repairability_index = DecimalField(_l("Repairability index (0 to 10)"), places=1,
                                       validators=[Optional(), NumberRange(min=0, max=10)])
    spare_parts_years = IntegerField(_l("Spare parts available for (years)"),
                                     validators=[Optional(), NumberRange(min=0, max=30)])
    active = BooleanField(_l("Shown in the catalogue"), default=True,
                          description=_l("An offer is shown only while it has stock."))
    submit = SubmitField(_l("Save the offer"))

    def tier_rows(self):
        return [(self[f"tier{n}_quantity"], self[f"tier{n}_price"]) for n in range(1, MAX_TIER_ROWS + 1)]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for quantity, price in self.tier_rows():
            if (quantity.data is None) != (price.data is None) and not (quantity.errors or price.errors):
                blank = quantity if quantity.data is None else price
                blank.errors = [*blank.errors, _l("Give both the quantity and the price of the volume price.")]
                valid = False
        return valid

    def validate_grade(self, field) -> None:
        if self.is_reconditioned.data and not field.data:
            raise ValidationError(_l("A reconditioned device needs a cosmetic grade (A, B or C)."))

    def fill_from(self, offer) -> None:
        """On a GET of the edit page: the values the form cannot take from the offer by itself."""
        self.category.data = offer.category.value
        self.grade.data = offer.grade.value if offer.grade else ""
        self.labels.data = list(offer.labels)
        for (quantity, price), tier in zip(self.tier_rows(), offer.tiers):
            quantity.data, price.data = tier.min_quantity, tier.unit_price

    def offer_data(self) -> OfferData:
        return OfferData(
            category=DeviceCategory(self.category.data), cpv=self.cpv.data or None,
            brand=self.brand.data or "", model=self.model.data or "",
            specifications=self.specifications.data or "", cpu=self.cpu.data or "",
            ram_gb=self.ram_gb.data, storage_gb=self.storage_gb.data, screen_inches=self.screen_inches.data,
            is_reconditioned=self.is_reconditioned.data, grade=Grade(self.grade.data) if self.grade.data else None,
            battery_health_pct=self.battery_health_pct.data, warranty_months=self.warranty_months.data,
            unit_price=self.unit_price.data, vat_rate=self.vat_rate.data,
            tiers=[Tier(quantity.data, price.data) for quantity, price in self.tier_rows()
                   if quantity.data is not None and price.data is not None],
            stock=self.stock.data, lead_time_days=self.lead_time_days.data,
            reconditioning_postcode=self.reconditioning_postcode.data or "",
            reconditioning_city=self.reconditioning_city.data or "",
            labels=[Label(value) for value in self.labels.data or []],
            repairability_index=self.repairability_index.data, spare_parts_years=self.spare_parts_years.data,
            active=self.active.data,
        )


class CatalogueFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)],
                    render_kw={"placeholder": _l("Brand, model, features, supplier")})
    category = SelectField(_l("Category"), choices=options([("", _l("All categories"))] + _category_choices()),
                           validators=[Optional()])
    grade = SelectField(_l("Cosmetic grade"), choices=options([("", _l("All grades"))] + _grade_choices()),
                        validators=[Optional()])
    max_price = DecimalField(_l("Maximum price excl. VAT (€)"), places=2, validators=[Optional(), NumberRange(min=0)])
    label = SelectField(_l("Label"), choices=options([("", _l("Any label"))] + _label_choices()),
                        validators=[Optional()])
    in_territory = BooleanField(_l("Suppliers in the territory"))
    social_economy = BooleanField(_l("Social-economy suppliers (ESS, EA/ESAT, SIAE)"))
    reconditioned_only = BooleanField(_l("Reconditioned only"))
    sort = SelectField(_l("Sort by"), choices=options((s.key, s.label) for s in SORTS), validators=[Optional()])
    submit = SubmitField(_l("Filter"))

