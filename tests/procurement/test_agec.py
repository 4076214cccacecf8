"""Loi AGEC art. 58 (procurement/services/agec.py): the share of a buyer's purchases from reuse, from the
catalogue, the contracts register and the devices received through the reuse circuit; the yearly targets
since 2021; the flat values of donations; the annual declaration (CSV). Every figure is checked against
arithmetic written here."""
from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import RuleViolation
from core.extensions import db
from core.models import OrganisationKind, Role
from marketplace.models import OrderStatus
from marketplace.services import orders as order_service
from procurement import indicators
from procurement.models import Contract, ContractSource, ContractStatus, Mechanism, ProcedureType, Theme
from procurement.services import agec
from procurement.services import contracts as contract_service
from reuse.models import DeviceCategory, DeviceStatus, Offer, RequestStatus, ReuseRequest
from tests.factories import CatalogueOfferFactory, DeviceFactory, OrganisationFactory, clause, user_for_role
from tests.matrix import log_in

DATA = Path(__file__).parent / "data"
_NUMBERS = itertools.count(1)
IT, PRINTING = agec.IT, agec.PRINTING
JUNE_2025 = datetime(2025, 6, 1, tzinfo=timezone.utc)


def officer_of(name: str = "Ville de Vitry-sur-Seine"):
    organisation = OrganisationFactory(kind=OrganisationKind.COMMUNE, name=name, insee_code=None)
    return user_for_role(Role.PROCUREMENT_OFFICER, organisation=organisation)


def catalogue_order(officer, lines, created_at=JUNE_2025, reused: bool = False):
    """An order of (offer, quantity) lines, dated."""
    order = order_service.issue_order(officer, officer.organisation, lines[0][0].supplier, [
        order_service.LineData(offer=offer, quantity=quantity, unit_price=offer.unit_price, site=None)
        for offer, quantity in lines])
    order.created_at = created_at
    for line in order.lines:
        line.is_reused = reused
    db.session.commit()
    return order


def hand_contract(officer, amount: str, notified_on=date(2025, 3, 1), cpv="30213100-6", clauses=()):
    created = contract_service.create_manual(officer, officer.organisation, contract_service.ContractData(
        decp_id=f"AG{next(_NUMBERS):04d}", title="Ordinateurs portables", cpv=cpv,
        procedure=ProcedureType.ADAPTED, amount=Decimal(amount), notified_on=notified_on, duration_months=12,
        holder_name="Fournisseur SAS", clauses=list(clauses)))
    db.session.commit()
    return created


def imported_contract(buyer, amount: str, notified_on=date(2025, 4, 1), cpv="30213100-6"):
    contract = Contract(buyer=buyer, decp_id=f"IMP-{amount}", source=ContractSource.DECP,
                        status=ContractStatus.NOTIFIED, title="Portables", cpv=cpv, amount=Decimal(amount),
                        notified_on=notified_on, holder_name="Fournisseur SAS",
                        agec_category=agec.default_category(cpv, notified_on))
    db.session.add(contract)
    db.session.commit()
    return contract


def received(receiver, count: int, handed_over_on: date, purchase_date=date(2022, 3, 1),
             category=DeviceCategory.LAPTOP, price=None, giver=None):
    """`count` devices of another commune handed over to `receiver` through the circuit."""
    giver = giver or OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville d'Orly")
    offer = Offer(organisation=giver, title="Surplus", category=category, quantity=count, available=0)
    request = ReuseRequest(offer=offer, organisation=receiver, quantity=count, purpose="Écoles",
                           status=RequestStatus.RECEIVED)
    db.session.add_all([offer, request])
    for _ in range(count):
        DeviceFactory(organisation=giver, category=category, status=DeviceStatus.HANDED_OVER,
                      left_on=handed_over_on, purchase_date=purchase_date, request=request, offer=offer,
                      sale_price=price)
    db.session.commit()
    return giver


def set_cell(category: str, band: str, value: str | None) -> None:
    """An administrator completes a cell of the grid."""
    agec.set_donation_value(user_for_role(Role.ADMIN), category, band, None if value is None else Decimal(value),
                            "Arrêté du 29 février 2024, annexe")
    db.session.commit()


# --- the issue's commune: €30,000 of new laptops by contract, €2,490 of reconditioned ones in the catalogue -----

