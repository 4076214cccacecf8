"""The JSON API under /api/v1: bearer-token authentication, one error shape, an OpenAPI document.

Only a bearer token authenticates here, never the session cookie: the API is exempt from CSRF, so a
cookie must not be enough to act through it.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import or_, select

from core import openapi, permissions, services
from core.errors import api_error
from core.extensions import db
from core.models import Organisation, OrganisationKind, User, ValidationStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi_json", "api.indicators", "api.export_decp", "api.export_ocds", "api.export_agec"}
MAX_PAGE_SIZE = 200


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, clear_token = header.partition(" ")
    user = services.user_for_api_token(clear_token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response, status = api_error(401, "unauthorized",
                                     "A valid bearer token is required (Authorization: Bearer …).")
        response.headers["WWW-Authenticate"] = 'Bearer realm="circuit"'
        return response, status
    db.session.commit()  # keeps last_used_at
    g.api_user = user
    return None


def require(action: str, obj=None) -> None:
    permissions.require(g.api_user, action, obj)


def page_args() -> tuple[int, int]:
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", 50, type=int), 1), MAX_PAGE_SIZE)
    return page, per_page


def paginated(query, serialise) -> dict:
    page, per_page = page_args()
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [serialise(item) for item in result.items], "page": page, "per_page": per_page,
            "total": result.total}


def organisation_json(organisation: Organisation) -> dict:
    return {
        "id": organisation.id,
        "kind": organisation.kind.value,
        "name": organisation.name,
        "siret": organisation.siret,
        "insee_code": organisation.insee_code,
        "address": organisation.address,
        "postcode": organisation.postcode,
        "city": organisation.city,
        "locality": organisation.locality.value,
        "is_sme": organisation.is_sme,
        "is_ess": organisation.is_ess,
        "is_ea_esat": organisation.is_ea_esat,
        "is_siae": organisation.is_siae,
        "beneficiary_category": (organisation.beneficiary_category.value
                                 if organisation.beneficiary_category else None),
        "validation_status": organisation.validation_status.value,
        "sites": [{"id": s.id, "name": s.name, "address": s.address, "postcode": s.postcode,
                   "city": s.city} for s in organisation.sites],
    }


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "full_name": user.full_name, "role": user.role.value,
            "organisation": {"id": user.organisation_id, "name": user.organisation.name},
            "locale": user.locale}


@bp.get("/me")
def me():
    return jsonify(user_json(g.api_user))


@bp.get("/organisations")
def organisations():
    require("organisation.list")
    query = select(Organisation).where(
        or_(Organisation.kind.in_([k for k in OrganisationKind if k.is_public_buyer]),
            Organisation.validation_status == ValidationStatus.VALIDATED)
    ).order_by(Organisation.id)
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in OrganisationKind}:
            return api_error(400, "bad_request", f"Unknown kind {kind!r}.",
                             {"kind": [k.value for k in OrganisationKind]})
        query = query.where(Organisation.kind == OrganisationKind(kind))
    return jsonify(paginated(query, organisation_json))


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    require("organisation.view", organisation)
    return jsonify(organisation_json(organisation))


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi.document())


from reuse import api as reuse_api  # noqa: E402,F401
from marketplace import api as marketplace_api  # noqa: E402,F401
from procurement import api as procurement_api  # noqa: E402,F401
