"""Tenders: drafting through the pages (validation, lots, award grid, clauses), the Climat et Résilience
check, publication and cancellation, the list's filters, anonymous questions and answers, the dashboard,
and bids staying sealed on every page of tenders."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from core.errors import RuleViolation
from core.extensions import db
from core.models import OrganisationKind, Role, utcnow
from core.views.dashboard import names_read
from marketplace.services import campaigns
from procurement.models import (CriterionKind, Lot, Mechanism, ProcedureType, Question, Reservation, Tender,
                                TenderStatus, Theme)
from procurement.services import bids as bid_service
from procurement.services import climate
from procurement.services import tenders as service
from procurement.views.dashboard import procurement_figures
from reuse.models import DeviceCategory
from tests.factories import (OrganisationFactory, UserFactory, clause, close, draft_tender, published_tender,
                             submit_bid, user_for_role)
from tests.matrix import log_in


def officer_of(name: str = "Ville d'Ivry-sur-Seine", city: str = "Ivry-sur-Seine", kind=OrganisationKind.COMMUNE):
    organisation = OrganisationFactory(kind=kind, siret=None, name=name, city=city)
    return UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=organisation)


def supplier_named(name: str):
    return UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(name=name))


@pytest.fixture
def officer():
    return officer_of()


def tender_form(**changes) -> dict:
    data = {"reference": "2027-INFO-01", "title": "Portables reconditionnés pour les écoles",
            "description": "Fourniture de 300 portables reconditionnés.", "cpv": "30213100-6",
            "procedure": "open", "reservation": "none", "estimated_value": "120000.00", "duration_months": "24",
            "deadline": "2030-01-15T12:00"}
    data.update(changes)
    return data


def page(client, tender) -> str:
    return client.get(f"/procurement/tenders/{tender.id}").get_data(as_text=True)


def shown(message: str) -> str:
    """A flashed message as the page shows it (escaped)."""
    return str(escape(message))


def tender_count() -> int:
    return db.session.scalar(select(func.count(Tender.id)))


# --- drafting --------------------------------------------------------------------------------------

def test_an_officer_drafts_a_tender_through_the_form(client, officer):
    log_in(client, officer)

    response = client.post("/procurement/tenders/new", data=tender_form())

    tender = db.session.scalars(select(Tender)).one()
    assert response.status_code == 302 and response.location == f"/procurement/tenders/{tender.id}"
    assert (tender.buyer_id, tender.status, tender.procedure) == (officer.organisation_id, TenderStatus.DRAFT,
                                                                 ProcedureType.OPEN)
    assert tender.estimated_value == Decimal("120000.00") and tender.duration_months == 24
    # Noon in Paris in January is 11:00 UTC.
    assert tender.deadline == datetime(2030, 1, 15, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("changes", [
    {"title": ""},
    {"reference": ""},
    {"estimated_value": "-10"},
    {"estimated_value": "dix mille"},
    {"deadline": ""},
    {"duration_months": "0"},
    {"procedure": "auction"},
    {"cpv": "12345678-9"},   # not in the list of known CPV codes
], ids=str)
def test_an_invalid_tender_answers_422_and_saves_nothing(client, officer, changes):
    log_in(client, officer)

    response = client.post("/procurement/tenders/new", data=tender_form(**changes))

    assert response.status_code == 422
    assert tender_count() == 0


def test_the_service_refuses_an_unknown_cpv_and_completes_a_known_one(officer):
    data = service.TenderData(reference="T-1", title="Portables", description="", cpv="99999999-9",
                              procedure=ProcedureType.ADAPTED, estimated_value=Decimal("1000"),
                              deadline=utcnow() + timedelta(days=5))
    with pytest.raises(RuleViolation):
        service.create_tender(officer, officer.organisation, data)
    data.cpv = "30213100"  # the check digit is completed from the list
    assert service.create_tender(officer, officer.organisation, data).cpv == "30213100-6"


def test_a_reference_is_used_once_per_buyer(client, officer):
    log_in(client, officer)
    client.post("/procurement/tenders/new", data=tender_form())

    response = client.post("/procurement/tenders/new", data=tender_form(title="Autre"))

    assert response.status_code == 422
    assert tender_count() == 1


def test_the_edit_page_shows_the_deadline_in_paris_time_and_saves_the_draft(client, officer):
    tender = draft_tender(officer, deadline=datetime(2030, 7, 1, 10, 0, tzinfo=timezone.utc))
    log_in(client, officer)

    assert 'value="2030-07-01T12:00"' in client.get(f"/procurement/tenders/{tender.id}/edit").get_data(as_text=True)
    response = client.post(f"/procurement/tenders/{tender.id}/edit",
                           data=tender_form(reference=tender.reference, title="Tablettes", cpv="30213200-7"))

    assert response.status_code == 302
    db.session.expire_all()
    assert (tender.title, tender.cpv) == ("Tablettes", "30213200-7")


# --- the award grid ---------------------------------------------------------------------------------

def grid(*rows) -> dict:
    """Rows of the award-grid form as (row index, kind, name, weight)."""
    data = {}
    for index, kind, name, weight in rows:
        data.update({f"criteria-row{index}-kind": kind, f"criteria-row{index}-name": name,
                     f"criteria-row{index}-weight": str(weight)})
    return data


def weights(tender) -> list[tuple[str, int]]:
    db.session.expire_all()
    return [(c.kind.value, c.weight) for c in tender.criteria]


def test_the_grid_is_saved_and_its_empty_rows_ignored(client, officer):
    tender = draft_tender(officer)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/criteria",
                           data=grid((0, "price", "Prix", 40), (2, "environmental", "Réemploi", 40),
                                     (5, "social", "Insertion", 20)))

    assert response.status_code == 302
    assert weights(tender) == [("price", 40), ("environmental", 40), ("social", 20)]


def test_weights_not_summing_to_100_are_refused_with_the_total(client, officer):
    tender = draft_tender(officer)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/criteria",
                           data=grid((0, "price", "Prix", 60), (1, "technical", "Valeur technique", 30)))

    assert response.status_code == 422
    message = gettext("The weights of the award criteria sum to %(total)d, not 100.", total=90)
    assert shown(message) in response.get_data(as_text=True)
    assert weights(tender) == [("price", 60), ("technical", 20), ("environmental", 20)]


def test_the_grid_has_exactly_one_price_criterion(client, officer):
    tender = draft_tender(officer)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/criteria",
                           data=grid((0, "price", "Prix", 50), (1, "price", "Coût du cycle de vie", 30),
                                     (2, "environmental", "Réemploi", 20)))

    assert response.status_code == 422
    assert shown(gettext("The grid has exactly one price criterion.")) in response.get_data(as_text=True)
    assert weights(tender) == [("price", 60), ("technical", 20), ("environmental", 20)]


def test_a_half_filled_row_answers_422(client, officer):
    tender = draft_tender(officer)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/criteria",
                           data={**grid((0, "price", "Prix", 100)), "criteria-row1-kind": "technical"})

    assert response.status_code == 422
    assert weights(tender) == [("price", 60), ("technical", 20), ("environmental", 20)]


# --- lots --------------------------------------------------------------------------------------------

def test_a_lot_is_added_by_hand_and_removed(client, officer):
    tender = draft_tender(officer, lots=0)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/lots",
                           data={"lot-campaign_line_id": "0", "lot-title": "Écrans 24 pouces", "lot-quantity": "40",
                                 "lot-estimated_value": "4800.00"})

    assert response.status_code == 302
    lot = db.session.scalars(select(Lot).where(Lot.tender_id == tender.id)).one()
    assert (lot.number, lot.title, lot.quantity, lot.estimated_value) == (1, "Écrans 24 pouces", 40,
                                                                          Decimal("4800.00"))
    assert client.post(f"/procurement/tenders/{tender.id}/lots/{lot.id}/remove").status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Lot).where(Lot.tender_id == tender.id)).all() == []


def test_a_lot_by_hand_needs_a_title_and_a_quantity(client, officer):
    tender = draft_tender(officer, lots=0)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/lots",
                           data={"lot-campaign_line_id": "0", "lot-title": "", "lot-quantity": ""})

    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Lot.id))) == 0


def tendered_line(coordinator):
    """A group-order line whose census is frozen at 8 + 12 units and which the coordinator hands to a
    tender."""
    campaign = campaigns.create_campaign(coordinator, coordinator.organisation, "Portables durcis 2027", "",
                                         utcnow() + timedelta(days=10))
    line = campaigns.add_line(coordinator, campaign, "Portable durci 14 pouces", "IP65, i5, 16 Go",
                              DeviceCategory.LAPTOP, 10, [], to_be_tendered=True)
    db.session.commit()
    for name, quantity in (("Ville d'Ivry-sur-Seine", 8), ("Ville d'Orly", 12)):
        member = officer_of(name)
        campaigns.set_participation(member, line, member.organisation.sites[0], quantity)
    db.session.commit()
    campaign.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    campaigns.hand_to_tender(coordinator, line)
    db.session.commit()
    return line


def test_a_lot_from_a_tendered_group_order_line_takes_the_census_quantity(client):
    coordinator = officer_of("EPT Grand-Orly Seine Bièvre", "Vitry-sur-Seine", OrganisationKind.EPT)
    line = tendered_line(coordinator)
    tender = draft_tender(coordinator, lots=0)
    log_in(client, coordinator)
    assert line.title in page(client, tender)

    response = client.post(f"/procurement/tenders/{tender.id}/lots",
                           data={"lot-campaign_line_id": str(line.id), "lot-title": "", "lot-quantity": "",
                                 "lot-estimated_value": "9000.00"})

    assert response.status_code == 302
    lot = db.session.scalars(select(Lot).where(Lot.tender_id == tender.id)).one()
    assert (lot.campaign_line_id, lot.quantity, lot.title) == (line.id, 20, "Portable durci 14 pouces")
    assert service.tenderable_lines(coordinator) == []  # a line becomes one lot only


def test_a_line_not_handed_to_a_tender_cannot_become_a_lot():
    coordinator = officer_of("EPT Grand-Orly Seine Bièvre", "Vitry-sur-Seine", OrganisationKind.EPT)
    campaign = campaigns.create_campaign(coordinator, coordinator.organisation, "Portables", "",
                                         utcnow() + timedelta(days=10))
    line = campaigns.add_line(coordinator, campaign, "Portable", "i5", DeviceCategory.LAPTOP, 5, [],
                              to_be_tendered=True)
    tender = draft_tender(coordinator, lots=0)

    with pytest.raises(RuleViolation):
        service.add_lot(coordinator, tender, "", 0, campaign_line=line)


# --- clauses -----------------------------------------------------------------------------------------

def test_clauses_are_attached_once_and_detached(client, officer):
    tender = draft_tender(officer)
    version = clause("ENR-01", Theme.ENERGY, Mechanism.TECHNICAL_SPECIFICATION)
    log_in(client, officer)
    assert "ENR-01" in page(client, tender)  # offered by the picker

    client.post(f"/procurement/tenders/{tender.id}/clauses", data={"clause_version_id": str(version.id)})
    client.post(f"/procurement/tenders/{tender.id}/clauses", data={"clause_version_id": str(version.id)})

    db.session.expire_all()
    attached = [tc for tc in tender.clauses if tc.clause_version_id == version.id]
    assert len(attached) == 1
    client.post(f"/procurement/tenders/{tender.id}/clauses/{attached[0].id}/remove")
    db.session.expire_all()
    assert version.id not in {tc.clause_version_id for tc in tender.clauses}


# --- Climat et Résilience, publication, cancellation ---------------------------------------------------

def without_environmental_considerations(officer):
    """A complete draft but for the environment: price and technical value only, no clause."""
    tender = service.create_tender(officer, officer.organisation, service.TenderData(
        reference="2027-SANS-ENV", title="Portables", description="", cpv="30213100-6",
        procedure=ProcedureType.ADAPTED, estimated_value=Decimal("30000"), deadline=utcnow() + timedelta(days=20)))
    service.add_lot(officer, tender, "Portables", 50)
    service.set_criteria(officer, tender, [(CriterionKind.PRICE, "Prix", 70),
                                           (CriterionKind.TECHNICAL, "Valeur technique", 30)])
    db.session.commit()
    return tender


ART_35 = climate.tender_problems  # the three provisions of Loi Climat et Résilience art. 35


@pytest.mark.parametrize("day, binding", [(date(2026, 8, 21), False), (date(2026, 8, 22), True),
                                          (date(2026, 8, 23), True)])
def test_climat_et_resilience_warns_until_21_august_2026_and_blocks_from_the_22nd(officer, day, binding):
    tender = without_environmental_considerations(officer)

    result = service.check(tender, on=day)

    # No technical specification, no execution clause, no criterion: three provisions missing.
    missing = ART_35(tender)
    assert len(missing) == 3
    assert (result.ok, result.problems, result.warnings) == ((False, missing, []) if binding else (True, [], missing))


@pytest.mark.parametrize("removed", [Mechanism.TECHNICAL_SPECIFICATION, Mechanism.EXECUTION_CLAUSE, "criterion"])
def test_each_of_the_three_provisions_alone_blocks_publication(officer, removed):
    """A tender with two of the three (CCP L.2111-2, L.2112-2, L.2152-7) is still refused."""
    tender = draft_tender(officer)
    if removed == "criterion":
        service.set_criteria(officer, tender, [(CriterionKind.PRICE, "Prix", 70),
                                               (CriterionKind.TECHNICAL, "Valeur technique", 30)])
    else:
        for tender_clause in [tc for tc in tender.clauses if tc.version.mechanism is removed]:
            service.detach_clause(officer, tender_clause)
    db.session.commit()

    assert len(ART_35(tender)) == 1
    with pytest.raises(RuleViolation):
        service.publish(officer, tender, now=datetime(2026, 8, 22, 7, 0, tzinfo=timezone.utc))
    assert tender.status is TenderStatus.DRAFT


def test_the_rule_binds_from_midnight_in_paris_on_22_august(officer):
    tender = without_environmental_considerations(officer)

    # 22:00 UTC on the 21st is midnight in Paris (summer time, UTC+2): the 22nd has begun.
    with pytest.raises(RuleViolation):
        service.publish(officer, tender, now=datetime(2026, 8, 21, 22, 0, tzinfo=timezone.utc))
    assert tender.status is TenderStatus.DRAFT
    # One second before, still the 21st in Paris: published, with the three warnings.
    result = service.publish(officer, tender, now=datetime(2026, 8, 21, 21, 59, 59, tzinfo=timezone.utc))
    assert tender.status is TenderStatus.PUBLISHED and len(result.warnings) == 3


def test_the_publish_button_refuses_a_tender_without_environmental_considerations(client, officer):
    # 22 August 2026 has passed: the rule blocks.
    tender = without_environmental_considerations(officer)
    log_in(client, officer)

    response = client.post(f"/procurement/tenders/{tender.id}/publish", follow_redirects=True)

    page = response.get_data(as_text=True)
    for problem in (
            "Loi Climat et Résilience (art. 35, CCP L.2111-2): the technical specifications need at least one "
            "environmental clause (a clause of the CCTP marked as a technical specification).",
            "Loi Climat et Résilience (art. 35, CCP L.2112-2): the tender needs at least one environmental "
            "execution clause.",
            "Loi Climat et Résilience (art. 35, CCP L.2152-7): the grid needs at least one environmental award "
            "criterion."):
        assert shown(gettext(problem)) in page
    db.session.expire_all()
    assert tender.status is TenderStatus.DRAFT and tender.published_at is None


def test_the_publish_button_publishes_a_complete_draft(client, officer):
    tender = draft_tender(officer)
    log_in(client, officer)

    client.post(f"/procurement/tenders/{tender.id}/publish")

    db.session.expire_all()
    assert tender.status is TenderStatus.PUBLISHED and tender.published_at is not None
    assert f"/procurement/tenders/{tender.id}/package.zip" in page(client, tender)
    assert client.get(f"/procurement/tenders/{tender.id}/edit").status_code == 302  # no longer editable


def test_a_cancellation_needs_its_reason(client, officer):
    tender = published_tender(officer)
    log_in(client, officer)

    assert client.post(f"/procurement/tenders/{tender.id}/cancel", data={"cancel-reason": " "}).status_code == 422
    db.session.expire_all()
    assert tender.status is TenderStatus.PUBLISHED
    client.post(f"/procurement/tenders/{tender.id}/cancel", data={"cancel-reason": "Besoin couvert par l'UGAP."})
    db.session.expire_all()
    assert tender.status is TenderStatus.CANCELLED


def test_a_draft_does_not_exist_for_other_organisations(client, officer):
    tender = draft_tender(officer, reference="BROUILLON-1")
    for stranger in (officer_of("Ville d'Orly", "Orly"), user_for_role(Role.SUPPLIER)):
        log_in(client, stranger)
        assert client.get(f"/procurement/tenders/{tender.id}").status_code == 404
        assert client.get(f"/procurement/tenders/{tender.id}/package.pdf").status_code == 404
        assert "BROUILLON-1" not in client.get("/procurement/tenders").get_data(as_text=True)


# --- the list's filters ------------------------------------------------------------------------------

REFERENCES = ("IVRY-PORTABLES", "ORLY-TABLETTES", "ORLY-BROUILLON", "THIAIS-ESSAI")


def test_the_filters_return_the_right_tenders(client):
    ivry, orly, thiais = officer_of(), officer_of("Ville d'Orly", "Orly"), officer_of("Ville de Thiais", "Thiais")
    laptops = published_tender(ivry, reference="IVRY-PORTABLES")
    published_tender(orly, reference="ORLY-TABLETTES", title="Tablettes pour les collèges", cpv="30213200-7",
                     reservation=Reservation.ESS)
    draft_tender(orly, reference="ORLY-BROUILLON")
    draft_tender(thiais, reference="THIAIS-ESSAI")
    supplier = user_for_role(Role.SUPPLIER)
    log_in(client, supplier)

    def listed(**args) -> set[str]:
        html = client.get("/procurement/tenders", query_string=args).get_data(as_text=True)
        return {reference for reference in REFERENCES if reference in html}

    assert listed() == {"IVRY-PORTABLES", "ORLY-TABLETTES"}
    assert listed(cpv="30213200-7") == {"ORLY-TABLETTES"}
    assert listed(city="Ivry-sur-Seine") == {"IVRY-PORTABLES"}
    assert listed(city="Orly") == {"ORLY-TABLETTES"}
    assert listed(reserved="yes") == {"ORLY-TABLETTES"}
    assert listed(reserved="no") == {"IVRY-PORTABLES"}
    assert listed(q="tablettes") == {"ORLY-TABLETTES"}
    # The search index answers: accents and word endings do not matter.
    assert listed(q="tablette college") == {"ORLY-TABLETTES"}
    assert listed(cpv="not-a-code", reserved="perhaps") == {"IVRY-PORTABLES", "ORLY-TABLETTES"}  # ignored
    # The locality filter offers the communes of the buyers whose tenders the reader may see.
    assert service.buyer_cities(supplier) == ["Ivry-sur-Seine", "Orly"]
    close(laptops)
    assert listed(status="open") == {"ORLY-TABLETTES"}
    assert listed(status="published") == {"IVRY-PORTABLES", "ORLY-TABLETTES"}
    # The buyer also sees its own drafts.
    log_in(client, orly)
    assert listed(status="draft") == {"ORLY-BROUILLON"}


def test_the_list_has_an_empty_state(client):
    log_in(client, user_for_role(Role.SUPPLIER))
    response = client.get("/procurement/tenders")
    assert response.status_code == 200
    # A template's own translated text is not escaped (Jinja marks it safe).
    assert gettext("No tender yet. Published consultations will be listed here.") in response.get_data(as_text=True)


# --- questions and answers -----------------------------------------------------------------------------

def test_answers_reach_every_bidder_without_naming_the_asker(client, officer):
    tender = published_tender(officer)
    asker = supplier_named("Atelier Discret du Val")
    other = supplier_named("Concurrent Curieux")
    log_in(client, asker)
    assert client.post(f"/procurement/tenders/{tender.id}/questions",
                       data={"question-text": "Les chargeurs sont-ils inclus ?"}).status_code == 302
    question = db.session.scalars(select(Question)).one()
    assert question.organisation_id == asker.organisation_id

    log_in(client, other)
    assert "Les chargeurs sont-ils inclus ?" not in page(client, tender)  # not answered yet, not theirs

    log_in(client, officer)
    buyer_view = page(client, tender)
    assert "Les chargeurs sont-ils inclus ?" in buyer_view and "Atelier Discret du Val" in buyer_view
    assert client.post(f"/procurement/tenders/{tender.id}/questions/{question.id}/answer",
                       data={f"question{question.id}-answer": "Oui, chargeur inclus."}).status_code == 302

    log_in(client, other)
    bidder_view = page(client, tender)
    assert "Les chargeurs sont-ils inclus ?" in bidder_view and "Oui, chargeur inclus." in bidder_view
    assert "Atelier Discret du Val" not in bidder_view


def test_questions_are_refused_after_the_deadline(client, officer):
    tender = published_tender(officer)
    supplier = user_for_role(Role.SUPPLIER)
    close(tender)
    log_in(client, supplier)

    assert 'id="question-text"' not in page(client, tender)
    client.post(f"/procurement/tenders/{tender.id}/questions", data={"question-text": "Encore une question ?"})

    assert db.session.scalar(select(func.count(Question.id))) == 0
    with pytest.raises(RuleViolation):
        service.ask(supplier, tender, "Encore une question ?")


# --- sealed bids, dashboard ----------------------------------------------------------------------------

def test_the_tender_pages_never_tell_of_another_organisations_bid(client, officer):
    tender = published_tender(officer, reference="SCELLE-1")
    bidder = supplier_named("Soumissionnaire Secret")
    submit_bid(bidder, tender.lots[0])
    for reader in (officer, user_for_role(Role.SUPPLIER), user_for_role(Role.ADMIN)):
        log_in(client, reader)
        for url in (f"/procurement/tenders/{tender.id}", "/procurement/tenders", "/dashboard"):
            assert "Soumissionnaire Secret" not in client.get(url).get_data(as_text=True)


def _shown(user) -> frozenset[str]:
    """What the user's dashboard reads, as the dashboard view asks its sections."""
    return names_read(f"core/dashboard/{user.role.value}.html")


