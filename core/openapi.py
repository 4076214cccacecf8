"""The OpenAPI 3 description of /api/v1. Each domain adds its paths and schemas to PATHS and SCHEMAS."""
from __future__ import annotations

from reuse.models import Condition, DeviceCategory, DeviceStatus, OfferStatus, RequestStatus, StorageType

ERROR = {"$ref": "#/components/responses/Error"}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["status", "code", "message", "details"],
            "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                           "message": {"type": "string"}, "details": {"type": "object"}},
        }},
    },
    "Site": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "address": {"type": "string"},
        "postcode": {"type": "string"}, "city": {"type": "string"}}},
    "Organisation": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["ept", "commune", "syndicate", "supplier", "beneficiary"]},
        "name": {"type": "string"}, "siret": {"type": ["string", "null"]},
        "insee_code": {"type": ["string", "null"]}, "address": {"type": "string"},
        "postcode": {"type": "string"}, "city": {"type": "string"},
        "locality": {"type": "string",
                     "enum": ["territory", "departments_94_91", "ile_de_france", "elsewhere"]},
        "is_sme": {"type": "boolean"}, "is_ess": {"type": "boolean"},
        "is_ea_esat": {"type": "boolean"}, "is_siae": {"type": "boolean"},
        "beneficiary_category": {"type": ["string", "null"]},
        "validation_status": {"type": "string", "enum": ["pending", "validated", "rejected"]},
        "sites": {"type": "array", "items": {"$ref": "#/components/schemas/Site"}}}},
    "User": {"type": "object", "properties": {
        "id": {"type": "integer"}, "email": {"type": "string"}, "full_name": {"type": "string"},
        "role": {"type": "string"}, "locale": {"type": ["string", "null"]},
        "organisation": {"type": "object", "properties": {"id": {"type": "integer"},
                                                          "name": {"type": "string"}}}}},
}


def _page_of(schema: str) -> dict:
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}}


def _ok(schema: dict) -> dict:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            "401": ERROR, "403": ERROR, "404": ERROR}


PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
]

PATHS: dict[str, dict] = {
    "/me": {"get": {"summary": "The account the token belongs to", "tags": ["accounts"],
                    "responses": _ok({"$ref": "#/components/schemas/User"})}},
    "/organisations": {"get": {
        "summary": "Directory: public bodies and validated suppliers and beneficiaries",
        "tags": ["organisations"],
        "parameters": PAGE_PARAMETERS + [{"name": "kind", "in": "query", "schema": {"type": "string"}}],
        "responses": _ok(_page_of("Organisation"))}},
    "/organisations/{organisation_id}": {"get": {
        "summary": "One organisation", "tags": ["organisations"],
        "parameters": [{"name": "organisation_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": _ok({"$ref": "#/components/schemas/Organisation"})}},
}


# --- reuse: inventory, offers, requests (reuse/api.py) -------------------------------------------

def _values(enum_type) -> list[str]:
    return [member.value for member in enum_type]


def _ref(schema: str) -> dict:
    return {"$ref": f"#/components/schemas/{schema}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(status: str, description: str, schema: dict, *errors: str) -> dict:
    return {status: {"description": description, **_json(schema)}, "401": ERROR,
            **{code: ERROR for code in errors}}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, **_json(schema)}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_NUMBER = {"type": ["string", "number"], "description": "A decimal, as a string (preferred) or a number."}
_DECIMAL_OUT = {"type": ["string", "null"], "description": "A decimal, as a string."}
_DATE = {"type": ["string", "null"], "format": "date"}
_DEVICE_FIELDS = {
    "category": {"type": "string", "enum": _values(DeviceCategory)},
    "brand": {"type": "string", "maxLength": 100},
    "model": {"type": "string", "maxLength": 150},
    "serial_number": {"type": ["string", "null"], "maxLength": 100},
    "asset_number": {"type": ["string", "null"], "maxLength": 100},
    "purchase_date": _DATE,
    "purchase_price": {**_NUMBER, "type": ["string", "number", "null"]},
    "cpu": {"type": "string", "maxLength": 150},
    "ram_gb": {"type": ["integer", "null"], "minimum": 0, "maximum": 4096},
    "storage_type": {"type": "string", "enum": _values(StorageType)},
    "storage_gb": {"type": ["integer", "null"], "minimum": 0},
    "screen_inches": {**_NUMBER, "type": ["string", "number", "null"]},
    "condition": {"type": ["string", "null"], "enum": [*_values(Condition), None]},
    "weight_kg": {**_NUMBER, "type": ["string", "number", "null"],
                  "description": "Kilograms; null or absent: the typical weight of the category."},
    "has_storage_media": {"type": ["boolean", "null"],
                          "description": "Null or absent: true unless storage_type is none."},
    "site_id": {"type": ["integer", "null"], "description": "A site of the caller's organisation."},
    "notes": {"type": "string", "maxLength": 4000},
}
_ELIGIBILITY = {"type": "object", "properties": {
    "route": {"type": "string", "enum": ["public_transfer", "donation"]},
    "eligible": {"type": "boolean"},
    "cap": {"type": "string", "description": "Donation cap per unit, in euros."},
    "highest_unit_value": {"type": ["string", "null"]},
    "reasons": {"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string", "enum": ["not_a_donation_beneficiary", "not_validated",
                                            "unknown_value", "over_cap"]},
        "message": {"type": "string"}}}}}}