def test_a_contract_of_new_laptops_and_catalogue_reconditioned_ones_make_one_share(app):
    officer = officer_of()
    seller = OrganisationFactory(name="Ateliers Numériques Solidaires", is_ess=True)
    reconditioned = CatalogueOfferFactory(supplier=seller, unit_price=Decimal("249.00"))
    catalogue_order(officer, [(reconditioned, 10)])
    hand_contract(officer, "30000.00")

    figures = indicators.compute(2025, officer.organisation)

    # 2,490 from reuse of 30,000 + 2,490 = 32,490: 7.66 %, not the catalogue's 100 % nor 51.7 %.
    assert (figures["agec_it_amount"], figures["agec_it_reuse_amount"]) == (Decimal("32490.00"),
                                                                            Decimal("2490.00"))
    assert figures["agec_it_reuse_share"] == (Decimal(2490) / Decimal(32490)).quantize(Decimal("0.0001"))
    assert figures["agec_it_reuse_share"] == Decimal("0.0766")


def test_a_contract_whose_goods_are_refurbished_counts_whole_from_reuse_and_the_officer_may_correct(app):
    officer = officer_of()
    refurbished = clause("ENV-RECO-T", Theme.REFURBISHED_SHARE, Mechanism.TECHNICAL_SPECIFICATION)
    contract = hand_contract(officer, "12000.00", clauses=[refurbished])
    assert (contract.agec_category, contract.agec_reuse_amount, contract.agec_recycled_amount) == (
        IT, Decimal("12000.00"), Decimal("0.00"))

    # Half of it new after all, and 1,000 with recycled plastics: the officer says so.
    agec.set_contract_figures(officer, contract, IT, Decimal("6000.00"), Decimal("1000.00"))
    db.session.commit()
    found = agec.figures(2025, officer.organisation)
    assert (found.total, found.reuse_amount, found.contracts_recycled_amount) == (
        Decimal("12000.00"), Decimal("6000.00"), Decimal("1000.00"))

    with pytest.raises(RuleViolation):  # 6,000 + 6,001 > 12,000
        agec.set_contract_figures(officer, contract, IT, Decimal("6000.00"), Decimal("6001.00"))
    with pytest.raises(RuleViolation):
        agec.set_contract_figures(officer, contract, "Ordinateurs", Decimal("0"), Decimal("0"))
    with pytest.raises(RuleViolation):
        agec.set_contract_figures(officer, contract, IT, Decimal("-1"), Decimal("0"))
    with pytest.raises(RuleViolation):  # one amount known, the other not
        agec.set_contract_figures(officer, contract, IT, Decimal("1"), None)
    other_officer = officer_of("Ville d'Ivry-sur-Seine")
    with pytest.raises(Exception):  # another buyer's officer: 404
        agec.set_contract_figures(other_officer, contract, IT, Decimal("0"), Decimal("0"))


def test_an_imported_contract_whose_share_is_unknown_is_counted_apart_never_guessed(app):
    officer = officer_of()
    imported_contract(officer.organisation, "50000.00")
    hand_contract(officer, "10000.00")
    printer_contract = imported_contract(officer.organisation, "800.00", cpv="30232100-5")

    found = agec.figures(2025, officer.organisation)
    assert (found.total, found.contracts_unknown, found.contracts_unknown_amount) == (
        Decimal("10000.00"), 1, Decimal("50000.00"))
    figures = indicators.compute(2025, officer.organisation)
    assert (figures["agec_it_contracts_unknown"], figures["agec_it_contracts_unknown_amount"]) == (
        1, Decimal("50000.00"))
    assert figures["agec_it_reuse_share"] == Decimal("0")  # 0 of the 10,000 known
    # The printer contract is in its own category.
    assert agec.figures(2025, officer.organisation, PRINTING).contracts_unknown == 1
    assert printer_contract.agec_category == PRINTING


