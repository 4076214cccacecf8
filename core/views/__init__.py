"""Pages of the shared package, on one blueprint: authentication, account, dashboard,
organisation directory and administration."""
from flask import Blueprint

bp = Blueprint("core", __name__)

from core.views import account, admin, auth, dashboard, documents, organisations, search  # noqa: E402,F401
