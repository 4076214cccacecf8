"""The audit trail: who changed what, when, for which organisation.

Business objects (models marked `Audited`) are recorded automatically at each flush, with the fields
changed before and after; objects written in bulk, past the session (new devices in
`reuse.services.insert_devices`), get the same entries from `record_created`. Services record the
meaningful events (a validation, a login, a refusal) with `record`. Entries are append-only: the
session refuses to update or delete one.
"""
from __future__ import annotations

import decimal
import enum
import logging
from datetime import date, datetime

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core import bulk
from core.extensions import db
from core.models import Audited, AuditEntry, User, utcnow

log = logging.getLogger(__name__)


def object_type(obj) -> str:
    return type(obj).__name__.lower() if obj is not None else ""


def _json_value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _current_actor() -> User | None:
    if has_request_context() and g.get("api_user") is not None:
        return g.api_user
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _entry_values(actor: User | None, action: str, obj, changes: dict | None) -> dict:
    # The organisation an object belongs to: its owner, or for a supplier's offer, the supplier.
    organisation_id = getattr(obj, "organisation_id", None) or getattr(obj, "supplier_id", None)
    if object_type(obj) == "organisation":
        organisation_id = obj.id
    if organisation_id is None and actor is not None:
        organisation_id = actor.organisation_id
    return {
        "at": utcnow(),
        "actor_id": actor.id if actor else None,
        "actor_email": actor.email if actor else "",
        "organisation_id": organisation_id,
        "action": action,
        "object_type": object_type(obj),
        "object_id": getattr(obj, "id", None),
        "object_label": str(obj)[:300] if obj is not None else "",
        "changes": {k: _json_value(v) if not isinstance(v, list) else [_json_value(x) for x in v]
                    for k, v in (changes or {}).items()},
        "ip_address": (request.remote_addr or "")[:45] if has_request_context() else "",
    }


def record_created(actor: User | None, object_type_name: str, created: list[tuple[int, int | None, str]]) -> None:
    """The `<type>.created` entries of objects written in bulk, past the session (an import of thousands
    of devices): the entries a flush would have written for them, in one statement. `created` holds each
    object's (id, organisation id, label)."""
    if not created:
        return
    common = _entry_values(actor, f"{object_type_name}.created", None, None)
    # The time and the (empty) changes are left to their defaults, which insert_rows gives once.
    del common["at"], common["changes"]
    bulk.insert_rows(AuditEntry.__table__, [
        {**common, "object_type": object_type_name, "object_id": object_id,
         "organisation_id": organisation_id, "object_label": label[:300]}
        for object_id, organisation_id, label in created])


def record(actor: User | None, action: str, obj=None, **details) -> None:
    """Record an event in the caller's transaction: it lands when the caller commits."""
    db.session.add(AuditEntry(**_entry_values(actor, action, obj, details)))


def record_now(actor: User | None, action: str, obj=None, **details) -> None:
    """Record an event in a transaction of its own, so that it survives the caller's rollback
    (a refused action aborts its request, the refusal must still be on record)."""
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(AuditEntry), [_entry_values(actor, action, obj, details)])
    except SQLAlchemyError:
        log.exception("could not record audit event %s", action)


def _changes(obj) -> dict:
    state = inspect(obj)
    redacted = getattr(obj, "audit_redacted", set())
    ignored = getattr(obj, "audit_ignored", set())
    changes = {}
    for attr in state.mapper.column_attrs:
        if attr.key in ignored:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        if attr.key in redacted:
            changes[attr.key] = ["…", "…"]
        else:
            changes[attr.key] = [before, after]
    return changes


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise RuntimeError("audit entries are append-only")


@event.listens_for(Session, "after_flush")
def _record_business_changes(session, flush_context) -> None:
    actor = _current_actor()
    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(_entry_values(actor, f"{object_type(obj)}.created", obj, None))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if changes:
                rows.append(_entry_values(actor, f"{object_type(obj)}.updated", obj, changes))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append(_entry_values(actor, f"{object_type(obj)}.deleted", obj, None))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
