from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Channel, Contact, PermissionState, Source
from contacts.services import capture_contact, set_permission
from inbox import services
from inbox.models import Conversation, Message
from inbox.providers import Inbound

pytestmark = pytest.mark.django_db


def receive(channel: str, handle: str, body: str = "Hi", **extra: Any) -> Message:
    n = Message.objects.count()
    inbound = Inbound(
        channel=channel,
        handle=handle,
        provider_id=f"p-{n}",
        body=body,
        phone=handle if channel == Channel.SMS else "",
        email=handle if channel == Channel.EMAIL else "",
        **extra,
    )
    return services.receive_message(inbound).message


def test_inbox_needs_login(client: Any) -> None:
    response = client.get(reverse("inbox:index"))

    assert response.status_code == 302


def test_inbox_lists_conversations_newest_first(staff_client: Any) -> None:
    receive(Channel.SMS, "+15125550001", "Sent first")
    receive(Channel.EMAIL, "lee@example.com", "Sent second")

    html = staff_client.get(reverse("inbox:index")).content.decode()

    assert html.index("Sent second") < html.index("Sent first")


def test_inbox_query_count_does_not_grow_with_conversations(
    staff_client: Any, django_assert_num_queries: Any
) -> None:
    receive(Channel.SMS, "+15125550001")
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse("inbox:index"))
    for n in range(2, 12):
        receive(Channel.SMS, f"+151255500{n:02d}")

    with django_assert_num_queries(len(one.captured_queries)):
        staff_client.get(reverse("inbox:index"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "email"}, ["lee@example.com"]),
        ({"unread": "1"}, ["+15125550001"]),
        ({"prospects": "1"}, ["+15125550001"]),
        ({"mine": "1"}, ["lee@example.com"]),
    ],
)
def test_inbox_filters(
    staff_client: Any, staff_user: Any, query: dict[str, str], expected: list[str]
) -> None:
    receive(Channel.SMS, "+15125550001")
    email = receive(Channel.EMAIL, "lee@example.com")
    Conversation.objects.filter(channel="email").update(unread_count=0)
    Contact.objects.filter(pk=email.contact_id).update(
        stage="customer", owner=staff_user
    )

    page = staff_client.get(reverse("inbox:index"), query).context["page_obj"]

    assert [c.handle for c in page.object_list] == expected


