"""No double allocation: the last unit goes to exactly one of several simultaneous requesters.

Runs on the suite's database: SQLite in the default run, PostgreSQL in CI's second run
(TEST_DATABASE_URL), where the requests truly run in parallel transactions."""
from __future__ import annotations

import threading
from datetime import date, timedelta

from core.errors import RuleViolation
from core.extensions import db
from core.models import OrganisationKind, Role, User, utcnow
from reuse import services
from reuse.models import Offer
from tests.factories import DeviceFactory, OrganisationFactory, UserFactory, user_for_role

REQUESTERS = 8


def test_last_unit_goes_to_exactly_one_requester(app):
    owner = user_for_role(Role.IT_MANAGER)
    device = DeviceFactory(organisation=owner.organisation, reformed=True, purchase_date=date(2019, 1, 1))
    offer = services.create_offer(owner, [device], "Le dernier portable")
    offer.published_at = utcnow() - timedelta(days=60)
    db.session.commit()
    requesters = [UserFactory(role=Role.IT_MANAGER,
                              organisation=OrganisationFactory(kind=OrganisationKind.COMMUNE, siret=None,
                                                               postcode="94200", city="Ivry-sur-Seine"))
                  for _ in range(REQUESTERS)]
    ids = [user.id for user in requesters]
    offer_id = offer.id
    barrier = threading.Barrier(REQUESTERS)
    results: list[str] = []
    errors: list[BaseException] = []

    def request_last_unit(user_id: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                last = db.session.get(Offer, offer_id)
                barrier.wait(timeout=10)
                try:
                    services.request_offer(user, last, 1, "Poste pour la médiathèque")
                    db.session.commit()
                    results.append("granted")
                except RuleViolation as error:
                    db.session.rollback()
                    results.append(str(error))
                finally:
                    db.session.remove()
        except BaseException as error:  # surfaced below: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=request_last_unit, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results.count("granted") == 1
    refusals = [r for r in results if r != "granted"]
    assert len(refusals) == REQUESTERS - 1
    assert all("plus rapide" in r for r in refusals), refusals  # a clear message for the others
    db.session.expire_all()
    assert db.session.get(Offer, offer_id).available == 0
