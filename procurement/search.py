"""What procurement puts in the search index: tenders and the clause library (core.search). Bids are
sealed and never indexed; neither are contracts' amounts beyond what the register shows."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from core import search
from core.territory import commune_for
from procurement.models import Clause, ClauseVersion, Lot, Question, Tender, TenderStatus, Theme


CLAUSE_STATUS_LABELS = {"active": _l("In use"), "retired": _l("Retired")}


def tender_document(tender: Tender) -> search.Document:
    buyer = tender.buyer
    commune = commune_for(buyer.postcode, buyer.city)
    # Answered questions are public to every bidder; the questions themselves name nobody but stay out.
    answers = [question.answer for question in tender.questions if question.answer]
    lots = [f"{lot.title} {lot.description}" for lot in tender.lots]
    return search.Document(
        title=f"{tender.reference} {tender.title}",
        body="\n".join([tender.description, buyer.name, *lots, *answers]),
        readers=[search.organisation_token(buyer.id) if tender.status is TenderStatus.DRAFT else search.EVERYONE],
        owner_id=buyer.id, commune=commune.name if commune else buyer.city, status=tender.status.value,
    )


def clause_document(clause: Clause) -> search.Document | None:
    if not clause.versions:
        return None
    version = clause.current
    return search.Document(
        title=f"{clause.code} {version.title_fr}", body=f"{version.text_fr}\n{version.evidence_fr}\n{version.source}",
        title_en=f"{clause.code} {version.title_en}",
        body_en=f"{version.text_en}\n{version.evidence_en}\n{version.source}",
        category=version.theme.value, status="active" if clause.active else "retired",
    )


search.register(search.Kind(
    name="tender", model=Tender, label=_l("Tenders"), view_action="tender.view",
    loaded_with=(joinedload(Tender.buyer),),
    url=lambda tender: url_for("procurement.tender", tender_id=tender.id),
    document=tender_document,
    sql_match=lambda text: or_(Tender.title.icontains(text, autoescape=True),
                               Tender.reference.icontains(text, autoescape=True),
                               Tender.description.icontains(text, autoescape=True)),
    status_label=search.enum_label(TenderStatus),
))
search.register(search.Kind(
    name="clause", model=Clause, label=_l("Clauses"), view_action="clause.list",
    url=lambda clause: url_for("procurement.clause", clause_id=clause.id),
    document=clause_document,
    sql_match=lambda text: Clause.versions.any(or_(ClauseVersion.title_fr.icontains(text, autoescape=True),
                                                   ClauseVersion.title_en.icontains(text, autoescape=True),
                                                   ClauseVersion.text_fr.icontains(text, autoescape=True),
                                                   ClauseVersion.text_en.icontains(text, autoescape=True))),
    status_label=lambda value: str(CLAUSE_STATUS_LABELS[value]) if value in CLAUSE_STATUS_LABELS else None,
))
search.facet_labels("category", search.enum_label(Theme))
search.follow(Lot, lambda lot: [("tender", lot.tender_id)])
search.follow(Question, lambda question: [("tender", question.tender_id)])
search.follow(ClauseVersion, lambda version: [("clause", version.clause_id)])
