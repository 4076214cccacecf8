"""Every role against the inventory import pages: only IT managers and administrators import."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from werkzeug.datastructures import FileStorage

from core.models import Role
from reuse import imports
from reuse.views.imports import stash_upload
from tests.factories import user_for_role
from tests.matrix import ANONYMOUS, ROLES, Case, everyone, log_in, register

IMPORTERS = everyone(403, admin=200, it_manager=200)


@dataclass
class World:
    users: dict
    stranger: object


@pytest.fixture
def world(app, tmp_path, monkeypatch) -> World:
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path / "imports"))
    return World({role: user_for_role(role) for role in Role}, user_for_role(Role.IT_MANAGER))


def template_upload() -> tuple[io.BytesIO, str]:
    return io.BytesIO(imports.template_csv().encode("utf-8")), "devices.csv"


def stashed(world: World, user) -> str:
    """An upload of `user` waiting for confirmation (made directly: most roles could not upload it)."""
    return stash_upload(user, FileStorage(*template_upload()), None)


CASES = register([
    Case("reuse.import_devices", "GET", lambda w, u: "/reuse/devices/import", IMPORTERS),
    Case("reuse.import_devices", "POST", lambda w, u: "/reuse/devices/import", IMPORTERS,
         data=lambda w: {"file": template_upload()}),
    Case("reuse.confirm_import", "POST", lambda w, u: f"/reuse/devices/import/{stashed(w, u)}/confirm", IMPORTERS),
    Case("reuse.rejected_rows", "GET", lambda w, u: f"/reuse/devices/import/{stashed(w, u)}/rejected.csv",
         IMPORTERS),
    # Another user's upload does not exist for anyone else, administrators included.
    Case("reuse.confirm_import", "POST", lambda w, u: f"/reuse/devices/import/{stashed(w, w.stranger)}/confirm",
         everyone(403, admin=404, it_manager=404)),
    Case("reuse.rejected_rows", "GET",
         lambda w, u: f"/reuse/devices/import/{stashed(w, w.stranger)}/rejected.csv",
         everyone(403, admin=404, it_manager=404)),
    Case("reuse.import_template", "GET", lambda w, u: "/reuse/devices/import/template.csv", IMPORTERS),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_import_route(client, world, case, role):
    user = None if role == ANONYMOUS else world.users[role]
    if user is not None:
        log_in(client, user)
    url = case.url(world, user or world.stranger)
    data = case.data(world) if case.data else {}
    response = client.open(url, method=case.method, data=data)
    expected = case.anonymous if user is None else case.expected[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if user is None and expected == 302:
        assert response.location.startswith("/login")
