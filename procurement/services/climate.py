"""Loi Climat et Résilience (n° 2021-1104) art. 35, in force for the procedures launched from 22 August 2026
at the latest (art. 35 VI): the technical specifications take environmental characteristics into account
(CCP L.2111-2), the execution conditions include environmental considerations (L.2112-2), and at least one
award criterion takes environmental characteristics into account (L.2152-7).

Written once here, for the two places that ask:
- a tender cannot be published from that date without an environmental technical specification (a clause of
  the CCTP marked as a technical specification), an environmental execution clause and an environmental
  criterion in its award grid (`tender_problems`);
- a contract of the register notified from that date without any environmental consideration is flagged on
  its page, listed on the dashboard and counted in the indicator `contracts_art35_missing` (`misses_art35`,
  and `missing_condition` for SQL). A contract entered by hand or imported carries only its DECP
  considerations, which cannot tell a specification from an execution condition: the register can check that
  it has one, not which three. Reading: the register does not know when a contract's procedure was launched,
  so the notification date stands for it, and the flag asks the officer to check rather than condemns; a
  contract whose considerations are unknown is not flagged (nobody knows it lacks one) but counted apart
  with the unknown ones (`contracts_env_unknown`).
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, not_, or_, select

from core.models import Organisation, OrganisationKind
from procurement.models import Contract, CriterionKind, Mechanism, Tender

CLIMATE_RULE_DATE = date(2026, 8, 22)


def applies_on(day: date | None) -> bool:
    """Whether art. 35 binds what happens on this day (22 August 2026 included)."""
    return day is not None and day >= CLIMATE_RULE_DATE


def tender_problems(tender: Tender) -> list[str]:
    """What the tender lacks for art. 35, one sentence per missing provision (whatever the date)."""
    versions = [tender_clause.version for tender_clause in tender.clauses]

    def has_clause(mechanism: Mechanism) -> bool:
        return any(version.is_environmental and version.mechanism is mechanism for version in versions)

    problems = []
    if not has_clause(Mechanism.TECHNICAL_SPECIFICATION):
        problems.append(_("Loi Climat et Résilience (art. 35, CCP L.2111-2): the technical specifications need at "
                          "least one environmental clause (a clause of the CCTP marked as a technical "
                          "specification)."))
    if not has_clause(Mechanism.EXECUTION_CLAUSE):
        problems.append(_("Loi Climat et Résilience (art. 35, CCP L.2112-2): the tender needs at least one "
                          "environmental execution clause."))
    if not any(criterion.kind is CriterionKind.ENVIRONMENTAL for criterion in tender.criteria):
        problems.append(_("Loi Climat et Résilience (art. 35, CCP L.2152-7): the grid needs at least one "
                          "environmental award criterion."))
    return problems


def misses_art35(contract: Contract) -> bool:
    """A contract notified from 22 August 2026 whose known considerations hold nothing environmental."""
    return (applies_on(contract.notified_on) and contract.env_considerations_known
            and not (contract.env_clause or contract.env_criterion))


def missing_condition():
    """`misses_art35` as an SQL condition on contracts."""
    return and_(Contract.notified_on >= CLIMATE_RULE_DATE, Contract.env_considerations_known.is_(True),
                not_(or_(Contract.env_clause, Contract.env_criterion)))


def contracts_missing_art35(buyer_id: int | None = None, year: int | None = None):
    """A select of the contracts `misses_art35` flags, a buyer's or the territory's buyers', of a year or of
    every year, latest notified first."""
    query = (select(Contract).where(missing_condition())
             .order_by(Contract.notified_on.desc(), Contract.id.desc()))
    if year is not None:
        query = query.where(Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)))
    if buyer_id is not None:
        return query.where(Contract.buyer_id == buyer_id)
    territory = [kind for kind in OrganisationKind if kind.is_public_buyer]
    return query.where(Contract.buyer_id.in_(select(Organisation.id).where(Organisation.kind.in_(territory))))
