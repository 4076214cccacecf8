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
                          "description": "Null or absent: true when storage_type is not none; else unknown "
                                         "(null) for a laptop, desktop, tablet, smartphone, server or "
                                         "printer, false for the other categories."},
    "site_id": {"type": ["integer", "null"], "description": "A site of the caller's organisation."},
    "notes": {"type": "string", "maxLength": 4000},
}
_ELIGIBILITY = {"type": "object", "properties": {
    "route": {"type": "string", "enum": ["public_transfer", "donation", "paid_transfer"],
              "description": "public_transfer: free, between public bodies; donation: free, to a beneficiary; "
                             "paid_transfer: to a public body when a unit's net book value is above the cap "
                             "(CGPPP L.3212-2 does not apply), each unit at its net book value on the day of "
                             "the handover."},
    "basis": {"type": "string", "description": "The route's legal basis, in the caller's language."},
    "eligible": {"type": "boolean"},
    "cap": {"type": "string", "description": "Cap per unit of a free transfer or donation (net book value), "
                                             "in euros."},
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
        "weight_kg": {"type": "string"},
        "has_storage_media": {"type": ["boolean", "null"],
                              "description": "null: unknown; the device cannot leave its owner until it is "
                                             "false or its data sanitisation is recorded."},
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
        "eligibility": {**_ELIGIBILITY, "description": "The check made when the request was sent; its route is "
                                                      "the basis of the handover and of the agreement.",
                        "properties": {**_ELIGIBILITY["properties"], "reasons": {
                            "type": "array", "items": {"type": "string"},
                            "description": "Empty: a request is sent only when eligible."}}},
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


# --- marketplace: catalogue, campaigns, orders (marketplace/api.py) ------------------------------

from marketplace.models import CampaignStatus, Grade, LineStatus, OrderStatus, PaymentMethod, PaymentStatus  # noqa: E402

_AMOUNT = {"type": "string", "description": "A decimal amount in euros, as a string (\"1234.50\")."}
_AMOUNT_OR_NULL = {**_AMOUNT, "type": ["string", "null"]}
_DATETIME = {"type": "string", "format": "date-time"}
_DATETIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_ORGANISATION_REF = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}

SCHEMAS.update({
    "CatalogueOffer": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "supplier": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "locality": {"type": "string"},
            "is_sme": {"type": "boolean"}, "is_ess": {"type": "boolean"}, "is_ea_esat": {"type": "boolean"},
            "is_siae": {"type": "boolean"}}},
        "category": {"type": "string", "enum": _values(DeviceCategory)},
        "cpv": {"type": "string"}, "brand": {"type": "string"}, "model": {"type": "string"},
        "specifications": {"type": "string"}, "cpu": {"type": "string"},
        "ram_gb": {"type": ["integer", "null"]}, "storage_gb": {"type": ["integer", "null"]},
        "screen_inches": _DECIMAL_OUT, "is_reconditioned": {"type": "boolean"},
        "grade": {"type": ["string", "null"], "enum": [*_values(Grade), None]},
        "battery_health_pct": {"type": ["integer", "null"]}, "warranty_months": {"type": "integer"},
        "unit_price": {**_AMOUNT, "description": "Base unit price excluding VAT, before volume tiers."},
        "vat_rate": {"type": "string", "description": "VAT rate in %, e.g. \"20.00\"."},
        "tiers": {"type": "array", "description": "Volume tiers: from min_quantity units, this unit price.",
                  "items": {"type": "object", "properties": {"min_quantity": {"type": "integer"},
                                                             "unit_price": _AMOUNT}}},
        "stock": {"type": "integer"}, "lead_time_days": {"type": "integer"},
        "reconditioning_postcode": {"type": "string"}, "reconditioning_city": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "repairability_index": _DECIMAL_OUT, "spare_parts_years": {"type": ["integer", "null"]},
        "kgco2e_avoided": _DECIMAL_OUT, "active": {"type": "boolean"}}},
    "Participation": {"type": "object", "properties": {
        "id": {"type": "integer"}, "line_id": {"type": "integer"}, "organisation_id": {"type": "integer"},
        "site": _ref("Site"), "quantity": {"type": "integer"}, "updated_at": _DATETIME}},
    "ParticipationInput": {"type": "object", "required": ["site_id", "quantity"], "additionalProperties": False,
                           "properties": {
                               "site_id": {"type": "integer", "description": "A site of the caller's organisation."},
                               "quantity": {"type": "integer", "minimum": 0,
                                            "description": "Replaces the previous quantity; 0 withdraws the need."}}},
    "CampaignLine": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "specification": {"type": "string"},
        "category": {"type": "string", "enum": _values(DeviceCategory)},
        "status": {"type": "string", "enum": _values(LineStatus)}, "to_be_tendered": {"type": "boolean"},
        "min_total_quantity": {"type": "integer"},
        "total_quantity": {"type": "integer", "description": "Sum of every member's needs."},
        "minimum_reached": {"type": "boolean"},
        "offer": {"type": ["object", "null"], "description": "The awarded offer, else the first eligible one.",
                  "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                 "supplier": _ORGANISATION_REF}},
        "eligible_offer_ids": {"type": "array", "items": {"type": "integer"}},
        "unit_price": {**_AMOUNT_OR_NULL, "description": "The unit price at the current total quantity (or the "
                                                         "awarded price)."},
        "next_tier": {"type": ["object", "null"], "properties": {
            "min_quantity": {"type": "integer"}, "unit_price": _AMOUNT,
            "missing_quantity": {"type": "integer"}}},
        "my_participations": {"type": "array", "items": _ref("Participation"),
                              "description": "The caller's organisation's needs, one per delivery site."}}},
    "Campaign": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
        "coordinator": _ORGANISATION_REF, "deadline": _DATETIME,
        "status": {"type": "string", "enum": _values(CampaignStatus)}, "frozen_at": _DATETIME_OR_NULL,
        "line_count": {"type": "integer"}}},
    "CampaignDetail": {"allOf": [_ref("Campaign"), {"type": "object", "properties": {
        "lines": {"type": "array", "items": _ref("CampaignLine")}}}]},
    "Totals": {"type": "object", "properties": {
        "net": _AMOUNT, "vat": _AMOUNT, "gross": _AMOUNT,
        "vat_by_rate": {"type": "array", "items": {"type": "object", "properties": {
            "rate": {"type": "string"}, "vat": _AMOUNT}}}},
        "description": "Sums of the lines' rounded amounts."},
    "OrderLine": {"type": "object", "properties": {
        "id": {"type": "integer"}, "offer_id": {"type": ["integer", "null"]}, "description": {"type": "string"},
        "category": {"type": "string", "enum": _values(DeviceCategory)}, "cpv": {"type": "string"},
        "quantity": {"type": "integer"}, "unit_price": _AMOUNT, "vat_rate": {"type": "string"},
        "net": _AMOUNT, "vat": _AMOUNT, "gross": _AMOUNT,
        "is_reconditioned": {"type": "boolean"}, "is_reused": {"type": "boolean"},
        "site": {**_ref("Site"), "description": "The delivery site (null if none)."},
        "shipped_at": _DATETIME_OR_NULL, "delivered_at": _DATETIME_OR_NULL}},
    "Order": {"type": "object", "properties": {
        "id": {"type": "integer"}, "reference": {"type": "string"},
        "status": {"type": "string", "enum": _values(OrderStatus)},
        "buyer": _ORGANISATION_REF, "supplier": _ORGANISATION_REF,
        "campaign": {"type": ["object", "null"], "properties": {"id": {"type": "integer"},
                                                                "title": {"type": "string"}}},
        "payment_method": {"type": "string", "enum": _values(PaymentMethod)},
        "payment_status": {"type": "string", "enum": _values(PaymentStatus)},
        "budget_line": {"type": "string"}, "created_at": _DATETIME, "confirmed_at": _DATETIME_OR_NULL,
        "cancelled_at": _DATETIME_OR_NULL, "lines": {"type": "array", "items": _ref("OrderLine")},
        "totals": _ref("Totals")}},
})

