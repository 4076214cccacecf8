"""Every role against every endpoint of the procurement API, as core.permissions decides it.

The world: one user per role; the procurement officer, the IT manager and the observer belong to the
buyer, the others to organisations of their own. The buyer has an open tender (two lots) with a sealed
bid of the matrix supplier and one of a rival on lot 1, and a tender whose bids are opened. Another
buyer has a draft. The register holds one contract.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from core import services as core_services
from core.extensions import db
from core.models import OrganisationKind, Role
from procurement.models import ProcedureType
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from tests.factories import (MEMO_PDF, OrganisationFactory, close, draft_tender, published_tender, submit_bid,
                             user_for_role)
from tests.matrix import ANONYMOUS, ROLES, Case, everyone, register

API = "/api/v1"
BUYER_STAFF = (Role.PROCUREMENT_OFFICER, Role.IT_MANAGER, Role.OBSERVER)


@dataclass
class World:
    users: dict
    open_tender: object
    own_bid: object
    rival_bid: object
    opened_tender: object
    opened_bid: object
    draft: object
    contract: object


@pytest.fixture
def world() -> World:
    buyer = OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None)
    users = {role: user_for_role(role, organisation=buyer if role in BUYER_STAFF else None) for role in Role}
    officer = users[Role.PROCUREMENT_OFFICER]
    rival = user_for_role(Role.SUPPLIER)
    open_tender = published_tender(officer, lots=2)
    own_bid = submit_bid(users[Role.SUPPLIER], open_tender.lots[0])
    rival_bid = submit_bid(rival, open_tender.lots[0])
    opened_tender = published_tender(officer)
    opened_bid = submit_bid(rival, opened_tender.lots[0])
    close(opened_tender)
    bid_service.open_bids(officer, opened_tender)
    draft = draft_tender(user_for_role(Role.PROCUREMENT_OFFICER))
    contract = contract_service.create_manual(officer, buyer, contract_service.ContractData(
        decp_id="2026C0001", title="Portables", cpv="30213100-6", procedure=ProcedureType.ADAPTED,
        amount=Decimal("45000.00"), notified_on=date(2026, 2, 1), duration_months=12, holder_name="ANS"))
    db.session.commit()
    return World(users, open_tender, own_bid, rival_bid, opened_tender, opened_bid, draft, contract)


def by_role(*, admin: int, procurement_officer: int, it_manager: int, supplier: int, beneficiary: int,
            observer: int) -> dict:
    """The expected status for each role, every role named."""
    return {Role.ADMIN: admin, Role.PROCUREMENT_OFFICER: procurement_officer, Role.IT_MANAGER: it_manager,
            Role.SUPPLIER: supplier, Role.BENEFICIARY: beneficiary, Role.OBSERVER: observer}


def a_bid(world: World) -> dict:
    return {"price": "20000.00", "memo_pdf_base64": base64.b64encode(MEMO_PDF).decode(),
            "commitments": [{"clause_code": tc.version.clause.code, "committed": True, "evidence": "Attestation."}
                            for tc in world.open_tender.clauses]}


def lot_bids(tender_attribute: str, lot_index: int = 0):
    def url(world: World, user) -> str:
        tender = getattr(world, tender_attribute)
        return f"{API}/tenders/{tender.id}/lots/{tender.lots[lot_index].id}/bids"
    return url


CASES = register([
    # tender.list / tender.view: published tenders for everyone; a draft for its buyer and admins only.
    Case("api.tenders", "GET", lambda w, u: f"{API}/tenders", everyone(200), anonymous=401),
    Case("api.tender", "GET", lambda w, u: f"{API}/tenders/{w.open_tender.id}", everyone(200), anonymous=401),
    Case("api.tender", "GET", lambda w, u: f"{API}/tenders/{w.opened_tender.id}", everyone(200), anonymous=401),
    Case("api.tender", "GET", lambda w, u: f"{API}/tenders/{w.draft.id}",
         by_role(admin=200, procurement_officer=404, it_manager=404, supplier=404, beneficiary=404,
                 observer=404), anonymous=401),
    # procurement.bid: one's own bids, for validated suppliers.
    Case("api.bids", "GET", lambda w, u: f"{API}/bids",
         by_role(admin=403, procurement_officer=403, it_manager=403, supplier=200, beneficiary=403,
                 observer=403), anonymous=401),
    # Sealed: before the opening, the bidder alone reads its bid; the buyer and admins get a 404.
    Case("api.bid", "GET", lambda w, u: f"{API}/bids/{w.own_bid.public_id}",
         by_role(admin=404, procurement_officer=404, it_manager=404, supplier=200, beneficiary=404,
                 observer=404), anonymous=401),
    Case("api.bid", "GET", lambda w, u: f"{API}/bids/{w.rival_bid.public_id}", everyone(404), anonymous=401),
    # Opened: the buyer's staff and admins read it, other suppliers still do not.
    Case("api.bid", "GET", lambda w, u: f"{API}/bids/{w.opened_bid.public_id}",
         by_role(admin=200, procurement_officer=200, it_manager=200, supplier=404, beneficiary=404,
                 observer=200), anonymous=401),
    # bid.submit: validated suppliers, before the deadline; permission comes before the body's checks.
    Case("api.submit_bid", "POST", lot_bids("open_tender", 1),
         by_role(admin=403, procurement_officer=403, it_manager=403, supplier=201, beneficiary=403,
                 observer=403), data=a_bid, anonymous=401),
    Case("api.submit_bid", "POST", lot_bids("open_tender", 0),
         by_role(admin=403, procurement_officer=403, it_manager=403, supplier=201, beneficiary=403,
                 observer=403), data=a_bid, anonymous=401),
    Case("api.submit_bid", "POST", lot_bids("open_tender", 1),
         by_role(admin=403, procurement_officer=403, it_manager=403, supplier=422, beneficiary=403,
                 observer=403), data=lambda w: {"price": "a lot"}, anonymous=401),
    Case("api.submit_bid", "POST", lot_bids("opened_tender"),
         by_role(admin=403, procurement_officer=403, it_manager=403, supplier=422, beneficiary=403,
                 observer=403), data=a_bid, anonymous=401),
    Case("api.submit_bid", "POST", lambda w, u: f"{API}/tenders/{w.draft.id}/lots/{w.draft.lots[0].id}/bids",
         everyone(404, admin=403), data=a_bid, anonymous=401),
    # bid.change: the bidder withdraws its own bid; another's sealed bid does not exist for anyone.
    Case("api.withdraw_bid", "POST", lambda w, u: f"{API}/bids/{w.own_bid.public_id}/withdraw",
         by_role(admin=404, procurement_officer=404, it_manager=404, supplier=200, beneficiary=404,
                 observer=404), anonymous=401),
    Case("api.withdraw_bid", "POST", lambda w, u: f"{API}/bids/{w.rival_bid.public_id}/withdraw",
         everyone(404), anonymous=401),
    # Once opened the buyer reads the bid, but bid.change is its bidder's: 404, as for any object of
    # another organisation.
    Case("api.withdraw_bid", "POST", lambda w, u: f"{API}/bids/{w.opened_bid.public_id}/withdraw",
         everyone(404), anonymous=401),
    # The register is open data for every signed-in user.
    Case("api.contracts", "GET", lambda w, u: f"{API}/contracts", everyone(200), anonymous=401),
    Case("api.contract", "GET", lambda w, u: f"{API}/contracts/{w.contract.id}", everyone(200), anonymous=401),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_procurement_api_endpoint(client, world, case, role):
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