SCHEMAS.update({
    "DeviceInput": {
        "type": "object", "additionalProperties": False, "properties": _DEVICE_FIELDS,
        "required": ["category"],
        "description": "A device to create. The serial number or the asset number is required. On PATCH "
                       "every field is optional and the status is not writable.",
    },
    "Device": {"type": "object", "properties": {
        "id": {"type": "integer"}, "organisation_id": {"type": "integer"},
        **_DEVICE_FIELDS,
        "purchase_price": _DECIMAL_OUT, "screen_inches": _DECIMAL_OUT,
        "weight_kg": {"type": "string"}, "has_storage_media": {"type": "boolean"},
        "status": {"type": "string", "enum": _values(DeviceStatus)},
        "reformed_on": _DATE, "left_on": _DATE,
        "offer_id": {"type": ["integer", "null"]}, "request_id": {"type": ["integer", "null"]},
        "is_sanitised": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}},
    "ImportSummary": {"type": "object", "properties": {
        "read": {"type": "integer"}, "created": {"type": "integer"}, "updated": {"type": "integer"},
        "rejected": {"type": "array", "items": {"type": "object", "properties": {
            "line": {"type": "integer", "description": "JSON: 1 for the first item of the array. CSV: the "
                                                       "line in the file, the header being line 1."},
            "reason": {"type": "string"}}}}}},
    "Offer": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
        "category": {"type": "string", "enum": _values(DeviceCategory)},
        "quantity": {"type": "integer"}, "available": {"type": "integer"},
        "status": {"type": "string", "enum": _values(OfferStatus)},
        "published_at": {"type": "string", "format": "date-time"},
        "organisation": {"type": "object", "properties": {"id": {"type": "integer"},
                                                          "name": {"type": "string"}}},
        "site": {"type": ["object", "null"], "properties": {"postcode": {"type": "string"},
                                                            "city": {"type": "string"}}},
        "eligibility": {**_ELIGIBILITY, "type": ["object", "null"],
                        "description": "Whether the caller's organisation may receive it; null on its "
                                       "own offers."}}},
    "ReuseRequest": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "offer": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "organisation": {"type": "object", "properties": {"id": {"type": "integer"},
                                                              "name": {"type": "string"}}}}},
        "organisation": {"type": "object", "properties": {"id": {"type": "integer"},
                                                          "name": {"type": "string"}}},
        "quantity": {"type": "integer"}, "purpose": {"type": "string"},
        "status": {"type": "string", "enum": _values(RequestStatus)},
        "eligibility": {"type": "object", "description": "The check made when the request was sent."},
        "refusal_reason": {"type": "string"}, "collect_by": _DATE,
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
        "handed_over_at": {"type": ["string", "null"], "format": "date-time"},
        "received_at": {"type": ["string", "null"], "format": "date-time"},
        "agreement_reference": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"}}},
})

