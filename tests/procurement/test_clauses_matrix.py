"""Every role against every page of the clause library: everyone signed in reads it, admins keep it."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.models import Role
from tests.factories import clause, user_for_role
from tests.matrix import ROLES, Case, admin_only, check, everyone, register


@dataclass
class World:
    users: dict
    clause_id: int


@pytest.fixture
def world() -> World:
    return World({role: user_for_role(role) for role in Role}, clause("ENV-MATRIX-01").clause_id)


CASES = register([
    Case("procurement.clauses", "GET", lambda w, u: "/procurement/clauses", everyone(200)),
    Case("procurement.clause", "GET", lambda w, u: f"/procurement/clauses/{w.clause_id}", everyone(200)),
    Case("procurement.new_clause", "GET", lambda w, u: "/procurement/clauses/new", admin_only(200)),
    # An empty form: the admin gets it back with its errors.
    Case("procurement.new_clause", "POST", lambda w, u: "/procurement/clauses/new", admin_only(422)),
    Case("procurement.edit_clause", "GET", lambda w, u: f"/procurement/clauses/{w.clause_id}/edit",
         admin_only(200)),
    # Fields left out keep the current version's values; the unknown OCDS goal sends the form back.
    Case("procurement.edit_clause", "POST", lambda w, u: f"/procurement/clauses/{w.clause_id}/edit",
         admin_only(422), data=lambda w: {"ocds_goal": "environmental.nonsense"}),
    Case("procurement.set_clause_active", "POST", lambda w, u: f"/procurement/clauses/{w.clause_id}/active",
         admin_only(302), data=lambda w: {"active": "0"}),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_clause_route(client, world, case, role):
    check(client, world, case, role)