def test_htmx_poll_returns_only_the_list(staff_client: Any) -> None:
    receive(Channel.SMS, "+15125550001", "fresh message")

    response = staff_client.get(
        reverse("inbox:index"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="conversation-list",
    )

    assert b"fresh message" in response.content
    assert b"<html" not in response.content


def test_thread_shows_every_channel_of_the_person_in_time_order(
    staff_client: Any,
) -> None:
    contact = capture_contact(
        source=Source.MANUAL, email="ana@example.com", phone="+15125550001"
    ).contact
    receive(Channel.SMS, "+15125550001", "first by sms")
    receive(Channel.EMAIL, "ana@example.com", "then by email")

    response = staff_client.get(reverse("inbox:contact", args=[contact.pk]))

    assert [m.body for m in response.context["thread"]] == [
        "first by sms",
        "then by email",
    ]


def test_opening_a_thread_marks_it_read(staff_client: Any) -> None:
    message = receive(Channel.SMS, "+15125550001")

    staff_client.get(reverse("inbox:contact", args=[message.contact_id]))

    assert Conversation.objects.get().unread_count == 0


def test_menu_shows_the_unread_count(staff_client: Any) -> None:
    receive(Channel.SMS, "+15125550001")
    receive(Channel.SMS, "+15125550002")

    response = staff_client.get(reverse("inbox:index"))

    assert response.context["inbox_unread"] == 2


def test_message_text_is_escaped(staff_client: Any) -> None:
    message = receive(Channel.SMS, "+15125550001", "<script>alert(1)</script>")

    response = staff_client.get(reverse("inbox:contact", args=[message.contact_id]))

    assert b"<script>alert(1)" not in response.content
    assert b"&lt;script&gt;alert(1)" in response.content


def test_composer_defaults_to_the_channel_of_the_latest_message(
    staff_client: Any,
) -> None:
    capture_contact(source=Source.MANUAL, email="ana@example.com", phone="+15125550001")
    receive(Channel.EMAIL, "ana@example.com")
    message = receive(Channel.SMS, "+15125550001")

    response = staff_client.get(reverse("inbox:contact", args=[message.contact_id]))

    assert response.context["form"].initial["route"] == "sms|+15125550001"


def test_sending_queues_a_reply_and_returns_to_the_thread(
    staff_client: Any, staff_user: Any
) -> None:
    message = receive(Channel.CHAT, "visitor-1")

    response = staff_client.post(
        reverse("inbox:send", args=[message.contact_id]),
        {"route": "chat|visitor-1", "body": "Hello there"},
    )

    assert response.status_code == 302
    sent = Message.objects.get(direction="out")
    assert (sent.body, sent.sender) == ("Hello there", staff_user)


def test_refused_reply_shows_the_reason_and_keeps_the_text(staff_client: Any) -> None:
    message = receive(Channel.SMS, "+15125550001")
    set_permission(
        contact=message.contact, channel="sms", state=PermissionState.REVOKED
    )

    response = staff_client.post(
        reverse("inbox:send", args=[message.contact_id]),
        {"route": "sms|+15125550001", "body": "Special offer"},
    )

    assert b"revoked permission for SMS" in response.content
    assert b"Special offer" in response.content
    assert not Message.objects.filter(direction="out").exists()


def test_reply_longer_than_the_channel_allows_is_refused(staff_client: Any) -> None:
    message = receive(Channel.SMS, "+15125550001")

    response = staff_client.post(
        reverse("inbox:send", args=[message.contact_id]),
        {"route": "sms|+15125550001", "body": "x" * 1601},
    )

    assert b"at most 1600 characters" in response.content


def test_thread_of_a_merged_person_redirects_to_the_survivor(
    staff_client: Any,
) -> None:
    older = capture_contact(source=Source.MANUAL, email="ana@example.com").contact
    newer = capture_contact(source=Source.MANUAL, phone="+15125550001").contact
    capture_contact(source=Source.CHAT, email="ana@example.com", phone="+15125550001")

    response = staff_client.get(reverse("inbox:contact", args=[newer.pk]))

    assert response.url == reverse("inbox:contact", args=[older.pk])


def test_channels_page_is_for_admins_only(staff_client: Any) -> None:
    assert staff_client.get(reverse("inbox:channels")).status_code == 403


def test_channels_page_shows_connection_and_webhook_urls(
    admin_client: Any, settings: Any
) -> None:
    settings.META_PAGE_ACCESS_TOKEN = ""

    html = admin_client.get(reverse("inbox:channels")).content.decode()

    assert "/webhooks/twilio/sms/" in html
    assert "/webhooks/google-business/" in html
    assert "Set META_PAGE_ACCESS_TOKEN" in html


def test_thread_warns_about_routes_that_would_be_refused(staff_client: Any) -> None:
    message = receive(Channel.SMS, "+15125550001", "STOP")
    services.apply_sms_keyword(contact=message.contact, body="STOP")

    response = staff_client.get(reverse("inbox:contact", args=[message.contact_id]))

    assert b"revoked permission for SMS messages" in response.content


def test_thread_query_count_does_not_grow_with_messages(
    staff_client: Any, django_assert_num_queries: Any
) -> None:
    first = receive(Channel.SMS, "+15125550001")
    url = reverse("inbox:contact", args=[first.contact_id])
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for n in range(10):
        receive(Channel.SMS, "+15125550001", f"more {n}")
    services.send_message(
        contact=first.contact,
        channel="sms",
        handle="+15125550001",
        body="reply",
        sender=None,
    )

    with django_assert_num_queries(len(one.captured_queries)):
        staff_client.get(url)
