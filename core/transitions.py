"""The one way a status changes: a compare-and-set in the database.

`move` sends `UPDATE <table> SET status = :new, … WHERE id = :id AND status IN (:expected)` and tells whether
this caller's statement found the expected status. Two clicks, two workers or two users racing for the same
transition send the same statement: the database serialises them (PostgreSQL's row lock, SQLite's write lock),
the first one changes the row, the others find it changed and get False. Whatever the transition gives back
or takes (stock, units of an offer, devices) is moved by the caller only after `move` returned True, in the
same transaction, so only the winner moves it.

The object in the session is brought up to date without being marked changed (the audit log's automatic
"updated" entry would record the change a second time): `move` records one entry itself, the transition's,
and only when the row changed.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy import inspect, update
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.extensions import db
from core.models import User


def move(actor: User | None, obj, expected: enum.Enum | Iterable[enum.Enum], new: enum.Enum, *,
         action: str | None = None, details: dict | None = None, **changes) -> bool:
    """Change `obj.status` from `expected` (one status or several) to `new`, with the other column
    `changes`, in one conditional UPDATE; True only for the caller whose statement changed the row, which
    then gets the audit entry `action` (default "<type>.status_changed") with the statuses and `details`.
    On False nothing is written and `obj.status` is read again, so the caller can say what happened."""
    model = type(obj)
    statuses = (expected,) if isinstance(expected, enum.Enum) else tuple(expected)
    before = obj.status if obj.status in statuses or len(statuses) > 1 else statuses[0]
    changed = db.session.execute(
        update(model).where(model.id == obj.id, model.status.in_(statuses))
        .values(status=new, **changes).execution_options(synchronize_session=False)).rowcount == 1
    if not changed:
        db.session.expire(obj, ["status"])
        return False
    stale = []
    for name, value in {"status": new, **changes}.items():
        if isinstance(value, ClauseElement):  # computed by the database (a counter): read it again
            stale.append(name)
        else:
            set_committed_value(obj, name, value)
    # A relationship whose foreign key changed is read again too (device.request after request_id).
    stale += [relationship.key for relationship in inspect(model).relationships
              if any(column.key in changes for column in relationship.local_columns)]
    if stale:
        db.session.expire(obj, stale)
    audit.record(actor, action or f"{audit.object_type(obj)}.status_changed", obj,
                 status=[getattr(before, "value", before), new.value], **(details or {}))
    return True