PATHS.update({
    "/catalogue": {"get": {
        "summary": "Catalogue offers on sale (and the caller's own offers), cheapest first",
        "tags": ["marketplace"],
        "parameters": PAGE_PARAMETERS + [
            {"name": "category", "in": "query", "schema": {"type": "string", "enum": _values(DeviceCategory)}},
            {"name": "max_price", "in": "query", "schema": {"type": "string"},
             "description": "Highest base unit price excluding VAT, a decimal."}],
        "responses": _answer("200", "OK", _page_of("CatalogueOffer"), "400")}},
    "/catalogue/{offer_id}": {"get": {
        "summary": "One catalogue offer, with its volume tiers", "tags": ["marketplace"],
        "parameters": [_id("offer_id")],
        "responses": _answer("200", "OK", _ref("CatalogueOffer"), "404")}},
    "/campaigns": {"get": {
        "summary": "Group orders (campaigns) the caller may see", "tags": ["marketplace"],
        "parameters": PAGE_PARAMETERS,
        "responses": _answer("200", "OK", _page_of("Campaign"), "403")}},
    "/campaigns/{campaign_id}": {"get": {
        "summary": "One campaign: its lines with total quantity, minimum, unit price reached and next tier, "
                   "and the caller's needs",
        "tags": ["marketplace"], "parameters": [_id("campaign_id")],
        "responses": _answer("200", "OK", _ref("CampaignDetail"), "404")}},
    "/campaigns/{campaign_id}/lines/{line_id}/participations": {"put": {
        "summary": "State, change or withdraw (quantity 0) the caller's need on a line for one delivery site",
        "tags": ["marketplace"], "parameters": [_id("campaign_id"), _id("line_id")],
        "requestBody": _body(_ref("ParticipationInput")),
        "responses": {**_answer("200", "Saved", {"type": "object", "properties": {
            "participation": {**_ref("Participation"), "description": "Null when the need is withdrawn."},
            "line": _ref("CampaignLine")}}, "400", "403", "404", "422"),
            "409": {**ERROR, "description": "Refused by the campaign's state: code census_frozen after the "
                                            "deadline, conflict otherwise (line closed…)"}}}},
    "/orders": {"get": {
        "summary": "Orders placed by the caller's organisation and orders it received as supplier",
        "tags": ["marketplace"],
        "parameters": PAGE_PARAMETERS + [
            {"name": "side", "in": "query", "schema": {"type": "string", "enum": ["placed", "received"]}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": _values(OrderStatus)}}],
        "responses": _answer("200", "OK", _page_of("Order"), "400")}},
    "/orders/{order_id}": {"get": {
        "summary": "One order, its lines per delivery site and its totals", "tags": ["marketplace"],
        "parameters": [_id("order_id")],
        "responses": _answer("200", "OK", _ref("Order"), "404")}},
})



# --- procurement: tenders, own bids, contracts (procurement/api.py) ------------------------------

from procurement.models import (BidOutcome, BidStatus, ContractSource, ContractStatus, CriterionKind,  # noqa: E402
                                Mechanism, ProcedureType, Reservation, TenderStatus, Theme)

_PUBLIC_ID = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The bid's random public id (never a sequential number)."}
_BUYER = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                           "siret": {"type": ["string", "null"]}}}
_CPV_FILTER = {"name": "cpv", "in": "query", "schema": {"type": "string"},
               "description": "A CPV code (30213100-6), or its first digits for a whole family (302)."}
