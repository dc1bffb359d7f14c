"""Outbound delivery, one adapter per channel.

Each adapter sends one message and returns (provider id, status), or raises
TemporaryFailure (worth retrying: network, 5xx, rate limits) or
PermanentFailure (the provider said no: retrying changes nothing).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.mail import EmailMessage

from contacts.models import Channel
from inbox.models import DeliveryStatus, Direction, Message

logger = logging.getLogger(__name__)

TIMEOUT = (5, 15)


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _post(url: str, **kwargs: object) -> requests.Response:
    try:
        response = requests.post(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise TemporaryFailure(f"could not reach the provider: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise TemporaryFailure(f"provider answered {response.status_code}")
    if response.status_code >= 400:
        logger.warning(
            "provider refused a message: %s %s",
            response.status_code,
            response.text[:500],
        )
        code, text, transient = _error_of(response)
        if transient:
            raise TemporaryFailure(f"provider answered {code}: {text}")
        raise PermanentFailure(text, code)
    return response


# Meta answers rate limits with 400 and these codes, or flags an error as
# transient itself; either is worth a retry later.
META_THROTTLED = {"4", "17", "32", "613"}


def _error_of(response: requests.Response) -> tuple[str, str, bool]:
    """Return the provider's error code and text, and whether to retry."""
    try:
        data = response.json()
    except ValueError:
        return str(response.status_code), response.text[:300], False
    error = data.get("error", data) if isinstance(data, dict) else {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    code = str(error.get("code") or response.status_code)
    text = error.get("message") or response.text[:300]
    transient = bool(error.get("is_transient")) or code in META_THROTTLED
    return code, str(text), transient


def _provider_id(reply: requests.Response, key: str) -> str:
    """Return the id the provider gave the message, "" if its answer lacks one.

    The message went out either way: failing here would send it again.
    """
    try:
        return str(reply.json()[key])
    except (ValueError, KeyError, TypeError):
        logger.warning(
            "provider accepted a message without its %s: %s", key, reply.text[:300]
        )
        return ""


def send_sms(message: Message) -> tuple[str, str]:
    url = (
        f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/"
        f"{settings.TWILIO_ACCOUNT_SID}/Messages.json"
    )
    data = {
        "To": message.handle,
        "Body": message.body,
        "StatusCallback": settings.SITE_URL + "/webhooks/twilio/status/",
    }
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        data["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    else:
        data["From"] = settings.TWILIO_FROM_NUMBER
    auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    reply = _post(url, data=data, auth=auth)
    return _provider_id(reply, "sid"), DeliveryStatus.SENT


def send_meta(message: Message) -> tuple[str, str]:
    url = f"{settings.META_GRAPH_API_BASE}/me/messages"
    payload = {
        "recipient": {"id": message.handle},
        "messaging_type": "RESPONSE",
        "message": {"text": message.body},
    }
    params = {"access_token": settings.META_PAGE_ACCESS_TOKEN}
    reply = _post(url, json=payload, params=params)
    return _provider_id(reply, "message_id"), DeliveryStatus.SENT


def send_google_business(message: Message) -> tuple[str, str]:
    url = f"{settings.GOOGLE_BUSINESS_API_BASE}/conversations/{message.handle}/messages"
    # Google treats messageId as the client's key: a retried request with the
    # same id cannot deliver the message twice.
    payload = {
        "messageId": str(message.uid),
        "representative": {
            "representativeType": "HUMAN",
            "displayName": settings.BUSINESS_NAME,
        },
        "text": message.body,
    }
    headers = {"Authorization": f"Bearer {settings.GOOGLE_BUSINESS_ACCESS_TOKEN}"}
    reply = _post(url, json=payload, headers=headers)
    return _provider_id(reply, "name") or str(message.uid), DeliveryStatus.SENT


def _thread_headers(message: Message) -> dict[str, str]:
    """Return In-Reply-To and References so mail clients keep one thread."""
    latest = (
        Message.objects.filter(
            conversation=message.conversation_id, created_at__lt=message.created_at
        )
        .exclude(provider_id="")
        .order_by("-created_at")[:20]
    )
    earlier = list(reversed(latest))
    ids = [m.provider_id for m in earlier]
    last_in = [m.provider_id for m in earlier if m.direction == Direction.IN] or ids
    if not ids:
        return {}
    return {"In-Reply-To": last_in[-1], "References": " ".join(ids)}


# The metadata key under which a sent email carries our message's uid. The
# email provider (through anymail) hands it back in its delivery reports.
TRACKING_KEY = "miocrm_message"


def email_message_id(uid: uuid.UUID | str) -> str:
    """Return the Message-ID header of our email with this uid.

    Made from our own id, so a send repeated after a crash carries the same
    Message-ID and mail systems that dedupe on it show it once.
    """
    domain = settings.INBOUND_EMAIL_ADDRESS.rpartition("@")[2] or "localhost"
    return f"<{uid}@{domain}>"


def send_email(message: Message) -> tuple[str, str]:
    message_id = email_message_id(message.uid)
    email = EmailMessage(
        subject=message.subject or "Your message",
        body=message.body,
        from_email=settings.INBOUND_EMAIL_ADDRESS or settings.DEFAULT_FROM_EMAIL,
        to=[message.handle],
        reply_to=[settings.INBOUND_EMAIL_ADDRESS]
        if settings.INBOUND_EMAIL_ADDRESS
        else None,
        headers={"Message-ID": message_id, **_thread_headers(message)},
    )
    # Anymail sends it to the provider; other backends ignore it.
    email.metadata = {TRACKING_KEY: str(message.uid)}
    try:
        email.send()
    except Exception as error:  # any backend: SMTP, anymail's ESP errors
        raise TemporaryFailure(f"email backend failed: {error}") from error
    return message_id, DeliveryStatus.SENT


def send_chat(message: Message) -> tuple[str, str]:
    # The widget polls for replies: stored is sent; fetched is delivered.
    return "", DeliveryStatus.SENT


ADAPTERS: dict[str, Callable[[Message], tuple[str, str]]] = {
    Channel.SMS: send_sms,
    Channel.MESSENGER: send_meta,
    Channel.INSTAGRAM: send_meta,
    Channel.GOOGLE_BUSINESS: send_google_business,
    Channel.EMAIL: send_email,
    Channel.CHAT: send_chat,
}
