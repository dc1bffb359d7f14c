"""Reads shared by the quote, service request and booking forms."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import F, QuerySet

from contacts.models import Contact
from contacts.normalize import InvalidIdentifier, normalize_phone

PICKER_SIZE = 10
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-./]{7,}$")
_WORD = re.compile(r"\w+")


def _phone_matches(contacts: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    try:
        return contacts.filter(phone=normalize_phone(text))
    except InvalidIdentifier:
        pass
    # Still being typed: the stored E.164 value starts with what is there.
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+"):
        region = (settings.PHONE_DEFAULT_REGION or "US").upper()
        digits = f"{phonenumbers.country_code_for_region(region)}{digits}"
    return contacts.filter(phone__startswith=f"+{digits}")


def pick_contacts(text: str, limit: int = PICKER_SIZE) -> list[Contact]:
    """Return the contacts a picker search names, most recently active first.

    Each branch stays on an index of a million contacts: an email by prefix,
    a whole phone by its E.164 value (a partial one by a short prefix scan),
    and names as full-text words in which the last one is a prefix, so
    "ana ga" finds Ana García.
    """
    text = text.strip()
    contacts = Contact.objects.live()
    if not text:
        return []
    if "@" in text:
        contacts = contacts.filter(email__startswith=text.lower())
    elif _PHONE_LIKE.match(text):
        contacts = _phone_matches(contacts, text)
    else:
        words = _WORD.findall(text.lower())[:8]
        if not words:
            return []
        # One or two letters alone as a prefix would match a good part of a
        # big list and sort all of it: alone, they match whole words.
        short = len(words) == 1 and len(words[0]) < 3
        last = words[-1] if short else f"{words[-1]}:*"
        query = " & ".join([*words[:-1], last])
        terms = SearchQuery(query, search_type="raw", config="simple")
        contacts = contacts.filter(search_vector=terms)
    order = F("last_activity_at").desc(nulls_last=True)
    return list(contacts.order_by(order, "-pk")[:limit])
