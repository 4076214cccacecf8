"""Filled below."""
from marketplace.views import bp  # noqa: F401
