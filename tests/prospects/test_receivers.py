from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.signals import booking_abandoned, booking_confirmed
from contacts.models import ActivityKind, Contact, Source, Stage
from contacts.services import capture_contact, convert_to_customer
from inbox.signals import message_received

pytestmark = pytest.mark.django_db


def test_message_from_a_new_sender_creates_a_prospect_and_links_it() -> None:
    linked: list[Contact] = []

    message_received.send(
        sender=None,
        source=Source.SMS,
        phone="+15550102030",
        summary="Do you clean carpets?",
        link=linked.append,
    )

    assert linked[0].stage == Stage.PROSPECT
    assert linked[0].activities.filter(kind="message_in").exists()


def test_confirmed_booking_converts_an_existing_prospect() -> None:
    prospect = capture_contact(source=Source.SMS, email="ana@example.com").contact

    booking_confirmed.send(
        sender=None, source=Source.BOOKING_PAGE, email="ana@example.com", link=print
    )

    prospect.refresh_from_db()
    assert prospect.stage == Stage.CUSTOMER


def test_an_abandoned_visit_never_edits_a_customer() -> None:
    customer = capture_contact(source=Source.MANUAL, email="ana@example.com").contact
    convert_to_customer(contact=customer)

    booking_abandoned.send(
        sender=None,
        source=Source.BOOKING_PAGE,
        email="ana@example.com",
        phone="+15125550101",
        details={"street": "12 Elm St"},
        summary="Left the booking page: Deep clean",
        link=print,
    )

    customer.refresh_from_db()
    assert (customer.phone, customer.street, customer.identifiers.count()) == (
        "",
        "",
        1,
    )
    assert customer.activities.filter(kind=ActivityKind.BOOKING_ABANDONED).exists()


def test_an_abandoned_visit_fills_a_prospects_blanks() -> None:
    prospect = capture_contact(source=Source.SMS, email="ana@example.com").contact

    booking_abandoned.send(
        sender=None,
        source=Source.BOOKING_PAGE,
        email="ana@example.com",
        phone="+15125550101",
        link=print,
    )

    prospect.refresh_from_db()
    assert prospect.phone == "+15125550101"


def test_a_message_lands_on_the_timeline_when_the_person_wrote_it() -> None:
    written = timezone.now() - timedelta(hours=3)
    customer = capture_contact(source=Source.MANUAL, email="ana@example.com").contact

    message_received.send(
        sender=None,
        source=Source.EMAIL,
        email="ana@example.com",
        summary="Hello again",
        occurred_at=written,
        link=print,
    )

    entry = customer.activities.get(kind=ActivityKind.MESSAGE_IN)
    assert entry.occurred_at == written
