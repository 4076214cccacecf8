"""Search latency at 100,000 documents: `search.search` (permission filter, facets, highlights, the
database check of each hit shown) against a raw Whoosh query of the same index, in the same run.

    python -m bench.search [--documents 100000] [--queries 200]

Builds its own SQLite database and index under a temporary directory (nothing of instance/ is touched)
and writes its section of bench/RESULTS.md (replacing the previous one).
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta
from decimal import Decimal

from flask_migrate import upgrade
from sqlalchemy import select
from whoosh.qparser import MultifieldParser

from bench import common
from core import create_app, search
from core.extensions import db
from core.models import Organisation, OrganisationKind, Role, User, ValidationStatus, utcnow
from marketplace.models import CatalogueOffer, Grade
from reuse.models import DeviceCategory, Offer

BRANDS = ("Dell", "Lenovo", "HP", "Fujitsu", "Apple", "Acer", "Asus", "Samsung")
WORDS = ("portable", "écran", "reconditionné", "professionnel", "garantie", "batterie", "clavier", "tablette",
         "station", "robuste", "léger", "tactile", "réemploi", "collège", "école", "bureau")
QUERIES = ("ecrans reconditionnes", "ordinateur portable", "dell latitude", "batterie", "tablette ecole",
           "lenovo thinkpad", "clavier", "reemploi college", "garantie robuste", "hp elitebook")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def generate(documents: int, rng: random.Random) -> User:
    suppliers = [Organisation(kind=OrganisationKind.SUPPLIER, name=f"Fournisseur {n}", postcode="94400",
                              city="Vitry-sur-Seine", validation_status=ValidationStatus.VALIDATED,
                              is_ess=n % 3 == 0, is_sme=True, siret=None) for n in range(200)]
    communes = [Organisation(kind=OrganisationKind.COMMUNE, name=f"Commune {n}", postcode="94200",
                             city="Ivry-sur-Seine", validation_status=ValidationStatus.VALIDATED) for n in range(20)]
    db.session.add_all(suppliers + communes)
    db.session.flush()
    reader = User(email="bench@example.org", full_name="Bench", role=Role.IT_MANAGER, organisation=communes[0],
                  password_hash="x")
    db.session.add(reader)
    categories = list(DeviceCategory)
    offers = int(documents * 0.75)
    for n in range(documents):
        if n < offers:
            db.session.add(CatalogueOffer(
                supplier_id=rng.choice(suppliers).id, category=rng.choice(categories), cpv="30213100-6",
                brand=rng.choice(BRANDS), model=f"{rng.choice(('Latitude', 'ThinkPad', 'EliteBook', 'Lifebook'))} {n}",
                specifications=_text(rng, 12), grade=rng.choice(list(Grade)), unit_price=Decimal("250"),
                stock=rng.randint(0, 20), labels=[]))
        else:
            db.session.add(Offer(
                organisation_id=rng.choice(communes).id, title=f"{_text(rng, 3)} {n}", description=_text(rng, 10),
                category=rng.choice(categories), quantity=1, available=1,
                published_at=utcnow() - timedelta(days=rng.randint(0, 60))))
        if n % 5000 == 4999:
            db.session.commit()
    db.session.commit()
    return reader


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(reader: User, queries: int, rng: random.Random) -> dict:
    parser = MultifieldParser(list(search.TEXT_FIELDS), search.SCHEMA)
    ix = search.open_index()
    raw, full = [], []
    for _ in range(queries):
        text = rng.choice(QUERIES)
        started = time.perf_counter()
        with ix.searcher() as searcher:
            hits = searcher.search(parser.parse(text), limit=20)
            [hit["key"] for hit in hits]
        raw.append(time.perf_counter() - started)
        started = time.perf_counter()
        search.search(reader, text, per_page=20)
        full.append(time.perf_counter() - started)
        db.session.expire_all()
    return {"raw": raw, "full": full}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    arguments = parser.parse_args()
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db",
                          "SEARCH_INDEX_DIR": f"{workdir}/search", "SEARCH_DRAIN_ON_COMMIT": False})
        with app.test_request_context():
            upgrade()
            started = time.perf_counter()
            reader = generate(arguments.documents, rng)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            indexed = search.reindex()
            reindexed = time.perf_counter() - started
            reader = db.session.scalar(select(User).where(User.email == "bench@example.org"))
            measure(reader, 10, rng)  # warm the caches of both paths alike
            timings = measure(reader, arguments.queries, rng)
            machine = common.machine(db.engine)
    raw_p50, raw_p95 = _percentile(timings["raw"], 0.5), _percentile(timings["raw"], 0.95)
    full_p50, full_p95 = _percentile(timings["full"], 0.5), _percentile(timings["full"], 0.95)
    lines = [
        f"Machine: {machine}.",
        f"{indexed:,} documents indexed (generated in {generated:.0f} s, rebuilt in {reindexed:.0f} s); "
        f"{arguments.queries} queries drawn from {len(QUERIES)}.",
        "",
        "| | p50 (ms) | p95 (ms) | mean (ms) | p95 ratio to raw |",
        "|---|---|---|---|---|",
        f"| Raw Whoosh query, top 20 keys | {raw_p50 * 1000:.1f} | {raw_p95 * 1000:.1f} "
        f"| {statistics.mean(timings['raw']) * 1000:.1f} | 1.00 |",
        f"| `search.search` (permissions, facets, highlights, suggestion, database check) | {full_p50 * 1000:.1f} "
        f"| {full_p95 * 1000:.1f} | {statistics.mean(timings['full']) * 1000:.1f} | {full_p95 / raw_p95:.2f} |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    common.write_section("Search", report)


if __name__ == "__main__":
    main()
