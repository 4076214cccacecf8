"""Full-text search: one Whoosh index of what people look for across the platform.

Each domain declares what it indexes (`register(Kind(...))`, in its own search.py): catalogue offers,
device offers, tenders, clauses, organisations. A document carries the tokens of who may read it
(`readers`), so every query is filtered in the index itself, then each hit shown is checked again with
the kind's permission rule. Sealed bids, device inventories and anything else not registered never
enter the index.

The index follows the database through an outbox: a flush that creates, changes or deletes an indexed
object (or something a document is built from, `follow`) adds `search_outbox` rows in the same
transaction; after the commit, `drain` rebuilds those documents from the database and deletes the rows.
Drains of several processes take turns on one file lock, so gunicorn workers never write the index at
once; rows a drain could not take (lock busy, index missing) wait for the next drain or for
`flask --app wsgi search drain`. `reindex` builds a new generation beside the live one and switches a
symlink, so readers never see a half-built index.

Searches apply what is still waiting before they read, so they never miss a committed change.

When the index is missing or damaged, `SearchUnavailable` is raised; list pages then filter in SQL and
the admin page says so.
"""
from __future__ import annotations

import functools
import gc
import logging
import operator
import os
import shutil
import struct
import time
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app, has_app_context
from markupsafe import Markup, escape
from sqlalchemy import and_, delete, event, func, insert, select, true
from sqlalchemy.orm import Session
from whoosh import WhooshError
from whoosh import index as whoosh_index
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter, WholeFragmenter
from whoosh.qparser import MultifieldParser, WildcardPlugin
from whoosh.idsets import BitSet
from whoosh.query import And, DateRange, Every, Not, NullQuery, Or, Query, Term  # noqa: F401 (re-exported to domains)
from whoosh.support.charset import accent_map
from whoosh.util.filelock import FcntlLock

from core import permissions
from core.extensions import db
from core.models import Role, SearchOutbox, User, utcnow

log = logging.getLogger(__name__)

# Accents are folded before stemming, at indexing and at query time alike, so "ecrans reconditionnes"
# and "Écran reconditionné" meet on the same stems. English gets its own fields, queried together.
FRENCH = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(lang="fr") | StemFilter(lang="fr")
ENGLISH = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(lang="en") | StemFilter(lang="en")
# The words, unstemmed, the dictionary of the "did you mean" suggestions (folded like the query, so a
# word typed without its accents is known).
WORDS = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)

SCHEMA = Schema(
    key=ID(stored=True, unique=True),  # "<kind>:<id>"
    kind=ID(stored=True, sortable=True),
    owner=ID(),  # the organisation the object belongs to, to reindex its documents when it changes
    readers=KEYWORD(),  # "user" (any signed-in user) and "org:<id>" tokens
    title=TEXT(analyzer=FRENCH, stored=True, field_boost=2.0),
    body=TEXT(analyzer=FRENCH, stored=True),
    title_en=TEXT(analyzer=ENGLISH, field_boost=2.0),
    body_en=TEXT(analyzer=ENGLISH),
    words=TEXT(analyzer=WORDS, spelling=True),
    category=ID(stored=True, sortable=True),
    commune=ID(stored=True, sortable=True),
    grade=ID(stored=True, sortable=True),
    status=ID(stored=True, sortable=True),
    supplier_type=KEYWORD(stored=True, commas=True),
    # For documents whose audience widens with time (the reuse cascade): the owner's commune and when
    # the widening started.
    commune_code=ID(),
    published=DATETIME(),
)

FACETS = ("kind", "category", "commune", "grade", "status", "supplier_type")
TEXT_FIELDS = ("title", "body", "title_en", "body_en")
EVERYONE = "user"
CURRENT = "current"  # the symlink to the live generation, inside SEARCH_INDEX_DIR
DRAIN_BATCH = 500


class SearchUnavailable(Exception):
    """The index is missing or damaged: callers fall back to SQL."""


# What reading a damaged index raises: missing or truncated files, unreadable structures.
DAMAGE = (OSError, EOFError, struct.error, WhooshError, whoosh_index.IndexError, ValueError, KeyError,
          IndexError, TypeError)


def organisation_token(organisation_id: int) -> str:
    return f"org:{organisation_id}"