def test_the_catalogue_counts_the_orders_of_the_year_in_paris_time_by_category(app):
    officer = officer_of()
    seller = OrganisationFactory(name="Recyclerie d'Ivry", is_ess=True)
    reconditioned = CatalogueOfferFactory(supplier=seller, unit_price=Decimal("100.00"))
    new_desktop = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.DESKTOP,
                                        unit_price=Decimal("200.00"), is_reconditioned=False)
    printer = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.PRINTER, unit_price=Decimal("150.00"))
    new_printer = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.PRINTER,
                                        unit_price=Decimal("50.00"), is_reconditioned=False)
    switch = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.NETWORK, unit_price=Decimal("80.00"))
    cables = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.OTHER, unit_price=Decimal("10.00"))
    catalogue_order(officer, [(reconditioned, 1), (new_desktop, 1), (printer, 1), (new_printer, 1), (switch, 1),
                              (cables, 4)])
    catalogue_order(officer, [(new_desktop, 1)], reused=True)  # re-use counts too
    catalogue_order(officer, [(reconditioned, 5)]).status = OrderStatus.CANCELLED
    # 31 December 2025, 23:30 UTC is already 1 January 2026 in Paris.
    catalogue_order(officer, [(reconditioned, 7)], datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc))
    catalogue_order(officer_of("Ville d'Orly"), [(reconditioned, 9)])
    db.session.commit()

    it = agec.figures(2025, officer.organisation, IT)
    # IT: 100 (reconditioned) + 200 (new) + 200 (reused) = 500, of which 300 from reuse; network equipment and
    # cables are in no category (arrêté NOR TRED2403741A).
    assert (it.catalogue_amount, it.catalogue_reuse_amount) == (Decimal("500.00"), Decimal("300.00"))
    printing = agec.figures(2025, officer.organisation, PRINTING)
    assert (printing.total, printing.reuse_amount) == (Decimal("200.00"), Decimal("150.00"))
    assert agec.figures(2026, officer.organisation).total == Decimal("700.00")


@pytest.mark.parametrize("ordered_at, category", [
    (datetime(2024, 6, 30, 21, 59, 59, tzinfo=timezone.utc), None),   # 30 June 23:59:59 in Paris
    (datetime(2024, 6, 30, 22, 0, tzinfo=timezone.utc), IT),          # 1 July 00:00 in Paris
    (datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc), IT)])
def test_a_tablet_enters_the_it_category_on_1_july_2024(app, ordered_at, category):
    """Décret 2021-254 listed IT products by CPV code (tablets were not among them); décret 2024-134 and the
    arrêté of 29 February 2024 count tablets from 1 July 2024."""
    officer = officer_of()
    tablet = CatalogueOfferFactory(category=DeviceCategory.TABLET, cpv="30213200-7", unit_price=Decimal("300.00"))
    catalogue_order(officer, [(tablet, 1)], ordered_at)
    assert agec.figures(2024, officer.organisation).total == (Decimal("300.00") if category else Decimal(0))


@pytest.mark.parametrize("cpv, day, category", [
    ("30213200-7", date(2024, 6, 30), None), ("30213200-7", date(2024, 7, 1), IT),
    ("30237200-1", date(2024, 6, 30), IT), ("30237200-1", date(2024, 7, 1), None),
    ("30213100-6", date(2024, 6, 30), IT), ("30213100-6", date(2024, 7, 2), IT),
    ("30232110-8", date(2023, 1, 1), PRINTING), ("30232110-8", date(2026, 1, 1), PRINTING),
    ("32420000-3", date(2026, 1, 1), None), ("50312000-5", date(2026, 1, 1), None)])
def test_a_contract_s_default_category_follows_its_cpv_code_and_its_date(cpv, day, category):
    assert agec.default_category(cpv, day) == category


@pytest.mark.parametrize("year, percent, text", [
    (2020, None, None), (2021, 20, "2021-254"), (2023, 20, "2021-254"), (2024, 20, "2024-134"),
    (2026, 20, "2024-134"), (2027, 25, "2024-134"), (2029, 25, "2024-134"), (2030, 30, "2024-134"),
    (2035, 30, "2024-134")])
def test_every_year_since_2021_has_its_target_and_its_text(year, percent, text):
    target = agec.target(year)
    if percent is None:
        assert target is None
    else:
        assert target.percent == Decimal(percent) and text in target.text


# --- devices received --------------------------------------------------------------------------------------

def test_donations_count_for_the_receiving_buyer_at_the_flat_values(app):
    officer = officer_of()
    giver = received(officer.organisation, 3, date(2025, 9, 1), purchase_date=date(2022, 3, 1))
    received(officer.organisation, 2, date(2025, 9, 1), price=Decimal("410.00"))  # bought above the cap

    found = agec.figures(2025, officer.organisation)
    # 3 donated laptops under 5 years × 200 = 600; 2 bought for 410 each = 820 (a price per device).
    assert (found.donations, found.donations_value) == (3, Decimal("600.00"))
    assert (found.received_bought, found.received_bought_amount) == (2, Decimal("820.00"))
    assert (found.total, found.reuse_amount) == (Decimal("1420.00"), Decimal("1420.00"))
    # The giver counts nothing: a donation is an acquisition of the receiver only.
    assert agec.figures(2025, giver).total == Decimal(0)


