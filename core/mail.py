"""Outgoing mail. Every message is kept in the outbox; it is sent by SMTP when MAIL_SERVER is set,
otherwise (development, tests) it is only logged."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from core.extensions import db
from core.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


def send(recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    config = current_app.config
    if not config["MAIL_SERVER"]:
        log.info("mail to %s (outbox only): %s\n%s", recipient, subject, body)
        return message
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = recipient
    email["Subject"] = subject
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
    message.sent_at = utcnow()
    return message


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: from the current request, or from PUBLIC_URL outside one (commands)."""
    from flask import has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)
