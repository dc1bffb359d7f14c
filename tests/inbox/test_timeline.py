from __future__ import annotations

import pytest

from contacts.models import ActivityKind, Channel, Source
from contacts.selectors import timeline
from contacts.services import capture_contact
from inbox import services
from inbox.providers import Inbound

pytestmark = pytest.mark.django_db


def test_timeline_holds_every_channels_messages_and_replies() -> None:
    person = capture_contact(
        source=Source.MANUAL, email="ana@example.com", phone="+15125550123"
    ).contact
    for channel, handle, n in (
        (Channel.SMS, "+15125550123", 1),
        (Channel.EMAIL, "ana@example.com", 2),
    ):
        services.receive_message(
            Inbound(
                channel=channel,
                handle=handle,
                phone=handle if channel == Channel.SMS else "",
                email=handle if channel == Channel.EMAIL else "",
                provider_id=f"id-{n}",
                body=f"hello {n}",
            )
        )
    services.send_message(
        contact=person,
        channel=Channel.SMS,
        handle="+15125550123",
        body="Hi Ana",
        sender=None,
    )

    entries = [
        (a.kind, a.data.get("channel"), a.subject.body)
        for a in timeline(person)
        if a.kind in (ActivityKind.MESSAGE_IN, ActivityKind.MESSAGE_OUT)
    ]

    assert entries == [
        ("message_out", "sms", "Hi Ana"),
        ("message_in", "email", "hello 2"),
        ("message_in", "sms", "hello 1"),
    ]
