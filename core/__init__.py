"""Circuit's shared package: the app factory and what the three domains share."""
from __future__ import annotations

from flask import Flask, g
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from core import config as settings
from core.extensions import babel, csrf, db, login_manager, migrate
from core.config import PROJECT_ROOT

# Content-Security-Policy: everything from this server, no inline script, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(settings.from_environment())
    app.config.update(overrides or {})
    settings.check(app.config)
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]), x_proto=1)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        (PROJECT_ROOT / "instance").mkdir(exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)

    from core.cli import register_commands
    from core.errors import register_error_pages
    from core.i18n import register_formatting

    register_error_pages(app)
    register_formatting(app)
    register_commands(app)
    return app


def _init_extensions(app: Flask) -> None:
    from core import audit  # noqa: F401  (registers the audit listeners)
    from core import throttle
    import marketplace.models  # noqa: F401  (every domain's tables are known to the metadata and migrations)
    import procurement.models  # noqa: F401
    import reuse.models  # noqa: F401
    import marketplace.search  # noqa: F401  (each domain declares what it puts in the search index)
    import procurement.search  # noqa: F401
    import reuse.search  # noqa: F401
    from core.i18n import select_locale
    from core.models import User

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message_category = "info"
    throttle.init_app(app)

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to open this page.")

    @login_manager.user_loader
    def load_user(user_id: str):
        # Nearly every page asks for the user's organisation (navigation, permissions): one query for both.
        return db.session.get(User, int(user_id), options=[joinedload(User.organisation)])


def _register_blueprints(app: Flask) -> None:
    from core.api import bp as api_bp
    from core.views import bp as core_bp
    from marketplace.views import bp as marketplace_bp
    from procurement.views import bp as procurement_bp
    from reuse.views import bp as reuse_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(reuse_bp)
    app.register_blueprint(marketplace_bp)
    app.register_blueprint(procurement_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, never by cookie


def _register_hooks(app: Flask) -> None:
    from core import permissions
    from core.views.navigation import navigation_for

    @app.before_request
    def load_current_user() -> None:
        # Loaded before any flush, so the audit listeners never trigger a query mid-flush.
        g.user = current_user._get_current_object() if current_user.is_authenticated else None

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.context_processor
    def template_helpers() -> dict:
        return {
            "may": lambda action, obj=None: permissions.may(current_user, action, obj),
            "navigation": navigation_for(current_user),
        }

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            return {"status": "ok", "database": "ok"}
        except Exception as error:  # report, never raise: this is what monitoring reads
            return {"status": "error", "database": type(error).__name__}, 503
