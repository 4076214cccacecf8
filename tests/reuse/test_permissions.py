"""Every role against every page of the reuse circuit. Each role's user belongs to an organisation of its
own; the objects (device, offer, request, sanitisation record, photo) belong to another commune."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO

import pytest
from PIL import Image

from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from reuse import services
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role
from tests.matrix import ROLES, Case, admin_only, check, everyone, register
from tests.reuse.test_lifecycle import wipe


@dataclass
class World:
    users: dict
    device: object
    offer: object
    request: object
    record: object
    photo: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    owner = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, siret=None, postcode="94200", city="Ivry-sur-Seine"))
    devices = [DeviceFactory(organisation=owner.organisation, reformed=True, purchase_date=date(2022, 3, 1))
               for _ in range(3)]
    record = wipe(owner, devices[:1])
    offer = services.create_offer(owner, devices[1:], "Deux portables")
    offer.published_at = utcnow() - timedelta(days=60)
    requester = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(
        kind=OrganisationKind.COMMUNE, siret=None, postcode="94310", city="Orly"))
    reuse_request = services.request_offer(requester, offer, 1, "Médiathèque")
    image = BytesIO()
    Image.new("RGB", (2, 2)).save(image, "PNG")
    photo = services.add_photo(owner, devices[1], image.getvalue())
    db.session.commit()
    return World(users, devices[0], offer, reuse_request, record, photo)


INVENTORY = everyone(200, supplier=403, beneficiary=403)
MANAGER = everyone(403, admin=200, it_manager=200)
BROWSER = everyone(200, supplier=403)
VISIBLE = everyone(200, supplier=404)

CASES = register([
    Case("reuse.inventory", "GET", lambda w, u: "/reuse/devices", INVENTORY),
    Case("reuse.new_device", "GET", lambda w, u: "/reuse/devices/new", MANAGER),
    Case("reuse.new_device", "POST", lambda w, u: "/reuse/devices/new", everyone(403, admin=422, it_manager=422),
         data=lambda w: {"category": "laptop", "storage_type": "ssd"}),
    Case("reuse.device", "GET", lambda w, u: f"/reuse/devices/{w.device.id}", admin_only(200, 404)),
    Case("reuse.edit_device", "GET", lambda w, u: f"/reuse/devices/{w.device.id}/edit", admin_only(200, 404)),
    Case("reuse.reform_device", "POST", lambda w, u: f"/reuse/devices/{w.device.id}/reform", admin_only(302, 404)),
    Case("reuse.recondition_device", "POST", lambda w, u: f"/reuse/devices/{w.device.id}/reconditioning",
         admin_only(302, 404)),
    Case("reuse.sell_device", "POST", lambda w, u: f"/reuse/devices/{w.device.id}/sale", admin_only(302, 404)),
    Case("reuse.add_photo", "POST", lambda w, u: f"/reuse/devices/{w.device.id}/photos", admin_only(302, 404)),
    Case("reuse.photo", "GET", lambda w, u: f"/reuse/photos/{w.photo.id}", VISIBLE),
    Case("reuse.new_sanitisation", "GET", lambda w, u: "/reuse/sanitisations/new", MANAGER),
    Case("reuse.new_sanitisation", "GET", lambda w, u: f"/reuse/sanitisations/new?device={w.device.id}",
         everyone(403, admin=200, it_manager=404)),
    Case("reuse.sanitisation", "GET", lambda w, u: f"/reuse/sanitisations/{w.record.id}", admin_only(200, 404)),
    Case("reuse.recycle_devices", "GET", lambda w, u: "/reuse/recycling/new", MANAGER),
    Case("reuse.new_offer", "GET", lambda w, u: "/reuse/offers/new", MANAGER),
    Case("reuse.offers", "GET", lambda w, u: "/reuse/offers", BROWSER),
    Case("reuse.offer", "GET", lambda w, u: f"/reuse/offers/{w.offer.id}", VISIBLE),
    Case("reuse.request_offer", "POST", lambda w, u: f"/reuse/offers/{w.offer.id}/requests",
         everyone(302, admin=403, observer=403, supplier=404),
         data=lambda w: {"quantity": "1", "purpose": "Atelier numérique"}),
    Case("reuse.withdraw_offer", "POST", lambda w, u: f"/reuse/offers/{w.offer.id}/withdraw", admin_only(302, 404)),
    Case("reuse.requests", "GET", lambda w, u: "/reuse/requests", BROWSER),
    Case("reuse.approve_request", "POST", lambda w, u: f"/reuse/requests/{w.request.id}/approve",
         admin_only(302, 404)),
    Case("reuse.refuse_request", "POST", lambda w, u: f"/reuse/requests/{w.request.id}/refuse",
         admin_only(302, 404), data=lambda w: {"reason": "Déjà promis"}),
    Case("reuse.hand_over", "POST", lambda w, u: f"/reuse/requests/{w.request.id}/hand-over", admin_only(302, 404)),
    Case("reuse.cancel_request", "POST", lambda w, u: f"/reuse/requests/{w.request.id}/cancel", admin_only(302, 404)),
    Case("reuse.confirm_receipt", "POST", lambda w, u: f"/reuse/requests/{w.request.id}/receipt",
         admin_only(302, 404)),
    Case("reuse.gains", "GET", lambda w, u: "/reuse/gains", everyone(200)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_reuse_route(client, world, case, role):
    check(client, world, case, role)