def test_a_donation_the_grid_does_not_value_yet_is_counted_apart_never_at_zero(app):
    officer = officer_of()
    received(officer.organisation, 2, date(2025, 9, 1), category=DeviceCategory.DESKTOP)  # a cell to complete
    received(officer.organisation, 1, date(2025, 9, 1), purchase_date=None)  # age unknown
    received(officer.organisation, 1, date(2024, 3, 7))  # before the arrêté's entry into force

    figures = indicators.compute(2025, officer.organisation)
    assert figures["agec_it_donations_unvalued"] == 3
    assert figures["agec_it_amount"] == Decimal(0) and figures["agec_it_reuse_share"] is None
    assert agec.figures(2024, officer.organisation).donations_unvalued == 1

    set_cell("desktop", agec.UNDER_5_YEARS, "90.00")
    assert agec.figures(2025, officer.organisation).donations_value == Decimal("180.00")


@pytest.mark.parametrize("handed_over_on, band", [
    (date(2027, 2, 28), agec.UNDER_5_YEARS),   # the day before the fifth anniversary
    (date(2027, 3, 1), agec.FROM_5_YEARS),     # five years to the day
    (date(2027, 3, 2), agec.FROM_5_YEARS)])
def test_the_age_band_turns_on_the_fifth_anniversary(handed_over_on, band):
    assert agec.age_band(date(2022, 3, 1), handed_over_on) == band


def test_a_device_bought_on_29_february_turns_five_on_1_march():
    assert agec.age_band(date(2020, 2, 29), date(2025, 2, 28)) == agec.UNDER_5_YEARS
    assert agec.age_band(date(2020, 2, 29), date(2025, 3, 1)) == agec.FROM_5_YEARS


def test_the_grid_is_data_with_its_source_and_only_an_administrator_completes_it(app):
    cells = {(cell.category, cell.age_band): cell for cell in agec.grid()}
    laptop = cells["laptop", agec.UNDER_5_YEARS]
    assert laptop.value == Decimal("200.00") and "TRED2403742A" in laptop.source
    assert "TRED2403742A" in agec.grid_name() and agec.grid_in_force_from() == date(2024, 3, 8)
    assert cells["desktop", agec.UNDER_5_YEARS].value is None  # to be completed, not 0

    with pytest.raises(Exception):  # an officer may not
        agec.set_donation_value(officer_of(), "desktop", agec.UNDER_5_YEARS, Decimal("90.00"), "annexe")
    admin = user_for_role(Role.ADMIN)
    with pytest.raises(RuleViolation):  # a value without where it was read
        agec.set_donation_value(admin, "desktop", agec.UNDER_5_YEARS, Decimal("90.00"), " ")
    with pytest.raises(RuleViolation):
        agec.set_donation_value(admin, "desktop", "under_6_years", Decimal("90.00"), "annexe")
    agec.set_donation_value(admin, "desktop", agec.UNDER_5_YEARS, Decimal("90.00"), "Arrêté, annexe, p. 3")
    db.session.commit()
    cell = {(cell.category, cell.age_band): cell for cell in agec.grid()}["desktop", agec.UNDER_5_YEARS]
    assert (cell.value, cell.source, cell.completed.updated_by_id) == (Decimal("90.00"), "Arrêté, annexe, p. 3",
                                                                       admin.id)
    assert agec.donation_values()["desktop", agec.UNDER_5_YEARS] == Decimal("90.00")


# --- the annual declaration ------------------------------------------------------------------------------

def agec_errors(text: str) -> list[str]:
    """A check of a CSV against the copied Table Schema: header order, required, types, pattern, enum."""
    fields = json.loads((DATA / "agec/schema.json").read_text(encoding="utf-8"))["fields"]
    rows = list(csv.reader(io.StringIO(text)))
    errors = []
    if rows[0] != [field["name"] for field in fields]:
        errors.append(f"header {rows[0]}")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(fields):
            errors.append(f"line {number}: {len(row)} cells")
            continue
        for field, value in zip(fields, row):
            where = f"line {number}, {field['name']}"
            constraints = field.get("constraints", {})
            if value == "":
                if constraints.get("required"):
                    errors.append(f"{where}: required")
                continue
            if field["type"] == "year" and not re.fullmatch(r"-?\d{4}", value):
                errors.append(f"{where}: not a year")
            if field["type"] == "number" and not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value):
                errors.append(f"{where}: not a number (decimal point)")
            if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
                errors.append(f"{where}: does not match {constraints['pattern']}")
            if "enum" in constraints and value not in constraints["enum"]:
                errors.append(f"{where}: not in the list")
    return errors


