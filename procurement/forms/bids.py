"""Forms of sealed bids and of their evaluation. The bid form and the marks form have one set of fields
per tender clause or per marked criterion, so they are built for the tender at hand."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DecimalField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class BidForm(FlaskForm):
    price = DecimalField(_l("Price excluding VAT (€)"), places=2,
                         validators=[InputRequired(), NumberRange(min=Decimal("0.01"))],
                         description=_l("The total price of the lot, excluding VAT."))
    memo = FileField(_l("Technical memo (PDF)"),
                     validators=[FileAllowed(["pdf"], _l("The technical memo must be a PDF file."))])
    submit = SubmitField(_l("Submit the bid"))

    def commit_field(self, tender_clause):
        return self[f"commit_{tender_clause.id}"]

    def evidence_field(self, tender_clause):
        return self[f"evidence_{tender_clause.id}"]

    def commitments(self, tender_clauses) -> dict[int, tuple[bool, str]]:
        return {tc.id: (bool(self.commit_field(tc).data), self.evidence_field(tc).data or "")
                for tc in tender_clauses}


def bid_form(tender_clauses, locale: str, replacing: bool, **kwargs) -> BidForm:
    """A commit checkbox and an evidence box per clause of the tender, labelled with its code."""

    class Form(BidForm):
        pass

    for tender_clause in tender_clauses:
        version = tender_clause.version
        code = version.clause.code
        setattr(Form, f"commit_{tender_clause.id}", BooleanField(_("I commit to %(code)s", code=code)))
        setattr(Form, f"evidence_{tender_clause.id}", TextAreaField(
            _("Evidence for %(code)s", code=code), validators=[Optional(), Length(max=4000)],
            description=_("Evidence required: %(evidence)s", evidence=version.evidence(locale))))
    form = Form(**kwargs)
    limit_mb = current_app.config["MAX_MEMO_BYTES"] // 1_000_000
    form.memo.description = (_("Leave empty to keep the memo already submitted (%(mb)d MB at most).", mb=limit_mb)
                             if replacing else _("Required; %(mb)d MB at most.", mb=limit_mb))
    return form


class MarksForm(FlaskForm):
    submit = SubmitField(_l("Save the marks"))

    def mark_field(self, criterion):
        return self[f"mark_{criterion.id}"]

    def comment_field(self, criterion):
        return self[f"comment_{criterion.id}"]


def marks_prefix(bid) -> str:
    # Ends with the separator: WTForms adds none after a public id that ends with "-" or "_".
    return f"bid-{bid.public_id}-"


def marks_form(criteria, **kwargs) -> MarksForm:
    """A mark out of 10 and a comment for each criterion the evaluators mark."""

    class Form(MarksForm):
        pass

    for criterion in criteria:
        setattr(Form, f"mark_{criterion.id}", DecimalField(
            _("Mark out of 10: %(criterion)s", criterion=criterion.name), places=2,
            validators=[Optional(), NumberRange(min=0, max=10)]))
        setattr(Form, f"comment_{criterion.id}", TextAreaField(
            _("Comment: %(criterion)s", criterion=criterion.name), validators=[Optional(), Length(max=4000)]))
    return Form(**kwargs)


class AwardForm(FlaskForm):
    bid = SelectField(_l("Bid to award"))
    reason = TextAreaField(_l("Reason for the choice"), validators=[Optional(), Length(max=4000)],
                           description=_l("Required when the bid is not ranked first."))
    submit = SubmitField(_l("Award the lot"))


class UnsuccessfulForm(FlaskForm):
    # The service refuses an empty reason, with its own message.
    reason = TextAreaField(_l("Reason the lot is unsuccessful"), validators=[Optional(), Length(max=4000)],
                           description=_l("No bid, or none acceptable: the lot is declared unsuccessful."))
    submit = SubmitField(_l("Declare the lot unsuccessful"))
