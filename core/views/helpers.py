"""What every domain's views share."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash

from core.errors import RuleViolation
from core.extensions import db


def attempt(operation: Callable[[], object], success: str) -> bool:
    """Run a service call and commit, flashing `success`; or roll back and flash the rule it broke."""
    try:
        operation()
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        flash(str(error), "error")
        return False
    flash(success, "success")
    return True
