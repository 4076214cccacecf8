"""After the deadline, through the buyer's pages: the opening, the points of each criterion (price by
lowest / price × weight, technical marks / 10 × weight, environmental from the clause commitments), the
ranking and its tie-break, abnormally low bids, the award that creates the contract with its standstill
period, the unsuccessful lot, the analysis report and the letters to the bidders."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from flask_babel import gettext
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from core.extensions import db
from core.i18n import money, number
from core.models import Role, User
from procurement.forms.bids import marks_prefix
from procurement.models import BidOutcome, Contract, ContractSource, ContractStatus, CriterionKind, TenderStatus
from procurement.services.bids import receipt
from tests.factories import OrganisationFactory, close, published_tender, submit_bid, user_for_role
from tests.matrix import log_in


@pytest.fixture
def officer():
    return user_for_role(Role.PROCUREMENT_OFFICER)


def supplier_user(name: str):
    return user_for_role(Role.SUPPLIER, OrganisationFactory(name=name))


def bidder_of(bid):
    return db.session.scalar(select(User).where(User.organisation_id == bid.supplier_id))


def open_through_the_page(client, officer, tender):
    close(tender)
    log_in(client, officer)
    response = client.post(f"/procurement/tenders/{tender.id}/open")
    assert response.status_code == 302
    db.session.expire_all()
    assert tender.is_opened and tender.status is TenderStatus.OPENED


def evaluation_url(tender, lot=None) -> str:
    return f"/procurement/tenders/{tender.id}/lots/{(lot or tender.lots[0]).id}/evaluation"


def criterion(tender, kind: CriterionKind):
    return next(c for c in tender.criteria if c.kind is kind)


def enter_mark(client, tender, bid, mark: str, comment: str = "Mémoire complet et précis."):
    technical = criterion(tender, CriterionKind.TECHNICAL)
    prefix = marks_prefix(bid)
    return client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/marks",
                       data={"bid": bid.public_id, f"{prefix}mark_{technical.id}": mark,
                             f"{prefix}comment_{technical.id}": comment})


def score_row(html: str, bid) -> list[str]:
    """The cells of the bid's row in the scores table, as text: rank, supplier, price, one per criterion
    (price, technical, environmental), total, abnormally low."""
    row = re.search(rf'<tr id="score-{re.escape(bid.public_id)}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def points(value: str) -> str:
    return number(Decimal(value), 2)


def euros(value: str) -> str:
    """An amount as the pages show it, its no-break spaces as plain ones (as score_row and pdf_text read)."""
    return " ".join(money(Decimal(value)).split())


def pdf_text(response) -> str:
    reader = PdfReader(BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def two_bids(client, officer):
    """Price 60 / technical 20 / environmental 20; the environmental points come from the one
    environmental award-criterion clause. Dearer commits to it, Cheaper does not."""
    tender = published_tender(officer)
    dearer = submit_bid(supplier_user("Dearer Reconditionnement"), tender.lots[0], "30000.00")
    cheaper = submit_bid(supplier_user("Cheaper Informatique"), tender.lots[0], "20000.00",
                         commit_award_clauses=False)
    open_through_the_page(client, officer, tender)
    return tender, dearer, cheaper


def test_the_points_follow_the_documented_formulas(client, officer, two_bids):
    tender, dearer, cheaper = two_bids

    html = client.get(evaluation_url(tender)).get_data(as_text=True)

    missing = str(escape(gettext("mark missing")))
    assert score_row(html, dearer)[2:6] == [euros("30000.00"), points("40.00"), missing, points("20.00")]
    assert score_row(html, cheaper)[2:6] == [euros("20000.00"), points("60.00"), missing, points("0.00")]
    assert score_row(html, dearer)[0] == "—"  # no rank while a mark is missing

    assert enter_mark(client, tender, dearer, "8").status_code == 302
    assert enter_mark(client, tender, cheaper, "5").status_code == 302
    html = client.get(evaluation_url(tender)).get_data(as_text=True)

    dearer_row, cheaper_row = score_row(html, dearer), score_row(html, cheaper)
    assert dearer_row[4] == points("16.00") and cheaper_row[4] == points("10.00")
    assert dearer_row[6] == points("76.00") and cheaper_row[6] == points("70.00")
    assert (dearer_row[0], cheaper_row[0]) == ("1", "2")
    assert "Mémoire complet et précis." in html


def test_a_bid_under_80_percent_of_the_others_mean_is_flagged(client, officer):
    tender = published_tender(officer)
    bids = [submit_bid(supplier_user(f"Fournisseur {price}"), tender.lots[0], price)
            for price in ("30000.00", "32000.00", "23000.00")]
    open_through_the_page(client, officer, tender)

    html = client.get(evaluation_url(tender)).get_data(as_text=True)

    flags = [score_row(html, bid)[-1] for bid in bids]
    assert flags[0] == flags[1] == str(escape(gettext("No")))
    # 23 000 < 80 % × (30 000 + 32 000) / 2 = 24 800; the page says against which mean.
    assert flags[2].startswith(str(escape(gettext("Yes")))) and euros("31000.00") in flags[2]


def test_equal_totals_are_ranked_by_the_lower_price(client, officer, two_bids):
    tender, dearer, cheaper = two_bids
    # Dearer: 40 + 10 + 20 = 70; cheaper: 60 + 10 + 0 = 70.
    enter_mark(client, tender, dearer, "5")
    enter_mark(client, tender, cheaper, "5")

    html = client.get(evaluation_url(tender)).get_data(as_text=True)

    assert score_row(html, dearer)[6] == score_row(html, cheaper)[6] == points("70.00")
    assert (score_row(html, cheaper)[0], score_row(html, dearer)[0]) == ("1", "2")


def test_a_mark_needs_a_comment_and_stays_between_0_and_10(client, officer, two_bids):
    tender, dearer, _ = two_bids

    enter_mark(client, tender, dearer, "8", comment=" ")
    enter_mark(client, tender, dearer, "11")

    db.session.expire_all()
    assert dearer.evaluations == []


def test_award_to_a_bid_not_ranked_first_needs_a_reason(client, app, officer, two_bids):
    tender, dearer, cheaper = two_bids
    enter_mark(client, tender, dearer, "8")
    enter_mark(client, tender, cheaper, "5")
    url = f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award"

    refused = client.post(url, data={"bid": cheaper.public_id, "reason": ""}, follow_redirects=True)

    db.session.expire_all()
    assert not tender.lots[0].is_decided
    assert str(escape(gettext("This bid is not ranked first: give the reason for passing over the better ones."))) \
        in refused.get_data(as_text=True)

    client.post(url, data={"bid": cheaper.public_id, "reason": "Offre mieux-disante après vérification."})

    db.session.expire_all()
    assert cheaper.outcome is BidOutcome.AWARDED and dearer.outcome is BidOutcome.REJECTED
    assert tender.lots[0].decision_reason == "Offre mieux-disante après vérification."


def test_the_award_creates_the_contract_awaiting_the_standstill_period(client, app, officer, two_bids):
    tender, dearer, cheaper = two_bids
    enter_mark(client, tender, dearer, "8")
    enter_mark(client, tender, cheaper, "5")

    response = client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award",
                           data={"bid": dearer.public_id})

    assert response.status_code == 302
    db.session.expire_all()
    lot = tender.lots[0]
    contract = db.session.scalar(select(Contract).where(Contract.lot_id == lot.id))
    assert (contract.source, contract.status) == (ContractSource.TENDER, ContractStatus.AWARDED)
    assert contract.standstill_ends_at == lot.awarded_at + timedelta(days=app.config["STANDSTILL_DAYS"])
    assert contract.amount == Decimal("30000.00") and contract.supplier_id == dearer.supplier_id
    assert contract.offers_received == 2
    # An environmental specification (15) and execution clause (20), and the grid's environmental criterion
    # (its weight, 20; the award-criterion clause is scored within it, not counted again).
    assert contract.env_clause and contract.env_criterion and contract.env_score == 15 + 20 + 20
    assert (dearer.outcome, cheaper.outcome) == (BidOutcome.AWARDED, BidOutcome.REJECTED)
    assert tender.status is TenderStatus.AWARDED  # its only lot is decided


def test_the_tender_is_awarded_once_every_lot_is_decided(client, officer):
    tender = published_tender(officer, lots=2)
    bid = submit_bid(supplier_user("Seul Soumissionnaire"), tender.lots[0], "30000.00")
    open_through_the_page(client, officer, tender)
    enter_mark(client, tender, bid, "7")

    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award", data={"bid": bid.public_id})
    db.session.expire_all()
    assert tender.status is TenderStatus.OPENED

    unsuccessful_url = f"/procurement/tenders/{tender.id}/lots/{tender.lots[1].id}/unsuccessful"
    client.post(unsuccessful_url, data={"unsuccessful-reason": ""})
    db.session.expire_all()
    assert not tender.lots[1].unsuccessful  # a reason is required

    client.post(unsuccessful_url, data={"unsuccessful-reason": "Aucune offre reçue."})
    db.session.expire_all()
    assert tender.lots[1].unsuccessful and tender.lots[1].decision_reason == "Aucune offre reçue."
    assert tender.status is TenderStatus.AWARDED


def test_the_letters_go_to_their_bidder_and_the_buyer_and_say_why(client, app, officer, two_bids):
    tender, dearer, cheaper = two_bids
    enter_mark(client, tender, dearer, "8")
    enter_mark(client, tender, cheaper, "5")
    before_award = client.get(f"/procurement/bids/{cheaper.public_id}/letter.pdf")
    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award", data={"bid": dearer.public_id})
    db.session.expire_all()
    contract = db.session.scalar(select(Contract).where(Contract.lot_id == tender.lots[0].id))
    with app.test_request_context():
        standstill_end = app.jinja_env.filters["datetime"](contract.standstill_ends_at, "long")

    assert before_award.status_code == 404
    for bid in (dearer, cheaper):  # the buyer's staff
        response = client.get(f"/procurement/bids/{bid.public_id}/letter.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")

    log_in(client, bidder_of(cheaper))
    my_bids = client.get("/procurement/bids").get_data(as_text=True)
    assert f"/procurement/bids/{cheaper.public_id}/letter.pdf" in my_bids
    assert str(escape(BidOutcome.REJECTED.label)) in my_bids
    rejection = client.get(f"/procurement/bids/{cheaper.public_id}/letter.pdf")
    assert rejection.status_code == 200 and rejection.mimetype == "application/pdf"
    text = pdf_text(rejection)
    assert "Dearer Reconditionnement" in text          # the awarded supplier
    assert points("76.00") in text and points("70.00") in text  # its score and the bid's
    assert standstill_end in text                        # no signature before the standstill ends
    assert client.get(f"/procurement/bids/{dearer.public_id}/letter.pdf").status_code == 404

    log_in(client, user_for_role(Role.SUPPLIER))  # a third supplier
    assert client.get(f"/procurement/bids/{cheaper.public_id}/letter.pdf").status_code == 404
    assert client.get(f"/procurement/bids/{dearer.public_id}/letter.pdf").status_code == 404


def test_the_award_letter_names_the_standstill_end(client, app, officer, two_bids):
    tender, dearer, cheaper = two_bids
    enter_mark(client, tender, dearer, "8")
    enter_mark(client, tender, cheaper, "5")
    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award", data={"bid": dearer.public_id})
    db.session.expire_all()
    contract = db.session.scalar(select(Contract).where(Contract.lot_id == tender.lots[0].id))
    with app.test_request_context():
        standstill_end = app.jinja_env.filters["datetime"](contract.standstill_ends_at, "long")

    text = pdf_text(client.get(f"/procurement/bids/{dearer.public_id}/letter.pdf"))

    assert "Dearer Reconditionnement" in text and contract.decp_id in text and standstill_end in text
    assert euros("30000.00") in text


def test_an_unsuccessful_lot_s_letters_give_its_reason(client, officer, two_bids):
    tender, dearer, _ = two_bids
    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/unsuccessful",
                data={"unsuccessful-reason": "Offres supérieures au budget."})

    response = client.get(f"/procurement/bids/{dearer.public_id}/letter.pdf")

    assert response.status_code == 200
    assert "Offres supérieures au budget." in pdf_text(response)


def test_the_analysis_report_is_a_pdf_with_the_scores_and_the_decision(client, officer, two_bids):
    tender, dearer, cheaper = two_bids
    enter_mark(client, tender, dearer, "8", comment="Processus de reconditionnement certifié.")
    enter_mark(client, tender, cheaper, "5")
    client.post(f"/procurement/tenders/{tender.id}/lots/{tender.lots[0].id}/award", data={"bid": dearer.public_id})

    response = client.get(f"/procurement/tenders/{tender.id}/report.pdf")

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response)
    for fact in (tender.reference, "Dearer Reconditionnement", "Cheaper Informatique", dearer.supplier.siret,
                 points("76.00"), points("70.00"), "Processus de reconditionnement certifié.", officer.full_name,
                 receipt(dearer)[:16], receipt(cheaper)[:16]):
        assert fact in text


def test_evaluation_pages_do_not_exist_before_the_opening(client, officer):
    tender = published_tender(officer)
    submit_bid(supplier_user("Fournisseur Discret"), tender.lots[0])
    close(tender)
    log_in(client, officer)

    assert client.get(evaluation_url(tender)).status_code == 404
    assert client.get(f"/procurement/tenders/{tender.id}/report.pdf").status_code == 404


def test_opening_before_the_deadline_is_refused(client, officer):
    tender = published_tender(officer)
    submit_bid(supplier_user("Fournisseur Pressé"), tender.lots[0])
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/open", follow_redirects=True)

    db.session.expire_all()
    assert not tender.is_opened
    assert str(escape(gettext("Bids are opened after the deadline, not before."))) in response.get_data(as_text=True)
