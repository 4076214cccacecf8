"""Procurement on the JSON API: tenders, the caller's own bids, the contracts register.

Routes live on core.api's blueprint (under /api/v1, bearer token already checked). Each one parses the
request, asks core.permissions through `require`, calls procurement.services, commits once and answers.
Amounts are decimals written as strings ("1234.50"), times ISO 8601 in UTC.

Bids are sealed until the buyer opens them: no answer here lists or counts the bids of a tender before
the opening. Bids are read only through procurement.services.bids (own_bids, get_readable) and, once
opened, through evaluation.score_lot filtered by what the caller may read.
"""
from __future__ import annotations

import base64
import binascii
from datetime import date, timezone
from decimal import Decimal, InvalidOperation

from flask import Response, g, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core import permissions
from core.api import bp, page_args, paginated, require
from core.errors import RuleViolation, api_error
from core.extensions import db
from core.models import Organisation
from procurement import exports
from procurement.models import (RESERVED, Bid, Contract, ContractSource, Lot, Question, Reservation, Tender,
                                TenderClause, TenderStatus)
from procurement.services import agec, climate
from procurement.services import bids as bid_service
from procurement.services import contracts as contract_service
from procurement.services import evaluation
from procurement.services import tenders as tender_service
from procurement import indicators as indicator_service


# --- answers -----------------------------------------------------------------------------------------

def _utc(value) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


