"""Figures too costly to compute at each view and allowed to be a few minutes old: the whole territory's
reuse totals and décret 2023-266 rate read every device of the platform (250,000 at ten times the
territory), while an administrator's or observer's dashboard only needs them to the minute. Each process
keeps them for TERRITORY_FIGURES_MAX_AGE seconds with the time they were computed, which the page shows,
so nobody mistakes them for live figures. Figures of one organisation are never kept: they are cheap
(indexed) and their reader has just changed them."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from flask import current_app

from core.models import utcnow

T = TypeVar("T")

# key → (monotonic time computed, UTC time computed, value)
_kept: dict[Hashable, tuple[float, datetime, object]] = {}


def remembered(key: Hashable, compute: Callable[[], T]) -> tuple[T, datetime]:
    """The value of `compute()` and when it was computed: computed again once older than the setting."""
    max_age = current_app.config["TERRITORY_FIGURES_MAX_AGE"]
    entry = _kept.get(key)
    if entry is None or time.monotonic() - entry[0] >= max_age:
        entry = (time.monotonic(), utcnow(), compute())
        if max_age > 0:
            _kept[key] = entry
    return entry[2], entry[1]


def forget() -> None:
    """Drop every kept figure (tests)."""
    _kept.clear()