@dataclass
class Document:
    title: str
    body: str = ""
    # English text where the object has its own (clauses); otherwise the French text is analysed twice.
    title_en: str | None = None
    body_en: str | None = None
    readers: Iterable[str] = (EVERYONE,)
    owner_id: int | None = None
    category: str = ""
    commune: str = ""
    grade: str = ""
    status: str = ""
    supplier_types: Iterable[str] = ()
    commune_code: str = ""
    published: datetime | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    label: object  # lazy string
    view_action: str  # the permission rule each hit shown must pass
    url: Callable[[object], str]
    # The document of an object, or None when it must not be in the index (a withdrawn offer...).
    document: Callable[[object], Document | None]
    # The SQL condition of the fallback, for a text (a LIKE on the main columns).
    sql_match: Callable[[str], object]
    status_label: Callable[[str], str | None] = lambda value: None
    # Extra reach of a user beyond the readers tokens, as a query (the reuse cascade).
    audience: Callable[[User, datetime], Query | None] = lambda user, now: None
    # Loader options for a page of hits: what the permission rule reads, in the same query.
    loaded_with: tuple = ()


KINDS: dict[str, Kind] = {}
KIND_OF_MODEL: dict[type, str] = {}
# Models a document is built from without being indexed: model -> the (kind, id) pairs to rebuild.
FOLLOWED: dict[type, Callable[[object], list[tuple[str, int]]]] = {}
# Each facet's label functions, tried in turn (the category facet holds device categories and clause
# themes); a function answers None for a value it does not know.
FACET_LABELS: dict[str, list[Callable[[str], str | None]]] = {}


def register(kind: Kind) -> None:
    KINDS[kind.name] = kind
    KIND_OF_MODEL[kind.model] = kind.name


def follow(model: type, targets: Callable[[object], list[tuple[str, int]]]) -> None:
    FOLLOWED[model] = targets


def facet_labels(name: str, label: Callable[[str], str | None]) -> None:
    FACET_LABELS.setdefault(name, []).append(label)


def enum_label(enum_type) -> Callable[[str], str | None]:
    """The label of an enum's value, or None when the enum does not have it."""
    def label(value: str) -> str | None:
        try:
            return str(enum_type(value).label)
        except ValueError:
            return None
    return label


# --- The index on disk ----------------------------------------------------------------------------

def _root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _lock() -> FcntlLock:
    _root().mkdir(parents=True, exist_ok=True)
    return FcntlLock(str(_root() / "circuit.lock"))


def _acquire(lock: FcntlLock) -> bool:
    deadline = time.monotonic() + current_app.config["SEARCH_LOCK_TIMEOUT"]
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def open_index():
    """The live index; SearchUnavailable when it is missing or cannot be read."""
    path = _root() / CURRENT
    # Whoosh leaves the file of an unreadable table of contents open: let it go, and be closed, here
    # (quietly) rather than whenever the collector finds it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            if not whoosh_index.exists_in(str(path)):
                raise SearchUnavailable("missing")
            return whoosh_index.open_dir(str(path))
        except DAMAGE as error:
            reason = f"damaged: {error}"
        gc.collect()
    raise SearchUnavailable(reason)


def _new_generation() -> Path:
    path = _root() / f"gen-{time.time_ns()}-{os.getpid()}"
    path.mkdir(parents=True)
    whoosh_index.create_in(str(path), SCHEMA)
    return path


def _switch_to(generation: Path) -> None:
    """Point `current` at a generation atomically (rename over the old symlink), then drop the others."""
    link = _root() / CURRENT
    temporary = _root() / f"{CURRENT}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(generation.name)
    os.replace(temporary, link)
    for old in _root().glob("gen-*"):
        if old.name != generation.name:
            shutil.rmtree(old, ignore_errors=True)


def clear() -> None:
    """Start an empty index (a fresh installation, or the tests between two cases)."""
    lock = _lock()
    if not _acquire(lock):
        raise SearchUnavailable("locked")
    try:
        _switch_to(_new_generation())
    finally:
        lock.release()


# --- From the database to documents ---------------------------------------------------------------

