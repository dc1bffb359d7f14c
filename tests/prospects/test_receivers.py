from __future__ import annotations

import pytest

from bookings.signals import booking_confirmed
from contacts.models import Contact, Source, Stage
from contacts.services import capture_contact
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
