from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from contacts.models import Channel, Contact, Source
from contacts.services import capture_contact
from inbox.models import DeliveryStatus, Direction, Message
from tests.inbox.conftest import post_google

pytestmark = pytest.mark.django_db

# Google's documented user message (Business Messages "Receive messages").
MESSAGE = {
    "agent": "brands/1234/agents/5678",
    "conversationId": "8bfe7a8b-9d1c-4c0b-a7b1-4ea0b5f7c111",
    "customAgentId": "sparkle",
    "requestId": "d4a6f1e0-3c2b-4b1a-9d8e-7f6a5b4c3d2e",
    "message": {
        "name": "conversations/8bfe7a8b-9d1c-4c0b-a7b1-4ea0b5f7c111/messages/"
        "3a1b8e7c-5d2f-4e6a-8b9c-0d1e2f3a4b5c",
        "text": "Are you open on Sunday?",
        "createTime": "2024-03-01T15:04:05.123456Z",
        "messageId": "3a1b8e7c-5d2f-4e6a-8b9c-0d1e2f3a4b5c",
    },
    "context": {
        "userInfo": {"displayName": "Lee Brown", "userDeviceLocale": "en-US"},
        "entryPoint": "PLACESHEET",
    },
    "sendTime": "2024-03-01T15:04:05.987654Z",
}


def test_message_from_new_conversation_becomes_prospect(client: Any) -> None:
    response = post_google(client, MESSAGE)

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert (contact.source, contact.first_name, contact.last_name) == (
        Source.GOOGLE_BUSINESS,
        "Lee",
        "Brown",
    )


def test_known_conversation_joins_its_thread(client: Any) -> None:
    known = capture_contact(
        source=Source.MANUAL, handles={"google_business": MESSAGE["conversationId"]}
    ).contact

    post_google(client, MESSAGE)

    assert Message.objects.get().contact == known


def test_retried_delivery_is_stored_once(client: Any) -> None:
    post_google(client, MESSAGE)
    retry = post_google(client, MESSAGE)

    assert retry.status_code == 200
    assert Message.objects.count() == 1


def test_bad_signature_is_refused_and_writes_nothing(client: Any) -> None:
    response = post_google(client, MESSAGE, key="another-key")

    assert response.status_code == 403
    assert Contact.objects.count() == 0


def test_signature_with_characters_no_hmac_has_is_refused(client: Any) -> None:
    response = client.post(
        "/webhooks/google-business/",
        json.dumps(MESSAGE).encode(),
        content_type="application/json",
        HTTP_X_GOOG_SIGNATURE="ßignature",
    )

    assert response.status_code == 403


def test_missing_signature_is_refused(client: Any) -> None:
    response = client.post(
        "/webhooks/google-business/", MESSAGE, content_type="application/json"
    )

    assert response.status_code == 403
    assert Contact.objects.count() == 0


def test_receipts_are_acknowledged_without_a_message(client: Any) -> None:
    receipt = {
        "conversationId": MESSAGE["conversationId"],
        "requestId": "r-1",
        "receipts": {"receipts": [{"message": "x", "receiptType": "READ"}]},
    }

    assert post_google(client, receipt).status_code == 200
    assert Message.objects.count() == 0


def test_delivered_receipt_marks_our_reply_delivered(client: Any) -> None:
    contact = capture_contact(
        source=Source.MANUAL, handles={"google_business": MESSAGE["conversationId"]}
    ).contact
    name = f"conversations/{MESSAGE['conversationId']}/messages/our-reply"
    reply = Message.objects.create(
        contact=contact,
        channel=Channel.GOOGLE_BUSINESS,
        direction=Direction.OUT,
        handle=MESSAGE["conversationId"],
        provider_id=name,
        status=DeliveryStatus.SENT,
    )
    receipt = {
        "agent": MESSAGE["agent"],
        "conversationId": MESSAGE["conversationId"],
        "requestId": "r-2",
        "receipts": {
            "receipts": [{"message": name, "receiptType": "DELIVERED"}],
            "createTime": "2024-03-01T15:05:00.000000Z",
        },
        "sendTime": "2024-03-01T15:05:00.100000Z",
    }

    post_google(client, receipt)

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED


def test_tapped_suggestion_is_stored_as_the_persons_answer(client: Any) -> None:
    tap = {
        "agent": MESSAGE["agent"],
        "conversationId": MESSAGE["conversationId"],
        "requestId": "r-3",
        "suggestionResponse": {
            "message": f"conversations/{MESSAGE['conversationId']}/messages/tap-1",
            "postbackData": "book-a-clean",
            "createTime": "2024-03-01T15:06:00.000000Z",
            "text": "Book a clean",
            "suggestionType": "REPLY",
        },
        "context": MESSAGE["context"],
        "sendTime": "2024-03-01T15:06:00.100000Z",
    }

    response = post_google(client, tap)

    assert response.status_code == 200
    assert Message.objects.get().body == "Book a clean"


def test_message_is_placed_at_the_time_google_says_it_was_written(
    client: Any,
) -> None:
    post_google(client, MESSAGE)

    written = Message.objects.get().created_at
    assert written.isoformat() == "2024-03-01T15:04:05.123456+00:00"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"conversationId": "c-1", "message": "hello"},
        {"conversationId": "c-1", "message": {"text": "no id"}},
        {"message": MESSAGE["message"]},
    ],
)
def test_malformed_events_are_rejected_with_400_and_store_nothing(
    client: Any, payload: Any
) -> None:
    response = post_google(client, payload)

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_odd_optional_parts_do_not_lose_the_message(client: Any) -> None:
    payload = copy.deepcopy(MESSAGE)
    payload["context"] = "none"
    payload["message"]["image"] = "broken"
    payload["message"]["createTime"] = "yesterday"

    response = post_google(client, payload)

    assert response.status_code == 200
    assert Message.objects.get().body == "Are you open on Sunday?"


def test_unknown_event_is_rejected_with_400(client: Any) -> None:
    payload = copy.deepcopy(MESSAGE)
    del payload["message"]
    payload["somethingNew"] = {}

    assert post_google(client, payload).status_code == 400


def test_webhook_check_echoes_the_secret_for_our_client_token(
    client: Any, settings: Any
) -> None:
    settings.GOOGLE_BUSINESS_CLIENT_TOKEN = "our-client-token"
    body = {"clientToken": "our-client-token", "secret": "1234567890"}

    response = client.post(
        "/webhooks/google-business/", body, content_type="application/json"
    )

    assert (response.status_code, response.content) == (200, b"1234567890")


def test_webhook_check_with_another_client_token_is_refused(
    client: Any, settings: Any
) -> None:
    settings.GOOGLE_BUSINESS_CLIENT_TOKEN = "our-client-token"
    body = {"clientToken": "guess", "secret": "1234567890"}

    response = client.post(
        "/webhooks/google-business/", body, content_type="application/json"
    )

    assert response.status_code == 403
