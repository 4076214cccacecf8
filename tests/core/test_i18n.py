"""French first, English complete; money, numbers and dates per locale; the switcher is remembered."""
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from core.i18n import money, number
from core.models import Role
from tests.factories import user_for_role

ROOT = Path(__file__).resolve().parents[2]
NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture(scope="module")
def extracted_ids(tmp_path_factory) -> set[str]:
    """Every string the code and templates mark for translation, extracted afresh."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([pybabel, "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-o", str(pot), "."], cwd=ROOT, check=True)
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_catalogue_translates_every_string_without_fuzzy(locale, extracted_ids):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = sorted(map(str, extracted_ids - {m.id for m in catalogue if m.id}))
    # A plural entry holds one string per form: every form must be translated.
    untranslated = sorted(str(m.id) for m in catalogue
                          if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string))
    fuzzy = sorted(str(m.id) for m in catalogue if m.id and m.fuzzy)
    assert (missing, untranslated, fuzzy) == ([], [], []), "run `make translations-update` and translate"


def test_money_numbers_and_dates_follow_the_locale(app):
    with app.test_request_context(), force_locale("fr"):
        assert money(Decimal("1234.5")) == f"1{NNBSP}234,50{NBSP}€"
        assert number(1234567) == f"1{NNBSP}234{NNBSP}567"
        from flask_babel import format_date
        assert format_date(date(2026, 11, 23), "long") == "23 novembre 2026"
    with app.test_request_context(), force_locale("en"):
        assert money(Decimal("1234.5")) == "€1,234.50"
        assert number(1234567) == "1,234,567"


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_money_and_numbers_are_written_exactly_as_babel_writes_them(app, locale):
    """core.i18n reads the locale's symbols once instead of asking Babel at each cell: the text must
    stay Babel's, rounding (half to even) and signs included."""
    import random

    from flask_babel import format_currency, format_decimal

    draw = random.Random(8)
    values = [Decimal("0"), Decimal("-0.001"), Decimal("0.005"), Decimal("0.015"), Decimal("-0.005"),
              Decimal("999.995"), Decimal("1234.5"), 0, 7, -12, 1234567, 2.675, 1e15]
    values += [Decimal(draw.randint(-10**12, 10**12)) / Decimal(10 ** draw.randint(0, 5)) for _ in range(500)]
    values += [draw.uniform(-1e7, 1e7) for _ in range(200)]
    with app.test_request_context(), force_locale(locale):
        for value in values:
            assert money(value) == format_currency(Decimal(str(value)), "EUR"), value
            for digits in (0, 1, 2):
                pattern = "#,##0" + ("." + "0" * digits if digits else "")
                assert number(value, digits) == format_decimal(value, format=pattern), (value, digits)


def test_dates_are_written_exactly_as_babel_writes_them_in_each_locale(app):
    """core.i18n keeps Babel's text of each date it wrote: the kept text must be Babel's, for the locale
    and format asked, dates and times alike, whichever locale asked first."""
    from datetime import datetime, timedelta, timezone

    from flask_babel import format_date, format_datetime

    from core.i18n import formatted_date, formatted_datetime

    moments = [datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc) + timedelta(hours=7 * n) for n in range(40)]
    days = [date(2025, 12, 31) + timedelta(days=n) for n in range(40)]
    for _round in range(2):  # the second round reads what the first kept
        for locale in ("fr", "en"):
            with app.test_request_context(), force_locale(locale):
                for fmt in ("short", "medium", "long"):
                    assert [formatted_date(day, fmt) for day in days] == [format_date(day, fmt) for day in days]
                    assert [formatted_datetime(moment, fmt) for moment in moments] == \
                        [format_datetime(moment, fmt) for moment in moments]
                    assert [formatted_date(moment, fmt) for moment in moments] == \
                        [format_date(moment, fmt) for moment in moments]
    with app.test_request_context():
        with force_locale("fr"):
            assert formatted_date(date(2026, 11, 23), "long") == "23 novembre 2026"
            # 23:30 UTC on 31 March is already 1 April in Paris.
            assert formatted_date(datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc), "long") == "1 avril 2026"
        with force_locale("en"):
            assert formatted_date(date(2026, 11, 23), "long") == "November 23, 2026"
        assert formatted_date(None) == formatted_datetime(None) == ""


def test_french_is_the_default_and_english_complete(client):
    assert 'lang="fr"' in client.get("/login").get_data(as_text=True)
    assert "Se connecter" in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page


def test_the_language_choice_is_remembered_on_the_account(app, client, login):
    user = user_for_role(Role.IT_MANAGER)
    login(user)
    response = client.post("/language", data={"locale": "en", "next": "/account"})
    assert response.status_code == 302 and response.location == "/account"
    client.post("/logout")
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert "Dashboard" in other_browser.get("/dashboard").get_data(as_text=True)


def test_unknown_language_is_refused(client):
    assert client.post("/language", data={"locale": "xx"}).status_code == 400


@pytest.mark.parametrize(("locale", "text"), [("fr", "Page introuvable"), ("en", "Page not found")])
def test_error_pages_speak_both_languages(client, locale, text):
    client.post("/language", data={"locale": locale})
    response = client.get("/no/such/page")
    assert response.status_code == 404 and text in response.get_data(as_text=True)