def test_the_validator_accepts_the_official_example_and_refuses_a_broken_row():
    example = (DATA / "agec/exemple-valide.csv").read_text(encoding="utf-8")
    assert agec_errors(example) == []
    broken = example + "2024,1300252650001,DINUM,Ordinateurs,\"1,5\",1,0,0,\n"
    assert len(agec_errors(broken)) == 3  # SIRET of 13 digits, product not in the list, decimal comma


def test_the_declaration_has_a_row_per_buyer_and_category_with_every_purchase(client):
    officer = officer_of()
    seller = OrganisationFactory(name="Recyclerie d'Ivry", is_ess=True)
    laptop = CatalogueOfferFactory(supplier=seller, unit_price=Decimal("100.00"))
    printer = CatalogueOfferFactory(supplier=seller, category=DeviceCategory.PRINTER, unit_price=Decimal("150.00"))
    catalogue_order(officer, [(laptop, 3), (printer, 1)])
    hand_contract(officer, "20000.50")
    imported_contract(officer.organisation, "9000.00")
    received(officer.organisation, 2, date(2025, 9, 1))  # 2 × 200
    received(officer.organisation, 1, date(2025, 9, 1), category=DeviceCategory.DESKTOP)  # to be completed
    OrganisationFactory(kind=OrganisationKind.COMMUNE, name="Ville sans achat")

    response = client.get("/api/v1/exports/agec.csv?year=2025")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="agec-2025.csv"'
    text = response.get_data(as_text=True)
    assert agec_errors(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["siret"], row["type_produit_acquis"], row["montant_total"], row["montant_reemploi_et_reutilisation"],
             row["montant_produits_issus_don"], row["montant_produits_recycles"]) for row in rows] == [
        # 300 + 20,000.50 + 400 = 20,700.50, of which 300 + 400 from reuse (donations included).
        (officer.organisation.siret, IT, "20700.50", "700.00", "400.00", "0.00"),
        (officer.organisation.siret, PRINTING, "150.00", "150.00", "0.00", "0.00")]
    comment = rows[0]["commentaires"]
    assert "1 contrat(s)" in comment and "9000.00 €" in comment and "1 appareil(s)" in comment
    assert agec_errors(client.get("/api/v1/exports/agec.csv?year=2024").get_data(as_text=True)) == []


def test_the_orders_page_points_to_the_share_of_every_purchase(client):
    officer = officer_of()
    officer.locale = "en"
    db.session.commit()
    log_in(client, officer)

    page = client.get("/marketplace/orders").get_data(as_text=True)

    assert "not only these orders" in page
    assert f"/procurement/indicators?buyer={officer.organisation_id}" in page


def test_an_administrator_completes_the_grid_on_its_page_and_officers_read_it(client):
    log_in(client, officer_of())
    page = client.get("/procurement/indicators/donation-values").get_data(as_text=True)
    assert "TRED2403742A" in page and 'name="value"' not in page  # read only

    log_in(client, user_for_role(Role.ADMIN))
    refused = client.post("/procurement/indicators/donation-values", data={
        "category": "desktop", "age_band": "under_5_years", "value": "90.00", "source": ""})
    assert refused.status_code == 422  # a value without its source
    assert agec.donation_values()["desktop", agec.UNDER_5_YEARS] is None
    saved = client.post("/procurement/indicators/donation-values", data={
        "category": "desktop", "age_band": "under_5_years", "value": "90.00", "source": "Annexe, p. 3"})
    assert saved.status_code == 302
    assert agec.donation_values()["desktop", agec.UNDER_5_YEARS] == Decimal("90.00")
    page = client.get("/procurement/indicators/donation-values").get_data(as_text=True)
    assert 'id="value-desktop-under_5_years"' in page and "Annexe, p. 3" in page


def test_the_indicators_page_lists_the_contracts_left_out_of_the_share(client):
    officer = officer_of()
    unknown = imported_contract(officer.organisation, "50000.00")
    known = hand_contract(officer, "10000.00")
    log_in(client, officer)

    page = client.get(f"/procurement/indicators?year=2025&buyer={officer.organisation_id}").get_data(as_text=True)

    assert f"/procurement/contracts/{unknown.id}#agec" in page
    assert f"/procurement/contracts/{known.id}#agec" not in page