_BUYER_FILTER = {"name": "buyer_id", "in": "query", "schema": {"type": "integer"}}

SCHEMAS.update({
    "Tender": {"type": "object", "properties": {
        "id": {"type": "integer"}, "reference": {"type": "string"}, "title": {"type": "string"},
        "description": {"type": "string"}, "buyer": _BUYER, "cpv": {"type": "string"},
        "procedure": {"type": "string", "enum": _values(ProcedureType)},
        "procedure_decp": {"type": "string", "description": "The procedure's name in DECP v2."},
        "reservation": {"type": "string", "enum": _values(Reservation)},
        "estimated_value": {**_AMOUNT, "description": "Excluding VAT."},
        "duration_months": {"type": "integer"},
        "deadline": {**_DATETIME, "description": "ISO 8601, in UTC."},
        "status": {"type": "string", "enum": _values(TenderStatus)},
        "accepts_bids": {"type": "boolean", "description": "Published and before its deadline."},
        "published_at": _DATETIME_OR_NULL, "opened_at": _DATETIME_OR_NULL,
        "lot_count": {"type": "integer"}},
        "description": "Never a count of bids, nor any bid data."},
    "LotBid": {"type": "object", "description": "An opened bid the caller may read, with its score.",
               "properties": {
                   "public_id": {"type": "string"}, "supplier": _ORGANISATION_REF, "price": _AMOUNT,
                   "points": {"type": "array", "items": {"type": "object", "properties": {
                       "criterion_id": {"type": "integer"},
                       "points": {**_AMOUNT_OR_NULL, "description": "Null while an evaluator's mark is missing."}}}},
                   "total": {**_AMOUNT_OR_NULL, "description": "Out of 100; null while a mark is missing."},
                   "rank": {"type": ["integer", "null"], "description": "Null until every bid of the lot is marked."},
                   "abnormally_low": {"type": "boolean"},
                   "outcome": {"type": ["string", "null"], "enum": [*_values(BidOutcome), None]}}},
    "Lot": {"type": "object", "properties": {
        "id": {"type": "integer"}, "number": {"type": "integer"}, "title": {"type": "string"},
        "description": {"type": "string"}, "quantity": {"type": "integer"}, "estimated_value": _AMOUNT_OR_NULL,
        "campaign_line_id": {"type": ["integer", "null"]}, "awarded_at": _DATETIME_OR_NULL,
        "unsuccessful": {"type": "boolean"},
        "bids": {"type": ["array", "null"], "items": _ref("LotBid"),
                 "description": "Null while the bids are sealed (before the opening); then only the bids the "
                                "caller may read: all of them for the buyer, its own for a bidder."}}},
    "TenderClause": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "version": {"type": "integer"},
        "title": {"type": "string"}, "text": {"type": "string"}, "evidence": {"type": "string"},
        "theme": {"type": "string", "enum": _values(Theme)},
        "mechanism": {"type": "string", "enum": _values(Mechanism)},
        "binding": {"type": "boolean", "description": "Every bidder must commit to it (all but award criteria)."},
        "decp_consideration": {"type": "string"}, "ocds_goal": {"type": "string"},
        "ocds_strategy": {"type": "string"}},
        "description": "Title, text and evidence in the caller's language."},
    "Question": {"type": "object", "properties": {
        "id": {"type": "integer"}, "text": {"type": "string"}, "asked_at": _DATETIME,
        "answer": {"type": ["string", "null"]}, "answered_at": _DATETIME_OR_NULL,
        "mine": {"type": "boolean", "description": "Asked by the caller's organisation."},
        "asked_by": {**_ORGANISATION_REF, "description": "Only for the buyer: answers never name who asked."}}},
    "TenderDetail": {"allOf": [_ref("Tender"), {"type": "object", "properties": {
        "lots": {"type": "array", "items": _ref("Lot")},
        "criteria": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": _values(CriterionKind)},
            "name": {"type": "string"}, "weight": {"type": "integer", "description": "Points out of 100."}}}},
        "clauses": {"type": "array", "items": _ref("TenderClause")},
        "questions": {"type": "array", "items": _ref("Question"),
                      "description": "The buyer sees every question; others the answered ones and their own."}}}]},
    "BidInput": {"type": "object", "required": ["price"], "additionalProperties": False, "properties": {
        "price": {**_NUMBER, "description": "The total price excluding VAT, a decimal (\"12345.00\")."},
        "memo_pdf_base64": {"type": "string", "contentEncoding": "base64",
                            "description": "The technical memo (PDF). Required on the first submission; "
                                           "absent on a replacement, the previous memo is kept."},
        "memo_filename": {"type": "string", "maxLength": 200},
        "commitments": {"type": "array", "description": "Every binding clause needs committed true and its "
                                                        "evidence; a replacement restates them all.",
                        "items": {"type": "object", "required": ["clause_code", "committed"],
                                  "additionalProperties": False, "properties": {
                                      "clause_code": {"type": "string"}, "committed": {"type": "boolean"},
                                      "evidence": {"type": "string"}}}}}},
    "Bid": {"type": "object", "properties": {
        "public_id": {"type": "string"},
        "tender": {"type": "object", "properties": {"id": {"type": "integer"}, "reference": {"type": "string"},
                                                    "title": {"type": "string"}}},
        "lot": {"type": "object", "properties": {"id": {"type": "integer"}, "number": {"type": "integer"},
                                                 "title": {"type": "string"}}},
        "supplier": _ORGANISATION_REF,
        "status": {"type": "string", "enum": _values(BidStatus)}, "version": {"type": "integer"},
        "price": _AMOUNT, "memo_filename": {"type": "string"}, "memo_sha256": {"type": "string"},
        "submitted_at": _DATETIME, "withdrawn_at": _DATETIME_OR_NULL,
        "receipt": {"type": "string", "description": "SHA-256 fingerprint of the bid as submitted."},
        "outcome": {"type": ["string", "null"], "enum": [*_values(BidOutcome), None]},
        "commitments": {"type": "array", "items": {"type": "object", "properties": {
            "clause_code": {"type": "string"}, "clause_version": {"type": "integer"},
            "committed": {"type": "boolean"}, "evidence": {"type": "string"}}}}}},
    "Contract": {"type": "object", "properties": {
        "id": {"type": "integer"}, "decp_id": {"type": "string", "maxLength": 16}, "title": {"type": "string"},
        "nature": {"type": "string"}, "buyer": _BUYER,
        "holder": {"type": "object", "properties": {
            "id": {"type": "string"}, "id_type": {"type": "string"}, "name": {"type": "string"},
            "organisation_id": {"type": ["integer", "null"], "description": "The supplier on the platform, if known."},
            "locality": {"type": ["string", "null"],
                         "enum": ["territory", "departments_94_91", "ile_de_france", "elsewhere", None]},
            "is_ess": {"type": ["boolean", "null"]}, "is_ea_esat": {"type": ["boolean", "null"]},
            "is_siae": {"type": ["boolean", "null"]}},
            "description": "Locality and statuses are null when the holder is not on the platform."},
        "amount": {**_AMOUNT, "description": "Excluding VAT, as first notified (DECP montant: a modification "
                                             "never changes it; see current)."},
        "duration_months": {"type": ["integer", "null"], "description": "As first notified (DECP dureeMois)."},
        "notified_on": _DATE, "published_on": _DATE, "cpv": {"type": "string"},
        "procedure": {"type": "string", "description": "As named in DECP v2."},
        "offers_received": {"type": ["integer", "null"]},
        # DECP v2 fields as the contract's source gave them (the values of schema_decp_v2.0.3.json); null:
        # not known.
        "techniques": {"type": ["array", "null"], "items": {"type": "string"}, "description": "DECP technique."},
        "execution_modalities": {"type": ["array", "null"], "items": {"type": "string"},
                                 "description": "DECP modaliteExecution."},
        "price_types": {"type": ["array", "null"], "items": {"type": "string"}, "description": "DECP typePrix."},
        "price_form": {"type": ["string", "null"], "description": "DECP formePrix."},
        "ccag": {"type": ["string", "null"]}, "innovative": {"type": ["boolean", "null"]},
        "advance_payment": {"type": ["boolean", "null"], "description": "DECP attributionAvance."},
        "subcontracting_declared": {"type": ["boolean", "null"], "description": "DECP sousTraitanceDeclaree."},
        "operator_grouping": {"type": ["string", "null"], "description": "DECP typeGroupementOperateurs."},
        "place_of_execution": {"type": ["object", "null"], "description": "DECP lieuExecution.", "properties": {
            "code": {"type": "string"}, "type": {"type": "string"}}},
        "considerations": {"type": "object", "description": "DECP v2 considerations; a list is null when not "
                                                            "known (a DECP v1 record states none).",
                           "properties": {
            "environmental": {"type": ["array", "null"], "items": {"type": "string"}},
            "social": {"type": ["array", "null"], "items": {"type": "string"}},
            "environmental_known": {"type": "boolean"}, "social_known": {"type": "boolean"}}},
        "art35_missing": {"type": "boolean", "description": "Notified from 22 August 2026 without any "
                                                           "environmental consideration (Loi Climat et "
                                                           "Résilience art. 35)."},
        "agec": {"type": "object", "description": "Loi AGEC art. 58.", "properties": {
            "category": {"type": ["string", "null"], "description": "The declaration's product category; null: "
                                                                    "none of them."},
            "reuse_amount": {**_AMOUNT, "type": ["string", "null"], "description": "From reuse or re-use, excl. "
                                                                                   "VAT; null: not known."},
            "recycled_amount": {**_AMOUNT, "type": ["string", "null"], "description": "With recycled material, "
                                                                                     "excl. VAT; null: not known."}}},
        "modifications": {"type": "array", "description": "DECP modifications, numbered from 1, in the order of "
                                                          "their notification.",
                          "items": {"type": "object", "properties": {
            "number": {"type": "integer"}, "notified_on": {"type": "string", "format": "date"},
            "published_on": {"type": "string", "format": "date"},
            "amount": {**_AMOUNT, "type": ["string", "null"], "description": "The new amount; null: unchanged."},
            "duration_months": {"type": ["integer", "null"], "description": "The new duration; null: unchanged."},
            "holder": {"type": ["object", "null"], "description": "The new holder; null: unchanged.",
                       "properties": {"id": {"type": "string"}, "id_type": {"type": "string"},
                                      "name": {"type": "string"}}},
            "description": {"type": "string"}}}},
        "current": {"type": "object", "description": "Amount, duration and holder after the modifications.",
                    "properties": {"amount": _AMOUNT, "duration_months": {"type": ["integer", "null"]},
                                   "holder": {"type": ["object", "null"], "properties": {
                                       "id": {"type": "string"}, "id_type": {"type": "string"},
                                       "name": {"type": "string"}}}}},
        "env_score": {"type": "integer", "minimum": 0, "maximum": 100},
        "env_score_breakdown": {"type": "array", "items": {"type": "object", "properties": {
            "source": {"type": "string", "enum": ["clause", "criterion", "decp"]}, "code": {"type": "string"},
            "version": {"type": "integer"}, "label": {"type": "string"}, "mechanism": {"type": "string"},
            "points": {"type": "integer"}}}},
        "clauses": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "version": {"type": "integer"}}}},
        "tender": {"type": ["object", "null"], "properties": {
            "id": {"type": "integer"}, "reference": {"type": "string"}, "lot_number": {"type": "integer"}}},
        "standstill_ends_at": _DATETIME_OR_NULL,
        "source": {"type": "string", "enum": _values(ContractSource)},
        "status": {"type": "string", "enum": _values(ContractStatus)}}},
})

