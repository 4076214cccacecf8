"""Every role against the reuse documents: the owner organisation's staff and the admins open them,
another organisation's user gets 404 (the document does not exist for them), the anonymous visitor is
sent to the login page. The public verification page is in PUBLIC_ENDPOINTS (tests/core)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.models import Role
from tests.factories import user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, everyone, log_in, register
from tests.reuse.test_documents import approved_request, handed_over_request


@dataclass
class World:
    users: dict
    certificate: object
    handed_over: object
    approved: object


@pytest.fixture
def world() -> World:
    """Each role in an organisation of its own; the IT manager's organisation owns the documents and
    gives to a commune that is none of them."""
    users = {role: user_for_role(role) for role in Role}
    owner = users[Role.IT_MANAGER]
    receiver = user_for_role(Role.IT_MANAGER)
    handed_over = handed_over_request(owner, receiver, count=1)
    approved = approved_request(owner, receiver, count=1)
    return World(users, handed_over.devices[0].sanitisations[0], handed_over, approved)


OWNER_AND_ADMIN = everyone(404, admin=200, it_manager=200)

CASES = register([
    Case("reuse.sanitisation_certificate", "GET",
         lambda w, u: f"/reuse/sanitisations/{w.certificate.id}/certificate.pdf", OWNER_AND_ADMIN),
    Case("reuse.transfer_agreement", "GET",
         lambda w, u: f"/reuse/requests/{w.handed_over.id}/agreement.pdf", OWNER_AND_ADMIN),
    # Before the handover there is no agreement, for anyone.
    Case("reuse.transfer_agreement", "GET",
         lambda w, u: f"/reuse/requests/{w.approved.id}/agreement.pdf", everyone(404)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_document_route(client, world, case, role):
    user = None if role == ANONYMOUS else world.users[role]
    if user is not None:
        log_in(client, user)

    response = client.open(case.url(world, user), method=case.method)

    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data()[:300]
    if expected == 200:
        assert response.mimetype == "application/pdf" and response.get_data().startswith(b"%PDF")
    if user is None:
        assert response.location.startswith("/login")
