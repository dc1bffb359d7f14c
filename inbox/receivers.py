"""Email from django-anymail, whichever provider: inbound mail, delivery reports."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from anymail.inbound import AnymailInboundMessage
from anymail.signals import (
    AnymailInboundEvent,
    AnymailTrackingEvent,
    inbound,
    tracking,
)
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.utils.html import strip_tags

from contacts.models import Channel
from contacts.normalize import InvalidIdentifier, normalize_email
from inbox import services
from inbox.adapters import TRACKING_KEY, email_message_id
from inbox.providers import Inbound, UnknownPayload, split_name

logger = logging.getLogger(__name__)


def _message_id(
    message: AnymailInboundMessage, event: AnymailInboundEvent, esp_name: str
) -> str:
    """Return what recognises a retried delivery of this email."""
    if message_id := (message.get("Message-ID") or "").strip():
        return message_id
    if event.event_id:
        return f"<{esp_name.lower()}-{event.event_id}@inbound>"
    # Neither: a digest of what the sender wrote. Not of the raw message,
    # whose MIME boundaries may be made up afresh on every delivery.
    parts = [str(message.get(name) or "") for name in ("From", "To", "Date", "Subject")]
    parts += [message.text or "", message.html or ""]
    parts += [
        f"{a.get_filename()}:{len(a.get_content_bytes())}" for a in message.attachments
    ]
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return f"<sha256-{digest}@inbound>"


def parse_email(
    message: AnymailInboundMessage, event: AnymailInboundEvent, esp_name: str = ""
) -> Inbound:
    sender = message.from_email
    if sender is None or not sender.addr_spec:
        raise UnknownPayload("email without a From address")
    try:
        address = normalize_email(sender.addr_spec)
    except InvalidIdentifier as error:
        raise UnknownPayload(str(error)) from error
    body = message.stripped_text or message.text or strip_tags(message.html or "")
    headers = {
        name: str(message.get(name))
        for name in ("Message-ID", "In-Reply-To", "References", "Date")
        if message.get(name)
    }
    files = [
        (a.get_filename() or "", a.get_content_bytes(), a.get_content_type())
        for a in message.attachments
    ]
    return Inbound(
        channel=Channel.EMAIL,
        handle=address,
        email=address,
        provider_id=_message_id(message, event, esp_name)[:255],
        subject=message.subject or "",
        body=body.strip(),
        details=split_name(sender.display_name or ""),
        headers=headers,
        files=files,
    )


def _require_webhook_secret(esp_name: str, what: str) -> None:
    if not (settings.ANYMAIL or {}).get("WEBHOOK_SECRET"):
        # Without the shared secret anymail lets anyone post to us (it only
        # warns): refuse like any webhook whose origin is unproven.
        logger.warning("%s %s refused: ANYMAIL_WEBHOOK_SECRET unset", esp_name, what)
        raise PermissionDenied(f"Email {what} needs ANYMAIL_WEBHOOK_SECRET.")


@receiver(inbound)
def receive_email(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    _require_webhook_secret(esp_name, "inbound")
    try:
        message = parse_email(event.message, event, esp_name)
    except UnknownPayload as error:
        # Acknowledged (anymail answers 200) so the provider stops retrying
        # a message that can never be stored; the log says why.
        logger.warning("%s inbound email dropped: %s", esp_name, error)
        return
    services.receive_message(message)


@receiver(tracking)
def track_email(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """Apply a provider's delivery report to the email reply it is about."""
    _require_webhook_secret(esp_name, "delivery report")
    provider_id = _reported_message_id(event)
    if not provider_id:
        logger.info("%s %s report for no email of ours", esp_name, event.event_type)
        return
    services.record_delivery(
        channel=Channel.EMAIL,
        provider_id=provider_id,
        status=event.event_type or "",
        error_code=event.reject_reason or "",
        error=_failure(event),
    )


def _reported_message_id(event: AnymailTrackingEvent) -> str:
    """Return the Message-ID of our email a report is about, or "".

    Our uid rides in the email's metadata, which most providers hand back;
    otherwise the provider's message id is taken, which some make the
    Message-ID header we sent.
    """
    try:
        return email_message_id(uuid.UUID(str((event.metadata or {})[TRACKING_KEY])))
    except (KeyError, TypeError, ValueError):  # none of ours, or not a uid
        message_id = event.message_id
        return message_id.strip() if isinstance(message_id, str) else ""


def _failure(event: AnymailTrackingEvent) -> str:
    """Return the provider's words on why the email did not arrive."""
    why = event.description or event.mta_response or event.reject_reason or ""
    return f"{event.event_type}: {why}" if why else ""
