"""Languages and the locale-aware formatting of numbers, money and dates."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from babel import Locale
from babel.numbers import get_currency_precision, get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from flask import Flask, current_app, g, has_request_context, session
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale, get_timezone
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


class _NumberStyle(NamedTuple):
    """What a locale's standard patterns say about writing a number: its symbols, and the text around the
    digits of an amount (¤ already replaced by the currency's symbol)."""
    group: str
    decimal: str
    minus: str
    money_prefix: tuple[str, str]  # (positive, negative)
    money_suffix: tuple[str, str]


@lru_cache(maxsize=64)
def _number_style(locale: Locale, currency: str) -> _NumberStyle | None:
    """Read once per locale and currency from CLDR; None for a pattern this shortcut does not cover
    (grouping other than by thousands, or other digits than 2 for the currency), which Babel formats."""
    money_pattern, decimal_pattern = locale.currency_formats["standard"], locale.decimal_formats[None]
    if money_pattern.grouping != (3, 3) or decimal_pattern.grouping != (3, 3) \
            or money_pattern.frac_prec != (2, 2) or get_currency_precision(currency) != 2:
        return None
    symbol = locale.currency_symbols.get(currency, currency)
    return _NumberStyle(
        group=get_group_symbol(locale), decimal=get_decimal_symbol(locale), minus=get_minus_sign_symbol(locale),
        money_prefix=tuple(part.replace("¤", symbol) for part in money_pattern.prefix),
        money_suffix=tuple(part.replace("¤", symbol) for part in money_pattern.suffix))


def _digits(value: Decimal, places: int, style: _NumberStyle) -> str:
    """abs(value) rounded half-even to `places` decimals (as Babel rounds), grouped by thousands."""
    text = format(abs(value), f",.{places}f")
    return text.replace(",", "\0").replace(".", style.decimal).replace("\0", style.group)


def money(amount: Decimal | int | float | None, currency: str = "EUR") -> str:
    """1 234,50 € in French, €1,234.50 in English. Every money cell of every list goes through here, so
    the locale's symbols are read once (not per call, as Babel's format_currency does); the result is
    Babel's to the character (tests/core/test_i18n.py compares them)."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    locale = get_locale()
    style = _number_style(locale, currency)
    if style is None:
        return format_currency(value, currency)
    negative = int(value.is_signed())
    return style.money_prefix[negative] + _digits(value, 2, style) + style.money_suffix[negative]


def number(value, digits: int = 0) -> str:
    """A number grouped by thousands with exactly `digits` decimals, in the locale's symbols."""
    if value is None:
        return ""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    style = _number_style(get_locale(), "EUR")
    if style is None:
        return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))
    return (style.minus if value.is_signed() else "") + _digits(value, digits, style)


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


@lru_cache(maxsize=8192)
def _babel_date(format_function, value, fmt: str, locale: str, zone: str) -> str:
    """Babel's text for a date or time, kept: lists write the same dates at every request (deadlines,
    purchase dates), and Babel takes about 0.1 ms for each (pattern, locale data, time zone). The text
    depends on nothing else than the arguments, the locale and the time zone, which are in the key."""
    return format_function(value, fmt)


def formatted_date(value, fmt: str = "medium") -> str:
    """A date (or the date of a datetime, in the platform's time zone) as Babel writes it."""
    return _babel_date(format_date, value, fmt, str(get_locale()), str(get_timezone())) if value else ""


def formatted_datetime(value, fmt: str = "medium") -> str:
    """A datetime in the platform's time zone as Babel writes it."""
    return _babel_date(format_datetime, value, fmt, str(get_locale()), str(get_timezone())) if value else ""


def register_formatting(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["date"] = formatted_date
    app.jinja_env.filters["datetime"] = formatted_datetime
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
