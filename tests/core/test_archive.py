"""The document archive: every PDF issued is stored, numbered and hashed; downloading it again returns
the same bytes; issuing again adds a version and keeps the old one; each party reads its documents."""
from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core import archive, permissions
from core.extensions import db
from core.models import IssuedDocument, Role
from procurement.models import TenderStatus
from tests.factories import OrganisationFactory, close, draft_tender, published_tender, submit_bid, user_for_role
from tests.marketplace.test_orders import buyer_officer, laptop_offer, placed_order, supplier_user
from tests.matrix import log_in
from tests.procurement.test_evaluation import enter_mark, open_through_the_page
from tests.reuse.test_documents import sanitised_devices


def documents(kind: str | None = None) -> list[IssuedDocument]:
    db.session.expire_all()
    query = select(IssuedDocument).order_by(IssuedDocument.id)
    if kind:
        query = query.where(IssuedDocument.kind == kind)
    return list(db.session.scalars(query))


@pytest.fixture
def order():
    officer = buyer_officer()
    supplier = supplier_user("Recyclerie d'Ivry")
    return placed_order(officer, laptop_offer(supplier.organisation), {officer.organisation.sites[0]: 2})


def buyer_of(order):
    return next(user for user in order.buyer.users if user.role is Role.PROCUREMENT_OFFICER)


def po_url(order) -> str:
    return f"/marketplace/orders/{order.id}/purchase-order.pdf"


def test_issuing_stores_the_bytes_numbered_with_their_sha256(client, order):
    officer = buyer_of(order)
    log_in(client, officer)

    response = client.get(po_url(order))

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    [document] = documents()
    assert document.kind == "purchase_order" and document.version == 1
    assert document.content == response.data and document.size == len(response.data)
    assert document.sha256 == hashlib.sha256(response.data).hexdigest()
    assert re.fullmatch(rf"DOC-{document.issued_at.year}-\d{{6}}", document.number)
    assert int(document.number.rsplit("-", 1)[1]) == document.id
    assert response.headers["X-Document-Number"] == document.number
    assert response.headers["X-Content-SHA256"] == document.sha256
    assert (document.organisation_id, document.recipient_organisation_id) == (order.buyer_id, order.supplier_id)
    assert document.issued_by_id == officer.id and document.filename == f"{order.reference}.pdf"


def test_downloading_again_returns_the_same_bytes(app, client, order):
    log_in(client, buyer_of(order))
    first = client.get(po_url(order)).data
    # A fresh render differs (its creation date), which is why the stored bytes are served.
    [document] = documents()
    document.content, document.sha256 = first + b"\n%stored", "0" * 64
    db.session.commit()

    again = client.get(po_url(order))
    supplier_copy = (log_in(client, order.supplier.users[0]), client.get(po_url(order)))[1]

    assert again.data == supplier_copy.data == first + b"\n%stored"
    assert len(documents()) == 1


def test_reissuing_makes_version_2_and_keeps_version_1(client, order):
    log_in(client, buyer_of(order))
    v1_bytes = client.get(po_url(order)).data
    [v1] = documents()

    response = client.post(f"/documents/{v1.id}/reissue", data={"next": f"/marketplace/orders/{order.id}"})

    assert response.status_code == 302 and response.headers["Location"] == f"/marketplace/orders/{order.id}"
    v1_again, v2 = documents()
    assert (v1_again.id, v1_again.version, v2.version) == (v1.id, 1, 2)
    assert v1_again.content == v1_bytes and v1_again.sha256 == hashlib.sha256(v1_bytes).hexdigest()
    assert v2.number != v1.number and v2.sha256 == hashlib.sha256(v2.content).hexdigest()
    assert client.get(f"/documents/{v1.id}").data == v1_bytes
    assert client.get(f"/documents/{v2.id}").data == v2.content
    assert client.get(po_url(order)).data == v2.content  # the document's URL serves the latest version


def test_the_archive_page_and_the_object_page_list_them(client, order):
    log_in(client, buyer_of(order))
    client.get(po_url(order))
    [v1] = documents()
    client.post(f"/documents/{v1.id}/reissue")
    v1, v2 = documents()

    page = client.get("/documents").get_data(as_text=True)
    assert v1.number in page and v2.number in page and v1.sha256 in page
    assert f"/documents/{v2.id}" in page
    assert v1.number not in client.get("/documents?kind=invoice").get_data(as_text=True)
    year = v1.issued_at.year
    assert v1.number in client.get(f"/documents?year={year}").get_data(as_text=True)
    assert v1.number not in client.get(f"/documents?year={year - 1}").get_data(as_text=True)

    order_page = client.get(f"/marketplace/orders/{order.id}").get_data(as_text=True)
    assert v1.number in order_page and v2.number in order_page
    assert f"/documents/{v2.id}/reissue" in order_page and f"/documents/{v1.id}/reissue" not in order_page


