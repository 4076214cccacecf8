"""The tender package (dossier de consultation des entreprises): a PDF with the rules of the consultation,
the specification with every clause's text and the scoring grid, and a ZIP to load onto a buyer-profile
platform (Maximilien in Île-de-France), holding the PDF, a machine-readable consultation.json (with an
OCDS 1.1 tender object and its sustainability extension), the clauses as CSV and a LISEZMOI.txt."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from decimal import Decimal

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from core import cpv as cpv_codes
from core.csv_cells import safe_cell
from core.i18n import to_local
from core.pdf import render_pdf
from procurement.models import CriterionKind, Mechanism, ProcedureType, Tender, TenderStatus
from procurement.services import considerations, evaluation

PDF_TEMPLATE = "documents/tender_package.html"

# OCDS 1.1 `method` codelist (closed): how each DECP procedure is advertised.
OCDS_METHODS = {
    ProcedureType.ADAPTED: "open",
    ProcedureType.OPEN: "open",
    ProcedureType.RESTRICTED: "selective",
    ProcedureType.NEGOTIATED: "selective",
    ProcedureType.COMPETITIVE_DIALOGUE: "selective",
    ProcedureType.WITHOUT_NOTICE: "direct",
}
# OCDS 1.1 `tenderStatus` codelist (closed).
OCDS_STATUSES = {
    TenderStatus.DRAFT: "planning",
    TenderStatus.PUBLISHED: "active",
    TenderStatus.OPENED: "active",
    TenderStatus.AWARDED: "complete",
    TenderStatus.CANCELLED: "cancelled",
}
# A reserved contract pursues a social goal through reservedParticipation (DOMAIN.md: "Marché réservé").
MECHANISM_ORDER = list(Mechanism)
ZIP_FILES = ("consultation.json", "clauses.csv", "LISEZMOI.txt")


def base_name(tender: Tender) -> str:
    """A file name from the reference, safe on every platform."""
    return "DCE-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", tender.reference).strip("-") or str(tender.id))


def _locale() -> str:
    return str(get_locale() or "fr")


def _versions(tender: Tender) -> list:
    return sorted((tc.version for tc in tender.clauses),
                  key=lambda v: (MECHANISM_ORDER.index(v.mechanism), v.clause.code))


def clause_groups(tender: Tender) -> list[tuple[Mechanism, list]]:
    """The tender's clause versions grouped by mechanism, in the order of the Mechanism enum."""
    versions = _versions(tender)
    return [(mechanism, [v for v in versions if v.mechanism is mechanism]) for mechanism in MECHANISM_ORDER
            if any(v.mechanism is mechanism for v in versions)]


def _percent(share: Decimal) -> int:
    return int(share * 100)


def document_context(tender: Tender) -> dict:
    return {
        "tender": tender,
        "locale": _locale(),
        "draft": tender.status is TenderStatus.DRAFT,
        "cpv_label": cpv_codes.label(tender.cpv),
        "clause_groups": clause_groups(tender),
        "env_award_clauses": evaluation.env_award_clauses(tender),
        "standstill_days": current_app.config["STANDSTILL_DAYS"],
        "low_vs_others": _percent(evaluation.ABNORMALLY_LOW_VS_OTHERS),
        "low_vs_estimate": _percent(evaluation.ABNORMALLY_LOW_VS_ESTIMATE),
        "answered_questions": [q for q in tender.questions if q.answered_at is not None],
    }


def render(tender: Tender) -> bytes:
    """The package PDF in the reader's language; a draft is marked as such on every page."""
    return render_pdf(PDF_TEMPLATE, **document_context(tender))


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value) -> str | None:
    return value.replace(microsecond=0).isoformat() if value is not None else None


def _ocds_amount(value: Decimal) -> float:
    # OCDS wants a JSON number. A Numeric(14, 2) has at most 14 significant digits, which a float's repr
    # gives back exactly.
    return float(value)


def ocds_tender(tender: Tender) -> dict:
    sustainability = considerations.ocds_sustainability(considerations.tender_commitments(tender))
    single_price = len(tender.criteria) == 1 and tender.criteria[0].kind is CriterionKind.PRICE
    main_category = "services" if tender.cpv[:1] in ("5", "9") else "goods"
    result = {
        "id": tender.reference,
        "title": tender.title,
        "description": tender.description or None,
        "status": OCDS_STATUSES[tender.status],
        "procuringEntity": {"id": tender.buyer.siret or str(tender.buyer_id), "name": tender.buyer.name},
        "items": [{
            "id": str(lot.number),
            "description": lot.title,
            "classification": {"scheme": "CPV", "id": tender.cpv, "description": cpv_codes.label(tender.cpv)},
            "quantity": lot.quantity,
        } for lot in tender.lots],
        "value": {"amount": _ocds_amount(tender.estimated_value), "currency": "EUR"},
        "procurementMethod": OCDS_METHODS[tender.procedure],
        "procurementMethodDetails": tender.procedure.decp,
        "mainProcurementCategory": main_category,
        "awardCriteria": "priceOnly" if single_price else "ratedCriteria",
        "awardCriteriaDetails": " · ".join(f"{c.name} {c.weight}" for c in tender.criteria),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": _iso(tender.published_at), "endDate": _iso(tender.deadline)},
        "hasSustainability": bool(sustainability),
    }
    if sustainability:
        result["sustainability"] = sustainability
    return {key: value for key, value in result.items() if value is not None}


