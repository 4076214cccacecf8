"""Every role against every page of the contracts register. The contract is a manual one of another
organisation (a commune); each role's user is in an organisation of its own."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import OrganisationKind, Role
from procurement.models import ProcedureType
from procurement.services import contracts as service
from tests.factories import OrganisationFactory, user_for_role
from tests.matrix import ROLES, Case, check, everyone, log_in, register


@dataclass
class World:
    users: dict
    contract: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    buyer_officer = user_for_role(Role.PROCUREMENT_OFFICER,
                                  organisation=OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None))
    contract = service.create_manual(buyer_officer, buyer_officer.organisation, service.ContractData(
        decp_id="2026M001", title="Écrans", cpv="30231300-0", procedure=ProcedureType.ADAPTED,
        amount=Decimal("12000.00"), notified_on=date(2026, 1, 5), duration_months=12, holder_name="Écrans SA"))
    db.session.commit()
    return World(users, contract)


# Any signed-in user reads the register (open data); buyers' procurement officers enter and import.
OFFICERS = everyone(403, admin=200, procurement_officer=200)


def officers(status: int) -> dict:
    return everyone(403, admin=status, procurement_officer=status)


def contract_url(suffix: str = ""):
    return lambda w, u: f"/procurement/contracts/{w.contract.id}{suffix}"


CASES = register([
    Case("procurement.contracts", "GET", lambda w, u: "/procurement/contracts", everyone(200)),
    Case("procurement.contract", "GET", contract_url(), everyone(200)),
    # Only the buyer's officers and the admins edit or sign; the manual contract is already notified, so
    # the admin's signature is refused with a message and a redirection.
    Case("procurement.sign_contract", "POST", contract_url("/sign"), everyone(403, admin=302)),
    Case("procurement.new_contract", "GET", lambda w, u: "/procurement/contracts/new", OFFICERS),
    Case("procurement.new_contract", "POST", lambda w, u: "/procurement/contracts/new", officers(422)),
    Case("procurement.edit_contract", "GET", contract_url("/edit"), everyone(403, admin=200)),
    Case("procurement.edit_contract", "POST", contract_url("/edit"), everyone(403, admin=422)),
    # The contract page's forms: its AGEC figures, what the award does not tell (a tendered contract only:
    # refused with a message for this manual one), a modification; the admin's empty form is refused.
    Case("procurement.contract_agec", "POST", contract_url("/agec"), everyone(403, admin=422)),
    Case("procurement.complete_contract", "POST", contract_url("/complete"), everyone(403, admin=422)),
    Case("procurement.add_contract_modification", "POST", contract_url("/modifications"),
         everyone(403, admin=422)),
    Case("procurement.import_decp", "GET", lambda w, u: "/procurement/contracts/import", OFFICERS),
    Case("procurement.import_decp", "POST", lambda w, u: "/procurement/contracts/import", officers(422)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_contract_route(client, world, case, role):
    check(client, world, case, role)


def test_the_buyers_officer_edits_and_another_officer_does_not(client, world):
    officer = world.contract.buyer.users[0]
    log_in(client, officer)
    assert client.get(f"/procurement/contracts/{world.contract.id}/edit").status_code == 200
    log_in(client, world.users[Role.PROCUREMENT_OFFICER])
    assert client.get(f"/procurement/contracts/{world.contract.id}/edit").status_code == 403


def test_the_buyers_officer_records_a_modification_and_another_officer_does_not(client, world):
    data = {"duration_months": "18", "notified_on": "2026-03-01", "published_on": "2026-03-02"}
    log_in(client, world.users[Role.PROCUREMENT_OFFICER])
    assert client.post(f"/procurement/contracts/{world.contract.id}/modifications", data=data).status_code == 403
    log_in(client, world.contract.buyer.users[0])
    assert client.post(f"/procurement/contracts/{world.contract.id}/modifications", data=data).status_code == 302
    db.session.refresh(world.contract)
    assert [(m.number, m.duration_months) for m in world.contract.modifications] == [(1, 18)]
