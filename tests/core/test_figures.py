"""The territory's totals on the administrator's and observers' dashboards are kept a few minutes
(core.figures) and say when they were computed; an organisation's own figures are always live."""
from __future__ import annotations

import re
from datetime import date

import pytest

from core import figures
from core.models import Role
from reuse.models import DeviceStatus
from tests.factories import DeviceFactory, OrganisationFactory, user_for_role


@pytest.fixture
def kept_five_minutes(app, monkeypatch):
    monkeypatch.setitem(app.config, "TERRITORY_FIGURES_MAX_AGE", 300)
    clock = {"now": 1000.0}
    monkeypatch.setattr(figures.time, "monotonic", lambda: clock["now"])
    figures.forget()
    yield clock
    figures.forget()


def _reused(count: int) -> None:
    commune = OrganisationFactory(public=True)
    year = date.today().year
    for _ in range(count):
        DeviceFactory(organisation=commune, status=DeviceStatus.HANDED_OVER, reformed_on=date(year, 1, 1),
                      left_on=date.today())


def _devices_reused_shown(client) -> str:
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Chiffres au " in page  # the time they were computed is shown with them
    return re.search(r"(\d+) appareil\(s\) réemployé\(s\)", page).group(1)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OBSERVER])
def test_the_territory_totals_are_kept_for_the_set_time_then_computed_again(kept_five_minutes, client,
                                                                             login, role):
    _reused(2)
    login(user_for_role(role))
    assert _devices_reused_shown(client) == "2"

    _reused(1)
    kept_five_minutes["now"] += 299
    assert _devices_reused_shown(client) == "2"  # still the figure computed 299 s ago

    kept_five_minutes["now"] += 1
    assert _devices_reused_shown(client) == "3"


def test_with_no_time_set_the_totals_are_computed_at_each_view(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "TERRITORY_FIGURES_MAX_AGE", 0)
    _reused(1)
    login(user_for_role(Role.ADMIN))
    assert _devices_reused_shown(client) == "1"
    _reused(1)
    assert _devices_reused_shown(client) == "2"