def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _fields(kind: Kind, obj, document: Document) -> dict:
    text = f"{document.title}\n{document.body}"
    fields = {
        "key": f"{kind.name}:{obj.id}", "kind": kind.name,
        "readers": " ".join(sorted(set(document.readers))),
        "title": document.title, "body": document.body,
        "title_en": document.title if document.title_en is None else document.title_en,
        "body_en": document.body if document.body_en is None else document.body_en,
        "words": f"{text}\n{document.title_en or ''}\n{document.body_en or ''}",
        "category": document.category, "commune": document.commune, "grade": document.grade,
        "status": f"{kind.name}.{document.status}" if document.status else "",
        "supplier_type": ",".join(document.supplier_types),
        "commune_code": document.commune_code,
    }
    if document.owner_id is not None:
        fields["owner"] = str(document.owner_id)
    if document.published is not None:
        fields["published"] = _naive_utc(document.published)
    return {name: value for name, value in fields.items() if value != ""}


def _write(writer, session: Session, kind_name: str, object_id: int) -> None:
    kind = KINDS[kind_name]
    key = f"{kind_name}:{object_id}"
    obj = session.get(kind.model, object_id)
    document = kind.document(obj) if obj is not None else None
    if document is None:
        writer.delete_by_term("key", key)
    else:
        writer.update_document(**_fields(kind, obj, document))


def _targets(pairs: Iterable[tuple[str, int]], searcher) -> set[tuple[str, int]]:
    """Expand outbox rows into documents: an organisation's row also rebuilds what it owns, since its
    name, commune and validation are in those documents."""
    targets = set()
    for kind_name, object_id in pairs:
        if kind_name in KINDS:
            targets.add((kind_name, object_id))
        if kind_name == "organisation":
            for stored in searcher.documents(owner=str(object_id)):
                owned_kind, _colon, owned_id = stored["key"].partition(":")
                targets.add((owned_kind, int(owned_id)))
    return targets


def drain() -> int:
    """Apply the waiting outbox rows to the index; returns how many rows were applied. Safe to call
    from any number of processes at once: they take turns, and whoever holds the lock applies every
    row waiting, including those of drains that gave up waiting."""
    lock = _lock()
    if not _acquire(lock):
        log.info("search index busy; the outbox waits for the next drain")
        return 0
    applied = 0
    try:
        ix = open_index()
        with Session(db.engine, info={"search_drain": True}) as session:
            while True:
                rows = session.execute(select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id)
                                       .order_by(SearchOutbox.id).limit(DRAIN_BATCH)).all()
                if not rows:
                    break
                writer = ix.writer()
                try:
                    with ix.searcher() as searcher:
                        targets = _targets(((row.kind, row.object_id) for row in rows), searcher)
                    for kind_name, object_id in sorted(targets):
                        _write(writer, session, kind_name, object_id)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
                # Only after the index has them: a crash in between applies them again, harmlessly.
                session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row.id for row in rows])))
                session.commit()
                session.expunge_all()
                applied += len(rows)
    finally:
        lock.release()
    return applied


def reindex() -> int:
    """Rebuild the whole index from the database into a new generation, then switch to it. Returns the
    number of documents. Changes committed meanwhile stay in the outbox (the lock keeps drains out)."""
    lock = _lock()
    if not _acquire(lock):
        raise SearchUnavailable("locked")
    try:
        with Session(db.engine, info={"search_drain": True}) as session:
            covered = session.scalar(select(func.max(SearchOutbox.id)))
            generation = _new_generation()
            ix = whoosh_index.open_dir(str(generation))
            writer = ix.writer(limitmb=256)
            count = 0
            for kind in KINDS.values():
                for obj in session.scalars(select(kind.model).order_by(kind.model.id)).yield_per(1000):
                    document = kind.document(obj)
                    if document is not None:
                        writer.add_document(**_fields(kind, obj, document))
                        count += 1
                session.expunge_all()
            writer.commit(optimize=True)
            _switch_to(generation)
            if covered is not None:
                session.execute(delete(SearchOutbox).where(SearchOutbox.id <= covered))
                session.commit()
    finally:
        lock.release()
    return count


@dataclass
class Status:
    available: bool
    reason: str = ""
    documents: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    updated_at: datetime | None = None


