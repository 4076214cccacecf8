"""Fixtures of the reuse tests."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

import core.models


class Clock:
    """What `datetime.now` answers inside core.models: a moment the test sets."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self, tz=None) -> datetime:
        return self.moment.astimezone(tz)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Stop time at a whole minute: core.models.utcnow is the one "now" of the application (the cascade,
    the permission rules, the search filter, reuse.services.today), so every page of the request sees
    the moment the test sets in `clock.moment`."""
    stopped = Clock(datetime.now(timezone.utc).replace(second=0, microsecond=0))
    monkeypatch.setattr(core.models, "datetime", stopped)
    return stopped
