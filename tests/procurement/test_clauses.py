"""The clause library: the seed file, its loading command, versions kept by tenders, retiring, validation,
the list's filters and the user's language."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from core.errors import RuleViolation
from core.extensions import db
from core.models import Role
from procurement.models import (DECP_CONSIDERATIONS, SOCIAL_THEMES, Clause, ClauseVersion, Mechanism,
                                TenderClause, Theme)
from procurement.services import clauses as clause_service
from procurement.services import tenders as tender_service
from tests.factories import clause as clause_factory
from tests.factories import draft_tender, user_for_role
from tests.matrix import log_in

SEED = json.loads(clause_service.LIBRARY_FILE.read_text(encoding="utf-8"))
ROW_CODE = re.compile(r'<th scope="row"><a href="/procurement/clauses/\d+">([^<]+)</a>')


def expected_consideration(theme: Theme, mechanism: Mechanism) -> str:
    """DECP v2: a reserved contract is "Marché réservé"; an award criterion is a "Critère", every other
    mechanism a "Clause"; social or environmental after the theme."""
    if theme is Theme.RESERVED_CONTRACT:
        return "Marché réservé"
    award = mechanism is Mechanism.AWARD_CRITERION
    if theme.is_social:
        return "Critère social" if award else "Clause sociale"
    return "Critère environnemental" if award else "Clause environnementale"


def listed_codes(response) -> list[str]:
    assert response.status_code == 200
    return ROW_CODE.findall(response.get_data(as_text=True))


def form_data(**overrides) -> dict:
    data = {
        "title_fr": "Endurance des batteries", "title_en": "Battery endurance",
        "text_fr": "La batterie conserve 80 % de sa capacité après 500 cycles.",
        "text_en": "The battery keeps 80 % of its capacity after 500 cycles.",
        "evidence_fr": "Rapport d'essai EN 61960-3.", "evidence_en": "EN 61960-3 test report.",
        "theme": "battery", "mechanism": "technical_specification",
        "decp_consideration": "Clause environnementale", "ocds_goal": "environmental.wasteReduction",
        "source": "EU GPP computers 2021",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin():
    return user_for_role(Role.ADMIN)


@pytest.fixture
def seeded():
    added = clause_service.load_library()
    db.session.commit()
    return added


# --- The seed file ----------------------------------------------------------------------------------

def test_the_seed_file_covers_every_theme_and_mechanism_in_both_languages():
    entries = SEED["clauses"]
    assert len(entries) >= 25
    codes = [entry["code"] for entry in entries]
    assert len(codes) == len(set(codes))
    assert {Theme(entry["theme"]) for entry in entries} == set(Theme)
    assert {Mechanism(entry["mechanism"]) for entry in entries} == set(Mechanism)
    goals = clause_service.ocds_goals()
    for entry in entries:
        assert 0 < len(entry["code"]) <= 20, entry["code"]
        for key in ("title_fr", "title_en", "text_fr", "text_en", "evidence_fr", "evidence_en", "source"):
            assert entry[key].strip(), (entry["code"], key)
        assert entry["ocds_goal"] in goals, entry["code"]
        assert entry["decp_consideration"] in DECP_CONSIDERATIONS
        assert entry["decp_consideration"] == expected_consideration(Theme(entry["theme"]),
                                                                     Mechanism(entry["mechanism"])), entry["code"]
        assert entry["ocds_goal"].startswith("social.") == (Theme(entry["theme"]) in SOCIAL_THEMES), entry["code"]


def test_every_seed_entry_passes_the_service_check():
    for entry in SEED["clauses"]:
        data = clause_service.ClauseData(**{k: entry[k] for k in clause_service.ClauseData.__dataclass_fields__})
        data.theme, data.mechanism = Theme(data.theme), Mechanism(data.mechanism)
        clause_service._check(data)  # raises RuleViolation on a bad entry


def test_the_seed_library_loads_every_clause_at_version_1(seeded):
    assert seeded == len(SEED["clauses"])
    versions = db.session.scalars(select(ClauseVersion)).all()
    assert len(versions) == seeded
    assert {v.number for v in versions} == {1}
    assert all(v.created_by_id is None for v in versions)
    assert {v.clause.code for v in versions} == {entry["code"] for entry in SEED["clauses"]}


def test_the_load_command_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["clauses", "load"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"{len(SEED['clauses'])} ")
    second = runner.invoke(args=["clauses", "load"])
    assert second.exit_code == 0, second.output
    assert second.output.startswith("0 ")
    assert db.session.scalar(select(func.count(Clause.id))) == len(SEED["clauses"])
    assert db.session.scalar(select(func.count(ClauseVersion.id))) == len(SEED["clauses"])


def test_loading_never_touches_an_edited_clause(admin, seeded):
    clause = db.session.scalar(select(Clause).where(Clause.code == "ENV-BAT-01"))
    clause_service.edit_clause(admin, clause, clause_service.ClauseData(**form_data(
        theme=Theme.BATTERY, mechanism=Mechanism.TECHNICAL_SPECIFICATION)))
    db.session.commit()
    assert clause_service.load_library() == 0
    assert clause.current.number == 2


# --- Versions and tenders ---------------------------------------------------------------------------

def test_editing_adds_version_2_and_a_tender_keeps_version_1(client, admin):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    version_1 = clause_factory("ENV-TEST-01", Theme.BATTERY, Mechanism.TECHNICAL_SPECIFICATION)
    tender_service.attach_clause(officer, tender, version_1)
    db.session.commit()
    clause_id, version_1_id = version_1.clause_id, version_1.id

    log_in(client, admin)
    response = client.post(f"/procurement/clauses/{clause_id}/edit", data=form_data(text_fr="Nouveau texte."))
    assert response.status_code == 302

    db.session.expire_all()
    clause = db.session.get(Clause, clause_id)
    assert [v.number for v in clause.versions] == [1, 2]
    assert clause.current.text_fr == "Nouveau texte."
    assert clause.current.created_by_id == admin.id
    kept = db.session.scalars(select(TenderClause.clause_version_id)
                              .join(ClauseVersion).where(ClauseVersion.clause_id == clause_id)).all()
    assert kept == [version_1_id]
    assert db.session.get(ClauseVersion, version_1_id).text_fr == "Texte de la clause ENV-TEST-01."

    page = client.get(f"/procurement/clauses/{clause_id}").get_data(as_text=True)
    assert tender.reference in page
    assert "Nouveau texte." in page and "Texte de la clause ENV-TEST-01." in page  # current and history


def test_an_old_version_can_no_longer_be_attached(admin):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    version_1 = clause_factory("ENV-TEST-02")
    clause_service.edit_clause(admin, version_1.clause, clause_service.ClauseData(**form_data(
        theme=Theme.DURABILITY, mechanism=Mechanism.EXECUTION_CLAUSE)))
    db.session.commit()
    with pytest.raises(RuleViolation):
        tender_service.attach_clause(officer, tender, version_1)
    assert tender_service.attach_clause(officer, tender, version_1.clause.current).version.number == 2


def test_saving_an_unchanged_form_adds_no_version(client, admin):
    version = clause_factory("ENV-TEST-03")
    log_in(client, admin)
    form = client.get(f"/procurement/clauses/{version.clause_id}/edit")
    assert form.status_code == 200
    data = form_data(title_fr=version.title_fr, title_en=version.title_en, text_fr=version.text_fr,
                     text_en=version.text_en, evidence_fr=version.evidence_fr, evidence_en=version.evidence_en,
                     theme=version.theme.value, mechanism=version.mechanism.value,
                     decp_consideration=version.decp_consideration, ocds_goal=version.ocds_goal, source="")
    assert client.post(f"/procurement/clauses/{version.clause_id}/edit", data=data).status_code == 302
    assert db.session.scalar(select(func.count(ClauseVersion.id))) == 1


def test_a_retired_clause_cannot_be_attached_until_reactivated(client, admin):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    version = clause_factory("ENV-TEST-04")
    log_in(client, admin)

    assert client.post(f"/procurement/clauses/{version.clause_id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Clause, version.clause_id).active is False
    with pytest.raises(RuleViolation):
        tender_service.attach_clause(officer, tender, db.session.get(ClauseVersion, version.id))
    db.session.rollback()

    assert client.post(f"/procurement/clauses/{version.clause_id}/active", data={"active": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Clause, version.clause_id).active is True
    tender_service.attach_clause(officer, tender, db.session.get(ClauseVersion, version.id))


def test_the_active_switch_needs_a_value(client, admin):
    version = clause_factory("ENV-TEST-05")
    log_in(client, admin)
    assert client.post(f"/procurement/clauses/{version.clause_id}/active", data={}).status_code == 400
    assert client.post(f"/procurement/clauses/{version.clause_id}/active",
                       data={"active": "maybe"}).status_code == 400


# --- Creating and validating ------------------------------------------------------------------------

def test_an_admin_adds_a_clause(client, admin):
    log_in(client, admin)
    response = client.post("/procurement/clauses/new", data=form_data(code=" env-new-01 "))
    assert response.status_code == 302
    clause = db.session.scalar(select(Clause).where(Clause.code == "ENV-NEW-01"))
    assert response.headers["Location"].endswith(f"/procurement/clauses/{clause.id}")
    assert clause.active and clause.current.number == 1
    assert clause.current.theme is Theme.BATTERY
    assert clause.current.created_by_id == admin.id


@pytest.mark.parametrize("overrides", [
    {"ocds_goal": "environmental.happiness"},  # not in the OCDS code list
    {"theme": "insertion_hours", "decp_consideration": "Clause environnementale"},
    {"theme": "battery", "decp_consideration": "Marché réservé"},
    {"decp_consideration": "Pas de considération environnementale"},
    {"theme": "no_such_theme"},
    {"mechanism": "no_such_mechanism"},
    {"title_en": "   "},
    {"text_fr": ""},
    {"code": "X" * 21},
], ids=["unknown OCDS goal", "social theme, environmental consideration", "environmental theme, reserved",
        "no consideration", "unknown theme", "unknown mechanism", "blank English title", "no French text",
        "code too long"])
def test_an_invalid_clause_answers_422_and_creates_nothing(client, admin, overrides):
    log_in(client, admin)
    response = client.post("/procurement/clauses/new", data=form_data(**{"code": "ENV-BAD-01", **overrides}))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Clause.id))) == 0


def test_a_code_is_used_once(client, admin):
    clause_factory("ENV-TWICE")
    log_in(client, admin)
    response = client.post("/procurement/clauses/new", data=form_data(code="env-twice"))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Clause.id))) == 1


def test_an_invalid_edit_answers_422_and_adds_no_version(client, admin):
    version = clause_factory("ENV-TEST-06")
    log_in(client, admin)
    for overrides in ({"ocds_goal": "environmental.happiness"},
                      {"theme": "disabled_workers", "decp_consideration": "Critère environnemental"}):
        response = client.post(f"/procurement/clauses/{version.clause_id}/edit", data=form_data(**overrides))
        assert response.status_code == 422
    assert db.session.scalar(select(func.count(ClauseVersion.id))) == 1


# --- The list and the page --------------------------------------------------------------------------

def test_the_list_filters_by_theme_mechanism_and_kind(client, seeded):
    log_in(client, user_for_role(Role.OBSERVER))
    by_theme = {entry["code"] for entry in SEED["clauses"] if entry["theme"] == "battery"}
    assert set(listed_codes(client.get("/procurement/clauses?theme=battery"))) == by_theme

    selection = {entry["code"] for entry in SEED["clauses"] if entry["mechanism"] == "selection_criterion"}
    assert set(listed_codes(client.get("/procurement/clauses?mechanism=selection_criterion"))) == selection

    social = {entry["code"] for entry in SEED["clauses"] if Theme(entry["theme"]).is_social}
    assert set(listed_codes(client.get("/procurement/clauses?kind=social"))) == social
    environmental = set(listed_codes(client.get("/procurement/clauses?kind=environmental")))
    assert environmental == {entry["code"] for entry in SEED["clauses"]} - social

    both = listed_codes(client.get("/procurement/clauses?kind=social&mechanism=award_criterion"))
    assert set(both) == {entry["code"] for entry in SEED["clauses"]
                         if Theme(entry["theme"]).is_social and entry["mechanism"] == "award_criterion"}
    assert len(listed_codes(client.get("/procurement/clauses"))) == len(SEED["clauses"])
    # A value that does not parse is ignored, not an error page.
    assert len(listed_codes(client.get("/procurement/clauses?theme=nonsense"))) == len(SEED["clauses"])


def test_the_list_shows_the_current_version(client, admin):
    version = clause_factory("ENV-TEST-07", Theme.ENERGY, Mechanism.TECHNICAL_SPECIFICATION)
    clause_service.edit_clause(admin, version.clause, clause_service.ClauseData(**form_data(
        theme=Theme.PACKAGING, mechanism=Mechanism.EXECUTION_CLAUSE, ocds_goal="environmental.wasteReduction")))
    db.session.commit()
    log_in(client, user_for_role(Role.SUPPLIER))
    assert listed_codes(client.get("/procurement/clauses?theme=packaging")) == ["ENV-TEST-07"]
    assert listed_codes(client.get("/procurement/clauses?theme=energy")) == []
    page = client.get("/procurement/clauses").get_data(as_text=True)
    assert "environmental.wasteReduction" in page and "contractPerformanceConditions" in page


def test_retired_clauses_are_listed_to_admins_and_on_request(client, admin):
    clause_factory("ENV-LIVE")
    retired = clause_factory("ENV-GONE")
    clause_service.set_active(admin, retired.clause, False)
    db.session.commit()

    log_in(client, user_for_role(Role.PROCUREMENT_OFFICER))
    assert listed_codes(client.get("/procurement/clauses")) == ["ENV-LIVE"]
    assert listed_codes(client.get("/procurement/clauses?status=retired")) == ["ENV-GONE"]
    assert listed_codes(client.get("/procurement/clauses?status=all")) == ["ENV-GONE", "ENV-LIVE"]

    log_in(client, admin)
    assert listed_codes(client.get("/procurement/clauses")) == ["ENV-GONE", "ENV-LIVE"]
    assert listed_codes(client.get("/procurement/clauses?status=active")) == ["ENV-LIVE"]
    # The page of a retired clause stays readable: tenders still refer to it.
    log_in(client, user_for_role(Role.SUPPLIER))
    assert client.get(f"/procurement/clauses/{retired.clause_id}").status_code == 200


@pytest.mark.parametrize("locale, shown, hidden", [
    ("en", "Battery endurance", "Endurance des batteries"),
    ("fr", "Endurance des batteries", "Battery endurance"),
])
def test_titles_follow_the_users_language(client, seeded, locale, shown, hidden):
    log_in(client, user_for_role(Role.IT_MANAGER, locale=locale))
    page = client.get("/procurement/clauses?theme=battery").get_data(as_text=True)
    assert shown in page and hidden not in page
    clause = db.session.scalar(select(Clause).where(Clause.code == "ENV-BAT-01"))
    detail = client.get(f"/procurement/clauses/{clause.id}").get_data(as_text=True)
    assert f"<span class=\"subtitle\">{shown}</span>" in detail
    own_text = clause.current.text(locale)
    other_text = clause.current.text("fr" if locale == "en" else "en")
    assert detail.index(own_text[:40]) < detail.index(other_text[:40])  # the other language comes second


def test_the_page_lists_only_the_tenders_the_user_may_see(client):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)  # a draft: only its buyer (and admins) see it
    version = clause_factory("ENV-TEST-08")
    tender_service.attach_clause(officer, tender, version)
    db.session.commit()

    log_in(client, officer)
    assert tender.reference in client.get(f"/procurement/clauses/{version.clause_id}").get_data(as_text=True)
    log_in(client, user_for_role(Role.SUPPLIER))
    assert tender.reference not in client.get(f"/procurement/clauses/{version.clause_id}").get_data(as_text=True)


def test_the_page_shows_what_the_clause_stands_for(client, seeded):
    clause = db.session.scalar(select(Clause).where(Clause.code == "SOC-RES-01"))
    log_in(client, user_for_role(Role.BENEFICIARY))
    page = client.get(f"/procurement/clauses/{clause.id}").get_data(as_text=True)
    assert "Marché réservé" in page
    assert "social.disadvantagedEmploymentOpportunities" in page
    assert "selectionCriteria" in page
    assert "L.2113-12" in page  # the source and the text


def test_an_unknown_clause_is_404(client):
    log_in(client, user_for_role(Role.OBSERVER))
    assert client.get("/procurement/clauses/999999").status_code == 404


def test_the_demo_loads_the_seed_library_once():
    from procurement.demo import load_clauses

    assert load_clauses() == len(SEED["clauses"])
    db.session.commit()
    assert load_clauses() == 0