def status() -> Status:
    waiting = db.session.scalar(select(func.count()).select_from(SearchOutbox)) or 0
    try:
        ix = open_index()
        with ix.searcher() as searcher:
            by_kind = {name: searcher.doc_frequency("kind", name) for name in KINDS}
            return Status(True, documents=searcher.doc_count(), by_kind=by_kind, waiting=waiting,
                          updated_at=datetime.fromtimestamp(ix.last_modified(), timezone.utc))
    except SearchUnavailable as error:
        return Status(False, reason=str(error), waiting=waiting)
    except DAMAGE as error:
        return Status(False, reason=f"damaged: {error}", waiting=waiting)


# --- Keeping the index in step with the database ---------------------------------------------------

def _changed_targets(session: Session) -> set[tuple[str, int]]:
    targets = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        model = type(obj)
        if model in KIND_OF_MODEL and obj.id is not None:
            targets.add((KIND_OF_MODEL[model], obj.id))
        elif model in FOLLOWED:
            targets.update(pair for pair in FOLLOWED[model](obj) if pair[1] is not None)
    return targets


@event.listens_for(Session, "after_flush")
def _queue_changes(session: Session, flush_context) -> None:
    if session.info.get("search_drain"):
        return
    targets = _changed_targets(session)
    if targets:
        session.connection().execute(insert(SearchOutbox), [
            {"kind": kind_name, "object_id": object_id, "created_at": utcnow()}
            for kind_name, object_id in sorted(targets)])
        session.info["search_queued"] = True


@event.listens_for(Session, "after_commit")
def _drain_after_commit(session: Session) -> None:
    if not session.info.pop("search_queued", False) or not has_app_context():
        return
    if current_app.config["SEARCH_DRAIN_ON_COMMIT"]:
        try:
            drain()
        except (SearchUnavailable, *DAMAGE) as error:  # the commit stands; the rows wait for a drain
            log.warning("search index unavailable (%s): the outbox keeps the changes", error)


@event.listens_for(Session, "after_rollback")
def _forget_queue(session: Session) -> None:
    session.info.pop("search_queued", None)


# --- Asking the index ------------------------------------------------------------------------------

def reader_filter(user: User, now: datetime | None = None) -> Query | None:
    """What `user` may find: documents they are a reader of, plus each kind's wider audience.
    None for admins, who may open everything."""
    if user.role is Role.ADMIN:
        return None
    # To the minute, so the filter stays the same for a minute and its document set is reused
    # (`_allowed`): an offer reaches the next stage of the cascade up to a minute late.
    now = (now or utcnow()).replace(second=0, microsecond=0)
    reach: list[Query] = [Term("readers", EVERYONE), Term("readers", organisation_token(user.organisation_id))]
    for kind in KINDS.values():
        extra = kind.audience(user, now)
        if extra is not None:
            reach.append(And([Term("kind", kind.name), extra]))
    return Or(reach)


def published_before(moment: datetime) -> Query:
    return DateRange("published", None, _naive_utc(moment))


def _parse(text: str) -> Query:
    if not any(True for _token in FRENCH(text)):
        return NullQuery  # only French stop words ("le", "des"): they must not become English terms
    parser = MultifieldParser(list(TEXT_FIELDS), SCHEMA)
    # Operators and wildcards typed by users are taken as words: the search box is not a query language.
    parser.remove_plugin_class(WildcardPlugin)
    return parser.parse(text)


def _restriction(user: User, kinds: Iterable[str] | None, selected: dict[str, str]) -> Query | None:
    """What `user` may read, of the kinds and facet values chosen (None: everything)."""
    parts: list[Query] = []
    readers = reader_filter(user)
    if readers is not None:
        parts.append(readers)
    if kinds:
        parts.append(Or([Term("kind", name) for name in kinds]))
    for name, value in selected.items():
        if value:
            parts.append(Term(name, value))
    return And(parts) if parts else None


# Document sets that change only when the index does: each restriction's documents (a Whoosh BitSet,
# the form its filters take) and each term's (an int used as a bitmap, so counting the matches of a
# facet value is one `&` and `bit_count` in C). They are kept per process for one version of the index
# (its generation directory and table of contents) and rebuilt after any change, which bounds them.
_CACHED: dict = {"version": None, "sets": {}}
_CACHED_SETS = 256
# What those sets are rebuilt from: each term's documents in each segment, kept by segment. Whoosh never
# changes the documents of a segment, it only marks some of them deleted and merges segments into new
# ones, so a change (every reuse request changes an offer: one document deleted in a big segment, a new
# one written in a small segment) leaves the other segments' sets valid once their deleted documents are
# taken out: rebuilding then reads the new small segment only.
_SEGMENT_SETS: dict[tuple[str, str], dict] = {}
# Per segment: every facet value's and each organisation's reader token among them (about 500 at ten times
# the territory, 12 KiB each for 100,000 documents); past this, the oldest made is dropped first.
_SEGMENT_SETS_EACH = 1024


