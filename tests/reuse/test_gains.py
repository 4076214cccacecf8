"""What reuse avoided (waste, greenhouse gas, purchases) and the décret 2023-266 reuse rate, on devices
built in every status that matters."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.extensions import db
from core.models import Role
from reuse import factors, gains, services
from reuse.models import DeviceCategory, DeviceStatus
from tests.factories import DeviceFactory, OrganisationFactory, user_for_role
from tests.reuse.test_documents import approved_request, handed_over_request

LAPTOP, MONITOR, PRINTER = DeviceCategory.LAPTOP, DeviceCategory.MONITOR, DeviceCategory.PRINTER


def handed_over(organisation, left_on: date, **kwargs):
    kwargs.setdefault("reformed_on", date(left_on.year - 1, 6, 1))
    return DeviceFactory(organisation=organisation, status=DeviceStatus.HANDED_OVER, left_on=left_on, **kwargs)


# --- per device -------------------------------------------------------------------------------------

def test_a_laptop_given_for_reuse_avoids_its_waste_its_manufacture_and_a_purchase():
    laptop = handed_over(OrganisationFactory(public=True), date(2026, 3, 1))
    assert gains.device_gains(laptop) == gains.Gains(Decimal("1.65"), Decimal("181"), Decimal("900"))


def test_a_sold_printer_counts_in_weight_but_has_no_co2_factor():
    printer = DeviceFactory(category=PRINTER, weight_kg=Decimal("10.00"), status=DeviceStatus.SOLD,
                            left_on=date(2026, 3, 1))
    assert gains.device_gains(printer) == gains.Gains(Decimal("10.00"), None, Decimal("400"))


@pytest.mark.parametrize("status", [DeviceStatus.IN_SERVICE, DeviceStatus.REFORMED, DeviceStatus.OFFERED,
                                    DeviceStatus.RESERVED, DeviceStatus.RECONDITIONING, DeviceStatus.RECYCLED])
def test_a_device_that_did_not_leave_for_reuse_avoids_nothing(status):
    assert gains.device_gains(DeviceFactory(status=status)) == gains.Gains(Decimal(0), Decimal(0), Decimal(0))


# --- per organisation and year --------------------------------------------------------------------

def test_two_laptops_handed_over_in_the_year():
    organisation = OrganisationFactory(public=True)
    handed_over(organisation, date(2026, 3, 10))
    handed_over(organisation, date(2026, 12, 31))

    given = gains.organisation_gains(organisation.id, 2026)["given"]

    assert (given["count"], given["weee_kg"], given["kgco2e"], given["euros"]) == (
        2, Decimal("3.30"), Decimal("362"), Decimal("1800"))
    assert given["without_co2_factor"] == [] and given["without_price"] == []
    assert given["by_category"] == {LAPTOP: {"count": 2, "weee_kg": Decimal("3.30"), "kgco2e": Decimal("362"),
                                             "euros": Decimal("1800")}}


def test_only_this_organisation_s_devices_gone_to_reuse_this_year_count():
    organisation = OrganisationFactory(public=True)
    handed_over(organisation, date(2026, 1, 1))
    handed_over(organisation, date(2025, 12, 31))                                    # the year before
    handed_over(organisation, date(2027, 1, 1))                                      # the year after
    handed_over(OrganisationFactory(public=True), date(2026, 5, 1))                  # someone else's
    DeviceFactory(organisation=organisation, status=DeviceStatus.RECYCLED, left_on=date(2026, 5, 1))
    DeviceFactory(organisation=organisation, status=DeviceStatus.OFFERED, reformed_on=date(2025, 5, 1))

    result = gains.organisation_gains(organisation.id, 2026)

    assert result["given"]["count"] == 1
    assert result["received"]["count"] == 0 and result["received"]["weee_kg"] == 0
    assert result["year"] == 2026 and result["factor_version"] == factors.version()


def test_printers_count_in_weight_and_are_named_as_lacking_a_co2_factor():
    organisation = OrganisationFactory(public=True)
    handed_over(organisation, date(2026, 4, 1))
    DeviceFactory(organisation=organisation, category=PRINTER, weight_kg=Decimal("12.50"),
                  status=DeviceStatus.SOLD, left_on=date(2026, 6, 1))
    DeviceFactory(organisation=organisation, category=MONITOR, weight_kg=Decimal("5.70"),
                  status=DeviceStatus.SOLD, left_on=date(2026, 6, 1))

    given = gains.organisation_gains(organisation.id, 2026)["given"]

    assert given["count"] == 3
    assert given["weee_kg"] == Decimal("19.85")
    assert given["kgco2e"] == Decimal("245.7")                     # 181 + 64.7: the printer has no factor
    assert given["euros"] == Decimal("1480")                       # 900 + 400 + 180
    assert given["without_co2_factor"] == [PRINTER]
    assert given["by_category"][PRINTER]["kgco2e"] is None


def test_devices_received_through_the_circuit_count_for_the_receiver():
    giver, receiver = user_for_role(Role.IT_MANAGER), user_for_role(Role.IT_MANAGER)
    handed_over_request(giver, receiver, count=2)
    received_then_confirmed = handed_over_request(giver, receiver, count=1)
    services.confirm_receipt(receiver, received_then_confirmed)
    approved_request(giver, receiver, count=1)                      # not handed over yet
    db.session.commit()
    year = services.today().year

    received = gains.organisation_gains(receiver.organisation_id, year)
    given = gains.organisation_gains(giver.organisation_id, year)

    assert (received["received"]["count"], received["received"]["weee_kg"], received["received"]["kgco2e"],
            received["received"]["euros"]) == (3, Decimal("4.95"), Decimal("543"), Decimal("2700"))
    assert received["given"]["count"] == 0
    assert given["given"]["count"] == 3 and given["received"]["count"] == 0
    assert gains.organisation_gains(receiver.organisation_id, year - 1)["received"]["count"] == 0


def test_the_territory_sums_every_organisation():
    first, second = OrganisationFactory(public=True), OrganisationFactory(public=True)
    handed_over(first, date(2026, 2, 1))
    handed_over(second, date(2026, 3, 1))
    DeviceFactory(organisation=second, category=MONITOR, weight_kg=Decimal("5.70"), status=DeviceStatus.SOLD,
                  left_on=date(2026, 3, 1))
    handed_over(second, date(2025, 3, 1))

    territory = gains.territory_gains(2026)

    assert (territory["given"]["count"], territory["given"]["weee_kg"], territory["given"]["kgco2e"],
            territory["given"]["euros"]) == (3, Decimal("9.00"), Decimal("426.7"), Decimal("1980"))
    assert territory["factor_version"] == factors.version()
    assert territory["reuse_rate"]["a"] == 3


# --- décret 2023-266 ---------------------------------------------------------------------------------

def test_the_reuse_rate_counts_weee_2_and_6_sent_to_reuse_over_those_in_stock_on_january_1():
    organisation = OrganisationFactory(public=True)

    def device(category=LAPTOP, **kwargs):
        return DeviceFactory(organisation=organisation, category=category, **kwargs)

    reformed_2025 = date(2025, 6, 1)
    # In stock on 1 January 2026 and sent to reuse in 2026: in A and B.
    device(status=DeviceStatus.HANDED_OVER, reformed_on=reformed_2025, left_on=date(2026, 3, 1))
    device(MONITOR, status=DeviceStatus.SOLD, reformed_on=reformed_2025, left_on=date(2026, 5, 1))  # WEEE 2
    # In stock on 1 January 2026, still there or recycled since: B only.
    device(DeviceCategory.DESKTOP, status=DeviceStatus.REFORMED, reformed_on=reformed_2025)
    device(DeviceCategory.SMARTPHONE, status=DeviceStatus.RECYCLED, reformed_on=date(2024, 2, 1),
           left_on=date(2026, 2, 1))
    device(DeviceCategory.DESKTOP, status=DeviceStatus.OFFERED, reformed_on=reformed_2025,
           purchase_date=date(2016, 1, 1))                        # exactly 10 years old: still counted
    # Reformed during 2026 and sent to reuse in 2026: A only.
    device(DeviceCategory.TABLET, status=DeviceStatus.HANDED_OVER, reformed_on=date(2026, 2, 1),
           left_on=date(2026, 4, 1))
    # Neither.
    device(DeviceCategory.SERVER, status=DeviceStatus.HANDED_OVER, reformed_on=reformed_2025,
           left_on=date(2026, 3, 1))                              # WEEE 4
    device(status=DeviceStatus.REFORMED, reformed_on=reformed_2025,
           purchase_date=date(2015, 6, 1))                        # 10.6 years old on 1 January 2026
    device(status=DeviceStatus.HANDED_OVER, reformed_on=date(2024, 5, 1),
           left_on=date(2025, 11, 30))                            # left before 1 January
    device(status=DeviceStatus.IN_SERVICE)
    DeviceFactory(status=DeviceStatus.HANDED_OVER, reformed_on=reformed_2025, left_on=date(2026, 3, 1))

    rate = gains.reuse_rate(organisation.id, 2026)

    assert rate == {"year": 2026, "a": 3, "b": 5, "rate": Decimal("60.0"), "target": Decimal(50),
                    "target_text": "décret n° 2023-266, art. 1 (à compter de 2025 : 50 %)"}


def test_the_rate_is_rounded_to_one_decimal_and_undefined_without_stock():
    organisation = OrganisationFactory(public=True)
    for _ in range(3):
        DeviceFactory(organisation=organisation, status=DeviceStatus.REFORMED, reformed_on=date(2025, 6, 1))
    DeviceFactory(organisation=organisation, status=DeviceStatus.HANDED_OVER, reformed_on=date(2026, 1, 5),
                  left_on=date(2026, 2, 1))

    assert gains.reuse_rate(organisation.id, 2026)["rate"] == Decimal("33.3")
    assert gains.reuse_rate(organisation.id, 2025) == {
        "year": 2025, "a": 0, "b": 0, "rate": None, "target": Decimal(50),
        "target_text": "décret n° 2023-266, art. 1 (à compter de 2025 : 50 %)"}


@pytest.mark.parametrize(("year", "target"), [(2022, None), (2023, Decimal(25)), (2024, Decimal(35)),
                                              (2025, Decimal(50)), (2030, Decimal(50))])
def test_the_target_follows_the_decree(year, target):
    assert gains.reuse_rate_target(year) == target
    assert gains.reuse_rate(OrganisationFactory(public=True).id, year)["target"] == target
