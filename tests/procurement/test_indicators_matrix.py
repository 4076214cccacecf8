"""Every role against the indicators dashboard and its downloads. The open-data page is public (it is in
tests/core/test_permissions.py PUBLIC_ENDPOINTS): tests/procurement/test_indicators_pages.py covers it."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.models import Role
from tests.factories import user_for_role
from tests.matrix import ROLES, Case, admin_only, check, everyone, register


@dataclass
class World:
    users: dict


@pytest.fixture
def world() -> World:
    return World({role: user_for_role(role) for role in Role})


CASES = register([
    Case("procurement.indicators", "GET", lambda w, u: "/procurement/indicators", everyone(200)),
    Case("procurement.indicators_csv", "GET", lambda w, u: "/procurement/indicators.csv?buyer=territory",
         everyone(200)),
    Case("procurement.indicators_xlsx", "GET", lambda w, u: "/procurement/indicators.xlsx", everyone(200)),
    Case("procurement.donation_values", "GET", lambda w, u: "/procurement/indicators/donation-values",
         everyone(200)),
    # Only an administrator completes the AGEC donation grid.
    Case("procurement.donation_values", "POST", lambda w, u: "/procurement/indicators/donation-values",
         admin_only(302), data=lambda w: {"category": "desktop", "age_band": "under_5_years", "value": "90.00",
                                          "source": "Arrêté du 29 février 2024, annexe"}),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_indicators_route(client, world, case, role):
    check(client, world, case, role)
