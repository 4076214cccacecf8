"""The OpenAPI 3 description of /api/v1. Each domain adds its paths and schemas to PATHS and SCHEMAS."""
from __future__ import annotations

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
