"""The tender journey in a browser: an officer drafts and publishes a tender with environmental clauses
from the library, two suppliers bid, the bids stay sealed until the deadline, the deadline passes, the
officer opens the bids, marks them, awards the lot, and the letters and the analysis report are issued.

Every text the test looks for comes from the translation catalogue (French, the default), so the test
holds whether or not a string is translated yet."""
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, format_datetime, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.i18n import local_to_utc, number, to_local
from core.models import OrganisationKind, Role, utcnow
from procurement.models import Bid, Tender
from procurement.services import bids as bid_service
from procurement.services import clauses as clause_service
from tests.conftest import PASSWORD
from tests.factories import MEMO_PDF, OrganisationFactory, UserFactory

pytestmark = pytest.mark.browser

REFERENCE = "2026-INFO-07"
TITLE = "Ordinateurs portables reconditionnés"
LOT_TITLE = "Portables 14 pouces"
TECHNICAL = "Valeur technique"
SPECIFICATION_CLAUSE = "ENV-RECO-01"  # refurbishment process quality: environmental technical specification
EXECUTION_CLAUSE = "ENV-DEEE-01"   # take-back of end-of-life equipment: environmental execution clause
AWARD_CLAUSE = "ENV-REP-03"        # repairability index: environmental award criterion


def t(msgid: str, **variables) -> str:
    """The text the page shows for this msgid, in French."""
    with force_locale("fr"):
        return gettext(msgid, **variables)


def log_in(page, user) -> None:
    page.goto("/login")
    page.get_by_label(t("Email address"), exact=True).fill(user.email)
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Dashboard"))


def open_menu(page, name: str) -> None:
    page.get_by_role("navigation", name=t("Main navigation")).get_by_role("link", name=name, exact=True).click()


def expect_pdf(page, link) -> None:
    """Follow the link with the page's session and check a PDF comes back."""
    href = link.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200, href
    assert response.headers["content-type"].startswith("application/pdf"), href
    assert response.body().startswith(b"%PDF"), href


def add_clause(page, theme_label: str, code: str) -> None:
    page.locator("summary", has_text=theme_label).click()  # the picker groups clauses by theme
    page.get_by_role("button", name=t("Add %(code)s", code=code), exact=True).click()
    expect(page.get_by_text(t("The clause %(code)s is attached.", code=code))).to_be_visible()


def bid(page, price: str, memo, commit_award_clause: bool) -> str:
    """Submit a bid on the lot from the tender list; returns the receipt the bid page shows."""
    open_menu(page, t("Tenders"))
    page.get_by_role("link", name=f"{REFERENCE} · {TITLE}").click()
    page.get_by_role("link", name=t("Submit a bid"), exact=True).click()
    page.get_by_label(t("Price excluding VAT (€)"), exact=True).fill(price)
    page.get_by_label(t("Technical memo (PDF)"), exact=True).set_input_files(memo)
    page.get_by_label(t("I commit to %(code)s", code=SPECIFICATION_CLAUSE), exact=True).check()
    page.get_by_label(t("Evidence for %(code)s", code=SPECIFICATION_CLAUSE), exact=True).fill(
        "Procédure de reconditionnement certifiée EN 50614 jointe.")
    page.get_by_label(t("I commit to %(code)s", code=EXECUTION_CLAUSE), exact=True).check()
    page.get_by_label(t("Evidence for %(code)s", code=EXECUTION_CLAUSE), exact=True).fill(
        "Attestation d'adhésion à l'éco-organisme jointe.")
    if commit_award_clause:
        page.get_by_label(t("I commit to %(code)s", code=AWARD_CLAUSE), exact=True).check()
        page.get_by_label(t("Evidence for %(code)s", code=AWARD_CLAUSE), exact=True).fill(
            "Indice de réparabilité 8,4/10, grille de calcul jointe.")
    page.get_by_role("button", name=t("Submit the bid")).click()
    receipt = page.locator("code.token").inner_text()
    expect(page.get_by_text(t("Your bid is submitted (version %(version)d). Receipt: %(receipt)s",
                              version=1, receipt=receipt))).to_be_visible()
    open_menu(page, t("My bids"))
    expect(page.get_by_role("row").filter(has_text=REFERENCE)).to_contain_text(receipt)
    return receipt


