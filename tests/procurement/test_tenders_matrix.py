"""Every role against every page of tenders. The tenders belong to another organisation (a commune whose
procurement officer drafts and publishes them); each role's user is in an organisation of its own."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.extensions import db
from core.models import Role
from procurement.services import tenders as service
from tests.factories import clause, draft_tender, published_tender, user_for_role
from tests.matrix import ROLES, Case, check, everyone, log_in, register


@dataclass
class World:
    users: dict
    draft: object
    published: object
    question: object
    spare_version: object


@pytest.fixture
def world() -> World:
    users = {role: user_for_role(role) for role in Role}
    owner = user_for_role(Role.PROCUREMENT_OFFICER)
    draft = draft_tender(owner)
    published = published_tender(owner)
    asker = user_for_role(Role.SUPPLIER)
    question = service.ask(asker, published, "Les chargeurs sont-ils fournis ?")
    db.session.commit()
    return World(users, draft, published, question, clause("SPARE1"))


ALL = everyone(200)
# A draft exists only for its organisation (and the administrators): 404 for everyone else.
DRAFT_ONLY_ADMIN = everyone(404, admin=200)


def draft(admin_status: int) -> dict:
    return everyone(404, admin=admin_status)


def published(admin_status: int) -> dict:
    """Seen by everyone, managed by its buyer: a stranger is refused (403)."""
    return everyone(403, admin=admin_status)


def _draft_lot(w, u):
    return f"/procurement/tenders/{w.draft.id}/lots/{w.draft.lots[0].id}/remove"


def _draft_clause(w, u):
    return f"/procurement/tenders/{w.draft.id}/clauses/{w.draft.clauses[0].id}/remove"


CASES = register([
    Case("procurement.tenders", "GET", lambda w, u: "/procurement/tenders", ALL),
    Case("procurement.new_tender", "GET", lambda w, u: "/procurement/tenders/new",
         everyone(403, admin=200, procurement_officer=200)),
    Case("procurement.new_tender", "POST", lambda w, u: "/procurement/tenders/new",
         everyone(403, admin=422, procurement_officer=422)),
    Case("procurement.tender", "GET", lambda w, u: f"/procurement/tenders/{w.draft.id}", DRAFT_ONLY_ADMIN),
    Case("procurement.tender", "GET", lambda w, u: f"/procurement/tenders/{w.published.id}", ALL),
    Case("procurement.edit_tender", "GET", lambda w, u: f"/procurement/tenders/{w.draft.id}/edit", draft(200)),
    Case("procurement.edit_tender", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/edit", draft(422)),
    # A published tender can no longer be edited: its buyer is sent back to it.
    Case("procurement.edit_tender", "GET", lambda w, u: f"/procurement/tenders/{w.published.id}/edit",
         published(302)),
    Case("procurement.add_lot", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/lots", draft(422)),
    Case("procurement.add_lot", "POST", lambda w, u: f"/procurement/tenders/{w.published.id}/lots", published(422)),
    Case("procurement.remove_lot", "POST", _draft_lot, draft(302)),
    Case("procurement.set_criteria", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/criteria",
         draft(422)),
    Case("procurement.attach_clause", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/clauses",
         draft(302), data=lambda w: {"clause_version_id": w.spare_version.id}),
    Case("procurement.attach_clause", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/clauses",
         draft(400)),
    Case("procurement.detach_clause", "POST", _draft_clause, draft(302)),
    Case("procurement.publish_tender", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/publish",
         draft(302)),
    Case("procurement.publish_tender", "POST", lambda w, u: f"/procurement/tenders/{w.published.id}/publish",
         published(302)),
    Case("procurement.cancel_tender", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/cancel", draft(422)),
    Case("procurement.cancel_tender", "POST", lambda w, u: f"/procurement/tenders/{w.published.id}/cancel",
         published(302), data=lambda w: {"cancel-reason": "Besoin abandonné."}),
    Case("procurement.ask_question", "POST", lambda w, u: f"/procurement/tenders/{w.published.id}/questions",
         everyone(403, supplier=302), data=lambda w: {"question-text": "Quelle garantie ?"}),
    Case("procurement.ask_question", "POST", lambda w, u: f"/procurement/tenders/{w.published.id}/questions",
         everyone(403, supplier=422)),
    Case("procurement.ask_question", "POST", lambda w, u: f"/procurement/tenders/{w.draft.id}/questions",
         everyone(404, admin=403)),
    Case("procurement.answer_question", "POST",
         lambda w, u: f"/procurement/tenders/{w.published.id}/questions/{w.question.id}/answer", published(422)),
    Case("procurement.answer_question", "POST",
         lambda w, u: f"/procurement/tenders/{w.published.id}/questions/{w.question.id}/answer", published(302),
         data=lambda w: {f"question{w.question.id}-answer": "Oui."}),
    Case("procurement.tender_package_pdf", "GET", lambda w, u: f"/procurement/tenders/{w.published.id}/package.pdf",
         ALL),
    Case("procurement.tender_package_pdf", "GET", lambda w, u: f"/procurement/tenders/{w.draft.id}/package.pdf",
         DRAFT_ONLY_ADMIN),
    Case("procurement.tender_package_zip", "GET", lambda w, u: f"/procurement/tenders/{w.published.id}/package.zip",
         ALL),
    # A draft has no package to load anywhere yet.
    Case("procurement.tender_package_zip", "GET", lambda w, u: f"/procurement/tenders/{w.draft.id}/package.zip",
         everyone(404)),
])


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.endpoint} #{i}" for i, c in enumerate(CASES)])
def test_tender_route(client, world, case, role):
    check(client, world, case, role)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_buyers_own_staff_see_the_draft_but_only_officers_manage_it(client, role):
    officer = user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer)
    if role is Role.ADMIN:
        return  # an administrator is of the EPT, not of the buyer: covered by the matrix above
    colleague = user_for_role(role, organisation=officer.organisation)
    log_in(client, colleague)
    assert client.get(f"/procurement/tenders/{tender.id}").status_code == 200
    manages = 422 if role is Role.PROCUREMENT_OFFICER else 403
    assert client.post(f"/procurement/tenders/{tender.id}/criteria").status_code == manages
