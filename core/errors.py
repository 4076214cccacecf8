"""The exception services raise when a business rule refuses, and the HTTP error pages."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import format_decimal
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class RuleViolation(Exception):
    """A business rule refused the operation; the message is for the user, already translated."""


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def api_error(status: int, code: str, message: str, details: dict | None = None):
    """The one shape of every API error: {"error": {"status", "code", "message", "details"}}."""
    body = {"error": {"status": status, "code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def form_expired(error: CSRFError):
        # A form kept open too long or posted from another site: say so, the user sends it again.
        return render_template("errors/form_expired.html", back=request.referrer), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            code = (error.name or "error").lower().replace(" ", "_")
            return api_error(error.code or 500, code, error.description or error.name)
        if error.code == 413:
            # MAX_CONTENT_LENGTH (MAX_UPLOAD_BYTES): Werkzeug refuses the body before any view reads it.
            limit_mb = format_decimal(current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024), "#,##0.#")
            return render_template("errors/413.html", limit_mb=limit_mb, back=request.referrer), 413
        template = error.code if error.code in (403, 404, 500) else "generic"
        return render_template(f"errors/{template}.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        from core.extensions import db

        db.session.rollback()  # the page below must be able to query again
        if wants_json():
            return api_error(500, "internal_server_error", "An unexpected error occurred.")
        return render_template("errors/500.html"), 500
