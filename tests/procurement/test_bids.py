"""Sealed bids through the supplier's pages: one bid per lot, submitted, replaced (a new version, the old
content gone), withdrawn and submitted again until the deadline (server time), never after; the memo is
checked by its content; binding clauses must be committed to, with evidence; reserved tenders admit only
the suppliers they are reserved for."""
from __future__ import annotations

import hashlib
import io
from decimal import Decimal

from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from core.extensions import db
from core.i18n import money
from core.models import Role
from procurement.models import Bid, BidStatus, Reservation
from tests.factories import MEMO_PDF, OrganisationFactory, close, published_tender, user_for_role
from tests.matrix import log_in

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def supplier_user(name: str = "Recyclerie du Val", **organisation):
    return user_for_role(Role.SUPPLIER, OrganisationFactory(name=name, **organisation))


def bid_data(tender, price: str = "30000.00", memo: bytes | None = MEMO_PDF, filename: str = "memoire.pdf",
             commit_award_clauses: bool = True, skip: set[str] = frozenset(),
             evidence: str = "Attestation jointe.") -> dict:
    """The bid form as a browser posts it: the price, the memo, one checkbox and evidence per clause
    (every binding clause committed, award-criterion ones unless told not to; codes in `skip` left out)."""
    data = {"price": price}
    if memo is not None:
        data["memo"] = (io.BytesIO(memo), filename)
    for tender_clause in tender.clauses:
        version = tender_clause.version
        if version.clause.code in skip or not (version.mechanism.binding or commit_award_clauses):
            continue
        data[f"commit_{tender_clause.id}"] = "y"
        data[f"evidence_{tender_clause.id}"] = evidence
    return data


def post_bid(client, tender, lot=None, **kwargs):
    lot = lot or tender.lots[0]
    return client.post(f"/procurement/tenders/{tender.id}/lots/{lot.id}/bid", data=bid_data(tender, **kwargs),
                       content_type="multipart/form-data")


def bids_of(supplier) -> list[Bid]:
    db.session.expire_all()
    return list(db.session.scalars(select(Bid).where(Bid.supplier_id == supplier.organisation_id)))


def page(client, url: str) -> str:
    response = client.get(url, follow_redirects=True)
    return response.get_data(as_text=True)


