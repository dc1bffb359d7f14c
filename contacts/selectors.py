"""Reads about people shared by several apps."""

from __future__ import annotations

from django.db.models import QuerySet

from contacts.models import Activity, Contact, Identifier
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
