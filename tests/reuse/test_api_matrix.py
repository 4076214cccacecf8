"""Every role against every endpoint of the reuse API, as core.permissions decides it.

The world: one user per role, each in an organisation of its own; a device of another commune; an offer
of another commune published 60 days ago (so past every stage of the cascade) with two units, one of
them held by a pending request of a third commune.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core import services as core_services
from core.extensions import db
from core.models import Role, utcnow
from reuse import services
from tests.factories import DeviceFactory, OrganisationFactory, user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, register

API = "/api/v1"
NEW_DEVICE = {"category": "laptop", "serial_number": "MATRIX-1", "brand": "Dell"}


@dataclass
class World:
    users: dict
    other_device: object
    offer: object
    pending_request: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    other_device = DeviceFactory()
    owner = OrganisationFactory(public=True)
    owner_it_manager = user_for_role(Role.IT_MANAGER, organisation=owner)
    offer = services.create_offer(owner_it_manager, DeviceFactory.create_batch(2, reformed=True, organisation=owner),
                                  "Two laptops")
    db.session.flush()
    offer.published_at = utcnow() - timedelta(days=60)
    db.session.commit()
    requester = user_for_role(Role.PROCUREMENT_OFFICER)
    pending_request = services.request_offer(requester, offer, 1, "Laptops for the library")
    db.session.commit()
    return World(users, other_device, offer, pending_request)


def by_role(*, admin: int, procurement_officer: int, it_manager: int, supplier: int, beneficiary: int,
            observer: int) -> dict:
    """The expected status for each role, every role named."""
    return {Role.ADMIN: admin, Role.PROCUREMENT_OFFICER: procurement_officer, Role.IT_MANAGER: it_manager,
            Role.SUPPLIER: supplier, Role.BENEFICIARY: beneficiary, Role.OBSERVER: observer}


CASES = register([
    # device.list: members of a public body, and admins.
    Case("api.devices", "GET", lambda w, u: f"{API}/devices",
         by_role(admin=200, procurement_officer=200, it_manager=200, supplier=403, beneficiary=403,
                 observer=200), anonymous=401),
    # device.create: the IT manager of a public body, and admins (for their own organisation here).
    Case("api.create_device", "POST", lambda w, u: f"{API}/devices",
         by_role(admin=201, procurement_officer=403, it_manager=201, supplier=403, beneficiary=403,
                 observer=403), data=lambda w: NEW_DEVICE, anonymous=401),
    # Permission comes before validation: a refused caller learns nothing about the body.
    Case("api.create_device", "POST", lambda w, u: f"{API}/devices",
         by_role(admin=422, procurement_officer=403, it_manager=422, supplier=403, beneficiary=403,
                 observer=403), data=lambda w: {"brand": "Dell"}, anonymous=401),
    # device.view / device.edit on another organisation's device: it does not exist for them.
    Case("api.device", "GET", lambda w, u: f"{API}/devices/{w.other_device.id}",
         by_role(admin=200, procurement_officer=404, it_manager=404, supplier=404, beneficiary=404,
                 observer=404), anonymous=401),
    Case("api.update_device", "PATCH", lambda w, u: f"{API}/devices/{w.other_device.id}",
         by_role(admin=200, procurement_officer=404, it_manager=404, supplier=404, beneficiary=404,
                 observer=404), data=lambda w: {"notes": "Checked"}, anonymous=401),
    Case("api.import_devices", "POST", lambda w, u: f"{API}/devices/import",
         by_role(admin=200, procurement_officer=403, it_manager=200, supplier=403, beneficiary=403,
                 observer=403), data=lambda w: [NEW_DEVICE], anonymous=401),
    # offer.browse: everyone but suppliers.
    Case("api.offers", "GET", lambda w, u: f"{API}/offers",
         by_role(admin=200, procurement_officer=200, it_manager=200, supplier=403, beneficiary=200,
                 observer=200), anonymous=401),
    # offer.view (suppliers never see donations: 404), then offer.request (buyers' staff and validated
    # beneficiaries: admins and observers 403).
    Case("api.request_offer", "POST", lambda w, u: f"{API}/offers/{w.offer.id}/requests",
         by_role(admin=403, procurement_officer=201, it_manager=201, supplier=404, beneficiary=201,
                 observer=403), data=lambda w: {"quantity": 1, "purpose": "Classroom"}, anonymous=401),
    Case("api.requests", "GET", lambda w, u: f"{API}/requests",
         by_role(admin=200, procurement_officer=200, it_manager=200, supplier=403, beneficiary=200,
                 observer=200), anonymous=401),
    # request.view: only the parties and admins; request.decide: the offer's IT manager and admins.
    Case("api.approve_request", "POST", lambda w, u: f"{API}/requests/{w.pending_request.id}/approve",
         by_role(admin=200, procurement_officer=404, it_manager=404, supplier=404, beneficiary=404,
                 observer=404), data=lambda w: {}, anonymous=401),
    Case("api.refuse_request", "POST", lambda w, u: f"{API}/requests/{w.pending_request.id}/refuse",
         by_role(admin=200, procurement_officer=404, it_manager=404, supplier=404, beneficiary=404,
                 observer=404), data=lambda w: {"reason": "Kept for a school"}, anonymous=401),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_reuse_api_endpoint(client, world, case, role):
    headers = {}
    if role != ANONYMOUS:
        _, clear_token = core_services.create_api_token(world.users[role], "matrix")
        db.session.commit()
        headers["Authorization"] = f"Bearer {clear_token}"
    options = {"json": case.data(world)} if case.data else {}
    response = client.open(case.url(world, world.users.get(role)), method=case.method, headers=headers,
                           **options)
    expected = case.anonymous if role == ANONYMOUS else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected >= 400:
        assert set(response.get_json()["error"]) == {"status", "code", "message", "details"}
