"""Which channels are connected, and where each provider must send webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from contacts.models import Channel

# Meta lets a page answer for 24 hours after the person's last message;
# later messages need a message tag, which we do not use: we refuse instead.
META_WINDOW_HOURS = 24
META_CHANNELS = (Channel.MESSENGER, Channel.INSTAGRAM)


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    label: str
    connected: bool
    missing: tuple[str, ...]
    webhooks: tuple[tuple[str, str], ...]


def _missing(*names: str) -> tuple[str, ...]:
    return tuple(name for name in names if not getattr(settings, name, ""))


def missing_settings(channel: str) -> tuple[str, ...]:
    """Return the settings a channel still needs before it can send."""
    if channel == Channel.SMS:
        missing = _missing("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            missing += ("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",)
        return missing
    if channel in META_CHANNELS:
        return _missing(
            "META_APP_SECRET", "META_VERIFY_TOKEN", "META_PAGE_ACCESS_TOKEN"
        )
    if channel == Channel.GOOGLE_BUSINESS:
        return _missing("GOOGLE_BUSINESS_PARTNER_KEY", "GOOGLE_BUSINESS_ACCESS_TOKEN")
    if channel == Channel.EMAIL:
        missing = _missing("INBOUND_EMAIL_ADDRESS")
        if not (settings.ANYMAIL or {}).get("WEBHOOK_SECRET"):
            missing += ("ANYMAIL_WEBHOOK_SECRET",)
        return missing
    return ()


def is_connected(channel: str) -> bool:
    return not missing_settings(channel)


def public_url(name: str, **kwargs: object) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs or None)


def _webhooks(channel: str) -> tuple[tuple[str, str], ...]:
    if channel == Channel.SMS:
        return (
            ("A message comes in", public_url("inbox:twilio_sms")),
            ("Status callback", public_url("inbox:twilio_status")),
        )
    if channel in META_CHANNELS:
        return (("Callback URL", public_url("inbox:meta")),)
    if channel == Channel.GOOGLE_BUSINESS:
        return (("Webhook URL", public_url("inbox:google_business")),)
    if channel == Channel.EMAIL:
        inbound = settings.SITE_URL + "/anymail/<provider>/inbound/"
        reports = settings.SITE_URL + "/anymail/<provider>/tracking/"
        return (
            ("Inbound route (e.g. postmark, mailgun)", inbound),
            ("Delivery reports (tracking webhook)", reports),
        )
    return (
        ("Embed script", settings.SITE_URL + "/static/inbox/chatbox.js"),
        ("Demo page", public_url("inbox:chat_demo")),
    )


def channel_statuses() -> list[ChannelStatus]:
    """Return every channel with its connection state and webhook URLs."""
    return [
        ChannelStatus(
            channel=value,
            label=label,
            connected=is_connected(value),
            missing=missing_settings(value),
            webhooks=_webhooks(value),
        )
        for value, label in Channel.choices
    ]
