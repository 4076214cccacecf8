"""Settings, read from the environment (and from a .env file in development)."""
from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-secret-key-change-me"  # nosec B105 # development only: check() refuses it in production


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Build the configuration mapping. A .env file never overrides a real variable."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    production = os.environ.get("CIRCUIT_ENV", "development") == "production"
    instance = PROJECT_ROOT / "instance"
    return {
        "CIRCUIT_ENV": "production" if production else "development",
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'circuit.db'}")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Europe/Paris"),
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": ("fr", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
        # Mail: without MAIL_SERVER, messages go to the outbox table and the log.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 587)),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        # The address of the platform, for links in mails sent by commands (outside any request).
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "circuit@grandorlyseinebievre.fr"),
        "PASSWORD_RESET_MAX_AGE": int(os.environ.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "INVITATION_MAX_AGE": int(os.environ.get("INVITATION_MAX_AGE", 7 * 24 * 3600)),
        # Login throttling: failures allowed within the window, per account and per address.
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("LOGIN_WINDOW_SECONDS", 900)),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
        # Where failures are counted (core.throttle): the database, or Redis when this URL is set; the
        # prefix keeps apart several platforms sharing one Redis.
        "THROTTLE_REDIS_URL": os.environ.get("THROTTLE_REDIS_URL", ""),
        "THROTTLE_REDIS_PREFIX": os.environ.get("THROTTLE_REDIS_PREFIX", "circuit:"),
        # Trusted reverse proxies in front of the app (nginx: 1), whose X-Forwarded-For and -Proto count.
        "PROXY_FIX_X_FOR": int(os.environ.get("PROXY_FIX_X_FOR", 0)),
        # Reuse: the cascade's stages (days), the donation cap and depreciation (CGPPP L.3212-2),
        # the default time to collect approved devices, the largest photo.
        "REUSE_COMMUNE_DAYS": int(os.environ.get("REUSE_COMMUNE_DAYS", 7)),
        "REUSE_PUBLIC_DAYS": int(os.environ.get("REUSE_PUBLIC_DAYS", 14)),
        "REUSE_COLLECT_DAYS": int(os.environ.get("REUSE_COLLECT_DAYS", 14)),
        "DONATION_CAP_EUR": int(os.environ.get("DONATION_CAP_EUR", 300)),
        "DEPRECIATION_YEARS": int(os.environ.get("DEPRECIATION_YEARS", 5)),
        "MAX_PHOTO_BYTES": int(os.environ.get("MAX_PHOTO_BYTES", 5 * 1024 * 1024)),
        "MAX_MEMO_BYTES": int(os.environ.get("MAX_MEMO_BYTES", 10 * 1000 * 1000)),
        # Seconds the territory's totals on the administrator's and observers' dashboards may be old
        # (core.figures): each worker computes them at most this often; 0 computes them on every view.
        "TERRITORY_FIGURES_MAX_AGE": int(os.environ.get("TERRITORY_FIGURES_MAX_AGE", 300)),
        # CCP R.2182-1: at least 11 days between the rejection letters and the signature (16 by post).
        "STANDSTILL_DAYS": int(os.environ.get("STANDSTILL_DAYS", 11)),
        # Search (core.search): where the Whoosh index lives, whether each commit applies its changes to
        # it at once (else `flask search drain` does), and how long a writer waits for another's lock.
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR", str(instance / "search")),
        "SEARCH_DRAIN_ON_COMMIT": _bool("SEARCH_DRAIN_ON_COMMIT", True),
        "SEARCH_LOCK_TIMEOUT": float(os.environ.get("SEARCH_LOCK_TIMEOUT", 5)),
        # Uploaded CSV files wait here between the import preview and its confirmation.
        "IMPORT_FOLDER": os.environ.get("IMPORT_FOLDER", str(instance / "imports")),
        # Stripe (marketplace issue): card payment stays hidden while these are empty.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # The platform's fee on card payments, in percent of the amount including VAT.
        "PLATFORM_FEE_PERCENT": os.environ.get("PLATFORM_FEE_PERCENT", "0"),
        # OCDS: the publisher's own ocid prefix, given by the Open Contracting Partnership
        # (data@open-contracting.org); never another publisher's. Empty: no OCDS export (procurement.exports).
        "OCDS_OCID_PREFIX": os.environ.get("OCDS_OCID_PREFIX", "").strip(),
    }


def database_url(url: str) -> str:
    """Accept the common postgres:// spelling and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def check(config: dict) -> None:
    if config["CIRCUIT_ENV"] == "production" and config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError(
            "SECRET_KEY is the development default: set a long random SECRET_KEY in production."
        )
