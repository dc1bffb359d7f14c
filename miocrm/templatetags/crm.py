"""Presentation helpers shared by every staff page."""

from __future__ import annotations

import functools
from datetime import date, datetime

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.templatetags.static import static
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from contacts.models import Contact, Source
from contacts.normalize import format_phone

register = template.Library()

# Line icons in static/icons.svg, so a source or channel never relies on colour.
_ICONS = {
    "booking_page",
    "chat",
    "sms",
    "email",
    "google_business",
    "messenger",
    "instagram",
    "manual",
    "import",
    "quote",
    "service_request",
    "referral",
    "phone_call",
    "walk_in",
    "other",
}
_CHANNEL_LABELS = {**dict(Source.choices), "chat": "Chat"}


@register.simple_tag
@functools.cache
def channel(name: str, label: str = "") -> SafeString:
    """Render a source or channel as a small icon and its name."""
    icon = name if name in _ICONS else "other"
    text = label or _CHANNEL_LABELS.get(name, name.replace("_", " ").capitalize())
    return format_html(
        '<span class="channel"><svg aria-hidden="true"><use href="{}#{}"/></svg>'
        "{}</span>",
        static("icons.svg"),
        icon,
        text,
    )


@register.simple_tag
def reltime(value: datetime | None) -> SafeString:
    """Render a time as "3 h ago", with the exact time on hover."""
    if value is None:
        return format_html('<span class="muted">—</span>')
    local = timezone.localtime(value)
    # strftime rather than Django's date_format: lists render a hundred of
    # these, and date_format costs about 50 µs each.
    exact = local.strftime("%b %-d, %Y, %-I:%M %p")
    # Nothing in an ISO time or these strftime fields needs escaping, and
    # format_html's escaping is most of this tag's cost.
    return mark_safe(
        f'<time datetime="{local.isoformat()}" title="{exact}" data-relative>'
        f"{exact}</time>"
    )


@register.filter
def phone(value: str) -> str:
    """Show an E.164 number the way people read it."""
    return format_phone(value)


@register.filter
def short_date(value: date | None) -> str:
    if value is None:
        return ""
    return date_format(value, "M j, Y")


_FIELD_LABELS = {
    "internal_info": "Internal information",
    "follow_up_on": "Follow-up date",
    "source_detail": "Source note",
    "owner": "Owner",
}


@register.filter
def contact_field(name: str) -> str:
    """Return how staff call a Contact field, for "what changed" lists."""
    if name in _FIELD_LABELS:
        return _FIELD_LABELS[name]
    try:
        return str(Contact._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return name.replace("_", " ").capitalize()
