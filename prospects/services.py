"""Writes of the prospect screens that the contacts engine does not cover."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from contacts.models import (
    Activity,
    ActivityKind,
    Channel,
    Contact,
    PermissionState,
    PossibleDuplicate,
    Status,
)
from contacts.services import (
    CaptureResult,
    add_note,
    capture_contact,
    convert_to_customer,
    set_permission,
)


def _locked(ids: Iterable[int], stage: str) -> list[Contact]:
    contacts = Contact.objects.select_for_update().filter(
        pk__in=list(ids), stage=stage, merged_into__isnull=True
    )
    return list(contacts.order_by("pk"))


def _log_all(
    contacts: list[Contact], kind: str, actor: Any, summary: str, data: dict
) -> None:
    now = timezone.now()
    # occurred_at defaults to the time of the row's creation: all the same.
    Activity.objects.bulk_create(
        Activity(
            contact=c,
            kind=kind,
            actor=actor,
            summary=summary,
            data=data,
            occurred_at=now,
        )
        for c in contacts
    )
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        last_activity_at=now, updated_at=now
    )


@transaction.atomic
def assign_owner(*, ids: Iterable[int], owner: Any, actor: Any, stage: str) -> int:
    """Give the selected people an owner (or none); return how many changed."""
    owner_id = owner.pk if owner else None
    contacts = [c for c in _locked(ids, stage) if c.owner_id != owner_id]
    if not contacts:
        return 0
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(owner=owner)
    name = (owner.get_full_name() or owner.get_username()) if owner else "nobody"
    _log_all(
        contacts,
        ActivityKind.ASSIGNED,
        actor,
        f"Owner set to {name}",
        {"owner_id": owner_id},
    )
    return len(contacts)


@transaction.atomic
def set_status(*, ids: Iterable[int], status: str, actor: Any, stage: str) -> int:
    """Set the status of the selected people; return how many changed."""
    contacts = [c for c in _locked(ids, stage) if c.status != status]
    if not contacts:
        return 0
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(status=status)
    _log_all(
        contacts,
        ActivityKind.STATUS_CHANGED,
        actor,
        f"Status set to {Status(status).label}",
        {"status": status},
    )
    return len(contacts)


def convert_many(*, ids: Iterable[int], actor: Any) -> int:
    """Convert the selected prospects; return how many became customers."""
    converted = 0
    for contact in Contact.objects.prospects().filter(pk__in=list(ids)).order_by("pk"):
        converted += convert_to_customer(contact=contact, actor=actor)
    return converted


@transaction.atomic
def create_prospect(
    *,
    source: str,
    email: str,
    phone: str,
    details: dict[str, Any],
    actor: Any,
    first_note: str = "",
    permissions: Iterable[str] = (),
    via: str = "Create form",
) -> CaptureResult:
    """Create a prospect typed in by staff, with its note and permissions.

    The caller checked for an owner of the email and phone first; should one
    appear meanwhile, the capture adds the details to that person instead.
    """
    result = capture_contact(
        source=source,
        email=email,
        phone=phone,
        details=details,
        actor=actor,
    )
    contact = result.contact
    if first_note:
        add_note(contact=contact, author=actor, body=first_note)
    for channel in permissions:
        set_permission(
            contact=contact,
            channel=Channel(channel),
            state=PermissionState.GRANTED,
            actor=actor,
            via=via,
            reason="Given when staff entered their details",
        )
    return result


@transaction.atomic
def dismiss_duplicate(*, contact: Contact, other: Contact, actor: Any) -> None:
    """Mark a pair as reviewed: not the same person, never suggest it again."""
    low, high = sorted([contact.pk, other.pk])
    pair, _ = PossibleDuplicate.objects.get_or_create(
        contact_id=low, other_id=high, defaults={"reason": "Dismissed by staff"}
    )
    pair.resolved_at = timezone.now()
    pair.resolved_by = actor
    pair.save(update_fields=["resolved_at", "resolved_by"])
