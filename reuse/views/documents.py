"""Placeholder, filled below."""
from reuse.views import bp  # noqa: F401
