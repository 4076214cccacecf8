"""Test fixtures: one application on a real database (a fresh SQLite file, or the PostgreSQL database
named by TEST_DATABASE_URL), its schema built by the migrations, every table emptied after each test."""
from __future__ import annotations

import contextvars
import os

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from core import create_app, search
from core.config import database_url as database_url_from
from core.extensions import db
from core.models import Role
from tests import factories

PASSWORD = factories.PASSWORD


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own application context, so its own
    database session, `g`, login and locale. (The test itself keeps an application context for its
    factories and queries; without this, requests would reuse it and share state between them.)"""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    database_url = database_url_from(
        os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    )
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "SECRET_KEY": "test-secret",
        "MAIL_SERVER": "",
        "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search")),
        # Searches apply the waiting changes before reading, so tests see every commit without paying
        # an index write at each one; tests/core/test_search.py turns it on where it is the subject.
        "SEARCH_DRAIN_ON_COMMIT": False,
        # Each test sees the territory's totals as its own rows make them; tests/core/test_figures.py
        # turns keeping them on.
        "TERRITORY_FIGURES_MAX_AGE": 0,
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # A run never depends on what an earlier run left: start from an empty schema.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        search.clear()
    yield app
    with app.app_context():
        db.engine.dispose()


def wipe_database() -> None:
    """Every row of every table, and the search index (inside an app context)."""
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    search.clear()


@pytest.fixture(autouse=True)
def _clean_database(app):
    with app.app_context():
        yield
        wipe_database()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """Log a user in through the login form, as a person would."""

    def log_in(user, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return log_in


@pytest.fixture
def user_with_role():
    """A user of a validated organisation of the kind the role belongs to."""

    def make(role: Role, **kwargs):
        return factories.user_for_role(role, **kwargs)

    return make