PATHS.update({
    "/tenders": {"get": {
        "summary": "Tenders the caller may see: published ones, and the drafts of its organisation",
        "tags": ["procurement"],
        "parameters": PAGE_PARAMETERS + [
            _CPV_FILTER, _BUYER_FILTER,
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": _values(TenderStatus)}},
            {"name": "reserved", "in": "query",
             "schema": {"type": "string", "enum": ["true", "false", "ea_esat", "siae", "ess"]},
             "description": "Reserved tenders (any reservation, or one kind), or not reserved."}],
        "responses": _answer("200", "OK", _page_of("Tender"), "400")}},
    "/tenders/{tender_id}": {"get": {
        "summary": "One tender: lots, award criteria, clauses, questions. Before the opening, no bid data "
                   "nor count; after it, each lot's bids the caller may read, with points and rank",
        "tags": ["procurement"], "parameters": [_id("tender_id")],
        "responses": _answer("200", "OK", _ref("TenderDetail"), "404")}},
    "/tenders/{tender_id}/lots/{lot_id}/bids": {"post": {
        "summary": "Submit the caller's organisation's bid on a lot, or replace it (its version goes up), "
                   "until the deadline",
        "tags": ["procurement"], "parameters": [_id("tender_id"), _id("lot_id")],
        "requestBody": _body(_ref("BidInput")),
        "responses": {**_answer("201", "Submitted", _ref("Bid"), "400", "403", "404"),
                      "422": {**ERROR, "description": "An invalid field (validation_error) or a refusal "
                                                      "(rule_violation): deadline passed, memo missing or not a "
                                                      "PDF, binding clause not committed, reserved tender…"}}}},
    "/bids": {"get": {
        "summary": "The bids of the caller's organisation (suppliers only); never anyone else's",
        "tags": ["procurement"], "parameters": PAGE_PARAMETERS,
        "responses": _answer("200", "OK", _page_of("Bid"), "403")}},
    "/bids/{public_id}": {"get": {
        "summary": "One bid: its bidder's at any time; the buyer's only after the opening. A sealed bid "
                   "answers 404, as one that does not exist",
        "tags": ["procurement"], "parameters": [_PUBLIC_ID],
        "responses": _answer("200", "OK", _ref("Bid"), "404")}},
    "/bids/{public_id}/withdraw": {"post": {
        "summary": "Withdraw the caller's organisation's bid, until the deadline", "tags": ["procurement"],
        "parameters": [_PUBLIC_ID],
        "responses": _answer("200", "Withdrawn", _ref("Bid"), "403", "404", "422")}},
    "/contracts": {"get": {
        "summary": "The contracts register (open data), latest notified first", "tags": ["procurement"],
        "parameters": PAGE_PARAMETERS + [
            _CPV_FILTER, _BUYER_FILTER,
            {"name": "year", "in": "query", "schema": {"type": "integer"}, "description": "Year of notification."},
            {"name": "source", "in": "query", "schema": {"type": "string", "enum": _values(ContractSource)}}],
        "responses": _answer("200", "OK", _page_of("Contract"), "400")}},
    "/contracts/{contract_id}": {"get": {
        "summary": "One contract of the register", "tags": ["procurement"], "parameters": [_id("contract_id")],
        "responses": _answer("200", "OK", _ref("Contract"), "404")}},
})

