"""Inbound email from django-anymail, whichever provider delivers it."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.utils.html import strip_tags

from contacts.models import Channel
from contacts.normalize import InvalidIdentifier, normalize_email
from inbox import services
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


@receiver(inbound)
def receive_email(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    if not (settings.ANYMAIL or {}).get("WEBHOOK_SECRET"):
        # Without the shared secret anymail lets anyone post "email" to us
        # (it only warns): refuse like any webhook whose origin is unproven.
        logger.warning(
            "%s inbound email refused: ANYMAIL_WEBHOOK_SECRET unset", esp_name
        )
        raise PermissionDenied("Inbound email needs ANYMAIL_WEBHOOK_SECRET.")
    try:
        message = parse_email(event.message, event, esp_name)
    except UnknownPayload as error:
        # Acknowledged (anymail answers 200) so the provider stops retrying
        # a message that can never be stored; the log says why.
        logger.warning("%s inbound email dropped: %s", esp_name, error)
        return
    services.receive_message(message)
