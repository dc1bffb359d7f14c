from __future__ import annotations

import json
from typing import Any

import pytest

from contacts.models import Contact, Source
from contacts.services import capture_contact
from inbox import services
from inbox.chat import issue_token
from inbox.models import ChatVisitor, DeliveryStatus, Message

pytestmark = pytest.mark.django_db

API = "/chat/api/"


def start(client: Any) -> str:
    return client.post(API + "session/").json()["token"]


def say(client: Any, token: str, text: str = "Hello!", **fields: str) -> Any:
    body = {"text": text, "client_id": fields.pop("client_id", "c-00000001"), **fields}
    return client.post(
        API + "messages/",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_CHAT_TOKEN=token,
    )


def poll(client: Any, token: str, after: int = 0) -> Any:
    return client.get(API + "messages/", {"after": after}, HTTP_X_CHAT_TOKEN=token)


def test_first_chat_message_makes_a_prospect_with_chat_source(client: Any) -> None:
    response = say(client, start(client), name="Lee Brown")

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert (contact.source, contact.first_name) == (Source.CHAT, "Lee")


def test_visitor_token_is_signed_and_forgeries_are_refused(client: Any) -> None:
    start(client)
    visitor = ChatVisitor.objects.get()

    response = say(client, f"{visitor.uid}:forged-signature")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_resent_message_with_same_client_id_is_stored_once(client: Any) -> None:
    token = start(client)

    say(client, token)
    say(client, token)

    assert Message.objects.count() == 1


def test_poll_returns_staff_replies_and_marks_them_delivered(client: Any) -> None:
    token = start(client)
    mine = say(client, token).json()["message"]
    contact = Contact.objects.get()
    services.send_message(
        contact=contact,
        channel="chat",
        handle=str(ChatVisitor.objects.get().uid),
        body="Hi Lee, yes we can.",
        sender=None,
    )

    messages = poll(client, token, after=mine["id"]).json()["messages"]

    # The visitor's own message may come again (the last minute is resent).
    assert [(m["from"], m["text"]) for m in messages if m["id"] > mine["id"]] == [
        ("staff", "Hi Lee, yes we can.")
    ]
    assert Message.objects.get(direction="out").status == DeliveryStatus.DELIVERED


def test_poll_sends_a_reply_that_became_visible_after_a_later_message(
    client: Any,
) -> None:
    # The reply's id is lower than what the widget has seen, because it was
    # handed out before a message that committed first.
    token = start(client)
    say(client, token, "first", client_id="c-00000001")
    services.send_message(
        contact=Contact.objects.get(),
        channel="chat",
        handle=str(ChatVisitor.objects.get().uid),
        body="Late reply",
        sender=None,
    )
    seen = say(client, token, "second", client_id="c-00000002").json()["message"]

    messages = poll(client, token, after=seen["id"]).json()["messages"]

    assert "Late reply" in [m["text"] for m in messages]


def test_a_visitor_never_sees_another_visitors_messages(client: Any) -> None:
    first, second = start(client), start(client)
    say(client, first, "secret plans")

    assert poll(client, second).json()["messages"] == []


def test_visitor_giving_a_known_email_joins_that_persons_thread(client: Any) -> None:
    known = capture_contact(source=Source.SMS, email="ana@example.com").contact
    token = start(client)
    say(client, token, "Hi", client_id="c-00000001")

    say(client, token, "It's Ana", client_id="c-00000002", email="ana@example.com")

    assert Contact.objects.live().count() == 1
    assert Message.objects.filter(contact=known).count() == 2


def test_invalid_email_gets_a_clear_error_and_stores_nothing(client: Any) -> None:
    response = say(client, start(client), email="not an email")

    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    assert Message.objects.count() == 0


def test_preflight_allows_the_widget_on_another_origin(client: Any) -> None:
    response = client.options(API + "messages/", HTTP_ORIGIN="https://shop.example")

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-Chat-Token" in response["Access-Control-Allow-Headers"]


def test_sending_is_rate_limited(client: Any) -> None:
    token = start(client)
    codes = [say(client, token, client_id=f"c-{n:08d}").status_code for n in range(25)]

    assert codes.count(201) == 20
    assert codes[-1] == 429


def test_rate_limited_answer_is_readable_by_the_widget(client: Any) -> None:
    token = start(client)
    for n in range(21):
        response = say(client, token, client_id=f"c-{n:08d}")

    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "wait" in response.json()["error"]


def test_issued_token_does_not_contain_guessable_ids(client: Any) -> None:
    start(client)
    visitor = ChatVisitor.objects.get()

    assert str(visitor.pk) != issue_token(visitor).split(":")[0]
    assert len(issue_token(visitor)) > 40


def test_demo_page_is_public_and_embeds_the_script(client: Any) -> None:
    response = client.get("/chat/demo/")

    assert response.status_code == 200
    assert b"inbox/chatbox.js" in response.content
