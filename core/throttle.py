"""Where login throttling counts failures: the database (the default) or Redis.

Both are shared by every worker of a server, since each worker counts in the same place. The database
keeps one `LoginFailure` row per failure and counts the rows of the window; Redis keeps a sorted set of
failure times per account and per address, trimmed to the window and expiring with it, which takes this
write load off the database and needs no clean-up. `core.services.authenticate` asks the store of the
running app; the audit log records every failure whichever store counts it.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import func, select

from core.extensions import db
from core.models import LoginFailure, utcnow


class DatabaseStore:
    def recent_failures(self, email: str, ip_address: str, window_seconds: int) -> tuple[int, int]:
        since = utcnow() - timedelta(seconds=window_seconds)

        def count(column, value) -> int:
            return db.session.scalar(
                select(func.count(LoginFailure.id)).where(column == value, LoginFailure.at >= since)
            ) or 0

        return count(LoginFailure.email, email), count(LoginFailure.ip_address, ip_address)

    def record_failure(self, email: str, ip_address: str, window_seconds: int) -> None:
        db.session.add(LoginFailure(email=email, ip_address=ip_address))  # the caller commits


class RedisStore:
    """A sliding window per key: a sorted set of failure times, trimmed to the window and set to expire
    with it. Unlike the database store it writes at once, outside the caller's transaction."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def _keys(self, email: str, ip_address: str) -> tuple[str, str]:
        # Hashed: Redis holds no email address.
        def digest(value: str) -> str:
            return hashlib.sha256(value.encode()).hexdigest()[:32]

        return (f"{self.prefix}login:account:{digest(email)}", f"{self.prefix}login:address:{digest(ip_address)}")

    def recent_failures(self, email: str, ip_address: str, window_seconds: int) -> tuple[int, int]:
        since = time.time() - window_seconds
        pipe = self.client.pipeline(transaction=False)
        for key in self._keys(email, ip_address):
            pipe.zcount(key, f"({since}", "+inf")
        account, address = pipe.execute()
        return account, address

    def record_failure(self, email: str, ip_address: str, window_seconds: int) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        for key in self._keys(email, ip_address):
            pipe.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})  # a member per failure, even in the same instant
            pipe.zremrangebyscore(key, "-inf", now - window_seconds)
            pipe.expire(key, window_seconds + 1)
        pipe.execute()

    def check_reachable(self) -> None:
        import redis

        try:
            self.client.ping()
        except redis.RedisError as error:
            raise RuntimeError(
                f"THROTTLE_REDIS_URL is set but Redis does not answer ({error}): start Redis or unset "
                "THROTTLE_REDIS_URL to count login failures in the database."
            ) from None


def init_app(app: Flask) -> None:
    """Choose the store. In production a configured Redis must answer now, not at the first login."""
    url = app.config.get("THROTTLE_REDIS_URL")
    if url:
        store = RedisStore(url, app.config["THROTTLE_REDIS_PREFIX"])
        if app.config["CIRCUIT_ENV"] == "production":
            store.check_reachable()
    else:
        store = DatabaseStore()
    app.extensions["throttle"] = store


def store() -> DatabaseStore | RedisStore:
    return current_app.extensions["throttle"]
