"""Bids are sealed until the buyer opens them after the deadline. Until then, on every web page, a bid
exists for its bidder alone: the buyer's officer, IT manager and observer, an administrator and another
supplier get the same 404 as for a bid that does not exist, and no page they see (the tender page, the
dashboard, the audit log with any filter) changes because a bid came in: no name, no price, no public id,
no count. The audit log holds nothing about a bid before the opening, which then writes each receipt.
(The API and the search index are tested with their own modules.)"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import select

from core.extensions import db
from core.i18n import money
from core.models import AuditEntry, Role
from procurement.models import Bid
from procurement.services.bids import receipt
from tests.factories import OrganisationFactory, close, published_tender, user_for_role
from tests.matrix import log_in
from tests.procurement.test_bids import post_bid

SECRET_NAME = "Atelier Scellé Confidentiel"
SECRET_PRICE = "33333.33"


@dataclass
class World:
    tender: object
    bidder: object
    other_bidder: object
    rival: object  # a supplier without a bid
    officer: object
    it_manager: object
    observer: object
    admin: object

    @property
    def outsiders(self) -> dict:
        """Everyone who must not learn of the bidder's bid before the opening."""
        return {"officer": self.officer, "it_manager": self.it_manager, "observer": self.observer,
                "admin": self.admin, "rival": self.rival}


@pytest.fixture
def world() -> World:
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    buyer = officer.organisation
    return World(
        tender=published_tender(officer, lots=2),
        bidder=user_for_role(Role.SUPPLIER, OrganisationFactory(name=SECRET_NAME)),
        other_bidder=user_for_role(Role.SUPPLIER, OrganisationFactory(name="Concurrent Ordinaire")),
        rival=user_for_role(Role.SUPPLIER, OrganisationFactory(name="Curieux Informatique")),
        officer=officer,
        it_manager=user_for_role(Role.IT_MANAGER, buyer),
        observer=user_for_role(Role.OBSERVER, buyer),
        admin=user_for_role(Role.ADMIN),
    )


def submit_the_secret_bid(client, world) -> Bid:
    log_in(client, world.other_bidder)
    assert post_bid(client, world.tender, world.tender.lots[0], price="41000.00").status_code == 302
    log_in(client, world.bidder)
    assert post_bid(client, world.tender, world.tender.lots[0], price=SECRET_PRICE).status_code == 302
    return db.session.scalar(select(Bid).where(Bid.supplier_id == world.bidder.organisation_id))


def pages_of(world, user) -> list[str]:
    urls = [f"/procurement/tenders/{world.tender.id}", "/dashboard"]
    if user is world.admin:
        bidder_org = world.bidder.organisation_id
        urls += ["/admin/audit", "/admin/audit?object_type=bid", "/admin/audit?object_type=commitment",
                 "/admin/audit?action=bid", f"/admin/audit?organisation_id={bidder_org}",
                 f"/admin/audit?actor={world.bidder.email}", f"/admin/audit?object_type=tender"]
    return urls


def snapshot(client, world) -> dict:
    """Every page each outsider sees, without what changes at each request (the CSRF token)."""
    pages = {}
    for who, user in world.outsiders.items():
        log_in(client, user)
        for url in pages_of(world, user):
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            pages[who, url] = re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
    return pages


def secrets_of(bid) -> list[str]:
    price = Decimal(SECRET_PRICE)
    return [SECRET_NAME, str(escape(SECRET_NAME)), bid.public_id, SECRET_PRICE, money(price),
            " ".join(money(price).split())]


def bid_urls(bid) -> list[tuple[str, str]]:
    return [("GET", f"/procurement/bids/{bid.public_id}"), ("GET", f"/procurement/bids/{bid.public_id}/memo.pdf"),
            ("GET", f"/procurement/bids/{bid.public_id}/letter.pdf"),
            ("POST", f"/procurement/bids/{bid.public_id}/withdraw")]


@pytest.mark.parametrize("deadline_passed", [False, True], ids=["before the deadline", "after the deadline"])
def test_nobody_but_the_bidder_reaches_a_sealed_bid(client, world, deadline_passed):
    bid = submit_the_secret_bid(client, world)
    if deadline_passed:
        close(world.tender)

    for who, user in world.outsiders.items():
        log_in(client, user)
        for method, url in bid_urls(bid):
            assert client.open(url, method=method).status_code == 404, (who, url)
        lot = world.tender.lots[0]
        assert client.get(f"/procurement/tenders/{world.tender.id}/lots/{lot.id}/evaluation").status_code == 404
        assert client.get(f"/procurement/tenders/{world.tender.id}/report.pdf").status_code == 404

    log_in(client, world.bidder)
    assert client.get(f"/procurement/bids/{bid.public_id}").status_code == 200
    assert client.get(f"/procurement/bids/{bid.public_id}/memo.pdf").status_code == 200
    db.session.refresh(bid)
    assert bid.withdrawn_at is None  # no outsider's withdrawal went through


def new_audit_rows(before: set[int]) -> list[AuditEntry]:
    """The entries written since `before`, but for the test's own move of the deadline into the past."""
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id.not_in(before))).all()
    return [row for row in rows if not (row.action == "tender.updated" and set(row.changes) == {"deadline"})]


def try_every_address(client, world, bid) -> None:
    for user in world.outsiders.values():
        log_in(client, user)
        for method, url in bid_urls(bid):
            client.open(url, method=method)