def _cached(searcher, key, build):
    reader = searcher.reader()
    folder = os.path.realpath(searcher._ix.storage.folder)
    version = (folder, reader.generation(), reader.doc_count_all())
    if _CACHED["version"] != version:
        _CACHED.update(version=version, sets={})
        # Segments merged away or of another index are dropped with the version that left them.
        live = {(folder, segment_id) for segment_id, _segment, _offset in _segments(searcher)}
        for gone in set(_SEGMENT_SETS) - live:
            _SEGMENT_SETS.pop(gone, None)  # another thread may have dropped it already
    sets = _CACHED["sets"]
    if key not in sets:
        if len(sets) >= _CACHED_SETS:
            sets.clear()
        sets[key] = build()
    return sets[key]


def _segments(searcher) -> Iterator[tuple[str, object, int]]:
    """(id, searcher, first document number) of each segment of the index; none for an empty index."""
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        segment = reader.segment() if hasattr(reader, "segment") else None
        if segment is not None:
            yield segment.segment_id(), subsearcher, offset


def _per_segment(searcher, key, build: Callable[[object, dict], int]) -> int:
    """The index's live documents of `key`, as a bitmap, from each segment's own bitmap (its local
    document numbers) kept by segment: `build(segment searcher, that segment's kept sets)` makes a
    missing one. A segment's deletions only grow, so a bitmap made before a deletion stays right once
    the segment's current deletions are taken out."""
    folder = os.path.realpath(searcher._ix.storage.folder)
    combined = 0
    for segment_id, subsearcher, offset in _segments(searcher):
        reader = subsearcher.reader()
        sets = _SEGMENT_SETS.setdefault((folder, segment_id), {})
        bits = sets.get(key)
        if bits is None:
            if len(sets) >= _SEGMENT_SETS_EACH:
                del sets[next(iter(sets))]
            bits = sets[key] = build(subsearcher, sets)
        if reader.deleted_docs_set:
            size = reader.doc_count_all()
            bits &= _cached(searcher, ("live", segment_id),
                            lambda: ~_bitmap(reader.deleted_docs_set, size) & ((1 << size) - 1))
        combined |= bits << offset
    return combined


def _top(searcher, query: Query, allowed: BitSet | None, limit: int, **options):
    """Whoosh's best `limit` hits among the `allowed` documents. Whoosh takes an empty filter for no
    filter at all, so an empty one must find nothing here."""
    if allowed is not None and not allowed:
        return []
    return searcher.search(query, filter=allowed, limit=limit, **options)


