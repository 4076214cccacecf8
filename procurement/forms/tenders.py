"""Forms of tenders: the tender itself, its lots, its award grid, clauses, questions and cancellation, and
the list's filters."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DateTimeLocalField, DecimalField, Form, FormField, IntegerField, SearchField,
                     SelectField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.cpv import CPV_CODES
from core.forms import options
from core.i18n import local_to_utc, to_local
from procurement.models import (CRITERION_KIND_LABELS, PROCEDURE_LABELS, RESERVATION_LABELS, TENDER_STATUS_LABELS,
                                CriterionKind, ProcedureType, Reservation)
from procurement.services.tenders import OPEN_FOR_BIDS, TenderData, TenderFilters

# The award grid has this many rows; the empty ones are ignored.
CRITERIA_ROWS = 6


def _cpv_choices():
    return [(code, f"{code} · {label}") for code, label in CPV_CODES.items()]


class TenderForm(FlaskForm):
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=40)],
                            description=_l("Your organisation's number for this consultation, e.g. 2026-INFO-03."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Object of the consultation"), validators=[Optional(), Length(max=8000)])
    cpv = SelectField(_l("CPV code"), choices=options(_cpv_choices()))
    procedure = SelectField(_l("Procedure"), choices=options((p.value, label) for p, label in PROCEDURE_LABELS.items()))
    reservation = SelectField(_l("Reserved contract"),
                              choices=options((r.value, label) for r, label in RESERVATION_LABELS.items()))
    estimated_value = DecimalField(_l("Estimated value excl. VAT (€)"), places=2,
                                   validators=[InputRequired(), NumberRange(min=Decimal("0.01"))])
    duration_months = IntegerField(_l("Duration (months)"), default=12,
                                   validators=[InputRequired(), NumberRange(min=1, max=120)])
    deadline = DateTimeLocalField(_l("Deadline for bids (Paris time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    submit = SubmitField(_l("Save the draft"))

    def fill_from(self, tender) -> None:
        """On a GET of the edit page: the deadline in Paris time, as the field shows it."""
        self.deadline.data = to_local(tender.deadline).replace(tzinfo=None)

    def tender_data(self) -> TenderData:
        return TenderData(
            reference=self.reference.data or "", title=self.title.data or "",
            description=self.description.data or "", cpv=self.cpv.data,
            procedure=ProcedureType(self.procedure.data), estimated_value=self.estimated_value.data,
            deadline=local_to_utc(self.deadline.data), duration_months=self.duration_months.data,
            reservation=Reservation(self.reservation.data),
        )


class LotForm(FlaskForm):
    campaign_line_id = SelectField(_l("From a group-order line handed to a tender"), coerce=int,
                                   default=0,
                                   description=_l("The lot then takes the line's title, specification and "
                                                  "census quantity."))
    title = StringField(_l("Lot title"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Lot description"), validators=[Optional(), Length(max=4000)])
    quantity = IntegerField(_l("Quantity"), validators=[Optional(), NumberRange(min=1)])
    estimated_value = DecimalField(_l("Estimated value of the lot excl. VAT (€)"), places=2,
                                   validators=[Optional(), NumberRange(min=Decimal("0.01"))])
    submit = SubmitField(_l("Add the lot"))

    def set_lines(self, lines) -> None:
        self.campaign_line_id.choices = options(
            [(0, _l("None: describe the lot below"))]
            + [(line.id, f"{line.campaign.title} · {line.title} ({line.total_quantity})") for line in lines])

    @property
    def from_line(self) -> bool:
        return bool(self.campaign_line_id.data)

    def validate(self, extra_validators=None) -> bool:
        # Title and quantity are Optional (a group-order line brings them), so their own validators stop
        # on an empty value: whether they are needed is checked here.
        valid = super().validate(extra_validators)
        if not self.from_line:
            if not (self.title.data or "").strip():
                self.title.errors = [*self.title.errors, _l("Give the lot a title, or choose a group-order line.")]
                valid = False
            if self.quantity.data is None and not self.quantity.errors:
                self.quantity.errors = [*self.quantity.errors, _l("Give the quantity, or choose a group-order line.")]
                valid = False
        return valid


class CriterionRowForm(Form):
    """One row of the award grid; a row without kind and weight is ignored."""

    kind = SelectField(_l("Kind"), choices=options([("", "—")] + [(k.value, label)
                                                                 for k, label in CRITERION_KIND_LABELS.items()]),
                       default="", validators=[Optional()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    weight = IntegerField(_l("Weight (points)"), validators=[Optional(), NumberRange(min=1, max=100)])

    def validate(self, extra_validators=None) -> bool:
        # Every field is Optional (a row may stay empty), so a half-filled row is caught here.
        valid = super().validate(extra_validators)
        if self.kind.data and self.weight.data is None and not self.weight.errors:
            self.weight.errors = [*self.weight.errors, _l("Give the criterion's weight.")]
            valid = False
        if self.weight.data is not None and not self.kind.data:
            self.kind.errors = [*self.kind.errors, _l("Choose the criterion's kind.")]
            valid = False
        return valid

    @property
    def empty(self) -> bool:
        return not self.kind.data and self.weight.data is None


class CriteriaForm(FlaskForm):
    """A fixed number of rows, each a field of its own (row0 … row5): unlike a FieldList, a row posted
    empty or missing can never shift the others."""

    submit = SubmitField(_l("Save the award criteria"))

    @classmethod
    def for_tender(cls, tender) -> CriteriaForm:
        rows = {f"row{i}": {"kind": c.kind.value, "name": c.name, "weight": c.weight}
                for i, c in enumerate(tender.criteria[:CRITERIA_ROWS])}
        return cls(formdata=None, prefix="criteria", data=rows)

    @property
    def rows(self) -> list:
        return [self[f"row{i}"] for i in range(CRITERIA_ROWS)]

    def criteria(self) -> list[tuple[CriterionKind, str, int]]:
        return [(CriterionKind(row.form.kind.data), row.form.name.data or "", row.form.weight.data)
                for row in self.rows if not row.form.empty]


for _row in range(CRITERIA_ROWS):
    setattr(CriteriaForm, f"row{_row}", FormField(CriterionRowForm))


class AttachClauseForm(FlaskForm):
    clause_version_id = IntegerField(validators=[InputRequired()])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the cancellation"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("Told to everyone who can see the tender."))
    submit = SubmitField(_l("Cancel the tender"))


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=4000)],
                         description=_l("The answer is published to every bidder, without naming who asked."))
    submit = SubmitField(_l("Ask the question"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=8000)],
                           description=_l("Published to every bidder; the asker is not named."))
    submit = SubmitField(_l("Publish the answer"))


RESERVED_CHOICES = (("", _l("Any")), ("yes", _l("Reserved")), ("no", _l("Not reserved")))


class TenderFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Words in the tender"), validators=[Optional(), Length(max=100)])
    cpv = SelectField(_l("CPV code"), choices=options([("", _l("Any"))] + _cpv_choices()), validators=[Optional()])
    city = SelectField(_l("Buyer's commune"), validators=[Optional()])
    reserved = SelectField(_l("Reserved contract"), choices=options(RESERVED_CHOICES), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=options([("", _l("Any")), (OPEN_FOR_BIDS, _l("Open for bids"))]
                                         + [(s.value, label) for s, label in TENDER_STATUS_LABELS.items()]))

    def set_cities(self, cities: list[str]) -> None:
        self.city.choices = options([("", _l("Any"))] + [(city, city) for city in cities])

    def filters(self) -> TenderFilters:
        """What the query string asks for; a value that does not parse is ignored, never an error page."""
        self.validate()

        def value(field):
            return field.data if field.data and not field.errors else None

        reserved = value(self.reserved)
        return TenderFilters(text=(self.q.data or "").strip()[:100] if not self.q.errors else "",
                             cpv=value(self.cpv), city=value(self.city),
                             reserved=None if reserved is None else reserved == "yes", status=value(self.status))
