"""The search engine (core.search): analysis, permissions, how the index follows the database, rebuild,
the fallback when the index is damaged, and several processes writing at once."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from whoosh import index as whoosh_index
from whoosh.query import And, Every, Not, Or, Term

from core import permissions, search
from core.extensions import db
from core.models import Role, SearchOutbox, ValidationStatus, utcnow
from marketplace.models import CatalogueOffer, Grade
from procurement.models import Bid
from procurement.services import tenders as tender_service
from reuse import services as reuse_services
from reuse.models import DeviceCategory, OfferStatus
from tests.factories import (CatalogueOfferFactory, DeviceFactory, OrganisationFactory, PriceTierFactory,
                             UserFactory, clause, draft_tender, published_tender, submit_bid, user_for_role)


def titles(user, text="", **kwargs) -> list[str]:
    results = search.search(user, text, per_page=100, **kwargs)
    assert results.hidden == 0, "the index filter let through something the rules refuse"
    return [str(hit.obj) for hit in results.hits]


def keys(user, text="", **kwargs) -> set[tuple[str, int]]:
    return {(hit.kind.name, hit.obj.id) for hit in search.search(user, text, per_page=1000, **kwargs).hits}


def indexed_keys() -> set[str]:
    with search.open_index().searcher() as searcher:
        return {fields["key"] for fields in searcher.all_stored_fields()}


@pytest.fixture
def admin():
    return user_for_role(Role.ADMIN)


def device_offer(owner, title="Portables", days_ago=0, **device_kwargs):
    devices = [DeviceFactory(organisation=owner.organisation, reformed=True, **device_kwargs)]
    offer = reuse_services.create_offer(owner, devices, title)
    offer.published_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return offer


# --- analysis --------------------------------------------------------------------------------------

def test_french_words_match_without_accents_and_in_other_forms(admin):
    CatalogueOfferFactory(brand="Écran", model="reconditionné 24 pouces")
    CatalogueOfferFactory(brand="Clavier", model="filaire")
    assert titles(admin, "ecrans reconditionnes") == ["Écran reconditionné 24 pouces"]
    assert titles(admin, "ÉCRAN") == ["Écran reconditionné 24 pouces"]
    assert titles(admin, "reconditionnement") == ["Écran reconditionné 24 pouces"]


def test_english_text_is_stemmed_in_english(admin):
    version = clause("ENV-T1", title="Portables reconditionnés")
    version.title_en = "Refurbished laptops"
    db.session.commit()
    assert titles(admin, "refurbishing laptop") == ["ENV-T1"]


def test_results_are_ranked_highlighted_and_escaped(admin):
    CatalogueOfferFactory(brand="Dell", model="<script>alert(1)</script> écran", specifications="Un écran.")
    CatalogueOfferFactory(brand="Dell", model="écran écran", specifications="Écran, écran et écran.")
    results = search.search(admin, "ecran")
    assert [str(hit.obj) for hit in results.hits][0] == "Dell écran écran"
    first, second = results.hits
    assert '<mark class="match term0">écran</mark>' in first.title
    assert "<script>" not in second.title and "&lt;script&gt;" in second.title


def test_facets_count_every_match_and_narrow_the_results(admin):
    for model in ("Latitude 5490", "Latitude 7490"):
        CatalogueOfferFactory(model=model, specifications="portable professionnel")
    CatalogueOfferFactory(category=DeviceCategory.MONITOR, brand="Dell", model="P2419H",
                          specifications="écran professionnel", grade=Grade.B,
                          supplier=OrganisationFactory(is_siae=True, is_sme=False))
    results = search.search(admin, "professionnel", per_page=1)
    assert results.total == 3 and len(results.hits) == 1 and results.pages == 3
    counts = {name: {v.value: v.count for v in values} for name, values in results.facets.items()}
    assert counts["category"] == {"laptop": 2, "monitor": 1}
    assert counts["grade"] == {"A": 2, "B": 1}
    assert counts["supplier_type"] == {"ess": 2, "sme": 2, "siae": 1}
    narrowed = search.search(admin, "professionnel", selected={"category": "monitor"})
    assert [str(hit.obj) for hit in narrowed.hits] == ["Dell P2419H"]
    assert [v.selected for v in narrowed.facets["category"]] == [True]
    assert search.search(admin, "professionnel", page=3, per_page=1).hits


def test_a_misspelt_word_gets_a_suggestion(admin):
    CatalogueOfferFactory(brand="Lenovo", model="ordinateur portable")
    results = search.search(admin, "ordinatuer")
    assert results.total == 0 and results.suggestion == "ordinateur"
    assert search.search(admin, "ordinateur").suggestion is None


def test_a_suggestion_never_comes_from_a_document_the_user_cannot_open():
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    draft_tender(officer, title="Photocopieurs zygomatiques")
    supplier = user_for_role(Role.SUPPLIER)
    assert search.search(supplier, "zygomatiqe").suggestion is None
    assert search.search(officer, "zygomatiqe").suggestion == "zygomatiques"


def test_a_user_who_may_read_none_of_a_kind_finds_none_of_it_in_a_list_filter():
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    draft_tender(officer, title="Photocopieurs zygomatiques")
    supplier = user_for_role(Role.SUPPLIER)  # reads no tender at all: an empty filter, not no filter
    assert search.matching_ids(supplier, "tender", "photocopieurs") == []
    assert search.matching_ids(officer, "tender", "photocopieurs") != []
    assert search.search(supplier, "photocopieurs").total == 0


def test_facet_counts_follow_the_index_as_it_changes(admin):
    CatalogueOfferFactory(brand="Dell", model="Latitude", grade=Grade.A)
    counts = {value.value: value.count for value in search.search(admin, "dell").facets["grade"]}
    assert counts == {"A": 1}
    CatalogueOfferFactory(brand="Dell", model="Precision", grade=Grade.B)
    CatalogueOfferFactory(brand="Dell", model="OptiPlex", grade=Grade.B)
    counts = {value.value: value.count for value in search.search(admin, "dell").facets["grade"]}
    assert counts == {"A": 1, "B": 2}


def test_totals_and_facet_counts_agree_with_the_hits_whatever_the_query(admin):
    CatalogueOfferFactory(brand="Dell", model="Latitude ordinateur portable", grade=Grade.A)
    CatalogueOfferFactory(brand="Dell", model="OptiPlex ordinateur fixe", grade=Grade.B)
    CatalogueOfferFactory(brand="HP", model="EliteBook ordinateur portable", grade=Grade.B)
    expected = {"dell": 2, "dell OR hp": 3, "dell NOT portable": 1, '"ordinateur portable"': 2, "": 3}
    for text, count in expected.items():
        results = search.search(admin, text, kinds=["catalogue_offer"], per_page=100)
        assert (results.total, len(results.hits)) == (count, count), text
        assert sum(value.count for value in results.facets["grade"]) == count, text


def test_a_text_of_stop_words_filters_nothing(admin):
    CatalogueOfferFactory(brand="Dell", model="Latitude")
    condition, used_index = search.text_condition(admin, "catalogue_offer", "le des")
    assert used_index and len(db.session.scalars(select(CatalogueOffer).where(condition)).all()) == 1


def test_query_syntax_typed_by_users_is_harmless(admin):
    CatalogueOfferFactory(brand="Dell", model="Latitude")
    for text in ('"', "*", "dell AND (", "title:dell", "') OR 1=1 --", "<script>", "ordi*"):
        search.search(admin, text)  # no exception


# --- permissions ----------------------------------------------------------------------------------

def _world():
    """Objects of every kind in every state that changes who may open them, and users of every role."""
    vitry_it = user_for_role(Role.IT_MANAGER)
    vitry_officer = UserFactory(role=Role.PROCUREMENT_OFFICER, organisation=vitry_it.organisation)
    ivry = OrganisationFactory(public=True, postcode="94200", city="Ivry-sur-Seine")
    ivry_it = UserFactory(role=Role.IT_MANAGER, organisation=ivry)
    ivry_observer = UserFactory(role=Role.OBSERVER, organisation=ivry)
    school_in_vitry = UserFactory(role=Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94400", city="Vitry-sur-Seine"))
    association_in_orly = UserFactory(role=Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94310", city="Orly"))
    supplier = user_for_role(Role.SUPPLIER)
    pending_supplier = UserFactory(role=Role.SUPPLIER, organisation=OrganisationFactory(pending=True))
    users = [user_for_role(Role.ADMIN), vitry_it, vitry_officer, ivry_it, ivry_observer, school_in_vitry,
             association_in_orly, supplier, pending_supplier]

    CatalogueOfferFactory(supplier=supplier.organisation)
    CatalogueOfferFactory(supplier=supplier.organisation, stock=0)
    CatalogueOfferFactory(supplier=supplier.organisation, active=False)
    CatalogueOfferFactory(supplier=pending_supplier.organisation)
    draft_tender(vitry_officer)
    published_tender()
    clause("LIB-1")
    device_offer(vitry_it, "Offert ce jour")
    device_offer(vitry_it, "Offert il y a 10 jours", days_ago=10)
    device_offer(vitry_it, "Offert il y a 30 jours", days_ago=30)
    requested = device_offer(vitry_it, "Demandé puis clos", days_ago=30)
    reuse_services.request_offer(association_in_orly, requested, 1, "Atelier numérique")
    requested.status = OfferStatus.CLOSED
    withdrawn = device_offer(vitry_it, "Retiré", days_ago=30)
    reuse_services.withdraw_offer(vitry_it, withdrawn)
    db.session.commit()
    return users


def test_each_user_finds_exactly_what_the_permission_rules_let_them_open():
    users = _world()
    objects = [(kind, obj) for kind in search.KINDS.values()
               for obj in db.session.scalars(select(kind.model)) if kind.document(obj) is not None]
    assert {kind.name for kind, _obj in objects} == set(search.KINDS)
    for user in users:
        allowed = {(kind.name, obj.id) for kind, obj in objects if permissions.may(user, kind.view_action, obj)}
        assert keys(user) == allowed, f"{user.role.value} of {user.organisation.name}"


def test_the_cascade_widens_in_the_index_as_days_pass():
    owner = user_for_role(Role.IT_MANAGER)
    other_commune = UserFactory(role=Role.IT_MANAGER, organisation=OrganisationFactory(
        public=True, postcode="94200", city="Ivry-sur-Seine"))
    beneficiary = UserFactory(role=Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94310", city="Orly"))
    offer = device_offer(owner, "Écrans pour écoles")
    assert titles(other_commune, "ecrans") == [] and titles(beneficiary, "ecrans") == []
    offer.published_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert titles(other_commune, "ecrans") == ["Écrans pour écoles"] and titles(beneficiary, "ecrans") == []
    offer.published_at = utcnow() - timedelta(days=22)
    db.session.commit()
    assert titles(beneficiary, "ecrans") == ["Écrans pour écoles"]
    assert titles(user_for_role(Role.SUPPLIER), "ecrans") == []


def test_sealed_bids_and_the_inventory_never_enter_the_index(admin):
    supplier = user_for_role(Role.SUPPLIER)
    tender = published_tender()
    bid = submit_bid(supplier, tender.lots[0], price="12345.67")
    owner = user_for_role(Role.IT_MANAGER)
    device_offer(owner, "Portables", serial_number="SERIAL-XYZ-987", asset_number="INV-SECRET-1")
    assert {key.partition(":")[0] for key in indexed_keys()} <= set(search.KINDS)
    assert db.session.scalar(select(func.count()).select_from(Bid)) == 1
    for text in (bid.public_id, "12345.67", "12345", "memoire", "SERIAL-XYZ-987", "INV-SECRET-1", "Attestation"):
        assert search.search(admin, text).total == 0, text


# --- following the database -----------------------------------------------------------------------

def test_creations_updates_and_deletions_reach_the_index(admin):
    offer = CatalogueOfferFactory(brand="Fujitsu", model="Lifebook")
    assert titles(admin, "fujitsu") == ["Fujitsu Lifebook"]
    offer.model = "Esprimo"
    db.session.commit()
    assert titles(admin, "lifebook") == [] and titles(admin, "esprimo") == ["Fujitsu Esprimo"]
    db.session.delete(offer)
    db.session.commit()
    assert titles(admin, "fujitsu") == [] and "catalogue_offer:%d" % offer.id not in indexed_keys()
    assert search.status().waiting == 0


def test_what_a_document_is_built_from_is_followed(admin):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    tender_service.add_lot(officer, tender, "Imprimantes multifonctions", 10)
    db.session.commit()
    assert titles(officer, "imprimantes") == [str(tender)]
    version = clause("ENV-F1")
    version.text_fr = "Batteries remplaçables par l'utilisateur."
    db.session.commit()
    assert titles(admin, "batterie remplacable") == ["ENV-F1"]


def test_a_change_to_a_followed_model_queues_its_document():
    offer = CatalogueOfferFactory()
    search.drain()
    PriceTierFactory(offer=offer)
    queued = db.session.execute(select(SearchOutbox.kind, SearchOutbox.object_id)).all()
    assert ("catalogue_offer", offer.id) in queued


def test_an_organisation_change_rebuilds_the_documents_it_owns():
    supplier = user_for_role(Role.SUPPLIER)
    CatalogueOfferFactory(supplier=supplier.organisation, brand="HP", model="EliteBook")
    someone = user_for_role(Role.IT_MANAGER)
    assert titles(someone, "elitebook") == ["HP EliteBook"]
    supplier.organisation.name = "Recyclerie Gambetta"
    db.session.commit()
    assert set(titles(someone, "gambetta")) == {"Recyclerie Gambetta", "HP EliteBook"}
    supplier.organisation.validation_status = ValidationStatus.REJECTED
    db.session.commit()
    assert titles(someone, "elitebook") == [] and titles(supplier, "elitebook") == ["HP EliteBook"]


def test_a_request_lets_the_requester_find_the_offer_once_closed():
    owner = user_for_role(Role.IT_MANAGER)
    beneficiary = UserFactory(role=Role.BENEFICIARY, organisation=OrganisationFactory(
        beneficiary=True, postcode="94310", city="Orly"))
    offer = device_offer(owner, "Tablettes", days_ago=30)
    reuse_services.request_offer(beneficiary, offer, 1, "Cours d'informatique")
    offer.status = OfferStatus.CLOSED
    db.session.commit()
    assert titles(beneficiary, "tablettes") == ["Tablettes"]
    assert titles(user_for_role(Role.BENEFICIARY), "tablettes") == []


def test_a_rolled_back_change_leaves_nothing_to_apply(admin):
    offer = CatalogueOfferFactory(brand="Acer", model="TravelMate")
    search.drain()
    offer.model = "Swift"
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    assert titles(admin, "travelmate") == ["Acer TravelMate"] and titles(admin, "swift") == []


def test_each_commit_applies_its_changes_when_drain_on_commit_is_on(app):
    app.config["SEARCH_DRAIN_ON_COMMIT"] = True
    try:
        CatalogueOfferFactory(brand="Asus", model="Vivobook")
        assert search.status().waiting == 0
    finally:
        app.config["SEARCH_DRAIN_ON_COMMIT"] = False
    with search.open_index().searcher() as searcher:
        assert [fields["title"] for fields in searcher.documents(kind="catalogue_offer")] == ["Asus Vivobook"]


def test_without_drain_on_commit_the_command_applies_the_waiting_changes(app, admin):
    CatalogueOfferFactory(brand="Asus", model="ExpertBook")
    waiting = search.status().waiting
    assert waiting >= 1  # the offer, and its supplier made by the factory
    result = app.test_cli_runner().invoke(args=["search", "drain"])
    assert result.exit_code == 0 and f"{waiting} change(s) applied" in result.output
    assert search.status().waiting == 0 and titles(admin, "expertbook") == ["Asus ExpertBook"]


def test_a_search_applies_the_waiting_changes_before_reading(admin):
    CatalogueOfferFactory(brand="Asus", model="ZenBook")
    assert search.status().waiting >= 1
    assert titles(admin, "zenbook") == ["Asus ZenBook"] and search.status().waiting == 0


def test_reindex_rebuilds_the_index_from_the_database(app, admin):
    CatalogueOfferFactory(brand="Lenovo", model="ThinkCentre")
    clause("ENV-R1")
    before = keys(admin)
    search.clear()
    assert keys(admin) == set()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and f"{len(before)} documents" in result.output
    assert keys(admin) == before
    assert len([path for path in Path(app.config["SEARCH_INDEX_DIR"]).glob("gen-*")]) == 1


# --- document sets kept between searches -------------------------------------------------------------

def _documents(bitmap: int) -> set[int]:
    return {number for number in range(bitmap.bit_length()) if bitmap >> number & 1}


@pytest.mark.parametrize("kept_per_segment", [search._SEGMENT_SETS_EACH, 3], ids=["kept", "evicted"])
def test_kept_document_sets_match_whoosh_across_segments_deletions_merges_and_moving_dates(
        tmp_path, monkeypatch, kept_per_segment):
    """The sets kept per segment (core.search._per_segment) against Whoosh's own matching, after each
    kind of change an index goes through: new segments, documents deleted or replaced in an older
    segment, segments merged, and the cascade's date moving forward and back; also when a segment keeps
    so few sets that they are dropped as they are made."""
    monkeypatch.setattr(search, "_SEGMENT_SETS_EACH", kept_per_segment)
    ix = whoosh_index.create_in(str(tmp_path), search.SCHEMA)
    start = datetime(2026, 1, 1)

    def add(numbers, writer=None):
        writer = writer or ix.writer()
        for number in numbers:
            writer.update_document(key=f"doc:{number}", kind=("offer", "tender", "clause")[number % 3],
                                   readers=f"user org:{number % 4}", published=start + timedelta(hours=number))
        writer.commit(merge=False)  # a segment per commit, as the outbox's small drains leave them

    def check(moments):
        queries = [Term("kind", "offer"), Term("readers", "org:1"), Term("kind", "absent"), Every(),
                   Not(Term("kind", "tender")), And([Term("kind", "clause"), Term("readers", "org:2")]),
                   Or([Term("kind", "tender"), Term("readers", "org:3")])]
        queries += [search.published_before(moment) for moment in moments]
        with ix.searcher() as searcher:
            for query in queries:
                assert _documents(search._matches(searcher, query)) == set(query.docs(searcher)), repr(query)
        assert all(len(kept) <= kept_per_segment for kept in search._SEGMENT_SETS.values())

    add(range(60))
    check([start + timedelta(hours=10), start + timedelta(hours=30, minutes=1)])  # later: from the kept earlier set
    add(range(60, 75))
    add([3, 4, 61])  # replaced: deleted in their segments, written again in a new one
    writer = ix.writer()
    writer.delete_by_term("key", "doc:7")
    writer.delete_by_term("key", "doc:70")
    writer.commit(merge=False)
    check([start + timedelta(hours=5), start + timedelta(hours=65), start + timedelta(hours=200)])
    with ix.searcher() as searcher:
        assert len(list(search._segments(searcher))) == 3
    ix.optimize()  # one segment: the others' kept sets go with the version that left them
    check([start + timedelta(hours=64), start + timedelta(hours=66)])
    with ix.searcher() as searcher:
        [(segment_id, _segment, _offset)] = search._segments(searcher)
        assert {kept for folder, kept in search._SEGMENT_SETS if folder == str(tmp_path.resolve())} == {segment_id}


def test_a_warm_worker_has_the_facets_and_dates_kept_and_finds_the_same(app, admin):
    CatalogueOfferFactory(brand="Lenovo", model="ThinkPad", grade=Grade.A)
    CatalogueOfferFactory(brand="Dell", model="Latitude", grade=Grade.B)
    owner = user_for_role(Role.IT_MANAGER)
    device_offer(owner, "Portables anciens", days_ago=90)
    before = keys(admin, "latitude")
    search._SEGMENT_SETS.clear()
    search._CACHED.update(version=None, sets={})
    search.warm()
    kept = {key for sets in search._SEGMENT_SETS.values() for key in sets}
    assert {("term", "grade", "A"), ("term", "grade", "B"), ("every",)} <= kept
    assert any(key[0] == "until" for key in kept)
    assert keys(admin, "latitude") == before and len(before) == 1


def test_warming_an_empty_or_damaged_index_leaves_the_search_to_say_so(app, admin):
    search.clear()
    search.warm()
    assert search.search(admin, "optiplex").total == 0
    CatalogueOfferFactory(brand="Dell", model="OptiPlex")
    _damage(app)
    search.warm()
    with pytest.raises(search.SearchUnavailable):
        search.search(admin, "optiplex")


# --- a missing or damaged index --------------------------------------------------------------------

def _damage(app) -> None:
    current = Path(app.config["SEARCH_INDEX_DIR"]) / search.CURRENT
    for toc in current.resolve().glob("_MAIN_*.toc"):
        toc.write_bytes(b"not a table of contents")


def test_a_damaged_index_is_reported_and_the_database_keeps_working(app, admin):
    CatalogueOfferFactory(brand="Dell", model="OptiPlex")
    _damage(app)
    with pytest.raises(search.SearchUnavailable):
        search.search(admin, "optiplex")
    assert [str(hit.obj) for hit in search.fallback(admin, "optiplex")] == ["Dell OptiPlex"]
    condition, used_index = search.text_condition(admin, "catalogue_offer", "OptiPlex")
    assert used_index is False
    assert [str(o) for o in db.session.scalars(select(CatalogueOffer).where(condition))] == ["Dell OptiPlex"]
    # Each word may be in its own column, as on the index.
    condition, _used_index = search.text_condition(admin, "catalogue_offer", "dell optiplex")
    assert [str(o) for o in db.session.scalars(select(CatalogueOffer).where(condition))] == ["Dell OptiPlex"]
    assert [str(hit.obj) for hit in search.fallback(admin, "dell optiplex")] == ["Dell OptiPlex"]
    app.config["SEARCH_DRAIN_ON_COMMIT"] = True
    try:
        CatalogueOfferFactory(brand="Dell", model="Precision")  # the commit stands; the change waits
    finally:
        app.config["SEARCH_DRAIN_ON_COMMIT"] = False
    state = search.status()
    assert state.available is False and "damaged" in state.reason and state.waiting >= 1
    status_output = app.test_cli_runner().invoke(args=["search", "status"]).output
    assert "unavailable" in status_output and "reindex" in status_output
    search.reindex()
    assert titles(admin, "precision") == ["Dell Precision"] and search.status().waiting == 0


def test_a_missing_index_is_reported(app, admin):
    (Path(app.config["SEARCH_INDEX_DIR"]) / search.CURRENT).unlink()
    assert search.status().reason == "missing"
    with pytest.raises(search.SearchUnavailable):
        search.matching_ids(admin, "catalogue_offer", "dell")


def test_the_fallback_applies_the_permission_rules_too():
    supplier = user_for_role(Role.SUPPLIER)
    CatalogueOfferFactory(supplier=supplier.organisation, brand="Hidden", model="Stockless", stock=0)
    someone = user_for_role(Role.IT_MANAGER)
    assert search.fallback(someone, "stockless") == []
    assert [str(hit.obj) for hit in search.fallback(supplier, "stockless")] == ["Hidden Stockless"]


# --- several processes -----------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from core import create_app
    from core.extensions import db
    from marketplace.models import CatalogueOffer

    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SEARCH_INDEX_DIR": sys.argv[2],
                      "SEARCH_LOCK_TIMEOUT": 0.2})
    with app.app_context():
        for n in range(int(sys.argv[4])):
            db.session.add(CatalogueOffer(supplier_id=int(sys.argv[3]), category="laptop", cpv="30213100-6",
                                          brand="Parallel", model=f"{sys.argv[5]}-{n}", unit_price=Decimal("100"),
                                          stock=1))
            db.session.commit()
""")


def test_several_processes_writing_at_once_leave_a_whole_index(app, admin):
    supplier = OrganisationFactory()
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    if database_url.startswith("sqlite"):
        db.session.commit()
    processes = [subprocess.Popen([sys.executable, "-W", "error", "-c", WRITER, database_url,
                                   app.config["SEARCH_INDEX_DIR"], str(supplier.id), "15", f"p{n}"],
                                  cwd=Path(__file__).parents[2], stderr=subprocess.PIPE, text=True)
                  for n in range(4)]
    for process in processes:
        _out, errors = process.communicate(timeout=180)
        assert process.returncode == 0, errors
    search.drain()  # whatever a writer left when the lock was busy past its short timeout
    in_database = db.session.scalar(select(func.count()).select_from(CatalogueOffer))
    assert in_database == 60
    assert len(keys(admin, "parallel")) == 60
    assert search.status().waiting == 0
    with search.open_index().searcher() as searcher:
        assert searcher.doc_count() == len(indexed_keys())