def _bitmap(docnums: Iterable[int], size: int) -> int:
    bits = bytearray((size >> 3) + 1)
    for docnum in docnums:
        bits[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def _allowed_bits(searcher, restriction: Query) -> int:
    """The documents the restriction lets through, as a bitmap: combined from each term's documents
    (`_matches`), not by Whoosh's matchers walking every document, which cost a search about 0.5 s at
    100,000 documents each time the index changed (every reuse request changes it)."""
    return _cached(searcher, ("allowed bits", repr(restriction)), lambda: _matches(searcher, restriction))


def _allowed(searcher, restriction: Query | None) -> BitSet | None:
    """The same documents as the filter Whoosh's search takes."""
    if restriction is None:
        return None

    def build() -> BitSet:
        size = searcher.doc_count_all()
        allowed = BitSet(size=size)
        # A BitSet's bytes hold document n at bit n % 8 of byte n // 8: the bitmap's little-endian bytes.
        allowed.bits = array("B", _allowed_bits(searcher, restriction).to_bytes(len(allowed.bits), "little"))
        return allowed

    return _cached(searcher, ("allowed", repr(restriction)), build)


def _matches(searcher, query: Query) -> int:
    """The documents `query` matches, as a bitmap, unscored: each term's documents (kept per index
    version, made from those kept per segment) combined with & and |, rather than Whoosh's matchers
    walking the documents one by one."""
    if type(query) is Term:
        return _cached(searcher, ("term", query.fieldname, query.text),
                       lambda: _per_segment(searcher, ("term", query.fieldname, query.text),
                                            lambda segment, _sets: _segment_bitmap(query, segment)))
    if type(query) is And:
        return functools.reduce(operator.and_, (_matches(searcher, part) for part in query.subqueries))
    if type(query) is Or and query.minmatch <= 1:
        return functools.reduce(operator.or_, (_matches(searcher, part) for part in query.subqueries), 0)
    if type(query) is Not:
        return _matches(searcher, Every()) & ~_matches(searcher, query.query)
    if type(query) is Every:
        return _cached(searcher, ("every",),
                       lambda: _per_segment(searcher, ("every",),
                                            lambda segment, _sets: _segment_bitmap(query, segment)))
    if type(query) is DateRange and query.startdate is None and not query.endexcl:
        return _cached(searcher, ("until", query.fieldname, query.enddate),
                       lambda: _per_segment(searcher, ("until", query.fieldname, query.enddate),
                                            lambda segment, sets: _segment_until(query, segment, sets)))
    return _bitmap(query.docs(searcher), searcher.doc_count_all())  # phrases and the rest: walked once


def _segment_bitmap(query: Query, segment) -> int:
    return _bitmap(query.docs(segment), segment.doc_count_all())


def _segment_until(query: DateRange, segment, sets: dict) -> int:
    """A segment's documents dated up to `query.enddate`, from those up to the latest earlier date kept
    for the segment, if any, and the few dated in between: the cascade's date moves by the minute, and
    walking a whole segment's dates each minute cost a search about half a second at scale 10."""
    field, end = query.fieldname, query.enddate
    earlier = [key[2] for key in sets if key[:2] == ("until", field) and key[2] < end]
    if not earlier:
        return _segment_bitmap(query, segment)
    since = max(earlier)
    between = DateRange(field, since, end, startexcl=True)
    return sets[("until", field, since)] | _segment_bitmap(between, segment)


def warm() -> None:
    """Build the document sets every search reads, for a new worker process (gunicorn's
    post_worker_init), so that its first search does not pay for them: every facet value's, and the
    documents dated up to two months ago, from which the cascade's dates (weeks ago) are then extended."""
    try:
        ix = open_index()
    except SearchUnavailable:
        return  # the first search says the index is missing; nothing to prepare
    with ix.searcher() as searcher:
        reader = searcher.reader()
        _matches(searcher, Every())
        for name in FACETS:
            for value in reader.field_terms(name):
                _matches(searcher, Term(name, value))
        _matches(searcher, published_before((utcnow() - timedelta(days=60)).replace(second=0, microsecond=0)))


def _index_for_reading():
    """The live index, once the changes waiting in the outbox are applied: a search never misses a
    committed change, even when commits leave the drain to a command (SEARCH_DRAIN_ON_COMMIT off)."""
    ix = open_index()
    if db.session.scalar(select(SearchOutbox.id).limit(1)) is not None:
        drain()
    return ix


def matching_ids(user: User, kind_name: str, text: str, limit: int = 10_000) -> list[int]:
    """Ids of one kind matching `text` for `user`, best first (the text filter of a list page)."""
    ix = _index_for_reading()
    query = _parse(text)
    try:
        with ix.searcher() as searcher:
            allowed = _allowed(searcher, _restriction(user, [kind_name], {}))
            results = _top(searcher, query, allowed, limit)
            return [int(hit["key"].partition(":")[2]) for hit in results]
    except DAMAGE as error:
        raise SearchUnavailable(f"damaged: {error}") from error


def text_condition(user: User, kind_name: str, text: str) -> tuple[object, bool]:
    """The SQL condition a list page adds for its text filter, and whether the index answered: the ids
    the index finds for `user`, or, when it is unavailable, the kind's own LIKE match."""
    kind = KINDS[kind_name]
    if _parse(text) is NullQuery:  # nothing but stop words: no text filter, as on the search page
        return true(), True
    try:
        return kind.model.id.in_(matching_ids(user, kind_name, text)), True
    except SearchUnavailable as error:
        log.warning("search index unavailable (%s): %s filtered in SQL", error, kind_name)
        return sql_words(kind, text), False


def sql_words(kind: Kind, text: str):
    """The SQL fallback: every word typed, each in any of the kind's columns."""
    return and_(*(kind.sql_match(word) for word in text.split())) if text.split() else true()


@dataclass
class Hit:
    kind: Kind
    obj: object
    title: Markup
    excerpt: Markup
    facets: dict[str, str]


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Results:
    text: str
    hits: list[Hit]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    hidden: int = 0  # hits dropped because the database no longer agrees (index behind)


def facet_label(name: str, value: str) -> str:
    if name == "kind":
        return str(KINDS[value].label) if value in KINDS else value
    if name == "status":
        kind_name, _dot, status_value = value.partition(".")
        return (KINDS[kind_name].status_label(status_value) if kind_name in KINDS else None) or value
    for label in FACET_LABELS.get(name, ()):
        if (found := label(value)) is not None:
            return found
    return value


def _facets(searcher, matched: int, selected: dict[str, str]) -> dict[str, list[FacetValue]]:
    """Counts of each facet value among the matched documents (`matched`, a bitmap)."""
    reader = searcher.reader()
    facets = {}
    for name in FACETS:
        values = []
        for value in reader.field_terms(name):
            documents = _matches(searcher, Term(name, value))
            count = (matched & documents).bit_count()
            if value and count:
                values.append(FacetValue(value, facet_label(name, value), count, selected.get(name) == value))
        if values:
            facets[name] = sorted(values, key=lambda item: (-item.count, item.label.lower()))
    return facets


def _words_suggestion(searcher, user: User, text: str, kinds, selected) -> str | None:
    """A respelling of the words the index does not know, offered only if it finds something the
    user may open (so a suggestion never reveals a word of a document they cannot see)."""
    corrector = searcher.corrector("words")
    reader = searcher.reader()
    changed, words = False, []
    for word in text.split():
        folded = "".join(token.text for token in WORDS(word))
        if folded and reader.frequency("words", folded) == 0:
            candidates = corrector.suggest(folded, limit=1)
            if candidates:
                words.append(candidates[0])
                changed = True
                continue
        words.append(word)
    if not changed:
        return None
    suggestion = " ".join(words)
    found = _top(searcher, _parse(suggestion), _allowed(searcher, _restriction(user, kinds, selected)), 1)
    return suggestion if len(found) else None


def _excerpt(hit, fieldname: str, fallback: str, whole: bool) -> Markup:
    hit.results.fragmenter = WholeFragmenter() if whole else ContextFragmenter(maxchars=240, surround=60)
    hit.results.formatter = HtmlFormatter(tagname="mark", classname="match", termclass="term")
    # Whoosh escapes the text around the marks it adds.
    highlighted = hit.highlights(fieldname, top=2)
    if highlighted:
        # Whoosh's HtmlFormatter escapes the text around its marks (tests/core/test_security.py probes it).
        return Markup(highlighted)  # nosec B704
    return escape(fallback if whole else fallback[:240])


def search(user: User, text: str, *, kinds: Iterable[str] | None = None, selected: dict[str, str] | None = None,
           page: int = 1, per_page: int = 20) -> Results:
    selected = {name: value for name, value in (selected or {}).items() if name in FACETS and value}
    kinds = [name for name in (kinds or ()) if name in KINDS] or None
    ix = _index_for_reading()
    query = _parse(text) if text.strip() else Every()
    if query is NullQuery:  # only stop words
        query = Every()
    restriction = _restriction(user, kinds, selected)
    try:
        with ix.searcher() as searcher:
            allowed = _allowed(searcher, restriction)
            # Every match counts (total, facets) but is not scored: only the page's are, by Whoosh's
            # top-N search, which skips blocks that cannot reach the page.
            matched = _matches(searcher, query)
            if allowed is not None:
                matched &= _allowed_bits(searcher, restriction)
            total = matched.bit_count()
            pages = max(1, -(-total // per_page))
            page = min(max(page, 1), pages)
            top = _top(searcher, query, allowed, page * per_page, terms=True)
            found = [(hit.fields(), _excerpt(hit, "title", hit["title"], whole=True),
                      _excerpt(hit, "body", hit.fields().get("body", ""), whole=False))
                     for hit in top[(page - 1) * per_page:page * per_page]]
            facets = _facets(searcher, matched, selected)
            # A suggestion is for a search that found nothing: with every word required, one unknown
            # word empties the results, and a search that found something needs no respelling.
            suggestion = _words_suggestion(searcher, user, text, kinds, selected) if text.strip() and not total else None
    except DAMAGE as error:
        raise SearchUnavailable(f"damaged: {error}") from error
    # The page's objects, a query per kind rather than one per hit.
    keys = [(fields["kind"], int(fields["key"].partition(":")[2])) for fields, _title, _excerpt in found]
    objects = {}
    for name in {name for name, _key in keys if name in KINDS}:
        model = KINDS[name].model
        ids = [key for kind_name, key in keys if kind_name == name]
        query = select(model).where(model.id.in_(ids)).options(*KINDS[name].loaded_with)
        objects.update(((name, obj.id), obj) for obj in db.session.scalars(query))
    hits, hidden = [], 0
    for (fields, title, excerpt), key in zip(found, keys):
        kind = KINDS.get(fields["kind"])
        obj = objects.get(key)
        # The index filtered already; this catches a document the index has not caught up with yet.
        if obj is None or not permissions.may(user, kind.view_action, obj):
            hidden += 1
            continue
        hits.append(Hit(kind, obj, title, excerpt, {name: fields.get(name, "") for name in FACETS}))
    return Results(text=text, hits=hits, total=total, page=page, pages=pages, facets=facets,
                   suggestion=suggestion, hidden=hidden)


def fallback(user: User, text: str, kinds: Iterable[str] | None = None, per_kind: int = 20) -> list[Hit]:
    """Without the index: each kind's SQL match, checked object by object. No ranking, no facets."""
    hits = []
    for kind in KINDS.values():
        if kinds and kind.name not in kinds:
            continue
        shown = 0
        for obj in db.session.scalars(select(kind.model).where(sql_words(kind, text)).order_by(kind.model.id.desc())
                                      .limit(per_kind * 5)):
            if kind.document(obj) is None or not permissions.may(user, kind.view_action, obj):
                continue
            document = kind.document(obj)
            hits.append(Hit(kind, obj, escape(document.title), escape(document.body[:240]), {}))
            shown += 1
            if shown == per_kind:
                break
    return hits


# --- What core indexes: suppliers and beneficiaries ------------------------------------------------

def supplier_types(organisation) -> list[str]:
    """The values of the supplier-type facet of an organisation (and of its catalogue offers)."""
    flags = {"sme": organisation.is_sme, "ess": organisation.is_ess, "ea_esat": organisation.is_ea_esat,
             "siae": organisation.is_siae}
    return [name for name, present in flags.items() if present]


def _register_organisations() -> None:
    from flask import url_for
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import or_

    from core.models import Organisation, OrganisationKind
    from core.territory import commune_for

    def document(organisation: Organisation) -> Document | None:
        # The directory's entries: public bodies, always listed, and suppliers and beneficiaries, listed
        # once validated (organisation.view).
        public_body = organisation.kind.is_public_buyer
        if not public_body and organisation.kind not in permissions.PUBLICLY_LISTED_KINDS:
            return None
        commune = commune_for(organisation.postcode, organisation.city)
        # Labels are not written into the text: it must not depend on the language of whoever drained it.
        return Document(
            title=organisation.name,
            body="\n".join(part for part in (organisation.description, organisation.city) if part),
            readers=[EVERYONE if public_body or organisation.is_validated else organisation_token(organisation.id)],
            owner_id=organisation.id, commune=commune.name if commune else organisation.city,
            status=organisation.kind.value,
            supplier_types=supplier_types(organisation),
        )

    register(Kind(
        name="organisation", model=Organisation, label=_l("Organisations"), view_action="organisation.view",
        url=lambda organisation: url_for("core.organisation", organisation_id=organisation.id),
        document=document,
        sql_match=lambda text: or_(Organisation.name.icontains(text, autoescape=True),
                                   Organisation.description.icontains(text, autoescape=True)),
        status_label=enum_label(OrganisationKind),
    ))
    labels = {"sme": _l("SME"), "ess": _l("Social and solidarity economy (ESS)"),
              "ea_esat": _l("Entreprise adaptée or ESAT"), "siae": _l("Work-integration structure (SIAE)")}
    facet_labels("supplier_type", lambda value: str(labels[value]) if value in labels else None)


_register_organisations()
