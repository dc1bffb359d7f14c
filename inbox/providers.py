"""What providers send: signature checks and payload parsers.

Parsers turn a provider's documented payload into `Inbound` messages and
raise UnknownPayload for a shape they do not know, so the webhook answers 400
and logs it instead of storing half a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from twilio.request_validator import RequestValidator, add_port, remove_port

from contacts.models import Channel, Source


class UnknownPayload(ValueError):
    """A webhook body whose shape this code does not know."""


@dataclass
class Inbound:
    channel: str
    handle: str
    provider_id: str
    body: str = ""
    subject: str = ""
    email: str = ""
    phone: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    media: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    sent_at: datetime | None = None
    # Attachments that came inside the payload (email): (name, bytes, type).
    files: list[tuple[str, bytes, str]] = field(default_factory=list)

    @property
    def source(self) -> str:
        return Source(self.channel).value

    @property
    def handles(self) -> dict[str, str]:
        """Return the channel handle the identity engine keys on, if any."""
        if self.channel in (Channel.SMS, Channel.EMAIL):
            return {}
        return {self.channel: self.handle}


# Signatures -----------------------------------------------------------------


def twilio_signature_ok(request: HttpRequest, auth_token: str) -> bool:
    """Check X-Twilio-Signature over the URL Twilio called and every field.

    build_absolute_uri honours SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_HOST
    (BEHIND_TLS_PROXY), so behind a TLS proxy the https URL Twilio used is
    what gets signed here too.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature:
        return False
    validator = RequestValidator(auth_token)
    url = urlparse(request.build_absolute_uri())
    # Twilio signs the URL sometimes with its port and sometimes without (its
    # own validator tries both): the URL as received first, so that a valid
    # request usually costs one HMAC rather than two.
    received = url.geturl()
    other = remove_port(url) if url.port else add_port(url)
    return any(
        _same(validator.compute_signature(candidate, request.POST), signature)
        for candidate in (received, other)
    )


def _same(expected: str, given: str) -> bool:
    # Bytes, because compare_digest refuses str with non-ASCII characters,
    # which anyone can put in a header.
    return hmac.compare_digest(expected.encode(), given.encode())


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the signature Twilio would send (for tests, benches, the demo)."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def hmac_hex(secret: str, body: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def meta_signature_ok(body: bytes, header: str, app_secret: str) -> bool:
    """Check X-Hub-Signature-256 (sha256=<hex>) over the raw body."""
    if not app_secret or not header.startswith("sha256="):
        return False
    return _same(hmac_hex(app_secret, body), header.removeprefix("sha256="))


def google_signature(partner_key: str, body: bytes) -> str:
    digest = hmac.new(partner_key.encode(), body, hashlib.sha512).digest()
    return base64.b64encode(digest).decode()


def google_signature_ok(body: bytes, header: str, partner_key: str) -> bool:
    """Check X-Goog-Signature: Base64 HMAC-SHA512 of the raw body."""
    if not partner_key or not header:
        return False
    return _same(google_signature(partner_key, body), header.strip())


# Parsers --------------------------------------------------------------------


def _require(data: Mapping[str, Any], *names: str) -> None:
    missing = [name for name in names if not data.get(name)]
    if missing:
        raise UnknownPayload(f"missing {', '.join(missing)}")


def parse_twilio_sms(post: Mapping[str, str]) -> Inbound:
    _require(post, "MessageSid", "From")
    media = []
    try:
        count = int(post.get("NumMedia") or 0)
    except ValueError as error:
        raise UnknownPayload("NumMedia is not a number") from error
    for n in range(count):
        if url := post.get(f"MediaUrl{n}"):
            kind = post.get(f"MediaContentType{n}", "")
            media.append({"url": url, "content_type": kind})
    details = {
        name: post[key]
        for name, key in (
            ("city", "FromCity"),
            ("region", "FromState"),
            ("postal_code", "FromZip"),
            ("country", "FromCountry"),
        )
        if post.get(key)
    }
    return Inbound(
        channel=Channel.SMS,
        handle=post["From"],
        phone=post["From"],
        provider_id=post["MessageSid"],
        body=post.get("Body", ""),
        details=details,
        media=media,
    )


