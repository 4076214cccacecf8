"""Racing threads: the same action started by several users (or two clicks, or two workers) at the same
instant, each in its own application context, database session and transaction, released by a barrier.

On PostgreSQL (CI's second run) the transactions truly run in parallel; on SQLite the database serialises
the writers, and a test still proves that the second one finds the first one's change."""
from __future__ import annotations

import threading
from collections.abc import Callable

from core.errors import RuleViolation
from core.extensions import db

WON = "won"


def race(app, attempts: list[Callable[[], object]], timeout: float = 20) -> list[str]:
    """Run each attempt in its own thread, all released together; each commits on success ("won") or rolls
    back on a RuleViolation (its message). Any other exception fails the test (raised here)."""
    barrier = threading.Barrier(len(attempts))
    results: list[str] = []
    errors: list[BaseException] = []

    def run(attempt: Callable[[], object]) -> None:
        try:
            with app.app_context():
                try:
                    barrier.wait(timeout=timeout)
                    attempt()
                    db.session.commit()
                    results.append(WON)
                except RuleViolation as error:
                    db.session.rollback()
                    results.append(str(error))
                finally:
                    db.session.remove()
        except BaseException as error:  # surfaced below: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
