"""Every role against every page of group orders. The campaign belongs to another organisation (an EPT
coordinator); each role's user is in an organisation of its own."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from marketplace.services import campaigns as service
from reuse.models import DeviceCategory
from tests.factories import CatalogueOfferFactory, OrganisationFactory, UserFactory, user_for_role
from tests.matrix import ROLES, Case, check, everyone, register


@dataclass
class World:
    users: dict
    campaign: object
    line: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    coordinator = UserFactory(role=Role.PROCUREMENT_OFFICER,
                              organisation=OrganisationFactory(kind=OrganisationKind.EPT, siret=None))
    campaign = service.create_campaign(coordinator, coordinator.organisation, "Portables", "",
                                       utcnow() + timedelta(days=5))
    line = service.add_line(coordinator, campaign, "Portable", "i5", DeviceCategory.LAPTOP, 5,
                            [CatalogueOfferFactory()])
    db.session.commit()
    return World(users, campaign, line)


PUBLIC_BUYERS = everyone(200, supplier=403, beneficiary=403)
# Only the coordinator's procurement officers (and admins) manage; other public staff are refused (403);
# suppliers and beneficiaries do not see the campaign at all (404).
MANAGE = everyone(403, supplier=404, beneficiary=404)


def manage(admin_status: int) -> dict:
    return dict(MANAGE, **{Role.ADMIN: admin_status})


CASES = register([
    Case("marketplace.campaigns", "GET", lambda w, u: "/marketplace/campaigns", PUBLIC_BUYERS),
    Case("marketplace.new_campaign", "GET", lambda w, u: "/marketplace/campaigns/new",
         everyone(403, admin=200, procurement_officer=200)),
    Case("marketplace.campaign", "GET", lambda w, u: f"/marketplace/campaigns/{w.campaign.id}",
         everyone(200, supplier=404, beneficiary=404)),
    Case("marketplace.add_campaign_line", "POST", lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/lines",
         manage(422)),
    Case("marketplace.set_participation", "POST",
         lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/lines/{w.line.id}/participation",
         dict(MANAGE, **{Role.PROCUREMENT_OFFICER: 302, Role.IT_MANAGER: 302})),
    Case("marketplace.extend_campaign", "POST", lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/deadline",
         manage(400)),
    Case("marketplace.decide_campaign_line", "POST",
         lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/lines/{w.line.id}/decision", manage(400)),
    Case("marketplace.award_campaign_line", "POST",
         lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/lines/{w.line.id}/award", manage(400)),
    Case("marketplace.issue_campaign_orders", "POST",
         lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/orders", manage(302)),
    Case("marketplace.cancel_campaign", "POST", lambda w, u: f"/marketplace/campaigns/{w.campaign.id}/cancel",
         manage(302)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_campaign_route(client, world, case, role):
    check(client, world, case, role)
