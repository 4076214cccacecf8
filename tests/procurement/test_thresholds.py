"""Every legal threshold at its boundary: at the value, just below, just above. The abnormally low bid (CCP
R.2152-3 reading: under 80 % of the others' mean or 70 % of the estimate), the standstill period (CCP
R.2182-1), the décret 2023-266 rate (10 years on 1 January, the yearly targets). The Climat et Résilience
date is in test_tenders.py and test_climate.py, the AGEC targets in test_agec.py, the €300 cap and the
reuse cascade in tests/reuse."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.errors import RuleViolation
from core.extensions import db
from core.models import OrganisationKind, Role
from procurement import indicators, report
from procurement.models import ContractStatus, CriterionKind
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from procurement.services import evaluation
from reuse import gains
from reuse.models import DeviceStatus
from reuse.services import is_too_old_for_reuse
from tests.factories import DeviceFactory, OrganisationFactory, close, published_tender, submit_bid, user_for_role
from tests.matrix import log_in


def opened_lot(*prices: str):
    """A lot (estimate 25,000 excl. VAT) with one bid per price, opened: its scores in the order given."""
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = published_tender(officer)
    bids = [submit_bid(user_for_role(Role.SUPPLIER, OrganisationFactory(name=f"Fournisseur {n}")), tender.lots[0],
                       price) for n, price in enumerate(prices)]
    close(tender)
    bid_service.open_bids(officer, tender)
    db.session.commit()
    by_bid = {score.bid.id: score for score in evaluation.score_lot(tender.lots[0])}
    return officer, tender, [by_bid[bid.id] for bid in bids]


# --- abnormally low bids ---------------------------------------------------------------------------------

@pytest.mark.parametrize("price, flagged", [("23999.99", True), ("24000.00", False), ("24000.01", False)])
def test_a_bid_is_abnormally_low_under_80_percent_of_the_others_mean(app, price, flagged):
    # The other bid is 30,000: 80 % of it is 24,000.00, not itself abnormally low.
    _officer, _tender, (tested, other) = opened_lot(price, "30000.00")
    assert (tested.below_others, tested.abnormally_low) == (flagged, flagged)
    assert tested.others_mean == Decimal("30000.00")


@pytest.mark.parametrize("price, flagged", [("17499.99", True), ("17500.00", False), ("17500.01", False)])
def test_a_bid_is_abnormally_low_under_70_percent_of_the_estimate(app, price, flagged):
    # The only bid of a lot estimated at 25,000: 70 % is 17,500.00 (no other bid to compare with).
    _officer, tender, (tested,) = opened_lot(price)
    assert tender.lots[0].estimated_value == Decimal("25000.00")
    assert (tested.below_estimate, tested.below_others, tested.abnormally_low) == (flagged, False, flagged)


# --- the standstill period ------------------------------------------------------------------------------

def awarded(officer, tender, scores, now):
    """The technical marks entered (8/10 each), the lot awarded to the first bid given."""
    technical = next(c for c in tender.criteria if c.kind is CriterionKind.TECHNICAL)
    for score in scores:
        evaluation.evaluate(officer, score.bid, technical, Decimal(8), "Mémoire complet.")
    db.session.commit()
    contract = evaluation.award(officer, tender.lots[0], scores[0].bid, now=now)
    db.session.commit()
    return contract


def test_the_contract_is_signed_no_earlier_than_the_end_of_the_standstill(app):
    officer, tender, (best, _other) = opened_lot("20000.00", "30000.00")
    awarded_at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    contract = awarded(officer, tender, [best, _other], awarded_at)
    # 11 days (CCP R.2182-1, STANDSTILL_DAYS) after the award.
    assert contract.standstill_ends_at == datetime(2026, 11, 13, 9, 0, tzinfo=timezone.utc)

    with pytest.raises(RuleViolation):  # just below
        contract_service.sign(officer, contract, now=contract.standstill_ends_at - timedelta(microseconds=1))
    assert contract.status is ContractStatus.AWARDED
    contract_service.sign(officer, contract, now=contract.standstill_ends_at)  # at the value
    assert contract.status is ContractStatus.NOTIFIED and contract.notified_on == date(2026, 11, 13)


def test_signing_just_after_the_standstill_is_allowed(app):
    officer, tender, (best,) = opened_lot("20000.00")
    contract = awarded(officer, tender, [best], datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc))
    contract_service.sign(officer, contract, now=contract.standstill_ends_at + timedelta(seconds=1))
    assert contract.status is ContractStatus.NOTIFIED


# --- décret 2023-266 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bought, counted", [
    (date(2014, 12, 31), False),  # more than 10 years old on 1 January 2025: recycling, out of A and B
    (date(2015, 1, 1), True),     # exactly 10 years old: counted
    (date(2015, 1, 2), True)])
def test_ten_years_on_1_january_decide_a_and_b_alike(app, bought, counted):
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE)
    DeviceFactory(organisation=commune, purchase_date=bought, status=DeviceStatus.REFORMED,
                  reformed_on=date(2024, 5, 1))  # in stock on 1 January 2025
    DeviceFactory(organisation=commune, purchase_date=bought, status=DeviceStatus.SOLD,
                  reformed_on=date(2024, 5, 1), left_on=date(2025, 3, 1))  # sent to reuse in 2025

    rate = gains.reuse_rate(commune.id, 2025)

    # B holds both (the sold one was still held on 1 January); A the sold one.
    assert (rate["a"], rate["b"]) == ((1, 2) if counted else (0, 0))


@pytest.mark.parametrize("bought, too_old", [(date(2016, 12, 6), True), (date(2016, 12, 7), False),
                                             (date(2016, 12, 8), False)])
def test_a_device_more_than_10_years_old_cannot_be_offered(app, bought, too_old):
    device = DeviceFactory(purchase_date=bought)
    assert is_too_old_for_reuse(device, on=date(2026, 12, 7)) is too_old


def test_a_12_year_old_laptop_sold_is_in_neither_a_nor_b_on_every_route(client):
    """The auditor's case: 10 laptops reformed in 2024 held on 1 January 2025, one of them bought in 2013
    (12 years old then); 4 sold in 2025, the old one among them. A / B = 3 / 9, not 4 / 9."""
    commune = OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville de Gentilly", insee_code="94037")
    old = DeviceFactory(organisation=commune, purchase_date=date(2013, 2, 1), status=DeviceStatus.SOLD,
                        reformed_on=date(2024, 4, 1), left_on=date(2025, 5, 1))
    for _ in range(3):
        DeviceFactory(organisation=commune, status=DeviceStatus.SOLD, reformed_on=date(2024, 4, 1),
                      left_on=date(2025, 5, 1))
    for _ in range(6):
        DeviceFactory(organisation=commune, status=DeviceStatus.REFORMED, reformed_on=date(2024, 4, 1))
    assert gains.is_over_max_age(old.purchase_date, date(2025, 1, 1))

    assert (gains.reuse_rate(commune.id, 2025)["a"], gains.reuse_rate(commune.id, 2025)["b"]) == (3, 9)
    assert gains.reuse_rate(commune.id, 2025)["rate"] == Decimal("33.3")  # 3 / 9 × 100
    figures = indicators.compute(2025, commune)
    assert (figures["reuse_rate_2023_266_sent"], figures["reuse_rate_2023_266_stock"]) == (3, 9)
    assert figures["reuse_rate_2023_266"] == Decimal("0.3333")
    [row] = report.reuse_by_organisation(2025, commune)["rows"]
    assert (row["reuse_rate_2023_266_sent"], row["reuse_rate_2023_266_stock"]) == (3, 9)
    body = client.get(f"/api/v1/indicators?year=2025&buyer={commune.insee_code}").get_json()
    assert (body["reuse_rate_2023_266_sent"], body["reuse_rate_2023_266_stock"]) == (3, 9)
    # The IT manager's gains page says the same.
    log_in(client, user_for_role(Role.IT_MANAGER, organisation=commune))
    page = client.get("/reuse/gains?year=2025").get_data(as_text=True)
    assert "33,3" in page
    # The 4 devices sold still count as reused (WEEE kept out of the waste stream).
    assert figures["devices_reused"] == 4


@pytest.mark.parametrize("year, percent", [(2022, None), (2023, 25), (2024, 35), (2025, 50), (2030, 50)])
def test_the_decret_2023_266_targets_hold_from_their_year(year, percent):
    assert gains.reuse_rate_target(year) == (None if percent is None else Decimal(percent))
    assert (gains.reuse_rate_target_text(year) is None) is (percent is None)
