"""Pages of the reuse circuit, on one blueprint under /reuse."""
from flask import Blueprint

bp = Blueprint("reuse", __name__, url_prefix="/reuse")

from reuse.views import dashboard, devices, documents, imports, offers  # noqa: E402,F401
