from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent

from contacts.models import Contact, Source
from contacts.services import capture_contact
from inbox.models import Message
from inbox.receivers import parse_email

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/inbound/"


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "mailhook:s3cret"}


def auth(secret: str = "mailhook:s3cret") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def postmark(**overrides: Any) -> dict[str, Any]:
    """Return Postmark's documented inbound JSON (abridged)."""
    payload = {
        "FromName": "Ana García",
        "MessageStream": "inbound",
        "From": "Ana@Example.com",
        "FromFull": {"Email": "Ana@Example.com", "Name": "Ana García"},
        "To": "hello@sparkle.example",
        "ToFull": [{"Email": "hello@sparkle.example", "Name": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "hello@sparkle.example",
        "Subject": "Carpet cleaning quote",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 1 Mar 2024 12:00:00 -0600",
        "TextBody": "Hi, how much for two rooms?",
        "HtmlBody": "<p>Hi, how much for two rooms?</p>",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Message-ID", "Value": "<CAF=abc123@mail.example.com>"},
        ],
        "Attachments": [],
    }
    payload.update(overrides)
    return payload


def post(client: Any, payload: dict[str, Any], **headers: str) -> Any:
    return client.post(
        URL, json.dumps(payload), content_type="application/json", **(headers or auth())
    )


def test_email_from_unknown_address_becomes_prospect(client: Any) -> None:
    response = post(client, postmark())

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert (contact.source, contact.email, contact.first_name) == (
        Source.EMAIL,
        "ana@example.com",
        "Ana",
    )


def test_email_keeps_subject_and_message_id(client: Any) -> None:
    post(client, postmark())

    message = Message.objects.get()
    assert (message.subject, message.provider_id) == (
        "Carpet cleaning quote",
        "<CAF=abc123@mail.example.com>",
    )


def test_email_from_known_person_joins_their_thread(client: Any) -> None:
    known = capture_contact(source=Source.MANUAL, email="ana@example.com").contact

    post(client, postmark())

    assert Message.objects.get().contact == known


def test_retried_email_is_stored_once(client: Any) -> None:
    post(client, postmark())
    retry = post(client, postmark())

    assert retry.status_code == 200
    assert Message.objects.count() == 1


def test_retried_email_without_message_id_is_known_by_the_providers_id(
    client: Any,
) -> None:
    payload = postmark(Headers=[])

    post(client, payload)
    post(client, payload)

    assert Message.objects.get().provider_id == (
        "<postmark-73e6d360-66eb-11e1-8e72-a8904824019b@inbound>"
    )


def test_email_with_neither_id_is_known_by_what_the_sender_wrote() -> None:
    def delivery() -> AnymailInboundEvent:
        # Built afresh each time, as each retry is: new MIME boundaries.
        message = AnymailInboundMessage.construct(
            from_email="Ana <ana@example.com>",
            to="hello@sparkle.example",
            subject="Quote",
            text="Two rooms?",
            html="<p>Two rooms?</p>",
            attachments=[
                AnymailInboundMessage.construct_attachment(
                    "image/png", b"\x89PNG rooms", filename="rooms.png"
                )
            ],
        )
        return AnymailInboundEvent(event_type="inbound", message=message)

    first, retry = delivery(), delivery()

    assert first.message.as_bytes() != retry.message.as_bytes()
    assert (
        parse_email(first.message, first).provider_id
        == parse_email(retry.message, retry).provider_id
    )


def test_wrong_webhook_secret_is_refused_and_writes_nothing(client: Any) -> None:
    response = post(client, postmark(), **auth("mailhook:guess"))

    assert response.status_code == 400  # anymail's answer to a failed check
    assert Message.objects.count() == 0


@pytest.fixture
def storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def with_attachment(name: str, content: bytes, kind: str) -> dict[str, Any]:
    encoded = base64.b64encode(content).decode()
    attachment = {
        "Name": name,
        "Content": encoded,
        "ContentType": kind,
        "ContentLength": len(content),
    }
    return postmark(Attachments=[attachment])


def test_attachments_are_kept_with_the_message(client: Any, storage: None) -> None:
    post(client, with_attachment("rooms.png", b"\x89PNG\r\n\x1a\nrest", "image/png"))

    item = Message.objects.get().media[0]
    assert (item["filename"], item["size"]) == ("rooms.png", 12)


def test_attachment_is_served_as_a_download_typed_by_its_content(
    client: Any, staff_user: Any, storage: None
) -> None:
    html = b"<script>alert(1)</script>"
    post(client, with_attachment("photo.png", html, "image/png"))
    client.force_login(staff_user)
    message = Message.objects.get()

    response = client.get(f"/inbox/messages/{message.pk}/attachments/0/")

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_inbound_email_is_refused_while_no_webhook_secret_is_set(
    client: Any, settings: Any
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": None}

    response = client.post(URL, json.dumps(postmark()), content_type="application/json")

    assert response.status_code == 403
    assert Message.objects.count() == 0


MAILGUN_KEY = "mailgun-webhook-signing-key"


def mailgun(signature: str = "") -> dict[str, str]:
    """Return the fields Mailgun's forward() route posts (fully parsed)."""
    timestamp, token = "1709316000", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f97"
    expected = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    headers = [
        ["From", "Lee Brown <lee@example.org>"],
        ["To", "hello@sparkle.example"],
        ["Subject", "Window cleaning"],
        ["Message-Id", "<CAMg1x=mailgun@mail.example.org>"],
    ]
    return {
        "recipient": "hello@sparkle.example",
        "sender": "lee@example.org",
        "from": "Lee Brown <lee@example.org>",
        "subject": "Window cleaning",
        "body-plain": "Can you do our windows on Monday?",
        "stripped-text": "Can you do our windows on Monday?",
        "message-headers": json.dumps(headers),
        "timestamp": timestamp,
        "token": token,
        "signature": signature or expected,
    }


@pytest.fixture
def mailgun_signing(settings: Any) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": "mailhook:s3cret",
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }


def test_mailgun_email_signed_by_mailgun_becomes_a_prospect(
    client: Any, mailgun_signing: None
) -> None:
    response = client.post("/anymail/mailgun/inbound/", mailgun(), **auth())

    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.contact.email, message.provider_id) == (
        "lee@example.org",
        "<CAMg1x=mailgun@mail.example.org>",
    )


def test_mailgun_email_with_a_bad_mailgun_signature_writes_nothing(
    client: Any, mailgun_signing: None
) -> None:
    response = client.post("/anymail/mailgun/inbound/", mailgun("0" * 64), **auth())

    assert response.status_code == 400  # anymail's answer to a failed check
    assert Message.objects.count() == 0
