"""Login throttling with its counts in Redis (core.throttle), as in production with several workers.

Runs against the real Redis of the machine (TEST_REDIS_URL, default redis://127.0.0.1:6379/15), under a
key prefix of its own per test, removed afterwards."""
import os
import secrets

import pytest
import redis
from sqlalchemy import func, select

from core import create_app, throttle
from core.extensions import db
from core.models import AuditEntry, LoginFailure, Role
from tests.conftest import PASSWORD, IsolatedClient
from tests.factories import user_for_role

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix():
    prefix = f"circuit-test:{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_throttle(app, redis_prefix):
    """The suite's app counting failures in Redis for the length of a test."""
    database_store = app.extensions["throttle"]
    app.extensions["throttle"] = throttle.RedisStore(REDIS_URL, redis_prefix)
    yield app.extensions["throttle"]
    app.extensions["throttle"] = database_store


def _fail(client, email, address="192.0.2.1"):
    return client.post("/login", data={"email": email, "password": "wrong password"},
                       environ_base={"REMOTE_ADDR": address})


def test_redis_store_throttles_per_account(client, app, redis_throttle):
    user = user_for_role(Role.SUPPLIER)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert _fail(client, user.email).status_code == 401
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    assert "Trop de tentatives" in response.get_data(as_text=True)
    # Redis counted, the database only kept the audit records.
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("login.failed") == app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    assert "login.throttled" in actions
    # Another account from the same address still logs in.
    other = user_for_role(Role.SUPPLIER)
    assert client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302


def test_redis_store_throttles_per_address(client, app, redis_throttle):
    victim = user_for_role(Role.SUPPLIER)
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        _fail(client, f"guess{n}@example.org", address="203.0.113.7")
    response = client.post("/login", data={"email": victim.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 401
    response = client.post("/login", data={"email": victim.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert response.status_code == 302


def test_redis_counts_expire_with_the_window(app, redis_throttle):
    redis_throttle.record_failure("someone@example.org", "192.0.2.9", window_seconds=60)
    assert redis_throttle.recent_failures("someone@example.org", "192.0.2.9", 60) == (1, 1)
    # A failure older than the window no longer counts, and the keys expire on their own.
    assert redis_throttle.recent_failures("someone@example.org", "192.0.2.9", 0) == (0, 0)
    ttls = [redis_throttle.client.ttl(key) for key in redis_throttle._keys("someone@example.org", "192.0.2.9")]
    assert all(0 < ttl <= 61 for ttl in ttls)
    # No email address is stored in Redis.
    assert not any(b"someone" in key for key in redis_throttle.client.scan_iter(match=f"{redis_throttle.prefix}*"))


@pytest.mark.parametrize("store", ["redis", "database"])
def test_two_app_instances_share_the_count(app, redis_prefix, store):
    """Two workers are two app instances in two processes: a failure counted by one blocks the other."""
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"], "SEARCH_DRAIN_ON_COMMIT": False,
                "THROTTLE_REDIS_URL": REDIS_URL if store == "redis" else "",
                "THROTTLE_REDIS_PREFIX": redis_prefix}
    workers = [create_app(settings), create_app(settings)]
    for worker in workers:
        worker.test_client_class = IsolatedClient
    assert type(workers[0].extensions["throttle"]) is (throttle.RedisStore if store == "redis"
                                                        else throttle.DatabaseStore)
    clients = [worker.test_client() for worker in workers]
    user = user_for_role(Role.SUPPLIER)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    try:
        for n in range(limit):
            assert _fail(clients[n % 2], user.email).status_code == 401
        for client in clients:
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 401
            assert "Trop de tentatives" in response.get_data(as_text=True)
    finally:
        for worker in workers:
            with worker.app_context():
                db.session.remove()
                db.engine.dispose()


def test_production_refuses_to_start_when_redis_does_not_answer(monkeypatch, tmp_path):
    monkeypatch.setenv("CIRCUIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-value-for-production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("THROTTLE_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(RuntimeError, match="THROTTLE_REDIS_URL is set but Redis does not answer"):
        create_app()
    monkeypatch.setenv("THROTTLE_REDIS_URL", REDIS_URL)
    assert isinstance(create_app().extensions["throttle"], throttle.RedisStore)