def _amount(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _buyer_json(organisation: Organisation) -> dict:
    return {"id": organisation.id, "name": organisation.name, "siret": organisation.siret}


def _clause_json(tender_clause: TenderClause, locale: str) -> dict:
    version = tender_clause.version
    # DOMAIN: a reserved contract is OCDS's reservedParticipation, whatever its mechanism.
    strategy = "reservedParticipation" if version.decp_consideration == RESERVED else version.mechanism.ocds_strategy
    return {
        "id": tender_clause.id,
        "code": version.clause.code,
        "version": version.number,
        "title": version.title(locale),
        "text": version.text(locale),
        "evidence": version.evidence(locale),
        "theme": version.theme.value,
        "mechanism": version.mechanism.value,
        "binding": version.mechanism.binding,
        "decp_consideration": version.decp_consideration,
        "ocds_goal": version.ocds_goal,
        "ocds_strategy": strategy,
    }


def _question_json(question: Question, sees_askers: bool) -> dict:
    answer = {"id": question.id, "text": question.text, "asked_at": _utc(question.asked_at),
              "answer": question.answer if question.answered_at is not None else None,
              "answered_at": _utc(question.answered_at),
              "mine": question.organisation_id == g.api_user.organisation_id}
    if sees_askers:  # answers are published to every bidder without naming who asked
        answer["asked_by"] = {"id": question.organisation_id, "name": question.organisation.name}
    return answer


def _scores_json(lot: Lot) -> list[dict] | None:
    """The opened lot's bids the caller may read, with their points and rank; None while sealed."""
    if not lot.tender.is_opened:
        return None
    shows_scores = evaluation.scores_visible(g.api_user, lot)
    return [{"public_id": score.bid.public_id,
             "supplier": {"id": score.bid.supplier_id, "name": score.bid.supplier.name},
             "price": _amount(score.bid.price),
             "points": [{"criterion_id": criterion_id, "points": _amount(points)}
                        for criterion_id, points in score.points.items()] if shows_scores else None,
             "total": _amount(score.total) if shows_scores else None,
             "rank": score.rank if shows_scores else None,
             "abnormally_low": score.abnormally_low if shows_scores else None,
             "outcome": score.bid.outcome.value if score.bid.outcome else None}
            for score in evaluation.score_lot(lot) if bid_service.readable(g.api_user, score.bid)]


def _lot_json(lot: Lot) -> dict:
    return {"id": lot.id, "number": lot.number, "title": lot.title, "description": lot.description,
            "quantity": lot.quantity, "estimated_value": _amount(lot.estimated_value),
            "campaign_line_id": lot.campaign_line_id, "awarded_at": _utc(lot.awarded_at),
            "unsuccessful": lot.unsuccessful, "bids": _scores_json(lot)}


def tender_json(tender: Tender, detailed: bool = False) -> dict:
    answer = {
        "id": tender.id,
        "reference": tender.reference,
        "title": tender.title,
        "description": tender.description,
        "buyer": _buyer_json(tender.buyer),
        "cpv": tender.cpv,
        "procedure": tender.procedure.value,
        "procedure_decp": tender.procedure.decp,
        "reservation": tender.reservation.value,
        "estimated_value": _amount(tender.estimated_value),
        "duration_months": tender.duration_months,
        "deadline": _utc(tender.deadline),
        "status": tender.status.value,
        "accepts_bids": tender.accepts_bids(),
        "published_at": _utc(tender.published_at),
        "opened_at": _utc(tender.opened_at),
        "lot_count": len(tender.lots),
    }
    if detailed:
        locale = str(get_locale())
        sees_askers = permissions.may(g.api_user, "tender.manage", tender)
        answer |= {
            "lots": [_lot_json(lot) for lot in tender.lots],
            "criteria": [{"id": c.id, "kind": c.kind.value, "name": c.name, "weight": c.weight}
                         for c in tender.criteria],
            "clauses": [_clause_json(tc, locale) for tc in tender.clauses],
            "questions": [_question_json(q, sees_askers) for q in tender_service.questions_for(g.api_user, tender)],
        }
    return answer


def bid_json(bid: Bid) -> dict:
    lot = bid.lot
    return {
        "public_id": bid.public_id,
        "tender": {"id": lot.tender_id, "reference": lot.tender.reference, "title": lot.tender.title},
        "lot": {"id": lot.id, "number": lot.number, "title": lot.title},
        "supplier": {"id": bid.supplier_id, "name": bid.supplier.name},
        "status": bid.status.value,
        "version": bid.version,
        "price": _amount(bid.price),
        "memo_filename": bid.memo_filename,
        "memo_sha256": bid.memo_sha256,
        "submitted_at": _utc(bid.submitted_at),
        "withdrawn_at": _utc(bid.withdrawn_at),
        "receipt": bid_service.receipt(bid),
        "outcome": bid.outcome.value if bid.outcome else None,
        "commitments": [{"clause_code": c.tender_clause.version.clause.code,
                         "clause_version": c.tender_clause.version.number,
                         "committed": c.committed, "evidence": c.evidence} for c in bid.commitments],
    }


def _known(value):
    """A DECP field as the API gives it: null when not known (an empty text or list)."""
    return value if value not in ("", [], None) else None


def _holder_ref(holder_id: str, id_type: str, name: str) -> dict | None:
    return {"id": holder_id, "id_type": id_type, "name": name} if holder_id or name else None


def contract_json(contract: Contract) -> dict:
    supplier = contract.supplier
    lot = contract.lot
    current = contract_service.current_terms(contract)
    return {
        "id": contract.id,
        "decp_id": contract.decp_id,
        "title": contract.title,
        "nature": contract.nature,
        "buyer": _buyer_json(contract.buyer),
        # Only a holder known on the platform has a locality and a social-economy status.
        "holder": {"id": contract.holder_id, "id_type": contract.holder_id_type, "name": contract.holder_name,
                   "organisation_id": contract.supplier_id,
                   "locality": supplier.locality.value if supplier else None,
                   "is_ess": supplier.is_ess if supplier else None,
                   "is_ea_esat": supplier.is_ea_esat if supplier else None,
                   "is_siae": supplier.is_siae if supplier else None},
        "amount": _amount(contract.amount),
        "duration_months": contract.duration_months,
        "notified_on": contract.notified_on.isoformat() if contract.notified_on else None,
        "published_on": contract.published_on.isoformat() if contract.published_on else None,
        "cpv": contract.cpv,
        "procedure": contract.procedure,
        "offers_received": contract.offers_received,
        # DECP v2 fields as the contract's source gave them; null: not known.
        "techniques": _known(contract.techniques),
        "execution_modalities": _known(contract.execution_modalities),
        "price_types": _known(contract.price_types),
        "price_form": _known(contract.price_form),
        "ccag": _known(contract.ccag),
        "innovative": contract.innovative,
        "advance_payment": contract.advance_payment,
        "subcontracting_declared": contract.subcontracting_declared,
        "operator_grouping": _known(contract.operator_grouping),
        "place_of_execution": ({"code": contract.place_code, "type": contract.place_code_type}
                               if contract.place_code else None),
        "considerations": {"environmental": _known(contract.environmental_considerations),
                           "social": _known(contract.social_considerations),
                           "environmental_known": contract.env_considerations_known,
                           "social_known": contract.social_considerations_known},
        "art35_missing": climate.misses_art35(contract),
        "agec": {"category": contract.agec_category, "reuse_amount": _amount(contract.agec_reuse_amount),
                 "recycled_amount": _amount(contract.agec_recycled_amount)},
        "modifications": [{"number": m.number, "notified_on": m.notified_on.isoformat(),
                           "published_on": m.published_on.isoformat(), "amount": _amount(m.amount),
                           "duration_months": m.duration_months,
                           "holder": _holder_ref(m.holder_id, m.holder_id_type, m.holder_name),
                           "description": m.description} for m in contract.modifications],
        "current": {"amount": _amount(current.amount), "duration_months": current.duration_months,
                    "holder": _holder_ref(current.holder_id, current.holder_id_type, current.holder_name)},
        "env_score": contract.env_score,
        "env_score_breakdown": contract.env_score_breakdown,
        "clauses": [{"code": version.clause.code, "version": version.number} for version in contract.clauses],
        "tender": ({"id": lot.tender_id, "reference": lot.tender.reference, "lot_number": lot.number}
                   if lot is not None else None),
        "standstill_ends_at": _utc(contract.standstill_ends_at),
        "source": contract.source.value,
        "status": contract.status.value,
    }


# --- reading requests --------------------------------------------------------------------------------

def _bad_filter(name: str, expected):
    return api_error(400, "bad_request", f"Unknown {name} {request.args.get(name)!r}.", {name: expected})


def _cpv_filter(column, value: str):
    """A CPV code, or its first digits for a whole family (302 matches 30213100-6)."""
    return column.startswith(value, autoescape=True)


def _valid_cpv_prefix(value: str) -> bool:
    return value.replace("-", "").isdigit() and len(value) <= 10


class Invalid(ValueError):
    """One field of the body cannot be read; the message goes into the error details."""


def _price(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid("Required, a decimal as a string (\"12345.00\") or a number.")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid("Must be a decimal such as \"12345.00\".") from None
    if not price.is_finite() or price.as_tuple().exponent < -2 or abs(price) >= Decimal(10) ** 12:
        raise Invalid("At most 2 decimal places and less than 10^12.")
    return price


def _memo(value) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("Must be the PDF file encoded in base64.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("Must be the PDF file encoded in base64.") from None


def _commitments(value, tender: Tender) -> dict[int, tuple[bool, str]]:
    """[{clause_code, committed, evidence}] as the service's {tender_clause_id: (committed, evidence)}."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise Invalid("Must be an array of {clause_code, committed, evidence}.")
    by_code = {tc.version.clause.code: tc.id for tc in tender.clauses}
    commitments: dict[int, tuple[bool, str]] = {}
    for item in value:
        if not isinstance(item, dict) or set(item) - {"clause_code", "committed", "evidence"}:
            raise Invalid("Each item is {clause_code, committed, evidence}.")
        code, committed, evidence = item.get("clause_code"), item.get("committed"), item.get("evidence", "")
        if code not in by_code:
            raise Invalid(f"{code!r} is not a clause of this tender.")
        if by_code[code] in commitments:
            raise Invalid(f"{code!r} is given twice.")
        if not isinstance(committed, bool) or not isinstance(evidence, str):
            raise Invalid(f"{code}: committed is true or false, evidence a string.")
        commitments[by_code[code]] = (committed, evidence)
    return commitments


def _bid_data(payload: dict, tender: Tender) -> tuple[bid_service.BidData | None, dict]:
    errors = {key: "Unknown field." for key in payload
              if key not in ("price", "memo_pdf_base64", "memo_filename", "commitments")}
    values = {}
    for key, parse in (("price", _price), ("memo_pdf_base64", _memo),
                       ("commitments", lambda value: _commitments(value, tender))):
        try:
            values[key] = parse(payload.get(key))
        except Invalid as error:
            errors[key] = str(error)
    filename = payload.get("memo_filename", "")
    if not isinstance(filename, str) or len(filename) > 200:
        errors["memo_filename"] = "A string of at most 200 characters."
    if errors:
        return None, errors
    return bid_service.BidData(values["price"], filename.strip(), values["memo_pdf_base64"],
                                values["commitments"]), {}


def _refused(error: RuleViolation):
    db.session.rollback()
    return api_error(422, "rule_violation", str(error))


def _no_such_bid():
    # The same answer whether the bid does not exist or is sealed: a refusal must not tell it exists.
    return api_error(404, "not_found", "No such bid.")


# --- Activity 16 indicators (public) -----------------------------------------------------------------

FIRST_INDICATOR_YEAR = 2000


def _indicator_number(value):
    """JSON numbers: Decimal fractions, kilograms and euros become floats (fractions have 4 decimals)."""
    if isinstance(value, dict):
        return {key: _indicator_number(item) for key, item in value.items()}
    return float(value) if isinstance(value, Decimal) else value


@bp.get("/indicators")
def indicators():
    """Public: the Activity 16 indicators of a year, for the territory or one buyer (INSEE code or SIRET)."""
    year = request.args.get("year", type=int)
    last_year = date.today().year + 1
    if year is None or not FIRST_INDICATOR_YEAR <= year <= last_year:
        return api_error(400, "bad_request", "Give the year of the indicators: ?year=2025.",
                         {"year": f"A year from {FIRST_INDICATOR_YEAR} to {last_year}."})
    buyer = None
    code = request.args.get("buyer", "").strip()
    if code:
        if not indicator_service.is_buyer_code(code):
            return _bad_filter("buyer", "A commune's INSEE code (5 characters) or a buyer's SIRET (14 digits).")
        buyer = indicator_service.buyer_by_code(code)
        if buyer is None:
            return api_error(404, "not_found", "No buyer has this INSEE code or SIRET.")
    figures = indicator_service.compute(year, buyer)
    definitions = {key: {"definition": str(entry["definition"]), "source": str(entry["source"])}
                   for key, entry in indicator_service.DEFINITIONS.items()}
    buyer_json = None if buyer is None else {**_buyer_json(buyer), "insee_code": buyer.insee_code}
    return jsonify({"year": year, "buyer": buyer_json, **_indicator_number(figures), "definitions": definitions})


# --- tenders -----------------------------------------------------------------------------------------

@bp.get("/tenders")
def tenders():
    require("tender.list")
    query = tender_service.visible_tenders(g.api_user)
    status = request.args.get("status")
    if status:
        allowed = [member.value for member in TenderStatus]
        if status not in allowed:
            return _bad_filter("status", allowed)
        query = query.where(Tender.status == TenderStatus(status))
    reserved = request.args.get("reserved")
    if reserved:
        conditions = {"true": Tender.reservation != Reservation.NONE, "false": Tender.reservation == Reservation.NONE}
        conditions |= {member.value: Tender.reservation == member for member in Reservation if member.value != "none"}
        if reserved not in conditions:
            return _bad_filter("reserved", list(conditions))
        query = query.where(conditions[reserved])
    cpv = request.args.get("cpv")
    if cpv:
        if not _valid_cpv_prefix(cpv):
            return _bad_filter("cpv", "A CPV code such as 30213100-6, or its first digits.")
        query = query.where(_cpv_filter(Tender.cpv, cpv))
    if "buyer_id" in request.args:
        buyer_id = request.args.get("buyer_id", type=int)
        if buyer_id is None:
            return _bad_filter("buyer_id", "An organisation id.")
        query = query.where(Tender.buyer_id == buyer_id)
    return jsonify(paginated(query, tender_json))


def _visible_tender(tender_id: int) -> Tender:
    tender = db.get_or_404(Tender, tender_id)
    require("tender.view", tender)
    return tender


@bp.get("/tenders/<int:tender_id>")
def tender(tender_id: int):
    return jsonify(tender_json(_visible_tender(tender_id), detailed=True))


# --- bids --------------------------------------------------------------------------------------------

@bp.get("/bids")
def bids():
    require("procurement.bid")
    own = bid_service.own_bids(g.api_user)
    page, per_page = page_args()
    shown = own[(page - 1) * per_page:page * per_page]
    return jsonify({"items": [bid_json(bid) for bid in shown], "page": page, "per_page": per_page,
                    "total": len(own)})


@bp.get("/bids/<public_id>")
def bid(public_id: str):
    found = bid_service.get_readable(g.api_user, public_id)
    if found is None:
        return _no_such_bid()
    return jsonify(bid_json(found))


@bp.post("/tenders/<int:tender_id>/lots/<int:lot_id>/bids")
def submit_bid(tender_id: int, lot_id: int):
    """Submit the caller's organisation's bid on the lot, or replace it (its version goes up)."""
    tender = _visible_tender(tender_id)
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        return api_error(404, "not_found", "No such lot in this tender.")
    require("bid.submit", tender)  # before reading the body: a refused caller learns nothing from it
    payload = request.get_json(silent=True) if request.get_data() else None
    if not isinstance(payload, dict):
        return api_error(400, "bad_request", "The body must be a JSON object (Content-Type: application/json).")
    data, errors = _bid_data(payload, tender)
    if errors:
        return api_error(422, "validation_error", "Some fields are not valid.", errors)
    try:
        submitted = bid_service.submit(g.api_user, lot, data)
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(bid_json(submitted)), 201


@bp.post("/bids/<public_id>/withdraw")
def withdraw_bid(public_id: str):
    found = bid_service.get_readable(g.api_user, public_id)
    if found is None:
        return _no_such_bid()
    try:
        bid_service.withdraw(g.api_user, found)
        db.session.commit()
    except RuleViolation as error:
        return _refused(error)
    return jsonify(bid_json(found))


# --- contracts ---------------------------------------------------------------------------------------

@bp.get("/contracts")
def contracts():
    query = contract_service.visible_contracts(g.api_user).options(selectinload(Contract.modifications))
    if "buyer_id" in request.args:
        buyer_id = request.args.get("buyer_id", type=int)
        if buyer_id is None:
            return _bad_filter("buyer_id", "An organisation id.")
        query = query.where(Contract.buyer_id == buyer_id)
    if "year" in request.args:
        year = request.args.get("year", type=int)
        if year is None or not 1900 <= year <= 9999:
            return _bad_filter("year", "A year such as 2026 (of the notification).")
        query = query.where(Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)))
    source = request.args.get("source")
    if source:
        allowed = [member.value for member in ContractSource]
        if source not in allowed:
            return _bad_filter("source", allowed)
        query = query.where(Contract.source == ContractSource(source))
    cpv = request.args.get("cpv")
    if cpv:
        if not _valid_cpv_prefix(cpv):
            return _bad_filter("cpv", "A CPV code such as 30213100-6, or its first digits.")
        query = query.where(_cpv_filter(Contract.cpv, cpv))
    return jsonify(paginated(query, contract_json))


@bp.get("/contracts/<int:contract_id>")
def contract(contract_id: int):
    found = db.get_or_404(Contract, contract_id)
    require("contract.view", found)
    return jsonify(contract_json(found))


# --- open data (public: core.api.PUBLIC_ENDPOINTS) ----------------------------------------------------

def _export_year() -> int | None:
    year = request.args.get("year", type=int)
    return year if year is not None and 1900 <= year <= 9999 else None


def _no_year():
    return api_error(400, "bad_request", "The year is required.", {"year": "A year such as 2026."})


def _with_report(document: dict, report: exports.PublicationReport):
    """The document as JSON, and what it leaves out in headers (the document itself must stay valid
    against its schema): how many contracts are published, not republished (imported from DECP files,
    published by their source) and left out, the DECP fields missing, and the same in plain English."""
    response = jsonify(document)
    response.headers["X-Circuit-Published-Contracts"] = str(report.published)
    response.headers["X-Circuit-Not-Republished-Contracts"] = str(report.not_republished)
    response.headers["X-Circuit-Skipped-Contracts"] = str(report.unpublished)
    response.headers["X-Circuit-Skipped-Reasons"] = ", ".join(f"{reason.field}={reason.contracts}"
                                                              for reason in report.reasons)
    response.headers["X-Circuit-Notes"] = " ".join(report.sentences())
    return response


@bp.get("/exports/decp.json")
def export_decp():
    """DECP v2 of the contracts tendered or entered on Circuit and notified in the year."""
    year = _export_year()
    if year is None:
        return _no_year()
    return _with_report(*exports.decp(year))


@bp.get("/exports/ocds.json")
def export_ocds():
    year = _export_year()
    if year is None:
        return _no_year()
    try:
        return _with_report(*exports.ocds(year, uri=request.url))
    except exports.OcidPrefixMissing:
        return api_error(503, "not_configured", _(
            "The OCDS export needs the publisher's ocid prefix: the platform's administrator sets "
            "OCDS_OCID_PREFIX to the prefix the Open Contracting Partnership gave it."),
            {"setting": "OCDS_OCID_PREFIX"})


@bp.get("/exports/agec.csv")
def export_agec():
    year = _export_year()
    if year is None:
        return _no_year()
    return Response(agec.declaration_csv(year), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="agec-{year}.csv"'})
