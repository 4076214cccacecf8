"""What a contract or a tender commits to for the environment and society, written once: the DECP v2
considerations, the OCDS sustainability goals and strategies, and the environmental score all come from one
list of commitments.

Where the commitments come from:
- a contract tendered here, and the tender itself: its clauses and its tender's award grid and reservation;
- a contract entered by hand: the clauses its officer chose;
- an imported contract: the considerations its DECP record states. A DECP v1 record states none: its
  considerations are unknown, which is not "none" (the indicators count unknown ones apart).

Each commitment makes the DECP consideration of the mechanism that carries it (arrêté of 22 December 2022,
DECP v2 `considerationsEnvironnementales` / `considerationsSociales`; CCP L.2111-2, L.2112-2, L.2152-7):
- an execution condition (L.2112-2) or a technical specification (L.2111-2) is a clause of the contract:
  "Clause environnementale" / "Clause sociale";
- an award criterion (L.2152-7) is a criterion of the tender's grid: "Critère …". An award-criterion clause
  of a tender is scored through the grid's criterion of its kind (procurement.services.evaluation), so it is
  that criterion, counted once; with no such criterion in the grid nothing scores it, and it makes none. A
  contract entered by hand has no grid: the award-criterion clause its officer chose stands for its criterion;
- a reservation (CCP L.2113-12 to L.2113-15), or the reserved-contract clause: "Marché réservé";
- a selection criterion judges the candidate, not what the contract binds it to: it makes no DECP
  consideration (the reading an auditor would take of "clause"), though OCDS has a strategy for it.

Environmental score (0 to 100, capped): each environmental commitment counts once, the points of its
mechanism (MECHANISM_POINTS), except a criterion of the tender's grid, which counts its weight. An imported
contract has only its file's considerations: a "Clause environnementale" counts as an execution clause, a
"Critère environnemental" as an award criterion.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from procurement.models import (ENV_CLAUSE, ENV_CRITERION, NO_ENV, NO_SOCIAL, RESERVED, SOCIAL_CLAUSE,
                                SOCIAL_CRITERION, ClauseVersion, Contract, ContractSource, CriterionKind,
                                Mechanism, Reservation, Tender, Theme)

MECHANISM_POINTS = {
    Mechanism.EXECUTION_CLAUSE: 20,
    Mechanism.AWARD_CRITERION: 20,
    Mechanism.TECHNICAL_SPECIFICATION: 15,
    Mechanism.SELECTION_CRITERION: 10,
}

# The module docstring's formula, for the contract page (translated).
SCORE_EXPLANATION = _l(
    "Environmental score (0 to 100, capped): each environmental commitment counts once, the points of its "
    "mechanism (execution clause %(execution)d, award criterion %(award)d, technical specification "
    "%(specification)d, selection criterion %(selection)d), except an environmental criterion of the tender's "
    "grid, which counts its weight (the award-criterion clauses it scores are part of it). An imported "
    "contract has no clauses, only its DECP considerations: a “Clause environnementale” counts as an execution "
    "clause, a “Critère environnemental” as an award criterion.",
    execution=MECHANISM_POINTS[Mechanism.EXECUTION_CLAUSE], award=MECHANISM_POINTS[Mechanism.AWARD_CRITERION],
    specification=MECHANISM_POINTS[Mechanism.TECHNICAL_SPECIFICATION],
    selection=MECHANISM_POINTS[Mechanism.SELECTION_CRITERION])

RESERVATION_GOALS = {
    Reservation.EA_ESAT: "social.disadvantagedEmploymentOpportunities",
    Reservation.SIAE: "social.disadvantagedEmploymentOpportunities",
    Reservation.ESS: "social",
}
# DECP v1 and v2 files name the mechanism only: "Clause …" or "Critère …" (DOMAIN.md mapping to OCDS).
_FROM_DECP = {
    ENV_CLAUSE: (True, Mechanism.EXECUTION_CLAUSE), ENV_CRITERION: (True, Mechanism.AWARD_CRITERION),
    SOCIAL_CLAUSE: (False, Mechanism.EXECUTION_CLAUSE), SOCIAL_CRITERION: (False, Mechanism.AWARD_CRITERION),
}
_CLAUSE_MECHANISMS = (Mechanism.EXECUTION_CLAUSE, Mechanism.TECHNICAL_SPECIFICATION)


@dataclass(frozen=True)
class Commitment:
    environmental: bool            # else social
    consideration: str | None      # the DECP v2 name it makes, None for a selection criterion
    goals: tuple[str, ...]         # OCDS sustainability goals
    strategy: str                  # OCDS sustainability strategy
    points: int                    # environmental score points (0 for a social commitment)
    source: str                    # "clause", "criterion", "reservation" or "decp"
    label: str
    mechanism: Mechanism | None = None
    code: str = ""
    version: int | None = None


def _clause(version: ClauseVersion, consideration: str | None, strategy: str) -> Commitment:
    environmental = version.is_environmental
    return Commitment(environmental, consideration, (version.ocds_goal,), strategy,
                      MECHANISM_POINTS[version.mechanism] if environmental else 0, "clause", version.title_fr,
                      version.mechanism, version.clause.code, version.number)


def _from_clauses(versions: list[ClauseVersion], tender: Tender | None) -> list[Commitment]:
    found = []
    for version in sorted(versions, key=lambda v: v.clause.code):  # a stable breakdown
        environmental = version.is_environmental
        if version.theme is Theme.RESERVED_CONTRACT:
            found.append(_clause(version, RESERVED, "reservedParticipation"))
        elif version.mechanism in _CLAUSE_MECHANISMS:
            found.append(_clause(version, ENV_CLAUSE if environmental else SOCIAL_CLAUSE,
                                 version.mechanism.ocds_strategy))
        elif version.mechanism is Mechanism.SELECTION_CRITERION:
            found.append(_clause(version, None, version.mechanism.ocds_strategy))
        elif tender is None:  # an award criterion chosen for a contract entered by hand
            found.append(_clause(version, ENV_CRITERION if environmental else SOCIAL_CRITERION, "awardCriteria"))
    return found


def _from_tender(tender: Tender, versions: list[ClauseVersion]) -> list[Commitment]:
    found = []
    award_goals = {kind: tuple(dict.fromkeys(v.ocds_goal for v in versions
                                             if v.mechanism is Mechanism.AWARD_CRITERION
                                             and v.is_environmental is (kind is CriterionKind.ENVIRONMENTAL)))
                   for kind in (CriterionKind.ENVIRONMENTAL, CriterionKind.SOCIAL)}
    for criterion in tender.criteria:
        if criterion.kind is CriterionKind.ENVIRONMENTAL:
            found.append(Commitment(True, ENV_CRITERION, award_goals[criterion.kind] or ("environmental",),
                                    "awardCriteria", criterion.weight, "criterion", criterion.name,
                                    Mechanism.AWARD_CRITERION))
        elif criterion.kind is CriterionKind.SOCIAL:
            found.append(Commitment(False, SOCIAL_CRITERION, award_goals[criterion.kind] or ("social",),
                                    "awardCriteria", 0, "criterion", criterion.name, Mechanism.AWARD_CRITERION))
    if tender.reservation is not Reservation.NONE:
        found.append(Commitment(False, RESERVED, (RESERVATION_GOALS[tender.reservation],), "reservedParticipation",
                                0, "reservation", str(tender.reservation.label)))
    return found


def tender_commitments(tender: Tender) -> list[Commitment]:
    """A tender's commitments: its clauses, its grid's environmental and social criteria, its reservation."""
    versions = [tender_clause.version for tender_clause in tender.clauses]
    return _from_clauses(versions, tender) + _from_tender(tender, versions)


def _from_decp(contract: Contract) -> list[Commitment]:
    found = []
    for flag, name in ((contract.env_clause, ENV_CLAUSE), (contract.env_criterion, ENV_CRITERION),
                       (contract.social_clause, SOCIAL_CLAUSE), (contract.social_criterion, SOCIAL_CRITERION)):
        if flag:
            environmental, mechanism = _FROM_DECP[name]
            strategy = mechanism.ocds_strategy
            found.append(Commitment(environmental, name, ("environmental" if environmental else "social",),
                                    strategy, MECHANISM_POINTS[mechanism] if environmental else 0, "decp", name,
                                    mechanism))
    if contract.reserved:
        found.append(Commitment(False, RESERVED, ("social",), "reservedParticipation", 0, "decp", RESERVED))
    return found


def contract_commitments(contract: Contract) -> list[Commitment]:
    """A contract's commitments: from its clauses and its tender (made here), its clauses (entered by hand),
    or the considerations its DECP record stated (imported, as stored by `refresh`)."""
    if contract.source is ContractSource.DECP:
        return _from_decp(contract)
    tender = contract.lot.tender if contract.lot is not None else None
    found = _from_clauses(list(contract.clauses), tender)
    return found + _from_tender(tender, list(contract.clauses)) if tender is not None else found


def decp_considerations(commitments: list[Commitment]) -> tuple[list[str], list[str]]:
    """The DECP v2 lists (environmental, social), in the schema's order, "Pas de considération …" when empty."""
    names = {commitment.consideration for commitment in commitments}
    environmental = [name for name in (ENV_CLAUSE, ENV_CRITERION) if name in names] or [NO_ENV]
    social = [name for name in (SOCIAL_CLAUSE, SOCIAL_CRITERION, RESERVED) if name in names] or [NO_SOCIAL]
    return environmental, social