def _from_millis(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _from_rfc3339(value: Any) -> datetime | None:
    # Google writes nanoseconds; parse_datetime keeps the microseconds.
    try:
        parsed = parse_datetime(str(value or ""))
    except ValueError:
        return None
    return parsed if parsed and parsed.tzinfo else None


def parse_meta(payload: Any) -> tuple[list[Inbound], list[str]]:
    """Return the messages of a Meta batch and the mids reported delivered.

    Echoes of our own replies are skipped; messages are sorted by timestamp
    because Meta does not promise order within or across batches.
    """
    if not isinstance(payload, dict) or payload.get("object") not in (
        "page",
        "instagram",
    ):
        raise UnknownPayload("object is neither page nor instagram")
    channel = Channel.MESSENGER if payload["object"] == "page" else Channel.INSTAGRAM
    entries = payload.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UnknownPayload("entry is not a list of objects")
    messages: list[tuple[float, Inbound]] = []
    delivered: list[str] = []
    for entry in entries:
        events = entry.get("messaging") or []
        if not isinstance(events, list):
            raise UnknownPayload("messaging is not a list")
        for event in events:
            if not isinstance(event, dict):
                raise UnknownPayload("messaging event is not an object")
            delivered += _delivered_mids(event.get("delivery"))
            inbound = _meta_message(channel, event)
            if inbound:
                written = inbound.sent_at.timestamp() if inbound.sent_at else 0
                messages.append((written, inbound))
    messages.sort(key=lambda item: item[0])
    return [inbound for _, inbound in messages], delivered


def _object(value: Any) -> dict[str, Any]:
    """Return a JSON object of a payload, {} where the payload has another type."""
    return value if isinstance(value, dict) else {}


def _array(value: Any) -> list[Any]:
    """Return a JSON array of a payload, [] where the payload has another type."""
    return value if isinstance(value, list) else []


def _delivered_mids(delivery: Any) -> list[str]:
    return [str(mid) for mid in _array(_object(delivery).get("mids"))]


def _meta_message(channel: str, event: dict[str, Any]) -> Inbound | None:
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo"):
        return None
    sender_id = _object(event.get("sender")).get("id")
    if not sender_id or not message.get("mid"):
        raise UnknownPayload("message without sender.id or mid")
    attachments = [_object(a) for a in _array(message.get("attachments"))]
    media = [
        {"url": str(url), "content_type": str(a.get("type", ""))}
        for a in attachments
        if (url := _object(a.get("payload")).get("url"))
    ]
    return Inbound(
        channel=channel,
        handle=str(sender_id),
        provider_id=str(message["mid"]),
        body=str(message.get("text") or ""),
        media=media,
        sent_at=_from_millis(event.get("timestamp")),
    )


def parse_google_business(
    payload: Any,
) -> tuple[Inbound | None, list[tuple[str, str]]]:
    """Return the user's message, if any, and receipts for our own messages.

    Receipts come as (message name, receipt type); typing indicators carry
    neither. A tap on a suggestion (such as a conversation starter) is the
    person's answer, stored like a message.
    """
    if not isinstance(payload, dict) or not payload.get("conversationId"):
        raise UnknownPayload("conversationId missing")
    if isinstance(payload.get("message"), dict):
        return _google_message(payload, payload["message"]), []
    if isinstance(payload.get("suggestionResponse"), dict):
        return _google_message(payload, payload["suggestionResponse"]), []
    if isinstance(payload.get("receipts"), dict):
        return None, _google_receipts(payload["receipts"])
    if "userStatus" in payload:
        return None, []
    raise UnknownPayload("neither a message nor a known event")


def _google_message(payload: dict[str, Any], message: dict[str, Any]) -> Inbound:
    # A message has a name and a messageId; a suggestion response its
    # message's name only.
    message_id = (
        message.get("name") or message.get("messageId") or message.get("message")
    )
    if not message_id:
        raise UnknownPayload("message without name or messageId")
    user = _object(_object(payload.get("context")).get("userInfo"))
    media = []
    url = _object(_object(message.get("image")).get("contentInfo")).get("fileUrl")
    if url:
        media.append({"url": str(url), "content_type": "image"})
    return Inbound(
        channel=Channel.GOOGLE_BUSINESS,
        handle=str(payload["conversationId"]),
        provider_id=str(message_id),
        body=str(message.get("text") or ""),
        details=split_name(str(user.get("displayName") or "")),
        media=media,
        headers={"requestId": str(payload.get("requestId", ""))},
        sent_at=_from_rfc3339(message.get("createTime") or payload.get("sendTime")),
    )


def _google_receipts(receipts: dict[str, Any]) -> list[tuple[str, str]]:
    items = [_object(item) for item in _array(receipts.get("receipts"))]
    return [
        (str(item["message"]), str(item.get("receiptType", "")))
        for item in items
        if item.get("message")
    ]


def split_name(name: str) -> dict[str, str]:
    first, _, last = " ".join(name.split()).partition(" ")
    return {"first_name": first[:150], "last_name": last[:150]} if first else {}
