"""Pages of the marketplace, on one blueprint under /marketplace."""
from flask import Blueprint

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace")

from marketplace.views import campaigns, catalogue, dashboard, orders, payments  # noqa: E402,F401
