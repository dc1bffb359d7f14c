"""Reads shared by the quote, service request and booking forms."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.db.models import F, QuerySet

from contacts.models import Contact
from contacts.normalize import InvalidIdentifier, normalize_phone
from contacts.selectors import search

PICKER_SIZE = 10
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-./]{7,}$")


def _partial_phone(contacts: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Match a phone still being typed: the E.164 value starts with it."""
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+"):
        region = (settings.PHONE_DEFAULT_REGION or "US").upper()
        digits = f"{phonenumbers.country_code_for_region(region)}{digits}"
    return contacts.filter(phone__startswith=f"+{digits}")


def _whole_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except InvalidIdentifier:
        return False
    return True


def pick_contacts(text: str, limit: int = PICKER_SIZE) -> list[Contact]:
    """Return the contacts a picker search names, most recently active first.

    The picker finds what the prospects' search box finds (names by their
    beginning in either order, emails by prefix, whole phones in any
    format), over prospects and customers alike, plus a phone still being
    typed by its beginning.
    """
    text = text.strip()
    if not text:
        return []
    contacts = Contact.objects.people()
    if _PHONE_LIKE.match(text) and not _whole_phone(text):
        contacts = _partial_phone(contacts, text)
    else:
        contacts = search(contacts, text)
    order = F("last_activity_at").desc(nulls_last=True)
    return list(contacts.order_by(order, "-pk")[:limit])
