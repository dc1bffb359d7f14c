"""Reads about people shared by several apps."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from functools import reduce

from django.db.models import Q, QuerySet

from contacts.models import Activity, Contact, Identifier, IdentifierKind
from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone


def identifier_owner(*, email: str = "", phone: str = "") -> Contact | None:
    """Return the live contact who owns this email or phone, if anyone does."""
    try:
        pairs = [("email", normalize_email(email)), ("phone", normalize_phone(phone))]
    except InvalidIdentifier:
        return None
    for kind, value in pairs:
        if not value:
            continue
        identifier = (
            Identifier.objects.select_related("contact")
            .filter(kind=kind, value=value)
            .first()
        )
        if identifier:
            return identifier.contact
    return None


def live_contact(contact: Contact) -> Contact:
    """Follow a tombstone to the contact it was merged into."""
    while contact.merged_into_id:
        contact = contact.merged_into
    return contact


def timeline(contact: Contact) -> QuerySet[Activity]:
    """Return the contact's timeline, newest first, ready to render."""
    return (
        Activity.objects.filter(contact=contact)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


_PHONE_LIKE = re.compile(r"^[\d\s()+\-./]{7,}$")


def search_conditions(text: str) -> list[Q]:
    """Return the ways a contact can match the search box; any one will do.

    Each condition is one index range, so callers can count and sort the
    matches of each from its index alone (see prospects.selectors.list_page).
    An email (anything with "@") matches by its beginning, a phone in any
    format by its E.164 form, and other text by the beginning of the name in
    either order ("ana gar", "garcía ana"); a single word also by the
    beginning of the email, since people without a name are listed by their
    address. Emails and phones a person had before a merge still find them.
    The indexes lead with the stage: search a queryset limited to one stage,
    or to both (Contact.objects.people()).
    """
    text = text.strip()
    if not text:
        return []
    if "@" in text:
        email = text.lower()
        return [Q(email__startswith=email), _former(IdentifierKind.EMAIL, email)]
    if _PHONE_LIKE.match(text):
        try:
            phone = normalize_phone(text)
        except InvalidIdentifier:
            pass
        else:
            return [Q(phone=phone), _former(IdentifierKind.PHONE, phone)]
    words = text.lower().replace(",", " ").split()[:8]
    typed = " ".join(words)
    conditions = [Q(name_key__startswith=typed), Q(name_key_reversed__startswith=typed)]
    if len(words) == 1:
        conditions.append(Q(email__startswith=typed))
    return conditions


def _former(kind: str, value: str) -> Q:
    """Match whoever holds this identifier, as their main value or not."""
    owners = Identifier.objects.filter(kind=kind, value=value).values("contact_id")
    return Q(pk__in=owners)


def any_of(conditions: list[Q]) -> Q:
    """Return the conditions joined by OR; nothing matches none of them."""
    if not conditions:
        return Q(pk__in=[])
    return reduce(operator.or_, conditions)


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Return the contacts of `queryset` found by the search box's text."""
    return search_ways(queryset, text)[0]


def search_ways(queryset: QuerySet, text: str) -> tuple[QuerySet, list[QuerySet]]:
    """Return the contacts found by the text, and one queryset per way to match.

    The second is for counting and sorting each way on its own index; it is
    empty when nothing was searched.
    """
    if not text.strip():
        return queryset, []
    conditions = search_conditions(text)
    ways = [queryset.filter(condition) for condition in conditions]
    return queryset.filter(any_of(conditions)), ways


def every_word(text: str, fields: Iterable[str], phone_fields: Iterable[str] = ()) -> Q:
    """Match rows holding every word of the text in one of the fields.

    A word without letters but with three digits or more is also looked for
    in the phone fields, which hold E.164 numbers however the phone is typed
    ("(512) 555"); a word with letters (a quote number, Q-0012) is not a
    phone. For the lists of bookings, quotes and requests, not the prospects'
    indexed search.
    """
    fields, phone_fields = tuple(fields), tuple(phone_fields)
    query = Q()
    for word in text.split():
        match = any_of([Q(**{f"{name}__icontains": word}) for name in fields])
        digits = re.sub(r"\D", "", word)
        if len(digits) >= 3 and not re.search(r"[^\W\d_]", word):
            for name in phone_fields:
                match |= Q(**{f"{name}__contains": digits})
        query &= match
    return query