# --- Activity 16 indicators (procurement/api.py, procurement/indicators.py): public, no token --------

from procurement.indicators import DEFINITIONS as _INDICATOR_DEFINITIONS  # noqa: E402
from procurement.indicators import REQUIRED_KEYS as _INDICATOR_KEYS  # noqa: E402

_FRACTION = {"type": ["number", "null"], "minimum": 0, "maximum": 1,
             "description": "A fraction between 0 and 1 (50 % is 0.5), 4 decimals; null without data."}
_COUNT_KEYS = {"contracts_total", "contracts_env_clause", "contracts_env_criterion", "contracts_env_any",
               "contracts_social_any", "devices_reused", "devices_reconditioned", "devices_recycled",
               "contracts_env_unknown", "contracts_social_unknown"}
_FIGURE_KEYS = {"env_score_mean", "weee_kg_diverted", "co2e_kg_avoided", "euros_avoided"}


def _indicator_schema(key: str) -> dict:
    if key in _COUNT_KEYS:
        return {"type": "integer", "minimum": 0}
    if key == "contracts_art35_missing":
        return {"type": ["integer", "null"], "minimum": 0,
                "description": "null before 2026 (Loi Climat et Résilience art. 35 binds from 22 August 2026)."}
    if key in _FIGURE_KEYS:
        return {"type": ["number", "null"]}
    return _FRACTION


