"""A stand-in for Stripe's servers: an HTTP client the real `stripe` library talks to, which records each
request and answers canned JSON. Nothing leaves the machine.

    fake = FakeStripeHTTP()
    app.extensions["stripe_http_client"] = fake      # marketplace.services.payments.stripe_client() uses it
    ...
    fake.last("POST", "/v1/checkout/sessions").params["payment_intent_data[transfer_data][destination]"]

Webhook bodies are signed the way Stripe signs them, with `signed_event(...)`.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import stripe

CHECKOUT_URL = "https://checkout.stripe.test/c/pay/"


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict  # form fields as Stripe encodes them: "line_items[0][price_data][unit_amount]" → "38400"
    headers: dict = field(default_factory=dict)


class FakeStripeHTTP(stripe.HTTPClient):
    name = "circuit-test-fake"

    def __init__(self):
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self.overrides: dict[tuple[str, str], tuple[int, dict]] = {}
        self._ids = itertools.count(1)

    # What a test sets up and reads.
    def fail(self, method: str, path: str, status: int = 400, message: str = "refused") -> None:
        self.overrides[(method.upper(), path)] = (status, {"error": {"type": "invalid_request_error",
                                                                      "message": message}})

    def sent(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def last(self, method: str, path: str) -> RecordedRequest:
        matching = self.sent(method, path)
        assert matching, f"no {method} {path} was sent; sent: {[(r.method, r.path) for r in self.requests]}"
        return matching[-1]

    # The stripe.HTTPClient interface.
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        encoded = post_data if method.upper() == "POST" else parts.query
        if isinstance(encoded, bytes):
            encoded = encoded.decode()
        recorded = RecordedRequest(method.upper(), parts.path, dict(parse_qsl(encoded or "", keep_blank_values=True)),
                                   dict(headers or {}))
        self.requests.append(recorded)
        status, body = self.overrides.get((recorded.method, recorded.path)) or (200, self._answer(recorded))
        return json.dumps(body), status, {"request-id": f"req_fake_{next(self._ids)}"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise AssertionError("the fake answers no streaming request")

    def close(self):
        pass

    def _answer(self, req: RecordedRequest) -> dict:
        n = next(self._ids)
        if req.path == "/v1/checkout/sessions":
            session_id = f"cs_test_{n}"
            return {"id": session_id, "object": "checkout.session", "status": "open", "payment_status": "unpaid",
                    "url": CHECKOUT_URL + session_id, "metadata": _metadata(req.params)}
        if req.path.startswith("/v1/checkout/sessions/") and req.path.endswith("/expire"):
            session_id = req.path.split("/")[4]
            return {"id": session_id, "object": "checkout.session", "status": "expired"}
        if req.path == "/v1/refunds":
            return {"id": f"re_test_{n}", "object": "refund", "status": "succeeded",
                    "payment_intent": req.params.get("payment_intent")}
        raise AssertionError(f"the fake has no answer for {req.method} {req.path}")


def _metadata(params: dict) -> dict:
    return {key[len("metadata["):-1]: value for key, value in params.items() if key.startswith("metadata[")}


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>" with the secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_id: str, event_type: str, data_object: dict) -> str:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "livemode": False,
                       "created": int(time.time()), "data": {"object": data_object}})