PATHS.update({
    "/devices": {
        "get": {"summary": "The devices of the caller's organisation", "tags": ["reuse"],
                "parameters": PAGE_PARAMETERS + [
                    {"name": "status", "in": "query", "schema": {"type": "string",
                                                                 "enum": _values(DeviceStatus)}},
                    {"name": "category", "in": "query", "schema": {"type": "string",
                                                                   "enum": _values(DeviceCategory)}}],
                "responses": _answer("200", "OK", _page_of("Device"), "400", "403")},
        "post": {"summary": "Add a device to the caller's inventory", "tags": ["reuse"],
                 "requestBody": _body(_ref("DeviceInput")),
                 "responses": _answer("201", "Created", _ref("Device"), "400", "403", "422")},
    },
    "/devices/{device_id}": {
        "get": {"summary": "One device", "tags": ["reuse"], "parameters": [_id("device_id")],
                "responses": _answer("200", "OK", _ref("Device"), "404")},
        "patch": {"summary": "Change some fields of a device (not its status)", "tags": ["reuse"],
                  "parameters": [_id("device_id")],
                  "requestBody": _body({**_ref("DeviceInput"),
                                        "description": "Only the fields to change."}),
                  "responses": _answer("200", "OK", _ref("Device"), "400", "404", "422")},
    },
    "/devices/import": {"post": {
        "summary": "Import devices: each one is created, or updated when its serial number (else asset "
                   "number) is already in the inventory; invalid items are listed, the others imported",
        "tags": ["reuse"],
        "parameters": [{"name": "category", "in": "query",
                        "schema": {"type": "string", "enum": _values(DeviceCategory)},
                        "description": "CSV only: the category of the devices when the file has no "
                                       "category or type column."}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "array", "items": _ref("DeviceInput")}},
            "text/csv": {"schema": {"type": "string"},
                         "description": "Circuit's template, a GLPI export or a Snipe-IT export, columns "
                                        "separated by ';' or ',', UTF-8 or Windows-1252."}}},
        "responses": _answer("200", "Import done", _ref("ImportSummary"), "400", "403", "415", "422")}},
    "/offers": {"get": {
        "summary": "Open offers the caller's organisation sees now in the cascade, with its eligibility",
        "tags": ["reuse"], "parameters": PAGE_PARAMETERS,
        "responses": _answer("200", "OK", _page_of("Offer"), "403")}},
    "/offers/{offer_id}/requests": {"post": {
        "summary": "Request units of an offer", "tags": ["reuse"], "parameters": [_id("offer_id")],
        "requestBody": _body({"type": "object", "required": ["quantity", "purpose"],
                              "additionalProperties": False,
                              "properties": {"quantity": {"type": "integer", "minimum": 1},
                                             "purpose": {"type": "string", "maxLength": 2000}}}),
        "responses": {**_answer("201", "Created", _ref("ReuseRequest"), "400", "403", "404", "422"),
                      "409": {**ERROR, "description": "Not enough units left"}}}},
    "/requests": {"get": {
        "summary": "Requests made by the caller's organisation and requests on its offers",
        "tags": ["reuse"],
        "parameters": PAGE_PARAMETERS + [{"name": "side", "in": "query",
                                          "schema": {"type": "string", "enum": ["made", "received"]}}],
        "responses": _answer("200", "OK", _page_of("ReuseRequest"), "400", "403")}},
    "/requests/{request_id}/approve": {"post": {
        "summary": "Approve a pending request on one of the caller's offers", "tags": ["reuse"],
        "parameters": [_id("request_id")],
        "requestBody": _body({"type": "object", "additionalProperties": False,
                              "properties": {"collect_by": {"type": "string", "format": "date"}}},
                             required=False),
        "responses": _answer("200", "Approved", _ref("ReuseRequest"), "400", "403", "404", "422")}},
    "/requests/{request_id}/refuse": {"post": {
        "summary": "Refuse a pending request on one of the caller's offers", "tags": ["reuse"],
        "parameters": [_id("request_id")],
        "requestBody": _body({"type": "object", "required": ["reason"], "additionalProperties": False,
                              "properties": {"reason": {"type": "string", "maxLength": 2000}}}),
        "responses": _answer("200", "Refused", _ref("ReuseRequest"), "400", "403", "404", "422")}},
})


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Circuit API", "version": "1.0.0",
                 "description": "Responsible IT procurement and device reuse for Grand-Orly Seine Bièvre."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal token from your account page "
                                                          "or `flask --app wsgi users token EMAIL`."}},
            "schemas": SCHEMAS,
            "responses": {"Error": {"description": "Error",
                                    "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }
