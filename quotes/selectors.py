"""Reads shared by the quote, service request and booking forms."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.db.models import F, QuerySet

from contacts.models import Contact, Stage
from contacts.normalize import InvalidIdentifier, normalize_phone
from contacts.selectors import any_of, search_conditions

PICKER_SIZE = 10
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-./]{7,}$")


def _partial_phone(contacts: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Match a phone still being typed: the E.164 value starts with it."""
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+"):
        region = (settings.PHONE_DEFAULT_REGION or "US").upper()
        digits = f"{phonenumbers.country_code_for_region(region)}{digits}"
    return contacts.filter(phone__startswith=f"+{digits}")


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
    # Every search index starts with the stage: naming both stages keeps
    # each condition an index range instead of a scan.
    contacts = Contact.objects.live().filter(stage__in=[Stage.PROSPECT, Stage.CUSTOMER])
    if _PHONE_LIKE.match(text):
        try:
            normalize_phone(text)
        except InvalidIdentifier:
            contacts = _partial_phone(contacts, text)
        else:
            contacts = contacts.filter(any_of(search_conditions(text)))
    else:
        contacts = contacts.filter(any_of(search_conditions(text)))
    order = F("last_activity_at").desc(nulls_last=True)
    return list(contacts.order_by(order, "-pk")[:limit])
