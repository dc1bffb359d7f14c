"""Writes for quotes and service requests.

A quote or request is either for a contact staff picked, which gets a
timeline entry here, or for someone typed in, announced through the domain
signal so `prospects` creates or merges the person and links them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from contacts.models import ActivityKind, Channel, Contact, PermissionState, Source
from contacts.services import record_activity, set_permission
from quotes.models import (
    Quote,
    QuoteLine,
    QuoteNumber,
    RequestOrigin,
    RequestStatus,
    ServiceRequest,
)
from quotes.signals import quote_created, service_request_created


@dataclass(frozen=True)
class Person:
    """Someone typed in by hand: not yet known to be a contact."""

    name: str = ""
    email: str = ""
    phone: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def contact_details(self) -> dict[str, Any]:
        first, _, last = self.name.strip().partition(" ")
        return {"first_name": first, "last_name": last.strip(), **self.details}


def split_name(name: str) -> dict[str, str]:
    return Person(name=name).contact_details()


def _next_quote_number() -> int:
    # One counter row, updated in place: the row lock taken by the UPDATE is
    # held until commit, so concurrent quotes get consecutive numbers and a
    # rolled-back quote leaves no gap.
    QuoteNumber.objects.get_or_create(pk=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {QuoteNumber._meta.db_table} SET last = last + 1"
            " WHERE id = 1 RETURNING last"
        )
        return cursor.fetchone()[0]


def _link(row: Quote | ServiceRequest) -> Any:
    def link(contact: Contact) -> None:
        row.contact = contact
        row.save(update_fields=["contact"])

    return link


def _save_lines(quote: Quote, lines: Iterable[Mapping[str, Any]]) -> None:
    QuoteLine.objects.bulk_create(
        QuoteLine(quote=quote, position=n, **line) for n, line in enumerate(lines)
    )


def _quote_summary(quote: Quote) -> str:
    return f"Quote {quote.display_number} for ${quote.total:,.2f}"


@transaction.atomic
def create_quote(
    *,
    contact: Contact | None = None,
    person: Person | None = None,
    lines: Iterable[Mapping[str, Any]] = (),
    actor: Any = None,
    **fields: Any,
) -> Quote:
    """Create a numbered quote with its lines for a contact or a new person."""
    if (contact is None) == (person is None):
        raise ValueError("A quote is for either a contact or a person typed in.")
    quote = Quote.objects.create(
        number=_next_quote_number(), contact=contact, created_by=actor, **fields
    )
    _save_lines(quote, lines)
    data = {"quote_id": quote.pk, "number": quote.display_number}
    data["total"] = str(quote.total)
    if contact is not None:
        record_activity(
            contact=contact,
            kind=ActivityKind.QUOTE,
            source=Source.QUOTE,
            actor=actor,
            summary=_quote_summary(quote),
            data=data,
            subject=quote,
        )
    else:
        quote_created.send(
            sender=Quote,
            source=Source.QUOTE,
            email=person.email,
            phone=person.phone,
            details=person.contact_details(),
            summary=_quote_summary(quote),
            data=data,
            subject=quote,
            actor=actor,
            link=_link(quote),
        )
    return quote


@transaction.atomic
def update_quote(
    *,
    quote: Quote,
    fields: Mapping[str, Any],
    lines: Iterable[Mapping[str, Any]],
    actor: Any = None,
) -> Quote:
    """Save a quote's fields and replace its lines with the given ones.

    A change of status goes on the contact's timeline: staff following up
    see that the quote was sent, accepted or declined.
    """
    previous = Quote.objects.values_list("status", flat=True).get(pk=quote.pk)
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.save()
    quote.lines.all().delete()
    _save_lines(quote, lines)
    if quote.contact_id and quote.status != previous:
        status = quote.get_status_display().lower()
        record_activity(
            contact=quote.contact,
            kind=ActivityKind.QUOTE,
            source=Source.QUOTE,
            actor=actor,
            summary=f"Quote {quote.display_number} {status}",
            data={"quote_id": quote.pk, "status": quote.status, "previous": previous},
            subject=quote,
        )
    return quote


def _request_summary(request: ServiceRequest) -> str:
    summary = f"Service request: {request.service_wanted}"
    if request.preferred_dates:
        summary += f", {request.preferred_dates}"
    if request.description:
        summary += f" — {request.description[:200]}"
    return summary


@transaction.atomic
def create_service_request(
    *,
    contact: Contact | None = None,
    person: Person | None = None,
    origin: str = RequestOrigin.STAFF,
    actor: Any = None,
    sms_opt_in: bool = False,
    **fields: Any,
) -> ServiceRequest:
    """Record a request for a service, for a contact or a new person.

    `sms_opt_in` records that the person asked to be texted about it.
    """
    if (contact is None) == (person is None):
        raise ValueError("A request is for either a contact or a person typed in.")
    request = ServiceRequest.objects.create(
        contact=contact, origin=origin, created_by=actor, **fields
    )
    source = (
        Source.BOOKING_PAGE
        if origin == RequestOrigin.BOOKING_PAGE
        else Source.SERVICE_REQUEST
    )
    data = {
        "service_request_id": request.pk,
        "service": request.service_wanted,
        "preferred_dates": request.preferred_dates,
        "message": request.description,
    }
    if contact is not None:
        record_activity(
            contact=contact,
            kind=ActivityKind.SERVICE_REQUEST,
            source=source,
            actor=actor,
            summary=_request_summary(request),
            data=data,
            subject=request,
        )
    else:
        service_request_created.send(
            sender=ServiceRequest,
            source=source,
            email=person.email,
            phone=person.phone,
            details=person.contact_details(),
            summary=_request_summary(request),
            data=data,
            subject=request,
            actor=actor,
            link=_link(request),
        )
    if sms_opt_in:
        set_permission(
            contact=request.contact,
            channel=Channel.SMS,
            state=PermissionState.GRANTED,
            actor=actor,
            via="booking page" if origin == RequestOrigin.BOOKING_PAGE else "staff",
            reason="Asked to be texted about their request",
        )
    return request


@transaction.atomic
def schedule_service_request(*, request: ServiceRequest) -> bool:
    """Mark a new request scheduled, once a booking was made for it."""
    return bool(
        ServiceRequest.objects.filter(pk=request.pk, status=RequestStatus.NEW).update(
            status=RequestStatus.SCHEDULED, updated_at=timezone.now()
        )
    )


@transaction.atomic
def update_service_request(
    *, request: ServiceRequest, fields: Mapping[str, Any]
) -> ServiceRequest:
    """Save staff edits to a service request."""
    for name, value in fields.items():
        setattr(request, name, value)
    request.save()
    return request