def test_another_organisation_gets_404_and_the_other_party_reads_it(client, order):
    log_in(client, buyer_of(order))
    client.get(po_url(order))
    [document] = documents()

    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER))  # another commune
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert client.post(f"/documents/{document.id}/reissue").status_code == 404
    assert document.number not in client.get("/documents").get_data(as_text=True)

    log_in(client, order.supplier.users[0])  # the supplier the order is sent to
    assert client.get(f"/documents/{document.id}").data == document.content
    assert document.number in client.get("/documents").get_data(as_text=True)
    assert client.post(f"/documents/{document.id}/reissue").status_code == 403  # the buyer issues it
    assert len(documents()) == 1

    log_in(client, user_for_role(Role.ADMIN))
    assert document.number in client.get("/documents").get_data(as_text=True)


# --- the archive page links each document to its object's page ----------------------------------------

def test_the_archive_page_links_a_document_to_its_objects_page(client, order):
    log_in(client, buyer_of(order))
    client.get(po_url(order))

    page = client.get("/documents").get_data(as_text=True)

    assert re.search(rf'<td><a href="/marketplace/orders/{order.id}">[^<]+</a></td>', page)


def test_no_link_where_the_user_may_not_view_the_object_or_it_has_no_page(app, client, order):
    log_in(client, buyer_of(order))
    client.get(po_url(order))
    [document] = documents()
    stranger = user_for_role(Role.PROCUREMENT_OFFICER)  # another commune: may not view the order

    with app.test_request_context():
        assert archive.object_url(document, buyer_of(order)) == f"/marketplace/orders/{order.id}"
        assert archive.object_url(document, order.supplier.users[0]) == f"/marketplace/orders/{order.id}"
        assert archive.object_url(document, stranger) is None
        document.object_type = "order_lines"  # an object without a page of its own
        assert archive.object_url(document, buyer_of(order)) is None
    db.session.rollback()


def test_every_object_page_is_a_route_of_a_model(app):
    for object_type in archive.OBJECT_PAGES:
        model = archive._model(object_type)
        assert model.__tablename__ == object_type
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    stub = SimpleNamespace(id=1, offer_id=1, offer=None)  # only what the pages' URLs are built from
    for object_type, page in archive.OBJECT_PAGES.items():
        endpoint, _arguments, action, _subject = page(stub)
        assert endpoint in endpoints and action in permissions.RULES, object_type


# --- every PDF route archives ------------------------------------------------------------------------

def purchase_order_case():
    officer = buyer_officer()
    order = placed_order(officer, laptop_offer(supplier_user("Atelier").organisation),
                         {officer.organisation.sites[0]: 1})
    return officer, po_url(order)


def sanitisation_case():
    it_manager = user_for_role(Role.IT_MANAGER)
    record = sanitised_devices(it_manager, count=1)
    return it_manager, f"/reuse/sanitisations/{record.id}/certificate.pdf"


def tender_package_case():
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = published_tender(officer)
    return officer, f"/procurement/tenders/{tender.id}/package.pdf"


CASES = {"purchase_order": purchase_order_case, "sanitisation_certificate": sanitisation_case,
         "tender_package": tender_package_case}


@pytest.mark.parametrize("kind", CASES)
def test_every_pdf_route_archives(client, kind):
    user, url = CASES[kind]()
    log_in(client, user)

    first, second = client.get(url), client.get(url)

    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    [document] = documents(kind)
    assert first.data == second.data == document.content
    assert first.headers["X-Document-Number"] == document.number


def test_a_draft_package_is_a_preview_not_archived(client):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    db.session.commit()
    log_in(client, officer)

    response = client.get(f"/procurement/tenders/{tender.id}/package.pdf")

    assert response.status_code == 200 and tender.status is TenderStatus.DRAFT
    assert documents() == []


def test_the_package_zip_carries_the_archived_pdf(client):
    import zipfile
    from io import BytesIO
    officer, url = tender_package_case()
    log_in(client, officer)
    pdf = client.get(url).data
    archive_zip = zipfile.ZipFile(BytesIO(client.get(url.replace(".pdf", ".zip")).data))
    assert pdf in [archive_zip.read(name) for name in archive_zip.namelist()]
    assert len(documents("tender_package")) == 1


def test_the_award_letter_is_archived_for_the_buyer_and_its_bidder(client):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = published_tender(officer)
    bidder = user_for_role(Role.SUPPLIER, OrganisationFactory(name="Seul Fournisseur"))
    bid = submit_bid(bidder, tender.lots[0])
    open_through_the_page(client, officer, tender)
    enter_mark(client, tender, bid, "7")
    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award", data={"bid": bid.public_id})
    url = f"/procurement/bids/{bid.public_id}/letter.pdf"

    buyer_copy = client.get(url)
    log_in(client, bidder)
    bidder_copy = client.get(url)

    [letter] = documents("award_letter")
    assert buyer_copy.data == bidder_copy.data == letter.content and buyer_copy.data.startswith(b"%PDF")
    assert (letter.object_type, letter.object_id, letter.key) == ("tenders", tender.id, f"letter:{bid.public_id}")
    assert letter.recipient_organisation_id == bidder.organisation_id
    tender_page = client.get(f"/procurement/tenders/{tender.id}").get_data(as_text=True)
    assert letter.number in tender_page and f"/documents/{letter.id}/reissue" not in tender_page
    assert client.post(f"/documents/{letter.id}/reissue").status_code == 403

    log_in(client, officer)
    assert client.post(f"/documents/{letter.id}/reissue").status_code == 302
    assert [d.version for d in documents("award_letter")] == [1, 2]
