"""The Flask extensions, created unbound and initialised by the app factory."""
from functools import cached_property

from flask_babel import Babel, Domain, get_locale
from flask_babel import _get_current_context as babel_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep migrations identical on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class CatalogueByLocaleDomain(Domain):
    """Flask-Babel's domain, finding the catalogue of the request's locale by the locale itself: Flask-Babel
    looks it up again at every string (request context, locale, the locale's name), which a list of fifty
    rows with a few labels each pays hundreds of times. Catalogues are per process in both, loaded once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._by_locale: dict = {}

    def get_translations(self):
        context = babel_context()
        if context is None:  # outside a request: Flask-Babel's answer (no translation)
            return super().get_translations()
        locale = getattr(context, "babel_locale", None) or get_locale()  # force_locale sets babel_locale
        # Each request parses its own Locale: compared by identity first (Locale.__eq__ is slow).
        kept = getattr(context, "catalogue_of", None)
        if kept is not None and kept[0] is locale:
            return kept[1]
        translations = self._by_locale.get(locale)
        if translations is None:
            self._by_locale[locale] = translations = super().get_translations()
        context.catalogue_of = (locale, translations)
        return translations


class CircuitBabel(Babel):
    @cached_property
    def domain_instance(self):
        return CatalogueByLocaleDomain(domain=self.domain)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = CircuitBabel()
csrf = CSRFProtect()