@pytest.mark.parametrize("deadline_passed", [False, True], ids=["before the deadline", "after the deadline"])
def test_no_page_changes_when_a_bid_comes_in(client, world, deadline_passed):
    audit_rows_before = set(db.session.scalars(select(AuditEntry.id)))
    without_bids = None if deadline_passed else snapshot(client, world)

    bid = submit_the_secret_bid(client, world)
    try_every_address(client, world, bid)
    if deadline_passed:
        close(world.tender)
    with_bids = snapshot(client, world)
    secrets = secrets_of(bid)
    assert new_audit_rows(audit_rows_before) == []
    if deadline_passed:
        # The same pages, the deadline passed, had no bid come in (bids are not audited: deleting them
        # leaves no trace to compare).
        for sealed in db.session.scalars(select(Bid)).all():
            db.session.delete(sealed)
        db.session.commit()
        without_bids = snapshot(client, world)

    assert with_bids.keys() == without_bids.keys()
    for key, html in with_bids.items():
        assert html == without_bids[key], key
        for secret in secrets:
            assert secret not in html or secret in without_bids[key], (key, secret)
        assert secrets[2] not in html, key  # the public id


def test_the_buyer_sees_only_that_bids_are_sealed(client, world):
    submit_the_secret_bid(client, world)
    sealed = gettext("Bids are sealed until the deadline.")  # a template's text: not escaped
    open_button = f"/procurement/tenders/{world.tender.id}/open"

    log_in(client, world.officer)
    before_deadline = client.get(f"/procurement/tenders/{world.tender.id}").get_data(as_text=True)
    close(world.tender)
    after_deadline = client.get(f"/procurement/tenders/{world.tender.id}").get_data(as_text=True)
    log_in(client, world.observer)
    observer_after_deadline = client.get(f"/procurement/tenders/{world.tender.id}").get_data(as_text=True)

    assert sealed in before_deadline and open_button not in before_deadline
    assert open_button in after_deadline  # the officer may open them now
    assert open_button not in observer_after_deadline


def test_the_bidder_sees_its_own_bid_on_the_tender_page_and_nobody_else_s(client, world):
    bid = submit_the_secret_bid(client, world)
    other_bid = db.session.scalar(select(Bid).where(Bid.supplier_id == world.other_bidder.organisation_id))

    log_in(client, world.bidder)
    html = client.get(f"/procurement/tenders/{world.tender.id}").get_data(as_text=True)

    assert f"/procurement/bids/{bid.public_id}" in html and other_bid.public_id not in html
    lot_2 = world.tender.lots[1]
    assert f"/procurement/tenders/{world.tender.id}/lots/{lot_2.id}/bid" in html  # "submit a bid" on lot 2


def test_the_audit_log_holds_nothing_of_a_bid_until_the_opening_writes_the_receipts(client, world):
    audit_rows_before = set(db.session.scalars(select(AuditEntry.id)))
    bid = submit_the_secret_bid(client, world)
    log_in(client, world.bidder)
    post_bid(client, world.tender, world.tender.lots[0], price="32000.00")  # a replacement
    client.post(f"/procurement/bids/{bid.public_id}/withdraw")
    post_bid(client, world.tender, world.tender.lots[0], price=SECRET_PRICE)
    close(world.tender)

    assert new_audit_rows(audit_rows_before) == []
    for entry in db.session.scalars(select(AuditEntry)):
        text = f"{entry.object_type} {entry.object_label} {entry.changes}"
        assert "bid" not in entry.object_type and bid.public_id not in text and SECRET_PRICE not in text

    log_in(client, world.officer)
    assert client.post(f"/procurement/tenders/{world.tender.id}/open").status_code == 302

    db.session.expire_all()
    received = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bid.received")).all()
    assert sorted(entry.changes["supplier"] for entry in received) == sorted([SECRET_NAME, "Concurrent Ordinaire"])
    secret = next(entry for entry in received if entry.changes["supplier"] == SECRET_NAME)
    assert secret.changes["receipt"] == receipt(bid) and secret.changes["version"] == 3
    [opened] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "tender.opened")).all()
    assert opened.changes["bids"] == 2 and opened.actor_id == world.officer.id


def test_after_the_opening_the_buyer_reads_the_bids(client, world):
    bid = submit_the_secret_bid(client, world)
    close(world.tender)
    log_in(client, world.officer)
    client.post(f"/procurement/tenders/{world.tender.id}/open")

    for user in (world.officer, world.it_manager, world.observer, world.admin):
        log_in(client, user)
        page = client.get(f"/procurement/bids/{bid.public_id}")
        assert page.status_code == 200 and SECRET_NAME in page.get_data(as_text=True)
        assert client.get(f"/procurement/bids/{bid.public_id}/memo.pdf").status_code == 200
    log_in(client, world.rival)
    assert client.get(f"/procurement/bids/{bid.public_id}").status_code == 404

    log_in(client, world.admin)
    assert str(escape(SECRET_NAME)) in client.get("/admin/audit?action=bid.received").get_data(as_text=True)
    log_in(client, world.officer)
    evaluation = client.get(f"/procurement/tenders/{world.tender.id}/lots/{world.tender.lots[0].id}/evaluation")
    assert evaluation.status_code == 200 and bid.public_id in evaluation.get_data(as_text=True)