def test_a_supplier_submits_replaces_withdraws_and_submits_again(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    url = f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid"
    assert client.get(url).status_code == 200

    response = post_bid(client, tender, price="30000.00")

    [bid] = bids_of(supplier)
    assert response.status_code == 302 and response.location.endswith(f"/procurement/bids/{bid.public_id}")
    assert (bid.version, bid.price, bid.status) == (1, Decimal("30000.00"), BidStatus.SUBMITTED)
    assert bid.memo_sha256 == hashlib.sha256(MEMO_PDF).hexdigest()
    assert all(c.committed and c.evidence == "Attestation jointe." for c in bid.commitments)
    first_receipt = client.get(f"/procurement/bids/{bid.public_id}").get_data(as_text=True)

    # A replacement without a memo keeps the memo; the old price is gone, there is still one bid.
    response = post_bid(client, tender, price="27500.00", memo=None, commit_award_clauses=False)

    [bid] = bids_of(supplier)
    assert response.status_code == 302
    assert (bid.version, bid.price) == (2, Decimal("27500.00"))
    assert bid.memo_sha256 == hashlib.sha256(MEMO_PDF).hexdigest()
    award_clause = next(c for c in bid.commitments if not c.tender_clause.version.mechanism.binding)
    assert not award_clause.committed and award_clause.evidence == ""
    html = page(client, f"/procurement/bids/{bid.public_id}")
    assert money(Decimal("27500.00")) in html and money(Decimal("30000.00")) not in html
    assert html != first_receipt

    response = client.post(f"/procurement/bids/{bid.public_id}/withdraw")
    [bid] = bids_of(supplier)
    assert response.status_code == 302 and bid.status is BidStatus.WITHDRAWN and bid.withdrawn_at is not None

    post_bid(client, tender, price="29000.00")
    [bid] = bids_of(supplier)
    assert (bid.version, bid.price, bid.status, bid.withdrawn_at) == (3, Decimal("29000.00"), BidStatus.SUBMITTED,
                                                                      None)


def test_the_bid_form_is_prefilled_with_the_bid_it_replaces(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    post_bid(client, tender, price="31234.50", evidence="Certificat TCO joint.")

    html = page(client, f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid")

    assert 'value="31234.50"' in html and "Certificat TCO joint." in html
    assert "memoire.pdf" in html  # the memo kept when none is chosen


def test_one_bid_per_lot_and_per_supplier(client):
    tender = published_tender(lots=2)
    supplier = supplier_user()
    log_in(client, supplier)

    post_bid(client, tender, tender.lots[0])
    post_bid(client, tender, tender.lots[0], price="25000.00")
    post_bid(client, tender, tender.lots[1])

    bids = bids_of(supplier)
    assert sorted((b.lot.number, b.version) for b in bids) == [(1, 2), (2, 1)]
    assert db.session.scalar(select(func.count(Bid.id))) == 2


def test_no_bid_is_submitted_replaced_or_withdrawn_after_the_deadline(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    post_bid(client, tender, price="30000.00")
    close(tender)
    message = str(escape(gettext("The deadline has passed: bids are no longer accepted.")))
    url = f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid"

    get = client.get(url)
    replaced = post_bid(client, tender, price="1000.00")
    [bid] = bids_of(supplier)
    withdrawn = client.post(f"/procurement/bids/{bid.public_id}/withdraw", follow_redirects=True)

    assert get.status_code == 302 and replaced.status_code == 302
    assert message in page(client, url)
    assert message in withdrawn.get_data(as_text=True)
    [bid] = bids_of(supplier)
    assert (bid.version, bid.price, bid.status) == (1, Decimal("30000.00"), BidStatus.SUBMITTED)


def test_a_first_bid_needs_a_memo_that_is_a_pdf_by_its_content(client, app, monkeypatch):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)

    without_memo = post_bid(client, tender, memo=None)
    png_named_pdf = post_bid(client, tender, memo=PNG_BYTES, filename="x.pdf")
    not_a_pdf_name = post_bid(client, tender, memo=MEMO_PDF, filename="memo.docx")
    monkeypatch.setitem(app.config, "MAX_MEMO_BYTES", len(MEMO_PDF) - 1)
    too_large = post_bid(client, tender)

    assert [r.status_code for r in (without_memo, png_named_pdf, not_a_pdf_name, too_large)] == [422] * 4
    assert str(escape(gettext("The technical memo is not a valid PDF file."))) in png_named_pdf.get_data(as_text=True)
    assert bids_of(supplier) == []


def test_a_replacement_memo_is_checked_too(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    post_bid(client, tender, price="30000.00")

    response = post_bid(client, tender, price="20000.00", memo=PNG_BYTES, filename="x.pdf")

    assert response.status_code == 422
    [bid] = bids_of(supplier)
    assert (bid.version, bid.price) == (1, Decimal("30000.00"))


def test_binding_clauses_must_be_committed_to_with_evidence(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    binding = next(tc.version.clause.code for tc in tender.clauses if tc.version.mechanism.binding)

    uncommitted = post_bid(client, tender, skip={binding})
    without_evidence = post_bid(client, tender, evidence="  ")

    assert uncommitted.status_code == 422 and without_evidence.status_code == 422
    assert binding in uncommitted.get_data(as_text=True)
    assert str(escape(gettext("Commit to the clause %(code)s: it binds every bidder.", code=binding))) in \
        uncommitted.get_data(as_text=True)
    assert bids_of(supplier) == []


def test_a_reserved_tender_admits_only_the_suppliers_it_is_reserved_for(client):
    tender = published_tender(reservation=Reservation.EA_ESAT)
    ordinary = supplier_user("Informatique Ordinaire")
    adapted = supplier_user("Entreprise Adaptée du Val", is_ea_esat=True)

    log_in(client, ordinary)
    refused_form = client.get(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid")
    refused = post_bid(client, tender)
    log_in(client, adapted)
    accepted = post_bid(client, tender)

    assert refused_form.status_code == 302 and refused.status_code == 302
    assert bids_of(ordinary) == []
    assert accepted.status_code == 302 and len(bids_of(adapted)) == 1


def test_my_bids_lists_each_bid_with_its_receipt_and_the_memo_is_a_private_download(client):
    from procurement.services.bids import receipt

    tender = published_tender(lots=2)
    supplier = supplier_user()
    log_in(client, supplier)
    post_bid(client, tender, tender.lots[0])
    post_bid(client, tender, tender.lots[1], price="12000.00")
    bids = bids_of(supplier)

    html = page(client, "/procurement/bids")
    memo = client.get(f"/procurement/bids/{bids[0].public_id}/memo.pdf")

    for bid in bids:
        assert receipt(bid) in html and bid.public_id in html
    assert memo.status_code == 200 and memo.data == MEMO_PDF and memo.mimetype == "application/pdf"
    assert memo.headers["Content-Disposition"] == 'attachment; filename="memoire.pdf"'
    assert "no-store" in memo.headers["Cache-Control"]


def test_the_bid_page_offers_replace_and_withdraw_only_while_the_tender_accepts_bids(client):
    tender = published_tender()
    supplier = supplier_user()
    log_in(client, supplier)
    post_bid(client, tender)
    [bid] = bids_of(supplier)
    withdraw_url = f"/procurement/bids/{bid.public_id}/withdraw"
    form_url = f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/bid"

    before = page(client, f"/procurement/bids/{bid.public_id}")
    close(tender)
    after = page(client, f"/procurement/bids/{bid.public_id}")

    assert withdraw_url in before and form_url in before
    assert withdraw_url not in after and form_url not in after