def mark(page, supplier: str, value: str, comment: str) -> None:
    section = page.get_by_role("region", name=supplier)
    section.get_by_label(t("Mark out of 10: %(criterion)s", criterion=TECHNICAL), exact=True).fill(value)
    section.get_by_label(t("Comment: %(criterion)s", criterion=TECHNICAL), exact=True).fill(comment)
    section.get_by_role("button", name=t("Save the marks")).click()
    expect(page.get_by_text(t("The marks for %(supplier)s are saved.", supplier=supplier))).to_be_visible()


def test_a_tender_from_publication_to_letters(browser, live_server, tmp_path):
    officer = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=OrganisationFactory(
        kind=OrganisationKind.EPT, siret=None, name="EPT Grand-Orly Seine Bièvre", postcode="94400",
        city="Vitry-sur-Seine"))
    ess = UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(name="Ateliers du Réemploi",
                                                                           is_ess=True))
    other = UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(name="Reconditionnement Pro SAS"))
    assert clause_service.load_library() > 0
    db.session.commit()
    memo = tmp_path / "memoire-technique.pdf"
    memo.write_bytes(MEMO_PDF)
    # The officer types the deadline in Paris time: 17:00 in a month.
    deadline = (to_local(utcnow()) + timedelta(days=30)).replace(hour=17, minute=0, second=0, microsecond=0,
                                                                 tzinfo=None)

    contexts = [browser.new_context(base_url=live_server) for _ in range(3)]
    page, ess_page, other_page = (context.new_page() for context in contexts)
    console_errors = []  # a script error or a CSP refusal shows here
    for context in contexts:
        context.set_default_timeout(10_000)
        context.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    try:
        # The officer drafts the tender.
        log_in(page, officer)
        open_menu(page, t("Tenders"))
        page.get_by_role("link", name=t("Draft a tender"), exact=True).click()
        page.get_by_label(t("Reference"), exact=True).fill(REFERENCE)
        page.get_by_label(t("Title"), exact=True).fill(TITLE)
        page.get_by_label(t("Object of the consultation"), exact=True).fill(
            "Fourniture d'ordinateurs portables reconditionnés pour les services du territoire.")
        page.get_by_label(t("CPV code"), exact=True).select_option("30213100-6")
        page.get_by_label(t("Procedure"), exact=True).select_option("adapted")
        page.get_by_label(t("Estimated value excl. VAT (€)"), exact=True).fill("60000")
        page.get_by_label(t("Deadline for bids (Paris time)"), exact=True).fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name=t("Save the draft")).click()
        expect(page.get_by_text(t("The draft is saved; add its lots, award criteria and clauses."))).to_be_visible()
        tender_url = page.url
        assert db.session.scalars(select(Tender.deadline)).one() == local_to_utc(deadline)
        with force_locale("fr"):
            shown_deadline = format_datetime(local_to_utc(deadline), "long")
        expect(page.locator("dl.facts")).to_contain_text(shown_deadline)

        page.get_by_label(t("Lot title"), exact=True).fill(LOT_TITLE)
        page.get_by_label(t("Quantity"), exact=True).fill("120")
        page.get_by_label(t("Estimated value of the lot excl. VAT (€)"), exact=True).fill("36000")
        page.get_by_role("button", name=t("Add the lot")).click()
        expect(page.get_by_text(t("The lot is added."))).to_be_visible()

        for row, (kind, name, weight) in enumerate((("price", "Prix", 60), ("technical", TECHNICAL, 20),
                                                    ("environmental", "Performance environnementale", 20)),
                                                   start=1):
            page.get_by_label(t("Criterion %(n)d: kind", n=row), exact=True).select_option(kind)
            page.get_by_label(t("Criterion %(n)d: name", n=row), exact=True).fill(name)
            page.get_by_label(t("Criterion %(n)d: weight", n=row), exact=True).fill(str(weight))
        page.get_by_role("button", name=t("Save the award criteria")).click()
        expect(page.get_by_text(t("The award criteria are saved."))).to_be_visible()

        # Loi Climat et Résilience art. 35: a technical specification, an execution clause and a criterion.
        add_clause(page, t("Share of refurbished equipment"), SPECIFICATION_CLAUSE)
        add_clause(page, t("Take-back and WEEE"), EXECUTION_CLAUSE)
        add_clause(page, t("Repairability"), AWARD_CLAUSE)

        # The check passes: nothing left to do, the publish button is offered.
        expect(page.get_by_role("heading", name=t("To do before publishing"))).to_have_count(0)
        expect(page.get_by_text(t("The tender can be published. Publishing opens it to bids and produces its "
                                  "package; it can no longer be changed."))).to_be_visible()
        page.get_by_role("button", name=t("Publish the tender")).click()
        expect(page.get_by_text(t("The tender is published: suppliers can see it and bid until the deadline. "
                                  "Its package is ready."))).to_be_visible()
        expect_pdf(page, page.get_by_role("link", name=t("Tender package (PDF)"), exact=True))

        # Two suppliers bid, each in its own session. The ESS one commits to the award-criterion clause.
        log_in(ess_page, ess)
        ess_receipt = bid(ess_page, "30000", memo, commit_award_clause=True)
        log_in(other_page, other)
        other_receipt = bid(other_page, "28000", memo, commit_award_clause=False)
        assert ess_receipt != other_receipt

        # Before the deadline the buyer learns nothing of the bids: no count, no name.
        page.goto(tender_url)
        bids_section = page.get_by_role("region", name=t("Bids"), exact=True)
        expect(bids_section).to_contain_text(t("Bids are sealed until the deadline."))
        assert not any(character.isdigit() for character in bids_section.inner_text())
        expect(page.get_by_text(ess.organisation.name)).to_have_count(0)
        expect(page.get_by_text(other.organisation.name)).to_have_count(0)
        expect(page.get_by_role("button", name=t("Open the bids"))).to_have_count(0)

        # The deadline passes (server time decides).
        tender = db.session.scalars(select(Tender)).one()
        tender.deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()

        # The officer opens the bids, marks them and awards the lot.
        page.goto(tender_url)
        page.get_by_role("button", name=t("Open the bids")).click()
        expect(page.get_by_text(t("The bids are opened: %(n)d received.", n=2))).to_be_visible()
        page.get_by_role("link", name=t("Lot %(number)d: %(title)s", number=1, title=LOT_TITLE)).click()
        mark(page, ess.organisation.name, "9", "Mémoire complet, reconditionnement certifié, SAV local.")
        expect(page.get_by_text(t("The ranking appears once every mark is entered."))).to_be_visible()
        mark(page, other.organisation.name, "6", "Mémoire succinct, délais de réparation non garantis.")
        expect(page.get_by_text(t("The ranking appears once every mark is entered."))).to_have_count(0)

        # Price 60 × lowest / price, technical mark / 10 × 20, environmental: award clauses committed to.
        with force_locale("fr"):
            ess_total, other_total = number(Decimal("94.00"), 2), number(Decimal("72.00"), 2)
        ess_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=ess.organisation.name))
        other_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=other.organisation.name))
        expect(ess_row).to_contain_text(ess_total)
        expect(other_row).to_contain_text(other_total)
        expect(ess_row.get_by_role("cell").first).to_have_text("1")
        expect(other_row.get_by_role("cell").first).to_have_text("2")

        winner = db.session.scalars(select(Bid).where(Bid.supplier_id == ess.organisation_id)).one()
        page.get_by_label(t("Bid to award"), exact=True).select_option(winner.public_id)
        page.get_by_role("button", name=t("Award the lot")).click()
        expect(page.get_by_text(t("The lot is awarded to %(supplier)s; the contract awaits the end of the "
                                  "standstill period.", supplier=ess.organisation.name))).to_be_visible()

        # The letters are issued: the officer reads both, with the analysis report.
        expect_pdf(page, page.get_by_role("region", name=ess.organisation.name).get_by_role(
            "link", name=t("Award letter (PDF)")))
        expect_pdf(page, page.get_by_role("region", name=other.organisation.name).get_by_role(
            "link", name=t("Rejection letter (PDF)")))
        expect_pdf(page, page.get_by_role("link", name=t("Bid analysis report (PDF)")))

        # Each supplier finds its outcome and its letter on "My bids".
        for supplier_page, outcome in ((ess_page, "Awarded"), (other_page, "Not retained")):
            open_menu(supplier_page, t("My bids"))
            row = supplier_page.get_by_role("row").filter(has_text=REFERENCE)
            expect(row).to_contain_text(t(outcome))
            expect_pdf(supplier_page, row.get_by_role("link", name=t("Letter (PDF)")))
        # A bidder never reads the other's letter.
        loser = db.session.scalars(select(Bid).where(Bid.supplier_id == other.organisation_id)).one()
        assert ess_page.request.get(f"/procurement/bids/{loser.public_id}/letter.pdf").status == 404
        assert bid_service.receipt(winner) == ess_receipt
        assert console_errors == []
    finally:
        for context in contexts:
            context.close()
