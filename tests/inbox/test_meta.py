from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import Contact, Source
from contacts.services import capture_contact
from inbox.models import Message
from tests.inbox.conftest import post_meta

pytestmark = pytest.mark.django_db

# Meta's documented Messenger text message (Webhooks for Messenger Platform).
MESSENGER = {
    "object": "page",
    "entry": [
        {
            "id": "1234567890",
            "time": 1458692752478,
            "messaging": [
                {
                    "sender": {"id": "6789012345"},
                    "recipient": {"id": "1234567890"},
                    "timestamp": 1458692752478,
                    "message": {
                        "mid": "mid.1457764197618:41d102a3e1ae206a38",
                        "text": "hello, world!",
                    },
                }
            ],
        }
    ],
}


def instagram() -> dict[str, Any]:
    payload = copy.deepcopy(MESSENGER)
    payload["object"] = "instagram"
    payload["entry"][0]["messaging"][0]["sender"]["id"] = "17841400000000000"
    payload["entry"][0]["messaging"][0]["message"]["mid"] = "aWdfZAG1faXRlbToxOklH"
    return payload


def test_handshake_answers_the_challenge_when_the_token_matches(client: Any) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "meta-verify",
        "hub.challenge": "1158201444",
    }
    response = client.get("/webhooks/meta/", query)

    assert (response.status_code, response.content) == (200, b"1158201444")


def test_handshake_with_wrong_token_is_refused(client: Any) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}

    assert client.get("/webhooks/meta/", query).status_code == 403


def test_messenger_message_from_unknown_psid_becomes_prospect(client: Any) -> None:
    response = post_meta(client, MESSENGER)

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert contact.source == Source.MESSENGER
    assert contact.identifiers.get().value == "6789012345"


def test_instagram_message_becomes_prospect_with_instagram_source(client: Any) -> None:
    post_meta(client, instagram())

    message = Message.objects.get()
    assert (message.channel, message.contact.source) == ("instagram", "instagram")


def test_known_psid_joins_their_thread(client: Any) -> None:
    known = capture_contact(
        source=Source.MANUAL, handles={"messenger": "6789012345"}
    ).contact

    post_meta(client, MESSENGER)

    assert Message.objects.get().contact == known


def test_retried_delivery_is_stored_once(client: Any) -> None:
    post_meta(client, MESSENGER)
    retry = post_meta(client, MESSENGER)

    assert retry.status_code == 200
    assert Message.objects.count() == 1


def test_echoes_of_our_own_replies_are_ignored(client: Any) -> None:
    payload = copy.deepcopy(MESSENGER)
    payload["entry"][0]["messaging"][0]["message"]["is_echo"] = True

    response = post_meta(client, payload)

    assert response.status_code == 200
    assert Message.objects.count() == 0


def test_bad_signature_is_refused_and_writes_nothing(client: Any) -> None:
    response = post_meta(client, MESSENGER, secret="not-the-secret")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_signature_with_characters_no_hmac_has_is_refused(client: Any) -> None:
    body = json.dumps(MESSENGER).encode()

    response = client.post(
        "/webhooks/meta/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=ünknown",
    )

    assert response.status_code == 403


def test_unknown_object_is_rejected_with_400(client: Any) -> None:
    response = post_meta(client, {"object": "whatsapp_business_account", "entry": []})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": ["not an object"]},
        {"object": "page", "entry": [{"messaging": {"sender": {}}}]},
        {"object": "page", "entry": [{"messaging": [{"message": {"mid": "m"}}]}]},
        {
            "object": "page",
            "entry": [{"messaging": [{"sender": "6789", "message": {"mid": "m"}}]}],
        },
        [],
    ],
)
def test_malformed_batches_are_rejected_with_400_and_store_nothing(
    client: Any, payload: Any
) -> None:
    response = post_meta(client, payload)

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_an_overlong_mid_is_stored_once_all_the_same(client: Any) -> None:
    payload = copy.deepcopy(MESSENGER)
    payload["entry"][0]["messaging"][0]["message"]["mid"] = "m" * 300

    post_meta(client, payload)
    retry = post_meta(client, payload)

    assert retry.status_code == 200
    assert Message.objects.count() == 1


def test_odd_optional_parts_do_not_lose_the_message(client: Any) -> None:
    payload = copy.deepcopy(MESSENGER)
    event = payload["entry"][0]["messaging"][0]
    event["timestamp"] = "soon"
    event["delivery"] = "yes"
    event["message"]["attachments"] = {"type": "image"}

    response = post_meta(client, payload)

    assert response.status_code == 200
    assert Message.objects.get().body == "hello, world!"


def test_batched_messages_are_stored_in_timestamp_order(client: Any) -> None:
    payload = copy.deepcopy(MESSENGER)
    later = copy.deepcopy(payload["entry"][0]["messaging"][0])
    later["timestamp"] += 5000
    later["message"] = {"mid": "mid.later", "text": "second"}
    payload["entry"][0]["messaging"].insert(0, later)

    post_meta(client, payload)

    texts = list(Message.objects.order_by("pk").values_list("body", flat=True))
    assert texts == ["hello, world!", "second"]


def test_a_late_delivery_is_placed_at_the_time_it_was_written(client: Any) -> None:
    post_meta(client, MESSENGER)

    written = Message.objects.get().created_at
    assert written.isoformat() == "2016-03-23T00:25:52.478000+00:00"


def test_a_timestamp_from_the_future_is_placed_now(client: Any) -> None:
    payload = copy.deepcopy(MESSENGER)
    payload["entry"][0]["messaging"][0]["timestamp"] = 4102444800000  # 2100

    post_meta(client, payload)

    assert Message.objects.get().created_at <= timezone.now()


def test_new_messenger_sender_gets_their_profile_name(
    client: Any,
    fake_api: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.META_GRAPH_API_BASE = fake_api.url
    fake_api.answer(200, {"first_name": "Lee", "last_name": "Brown", "id": "1"})

    with django_capture_on_commit_callbacks(execute=True):
        post_meta(client, MESSENGER)

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Lee", "Brown")
    assert fake_api.requests[0]["path"].startswith("/6789012345?fields=first_name")


def test_a_withheld_profile_leaves_the_person_unnamed(
    client: Any,
    fake_api: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.META_GRAPH_API_BASE = fake_api.url
    fake_api.answer(400, {"error": {"message": "Unsupported get request", "code": 100}})

    with django_capture_on_commit_callbacks(execute=True):
        post_meta(client, instagram())

    assert Contact.objects.get().first_name == ""


def test_without_a_page_token_meta_is_never_asked_for_a_profile(
    client: Any,
    fake_api: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Demo data and `make run` have Meta unconnected: nothing may call it.
    settings.META_GRAPH_API_BASE = fake_api.url
    settings.META_PAGE_ACCESS_TOKEN = ""

    with django_capture_on_commit_callbacks(execute=True):
        post_meta(client, MESSENGER)

    assert fake_api.requests == []
