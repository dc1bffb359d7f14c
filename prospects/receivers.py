"""Where prospects come from: the domain signals of inbox, bookings and quotes.

Each receiver runs inside the sender's transaction, creates or merges the
person through the identity engine, and hands the contact back through the
sender's `link` callable, so the message, draft, quote or request and its
prospect are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import receiver

from bookings.signals import booking_abandoned, booking_confirmed
from contacts.models import ActivityKind, Contact
from contacts.services import capture_contact, convert_to_customer
from inbox.signals import message_received
from quotes.signals import quote_created, service_request_created


def _capture(
    kind: str,
    link: Callable[[Contact], None],
    *,
    fill_customer: bool = True,
    **event: Any,
) -> Contact:
    event.pop("signal", None)
    event.pop("sender", None)
    result = capture_contact(
        kind=kind,
        source=event["source"],
        email=event.get("email", ""),
        phone=event.get("phone", ""),
        handles=event.get("handles"),
        details=event.get("details"),
        summary=event.get("summary", ""),
        data=event.get("data"),
        subject=event.get("subject"),
        actor=event.get("actor"),
        occurred_at=event.get("occurred_at"),
        fill_customer=fill_customer,
    )
    link(result.contact)
    return result.contact


@receiver(message_received)
def capture_message_sender(*, link: Callable, **event: Any) -> Contact:
    return _capture(ActivityKind.MESSAGE_IN, link, **event)


@receiver(booking_abandoned)
def capture_abandoned_visitor(*, link: Callable, **event: Any) -> Contact:
    # A customer who only looked at the booking page gets a timeline entry
    # and nothing else: what a visitor typed and left never edits a customer.
    return _capture(ActivityKind.BOOKING_ABANDONED, link, fill_customer=False, **event)


@receiver(booking_confirmed)
def convert_booking_customer(*, link: Callable, **event: Any) -> Contact:
    contact = _capture(ActivityKind.BOOKING_CREATED, link, **event)
    convert_to_customer(contact=contact, actor=event.get("actor"))
    return contact


@receiver(quote_created)
def capture_quote_contact(*, link: Callable, **event: Any) -> Contact:
    return _capture(ActivityKind.QUOTE, link, **event)


@receiver(service_request_created)
def capture_service_request_contact(*, link: Callable, **event: Any) -> Contact:
    return _capture(ActivityKind.SERVICE_REQUEST, link, **event)