SCHEMAS["Indicators"] = {
    "type": "object",
    "required": ["year", "buyer", "definitions", *_INDICATOR_KEYS],
    "description": "Stable keys (never renamed); a few more may be added, each with its definition. Counts "
                   "are integers, kg, kgCO2e and euros numbers; shares, rates and targets fractions.",
    "properties": {
        "year": {"type": "integer"},
        "buyer": {"type": ["object", "null"], "description": "null: the whole territory (EPT, communes and "
                                                            "syndicates together).",
                  "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                 "siret": {"type": ["string", "null"]}, "insee_code": {"type": ["string", "null"]}}},
        **{key: _indicator_schema(key) for key in _INDICATOR_KEYS},
        "devices_reused_by_route": {"type": "object", "properties": {
            "public_body": {"type": "integer"}, "donation": {"type": "integer"}, "sale": {"type": "integer"}}},
        "definitions": {"type": "object", "description": "For each key, its definition (in the request's "
                                                         "language) and its source (law, plan, register).",
                        "additionalProperties": {"type": "object", "properties": {
                            "definition": {"type": "string"}, "source": {"type": "string"}}}},
    },
}

PATHS["/indicators"] = {"get": {
    "summary": "The Activity 16 indicators of a year, for the territory or one buyer (public, no token)",
    "tags": ["indicators"], "security": [],
    "description": "Contracts with environmental and social considerations (PNAD targets), local and social-"
                   "economy spend, WEEE reuse (décret 2023-266) and the AGEC art. 58 IT reuse share. Every "
                   "figure is aggregated in the database. Keys: " + ", ".join(_INDICATOR_DEFINITIONS) + ".",
    "parameters": [
        {"name": "year", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 2000},
         "description": "The year (of notification for contracts, of departure for devices, of order, "
                        "notification or receipt for AGEC)."},
        {"name": "buyer", "in": "query", "schema": {"type": "string"},
         "description": "A commune's INSEE code (94081) or a buyer's SIRET (14 digits); without it, the territory."}],
    "responses": {"200": {"description": "OK", **_json(_ref("Indicators"))}, "400": ERROR, "404": ERROR}}}


