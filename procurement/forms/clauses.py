"""Forms of the clause library: a clause's content (one version), and the list's filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import options
from procurement.models import DECP_CONSIDERATIONS, MECHANISM_LABELS, THEME_LABELS, Mechanism, Theme
from procurement.services.clauses import ClauseData, ocds_goals


def _theme_choices() -> list[tuple]:
    return [(theme.value, label) for theme, label in THEME_LABELS.items()]


def _mechanism_choices() -> list[tuple]:
    return [(mechanism.value, label) for mechanism, label in MECHANISM_LABELS.items()]


class ClauseForm(FlaskForm):
    """The content of a version. The DECP names are the official French values of the open-data schema,
    so they are not translated."""

    title_fr = StringField(_l("Title in French"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    text_fr = TextAreaField(_l("Text in French"), validators=[DataRequired(), Length(max=20000)],
                            render_kw={"rows": 8})
    text_en = TextAreaField(_l("Text in English"), validators=[DataRequired(), Length(max=20000)],
                            render_kw={"rows": 8})
    evidence_fr = TextAreaField(_l("Evidence required, in French"), validators=[Optional(), Length(max=5000)],
                                description=_l("What a bidder gives to show it meets the clause."))
    evidence_en = TextAreaField(_l("Evidence required, in English"), validators=[Optional(), Length(max=5000)])
    theme = SelectField(_l("Theme"), choices=options(_theme_choices()))
    mechanism = SelectField(_l("Mechanism"), choices=options(_mechanism_choices()),
                            description=_l("An award criterion scores; the other mechanisms bind the bidder."))
    decp_consideration = SelectField(
        _l("DECP consideration"), choices=options((name, name) for name in DECP_CONSIDERATIONS),
        description=_l("Award criterion: “Critère …”; other mechanisms: “Clause …”; reserved contract: "
                       "“Marché réservé”."))
    ocds_goal = SelectField(_l("OCDS sustainability goal"), choices=options((goal, goal) for goal in ocds_goals()),
                            description=_l("The OCDS strategy follows from the mechanism."))
    source = StringField(_l("Source"), validators=[Optional(), Length(max=300)],
                         description=_l("The text the clause comes from, e.g. “EU GPP computers 2021”."))
    submit = SubmitField(_l("Save"))

    def clause_data(self) -> ClauseData:
        def text(field) -> str:
            return (field.data or "").replace("\r\n", "\n")  # browsers post CRLF line ends

        return ClauseData(
            title_fr=self.title_fr.data, title_en=self.title_en.data, text_fr=text(self.text_fr),
            text_en=text(self.text_en), evidence_fr=text(self.evidence_fr),
            evidence_en=text(self.evidence_en), theme=Theme(self.theme.data),
            mechanism=Mechanism(self.mechanism.data), decp_consideration=self.decp_consideration.data,
            ocds_goal=self.ocds_goal.data, source=self.source.data or "",
        )


class NewClauseForm(ClauseForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=_l("Up to 20 characters, e.g. ENV-DUR-01; it cannot change afterwards."))
    submit = SubmitField(_l("Add the clause"))


class ClauseFilterForm(FlaskForm):
    """Filters in the query string: a GET form has no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Words in the clause"), validators=[Optional(), Length(max=100)])
    theme = SelectField(_l("Theme"), choices=options([("", _l("All themes"))] + _theme_choices()),
                        validators=[Optional()])
    mechanism = SelectField(_l("Mechanism"), choices=options([("", _l("All mechanisms"))] + _mechanism_choices()),
                            validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=options([("", _l("Environmental and social")),
                                                    ("environmental", _l("Environmental")),
                                                    ("social", _l("Social"))]),
                       validators=[Optional()])
    status = SelectField(_l("Status"), choices=options([("active", _l("Active")), ("retired", _l("Retired")),
                                                        ("all", _l("Active and retired"))]),
                         validators=[Optional()])
    submit = SubmitField(_l("Filter"))
