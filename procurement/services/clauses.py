"""The clause library. A clause is never edited in place: an edit adds a version, so that a tender keeps
the text it was published with. The seed library is procurement/data/clauses.json."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, permissions
from core.errors import RuleViolation
from core.extensions import db
from core.models import User
from procurement.models import DECP_CONSIDERATIONS, Clause, ClauseVersion, Mechanism, Theme

LIBRARY_FILE = Path(__file__).resolve().parent.parent / "data" / "clauses.json"
OCDS_GOALS_FILE = Path(__file__).resolve().parent.parent / "data" / "ocds_goals.txt"


def ocds_goals() -> list[str]:
    """The OCDS sustainability goal codes (reference/ocds/sustainabilityGoal.csv)."""
    return [line.strip() for line in OCDS_GOALS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class ClauseData:
    title_fr: str
    title_en: str
    text_fr: str
    text_en: str
    evidence_fr: str
    evidence_en: str
    theme: Theme
    mechanism: Mechanism
    decp_consideration: str
    ocds_goal: str
    source: str = ""


def _check(data: ClauseData) -> None:
    for value in (data.title_fr, data.title_en, data.text_fr, data.text_en):
        if not value.strip():
            raise RuleViolation(_("A clause has a title and a text in French and in English."))
    if data.decp_consideration not in DECP_CONSIDERATIONS:
        raise RuleViolation(_("Choose the DECP consideration the clause stands for."))
    if data.ocds_goal not in ocds_goals():
        raise RuleViolation(_("Choose an OCDS sustainability goal of the code list."))
    social = data.decp_consideration in ("Clause sociale", "Critère social", "Marché réservé")
    if social != data.theme.is_social:
        raise RuleViolation(_("A social theme goes with a social DECP consideration, an environmental theme "
                              "with an environmental one."))
    if (data.decp_consideration == "Marché réservé") != (data.theme is Theme.RESERVED_CONTRACT):
        raise RuleViolation(_("The DECP consideration “Marché réservé” goes with the reserved-contract theme."))
    if data.theme is not Theme.RESERVED_CONTRACT and (
            data.decp_consideration.startswith("Critère") != (data.mechanism is Mechanism.AWARD_CRITERION)):
        raise RuleViolation(_("An award criterion stands for a DECP “Critère”, any other mechanism for a "
                              "“Clause”."))


def _version(clause: Clause, data: ClauseData, actor: User | None) -> ClauseVersion:
    number = (clause.versions[-1].number + 1) if clause.versions else 1
    version = ClauseVersion(number=number, created_by_id=actor.id if actor else None,
                            **{k: (v.strip() if type(v) is str else v)  # not the enums, which are str too
                               for k, v in asdict(data).items()})
    clause.versions.append(version)
    return version


def create_clause(actor: User, code: str, data: ClauseData) -> Clause:
    permissions.require(actor, "clause.edit")
    code = code.strip().upper()
    if not code or len(code) > 20:
        raise RuleViolation(_("A clause code has 1 to 20 characters."))
    if db.session.scalar(select(Clause.id).where(Clause.code == code)):
        raise RuleViolation(_("The code %(code)s is already used.", code=code))
    _check(data)
    clause = Clause(code=code, active=True)
    _version(clause, data, actor)
    db.session.add(clause)
    audit.record(actor, "clause.created", clause)
    return clause


def edit_clause(actor: User, clause: Clause, data: ClauseData) -> ClauseVersion:
    permissions.require(actor, "clause.edit")
    _check(data)
    version = _version(clause, data, actor)
    audit.record(actor, "clause.versioned", clause, version=version.number)
    return version


def set_active(actor: User, clause: Clause, active: bool) -> None:
    permissions.require(actor, "clause.edit")
    clause.active = active
    audit.record(actor, "clause.activated" if active else "clause.retired", clause)


def load_library(path: Path = LIBRARY_FILE) -> int:
    """Add the seed clauses whose code is not in the database yet; never touches existing ones.
    Returns how many were added."""
    added = 0
    existing = set(db.session.scalars(select(Clause.code)))
    for entry in json.loads(path.read_text(encoding="utf-8"))["clauses"]:
        if entry["code"] in existing:
            continue
        data = ClauseData(**{k: entry[k] for k in ClauseData.__dataclass_fields__ if k in entry})
        data.theme, data.mechanism = Theme(entry["theme"]), Mechanism(entry["mechanism"])
        _check(data)
        clause = Clause(code=entry["code"], active=True)
        _version(clause, data, None)
        db.session.add(clause)
        added += 1
    return added