def consultation(tender: Tender) -> dict:
    """The machine-readable package: what a platform or a script needs to recreate the consultation."""
    environmental, social = considerations.decp_considerations(considerations.tender_commitments(tender))
    buyer = tender.buyer
    return {
        "generator": "Circuit",
        "language": _locale(),
        "buyer": {"name": buyer.name, "siret": buyer.siret, "address": buyer.address, "postcode": buyer.postcode,
                  "city": buyer.city},
        "reference": tender.reference,
        "title": tender.title,
        "description": tender.description,
        "cpv": {"code": tender.cpv, "label": cpv_codes.label(tender.cpv)},
        "procedure": {"code": tender.procedure.value, "decp": tender.procedure.decp},
        "reservation": {"code": tender.reservation.value, "label": tender.reservation.label},
        "estimatedValueExclVat": _amount(tender.estimated_value),
        "currency": "EUR",
        "durationMonths": tender.duration_months,
        "deadline": _iso(tender.deadline),
        "publishedAt": _iso(tender.published_at),
        "status": tender.status.value,
        "lots": [{"number": lot.number, "title": lot.title, "description": lot.description, "quantity": lot.quantity,
                  "estimatedValueExclVat": _amount(lot.estimated_value)} for lot in tender.lots],
        "awardCriteria": [{"position": c.position + 1, "kind": c.kind.value, "name": c.name, "weight": c.weight}
                          for c in tender.criteria],
        "clauses": [{
            "code": v.clause.code,
            "version": v.number,
            "mechanism": v.mechanism.value,
            "binding": v.mechanism.binding,
            "theme": v.theme.value,
            "decpConsideration": v.decp_consideration,
            "ocds": {"goal": v.ocds_goal, "strategy": v.mechanism.ocds_strategy},
            "title": {"fr": v.title_fr, "en": v.title_en},
            "text": {"fr": v.text_fr, "en": v.text_en},
            "evidence": {"fr": v.evidence_fr, "en": v.evidence_en},
            "source": v.source,
        } for v in _versions(tender)],
        "considerationsEnvironnementales": environmental,
        "considerationsSociales": social,
        "ocds": {"tender": ocds_tender(tender)},
    }


def clauses_csv(tender: Tender) -> bytes:
    """One row per clause, semicolon-separated, UTF-8 with a byte-order mark so that Excel reads it."""
    locale = _locale()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["code", "version", "mechanism", "binding", "theme", "decp_consideration", "ocds_goal",
                     "ocds_strategy", "title", "text", "evidence", "source"])
    for v in _versions(tender):
        writer.writerow([safe_cell(cell) for cell in (
            v.clause.code, v.number, v.mechanism.value, "yes" if v.mechanism.binding else "no", v.theme.value,
            v.decp_consideration, v.ocds_goal, v.mechanism.ocds_strategy, v.title(locale), v.text(locale),
            v.evidence(locale), v.source)])
    return out.getvalue().encode("utf-8-sig")


def readme(tender: Tender, pdf_name: str) -> str:
    lines = [
        _("Tender package %(reference)s: %(title)s", reference=tender.reference, title=tender.title),
        _("Buyer: %(buyer)s", buyer=tender.buyer.name),
        _("Deadline for bids: %(deadline)s (Paris time)",
          deadline=to_local(tender.deadline).strftime("%Y-%m-%d %H:%M")),
        "",
        _("Files"),
        f"- {pdf_name}: " + _("the consultation document: rules of the consultation, specification with the "
                               "text of every clause, scoring grid."),
        "- consultation.json: " + _("the same consultation, machine-readable: tender, lots, award criteria, "
                                    "clauses with their version, DECP consideration and OCDS goal and strategy, "
                                    "and an OCDS 1.1 tender object with the sustainability extension."),
        "- clauses.csv: " + _("one row per clause (semicolon-separated, UTF-8), for a spreadsheet."),
        "- LISEZMOI.txt: " + _("this file."),
        "",
        _("Loading the package onto a buyer-profile platform (e.g. Maximilien)"),
        "1. " + _("Create the consultation on the platform with the reference, title, CPV code, procedure, "
                  "estimated value and deadline shown on the first page of the PDF."),
        "2. " + _("Create one lot per lot of the PDF, with its quantity and estimate."),
        "3. " + _("Upload the PDF as the consultation document (DCE); attach clauses.csv if the platform "
                  "takes additional files."),
        "4. " + _("Copy the award criteria and their weights from part 3 of the PDF."),
        "5. " + _("Publish. Bids received on the platform are not seen by Circuit; bids submitted on Circuit "
                  "stay sealed until the opening."),
        "",
        _("consultation.json follows the DECP v2 names for the procedure and the considerations, and OCDS 1.1 "
          "for the `ocds.tender` object."),
    ]
    return "\r\n".join(str(line) for line in lines) + "\r\n"


def build_zip(tender: Tender, pdf: bytes) -> bytes:
    """The package as a ZIP, built in memory. Every entry carries the publication time, so that two
    downloads of the same package list the same dates."""
    stamp = to_local(tender.published_at or tender.created_at).timetuple()[:6]
    pdf_name = base_name(tender) + ".pdf"
    entries = [
        (pdf_name, pdf),
        ("consultation.json", json.dumps(consultation(tender), ensure_ascii=False, indent=2).encode("utf-8")),
        ("clauses.csv", clauses_csv(tender)),
        ("LISEZMOI.txt", readme(tender, pdf_name).encode("utf-8")),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