# --- open data exports (procurement/api.py, public: no token) --------------------------------------------

_EXPORT_YEAR = {"name": "year", "in": "query", "required": True, "schema": {"type": "integer"},
                "description": "Year of notification (DECP, OCDS) or of the orders (AGEC)."}
_PUBLIC = []  # an empty security list: no token
PATHS.update({
    "/exports/decp.json": {"get": {
        "summary": "DECP v2.0.3 (données essentielles) of the contracts notified in the year by the platform's "
                   "public buyers that Circuit is the source of (tendered here or entered by hand), with their "
                   "modifications; never bids. Contracts imported from DECP files are published by their source "
                   "and not republished; a contract missing a field the schema requires is left out. Headers: "
                   "X-Circuit-Published-Contracts, X-Circuit-Not-Republished-Contracts, "
                   "X-Circuit-Skipped-Contracts, X-Circuit-Skipped-Reasons (DECP field=count), X-Circuit-Notes",
        "tags": ["open data"], "security": _PUBLIC, "parameters": [_EXPORT_YEAR],
        "responses": {"200": {"description": "{\"marches\": {\"marche\": [...]}}, valid against "
                                             "schema_decp_v2.0.3.json", **_json({"type": "object"})},
                      "400": ERROR}}},
    "/exports/ocds.json": {"get": {
        "summary": "OCDS 1.1 release package of the same contracts, with the sustainability extension "
                   "(tender.hasSustainability, tender.sustainability[goal, strategies]) and the modifications as "
                   "contract amendments; parties identified with the scheme FR-RCS, dates in Paris time. Needs the "
                   "publisher's ocid prefix (setting OCDS_OCID_PREFIX): without it, 503 not_configured",
        "tags": ["open data"], "security": _PUBLIC, "parameters": [_EXPORT_YEAR],
        "responses": {"200": {"description": "An OCDS release package", **_json({"type": "object"})},
                      "400": ERROR, "503": ERROR}}},
    "/exports/agec.csv": {"get": {
        "summary": "AGEC art. 58 annual declaration (schema-declaration-biens-reemploi-reutilisation-recycle "
                   "v0.1.0): one row per public buyer and product type with purchases in the year (catalogue "
                   "orders, contracts of the register, devices received, donations at the flat values of the "
                   "arrêté of 29 February 2024)",
        "tags": ["open data"], "security": _PUBLIC, "parameters": [_EXPORT_YEAR],
        "responses": {"200": {"description": "CSV, UTF-8, comma-separated, decimal point",
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "400": ERROR}}},
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
