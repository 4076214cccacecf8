"""The building blocks of the permission matrix, shared by every domain's matrix tests."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.models import Role

ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, *Role]
# Every case of every domain's matrix, for the test that no protected route is left out. Test modules
# are all imported at collection, before any test runs, so this list is complete by then.
ALL_CASES: list = []


def register(cases: list) -> list:
    ALL_CASES.extend(cases)
    return cases


def everyone(status: int, **exceptions) -> dict:
    table = {role: status for role in Role}
    table.update({Role(name): code for name, code in exceptions.items()})
    return table


def admin_only(status: int = 200, refused: int = 403) -> dict:
    return everyone(refused, admin=status)


@dataclass
class Case:
    endpoint: str
    method: str
    url: Callable[..., str]  # (world, user) -> URL
    expected: dict
    data: Callable[[World], dict] | None = None
    anonymous: int = 302


def log_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True




def check(client, world, case: Case, role):
    """Request the case's URL as a user of the role (or anonymously), compare the status code, return the
    response."""
    user = None if role == ANONYMOUS else world.users[role]
    if user is not None:
        log_in(client, user)
    response = client.open(case.url(world, user), method=case.method, data=case.data(world) if case.data else {})
    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    return response
