"""Pages of procurement, on one blueprint under /procurement."""
from flask import Blueprint

bp = Blueprint("procurement", __name__, url_prefix="/procurement")

from procurement.views import bids, clauses, contracts, dashboard, evaluation, indicators, tenders  # noqa: E402,F401
