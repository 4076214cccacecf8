"""The reuse circuit's documents: the data-sanitisation certificate and the transfer or donation
agreement as PDF, and the public page where anyone holding a certificate's reference checks it."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from core import archive, permissions
from core.extensions import db
from core.pdf import render_pdf
from reuse import services
from reuse.models import RequestStatus, ReuseRequest, SanitisationRecord
from reuse.views import bp

# The agreement exists once the equipment has left its owner.
AGREEMENT_STATUSES = {RequestStatus.HANDED_OVER, RequestStatus.RECEIVED}


def _verification_url(reference: str) -> str:
    return url_for("reuse.verify", reference=reference, _external=True)


@bp.get("/sanitisations/<int:record_id>/certificate.pdf")
@login_required
def sanitisation_certificate(record_id: int):
    record = db.get_or_404(SanitisationRecord, record_id)
    permissions.require(current_user, "sanitisation.view", record)
    document = archive.latest_or_issue(
        "sanitisation_certificate", record, "", f"{record.reference}.pdf",
        lambda: render_pdf("documents/sanitisation_certificate.html", record=record,
                           verification_url=_verification_url(record.reference)),
        current_user, owner=record.organisation)
    db.session.commit()
    return archive.response(document)


@bp.get("/requests/<int:request_id>/agreement.pdf")
@login_required
def transfer_agreement(request_id: int):
    req = db.get_or_404(ReuseRequest, request_id)
    permissions.require(current_user, "request.view", req)
    if req.status not in AGREEMENT_STATUSES or req.handed_over_at is None:
        abort(404)
    handed_over_on = req.handed_over_at.date()
    # The route chosen at the request is the agreement's basis: a free transfer between public bodies or a
    # donation, each unit under the cap; or a transfer for a price, each unit at the price the handover
    # recorded (reuse.services.hand_over).
    check = req.eligibility
    route = check.get("route")
    paid = route == services.PAID_TRANSFER
    titles = {services.DONATION: _("Donation agreement"),
              services.PAID_TRANSFER: _("Agreement of transfer for a price")}
    lines = [{"device": device,
              "value": device.sale_price if paid else services.net_book_value(device, handed_over_on),
              # What the agreement says of each device's data: its certificates, or that it holds no
              # storage media only when that was recorded.
              "certificates": [{"reference": record.reference, "url": _verification_url(record.reference)}
                               for record in device.sanitisations]}
             for device in req.devices]
    render = lambda: render_pdf(  # noqa: E731
        "documents/transfer_agreement.html",
        req=req, owner=req.offer.organisation, receiver=req.organisation, donation=route == services.DONATION,
        paid=paid, title=titles.get(route, _("Transfer agreement")), basis=services.basis(check),
        cap=Decimal(check["cap"]), handed_over_on=handed_over_on, lines=lines,
        total=sum((line["value"] for line in lines if line["value"] is not None), Decimal("0.00")),
        unknown_values=sum(1 for line in lines if line["value"] is None),
        without_media=all(line["device"].has_storage_media is False for line in lines),
    )
    document = archive.latest_or_issue("transfer_agreement", req, "", f"{req.agreement_reference}.pdf", render,
                                       current_user, owner=req.offer.organisation, recipient=req.organisation)
    db.session.commit()
    return archive.response(document)


# --- public verification of a certificate --------------------------------------------------------

@bp.get("/verify")
def verify_form():
    reference = request.args.get("reference", "").strip()
    if reference:
        return redirect(url_for("reuse.verify", reference=reference))
    return render_template("reuse/verify.html", record=None, reference="")


@bp.get("/verify/<reference>")
def verify(reference: str):
    """Open to anyone: the reference is unguessable, and the page shows what the holder of the
    certificate already reads on it, minus the names of the people who performed and validated."""
    reference = reference.strip().upper()
    record = db.session.scalar(select(SanitisationRecord).where(SanitisationRecord.reference == reference))
    if record is None:
        return render_template("reuse/verify.html", record=None, reference=reference), 404
    return render_template("reuse/verify.html", record=record, reference=reference)
