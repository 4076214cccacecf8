"""Every role against every page of sealed bids and their evaluation. The buyer is the procurement
officer's organisation, whose IT manager and observer are members too; the supplier of the matrix is the
bidder; every other role is in an organisation of its own. Each tender is built in the state the route
needs: open to bids, closed (deadline passed, not opened), opened, awarded."""
from __future__ import annotations

from decimal import Decimal
from functools import cached_property

import pytest

from core.extensions import db
from core.models import Role
from procurement.forms.bids import marks_prefix
from procurement.models import CriterionKind
from procurement.services import bids as bid_service
from procurement.services import evaluation
from tests.factories import close, published_tender, submit_bid, user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, everyone, log_in, register


class World:
    def __init__(self):
        self.users = {role: user_for_role(role) for role in Role}
        buyer = self.users[Role.PROCUREMENT_OFFICER].organisation
        for role in (Role.IT_MANAGER, Role.OBSERVER):
            self.users[role] = user_for_role(role, buyer)
        self.officer = self.users[Role.PROCUREMENT_OFFICER]
        self.bidder = self.users[Role.SUPPLIER]

    def _tender_with_bids(self):
        tender = published_tender(self.officer)
        bid = submit_bid(self.bidder, tender.lots[0], "20000.00")
        submit_bid(user_for_role(Role.SUPPLIER), tender.lots[0], "30000.00")
        return tender, bid

    @cached_property
    def open(self):
        return self._tender_with_bids()

    @cached_property
    def closed(self):
        tender, bid = self._tender_with_bids()
        close(tender)
        return tender, bid

    @cached_property
    def foreign_closed(self):
        """A tender of another buyer, past its deadline."""
        tender = published_tender(user_for_role(Role.PROCUREMENT_OFFICER))
        bid = submit_bid(self.bidder, tender.lots[0], "20000.00")
        close(tender)
        return tender, bid

    @cached_property
    def opened(self):
        tender, bid = self.closed
        bid_service.open_bids(self.officer, tender)
        db.session.commit()
        return tender, bid

    @cached_property
    def awarded(self):
        tender, bid = self.opened
        technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
        for each in tender.lots[0].bids:
            evaluation.evaluate(self.officer, each, technical, Decimal(7), "Conforme.")
        evaluation.award(self.officer, tender.lots[0], bid)
        db.session.commit()
        return tender, bid


@pytest.fixture
def world() -> World:
    return World()


def lot_url(state: str, tail: str):
    def url(world, user) -> str:
        tender, _ = getattr(world, state)
        return f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/{tail}"
    return url


def bid_url(state: str, tail: str = ""):
    def url(world, user) -> str:
        _, bid = getattr(world, state)
        return f"/procurement/bids/{bid.public_id}{tail}"
    return url


def tender_url(state: str, tail: str):
    def url(world, user) -> str:
        tender, _ = getattr(world, state)
        return f"/procurement/tenders/{tender.id}/{tail}"
    return url


def marks(world) -> dict:
    tender, bid = world.opened
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    prefix = marks_prefix(bid)
    return {"bid": bid.public_id, f"{prefix}mark_{technical.id}": "6", f"{prefix}comment_{technical.id}": "Correct."}


BIDDER_ONLY = everyone(404, supplier=200)
NOBODY = everyone(404)
SUPPLIERS_ONLY = everyone(403, supplier=200)
MANAGERS = everyone(403, admin=302, procurement_officer=302)
EVALUATORS = everyone(403, admin=200, procurement_officer=200, it_manager=200)

CASES = register([
    # The supplier's side, while the tender accepts bids.
    Case("procurement.bid_form", "GET", lot_url("open", "bid"), SUPPLIERS_ONLY),
    Case("procurement.bid_form", "POST", lot_url("open", "bid"), everyone(403, supplier=422)),
    Case("procurement.my_bids", "GET", lambda w, u: "/procurement/bids", SUPPLIERS_ONLY),
    Case("procurement.bid", "GET", bid_url("open"), BIDDER_ONLY),
    Case("procurement.bid_memo", "GET", bid_url("open", "/memo.pdf"), BIDDER_ONLY),
    Case("procurement.withdraw_bid", "POST", bid_url("open", "/withdraw"), everyone(404, supplier=302)),
    Case("procurement.bid_letter_pdf", "GET", bid_url("open", "/letter.pdf"), NOBODY),
    # After the deadline, still sealed: only the opening exists, for the buyer's officers and admins.
    Case("procurement.bid", "GET", bid_url("closed"), BIDDER_ONLY),
    Case("procurement.bid_form", "GET", lot_url("closed", "bid"), everyone(403, supplier=302)),
    Case("procurement.withdraw_bid", "POST", bid_url("closed", "/withdraw"), everyone(404, supplier=302)),
    Case("procurement.lot_evaluation", "GET", lot_url("closed", "evaluation"), NOBODY),
    Case("procurement.enter_marks", "POST", lot_url("closed", "marks"), NOBODY),
    Case("procurement.award_lot", "POST", lot_url("closed", "award"), NOBODY),
    Case("procurement.declare_lot_unsuccessful", "POST", lot_url("closed", "unsuccessful"), NOBODY),
    Case("procurement.analysis_report_pdf", "GET", tender_url("closed", "report.pdf"), NOBODY),
    Case("procurement.open_bids", "POST", tender_url("closed", "open"), MANAGERS),
    # Another buyer's tender is public, so its opening is refused (403) rather than hidden.
    Case("procurement.open_bids", "POST", tender_url("foreign_closed", "open"), everyone(403, admin=302)),
    # Opened: the buyer's staff read and evaluate; its officers and admins decide.
    Case("procurement.bid", "GET", bid_url("opened"), everyone(200, beneficiary=404)),
    Case("procurement.bid_memo", "GET", bid_url("opened", "/memo.pdf"), everyone(200, beneficiary=404)),
    Case("procurement.lot_evaluation", "GET", lot_url("opened", "evaluation"), EVALUATORS),
    Case("procurement.enter_marks", "POST", lot_url("opened", "marks"), everyone(
        403, admin=302, procurement_officer=302, it_manager=302), data=marks),
    Case("procurement.award_lot", "POST", lot_url("opened", "award"), MANAGERS),
    Case("procurement.declare_lot_unsuccessful", "POST", lot_url("opened", "unsuccessful"), MANAGERS,
         data=lambda w: {"unsuccessful-reason": "Offres inacceptables."}),
    Case("procurement.analysis_report_pdf", "GET", tender_url("opened", "report.pdf"), EVALUATORS),
    Case("procurement.bid_letter_pdf", "GET", bid_url("opened", "/letter.pdf"), NOBODY),
    # Decided: the letters, for the bidder and the buyer's staff.
    Case("procurement.bid_letter_pdf", "GET", bid_url("awarded", "/letter.pdf"), everyone(200, beneficiary=404)),
    Case("procurement.analysis_report_pdf", "GET", tender_url("awarded", "report.pdf"), EVALUATORS),
    Case("procurement.withdraw_bid", "POST", bid_url("awarded", "/withdraw"), everyone(404, supplier=302)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_bid_route(client, world, case, role):
    user = None if role == ANONYMOUS else world.users[role]
    url = case.url(world, user)  # builds the tender's state before the request
    data = case.data(world) if case.data else {}
    if user is not None:
        log_in(client, user)

    response = client.open(url, method=case.method, data=data)

    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected == 200 and url.endswith(".pdf"):
        assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
