"""Languages and the locale-aware formatting of numbers, money and dates."""
from __future__ import annotations

from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, session
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def select_locale() -> str:
    """The user's saved choice, else the choice of this browser session, else French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, mail rendered under force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    api_user = g.get("api_user")
    if api_user is not None and api_user.locale in languages:
        return api_user.locale
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def money(amount: Decimal | int | float | None, currency: str = "EUR") -> str:
    """1 234,50 € in French, €1,234.50 in English."""
    if amount is None:
        return ""
    return format_currency(Decimal(str(amount)), currency)


def number(value, digits: int = 0) -> str:
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def local_to_utc(naive_local):
    """A date and time typed in a form (Paris time, no zone) as an aware UTC datetime."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return naive_local.replace(tzinfo=zone).astimezone(timezone.utc)


def to_local(aware):
    """An aware datetime in the platform's time zone (Paris), e.g. to tell which day it is there."""
    from zoneinfo import ZoneInfo

    return aware.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def register_formatting(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["datetime"] = (
        lambda value, fmt="medium": format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