def test_the_dashboard_follows_each_stage_of_the_officers_tenders(client, officer):
    draft = draft_tender(officer)
    awaiting = published_tender(officer)
    to_open = published_tender(officer)
    evaluated = published_tender(officer)
    close(to_open)
    close(evaluated)
    bid_service.open_bids(officer, evaluated)
    db.session.commit()
    published_tender(officer_of("Ville d'Orly", "Orly"))  # another buyer's: not on this dashboard

    stages = procurement_figures(officer, _shown(officer))["tender_stages"]

    assert {key: [t.id for t in tenders] for key, tenders in stages.items()} == {
        "drafts": [draft.id], "awaiting_deadline": [awaiting.id], "to_open": [to_open.id],
        "under_evaluation": [evaluated.id]}
    log_in(client, officer)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert all(t.reference in dashboard for t in (draft, awaiting, to_open, evaluated))


def test_the_suppliers_dashboard_counts_open_tenders_and_only_its_own_bids(client, officer):
    tender = published_tender(officer, title="Écrans reconditionnés")
    closed = published_tender(officer)
    close(closed)
    bidder, other = user_for_role(Role.SUPPLIER), user_for_role(Role.SUPPLIER)
    submit_bid(bidder, tender.lots[0])

    assert procurement_figures(bidder, _shown(bidder))["open_tender_count"] == 1
    assert procurement_figures(bidder, _shown(bidder))["my_bid_count"] == 1
    assert procurement_figures(other, _shown(other))["my_bid_count"] == 0
    log_in(client, other)
    assert "Écrans reconditionnés" in client.get("/dashboard").get_data(as_text=True)