def ocds_sustainability(commitments: list[Commitment]) -> list[dict]:
    """[{goal, strategies}] for the OCDS sustainability extension, one entry per goal."""
    goals: dict[str, set[str]] = {}
    for commitment in commitments:
        for goal in commitment.goals:
            goals.setdefault(goal, set()).add(commitment.strategy)
    return [{"goal": goal, "strategies": sorted(strategies)} for goal, strategies in sorted(goals.items())]


def _breakdown_item(commitment: Commitment) -> dict:
    item = {"source": commitment.source, "label": commitment.label,
            "mechanism": commitment.mechanism.value if commitment.mechanism else None, "points": commitment.points}
    if commitment.code:
        item.update(code=commitment.code, version=commitment.version)
    return item


def refresh(contract: Contract, decp_considerations: set[str] | None = None, *,
            env_known: bool = True, social_known: bool = True) -> None:
    """Derive and store the contract's considerations and environmental score (stored so that indicators
    aggregate in SQL). For an imported contract, `decp_considerations` are the names its record states and
    `env_known` / `social_known` whether it states each list at all."""
    if contract.source is ContractSource.DECP:
        found = set(decp_considerations or ())
        contract.env_clause, contract.env_criterion = ENV_CLAUSE in found, ENV_CRITERION in found
        contract.social_clause, contract.social_criterion = SOCIAL_CLAUSE in found, SOCIAL_CRITERION in found
        contract.reserved = RESERVED in found
        contract.env_considerations_known, contract.social_considerations_known = env_known, social_known
        commitments = _from_decp(contract)
    else:
        commitments = contract_commitments(contract)
        names = {commitment.consideration for commitment in commitments}
        contract.env_clause, contract.env_criterion = ENV_CLAUSE in names, ENV_CRITERION in names
        contract.social_clause, contract.social_criterion = SOCIAL_CLAUSE in names, SOCIAL_CRITERION in names
        contract.reserved = RESERVED in names
        contract.env_considerations_known = contract.social_considerations_known = True
    environmental = [commitment for commitment in commitments if commitment.environmental]
    contract.env_score = min(100, sum(commitment.points for commitment in environmental))
    contract.env_score_breakdown = [_breakdown_item(commitment) for commitment in environmental]
