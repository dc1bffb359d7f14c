"""Delivery reports for email replies, through anymail's tracking webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.core.exceptions import PermissionDenied

from contacts.models import Channel
from inbox import services
from inbox.adapters import TRACKING_KEY
from inbox.models import DeliveryStatus, Message
from inbox.providers import Inbound

pytestmark = pytest.mark.django_db

MAILGUN_KEY = "mailgun-webhook-signing-key"
SECRET = "mailhook:s3cret"


@pytest.fixture(autouse=True)
def _anymail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }


def sent_reply(capture: Any) -> Message:
    """Return an email reply to Ana, sent through the anymail test backend."""
    incoming = services.receive_message(
        Inbound(
            channel=Channel.EMAIL,
            handle="ana@example.com",
            email="ana@example.com",
            provider_id="<ana-1@example.com>",
            subject="Carpets",
            body="How much for two rooms?",
        )
    ).message
    with capture(execute=True):
        reply = services.send_message(
            contact=incoming.contact,
            channel=Channel.EMAIL,
            handle="ana@example.com",
            body="About $120.",
            sender=None,
        )
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT
    return reply


def report(reply: Message, event_type: str, **fields: Any) -> None:
    fields.setdefault("metadata", {TRACKING_KEY: str(reply.uid)})
    event = AnymailTrackingEvent(event_type=event_type, **fields)
    tracking.send(sender=object, event=event, esp_name="Postmark")


def mailgun_report(reply: Message, event: str, **data: Any) -> dict[str, Any]:
    """Return Mailgun's documented tracking webhook body, signed."""
    timestamp, token = "1709316000", "c1a4f7a0b2e54b5c9d3e8f6a7b8c9d0e1f2a3b4c5d6e"
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "timestamp": 1709316001.5,
            "id": "CPgfbmQMTCKtHW6uIWtuVe",
            "recipient": "ana@example.com",
            "message": {"headers": {"message-id": "20240301.1@mg.sparkle.example"}},
            "user-variables": {TRACKING_KEY: str(reply.uid)},
            **data,
        },
    }


def post_mailgun(client: Any, body: dict[str, Any], secret: str = SECRET) -> Any:
    credentials = base64.b64encode(secret.encode()).decode()
    return client.post(
        "/anymail/mailgun/tracking/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def test_an_email_reply_carries_its_uid_to_the_provider(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    params = mail.outbox[0].anymail_test_params

    assert params["metadata"] == {TRACKING_KEY: str(reply.uid)}


def test_a_delivered_report_marks_the_reply_delivered(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    report(reply, "delivered")

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED and reply.delivered_at


def test_a_bounce_marks_the_reply_failed_with_the_providers_words(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    report(
        reply,
        "bounced",
        reject_reason="bounced",
        mta_response="550 5.1.1 The email account does not exist",
    )

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.FAILED
    assert reply.error == "bounced: 550 5.1.1 The email account does not exist"


def test_a_report_that_comes_late_does_not_move_the_status_back(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    report(reply, "opened")
    report(reply, "sent")
    report(reply, "deferred")

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED


def test_a_report_without_our_metadata_is_matched_by_its_message_id(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    report(reply, "delivered", metadata={}, message_id=reply.provider_id)

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED


def test_a_report_about_someone_elses_email_changes_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    report(reply, "bounced", metadata={TRACKING_KEY: "not-a-uid"}, message_id=None)
    report(reply, "bounced", metadata={}, message_id="<other@example.org>")

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT


def test_reports_are_refused_while_no_webhook_secret_is_set(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)
    settings.ANYMAIL = {"WEBHOOK_SECRET": None}

    with pytest.raises(PermissionDenied):
        report(reply, "bounced")

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT


def test_mailguns_signed_delivered_webhook_marks_the_reply_delivered(
    client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)

    response = post_mailgun(client, mailgun_report(reply, "delivered"))

    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED


def test_mailguns_permanent_failure_shows_the_bounce(
    client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)
    body = mailgun_report(
        reply,
        "failed",
        severity="permanent",
        reason="bounce",
        **{
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not"
                " exist.",
                "description": "",
            }
        },
    )

    post_mailgun(client, body)

    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.FAILED
    assert "5.1.1 The email account" in reply.error


def test_a_badly_signed_mailgun_report_changes_nothing(
    client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reply = sent_reply(django_capture_on_commit_callbacks)
    body = mailgun_report(reply, "failed", severity="permanent")
    body["signature"]["signature"] = "0" * 64

    response = post_mailgun(client, body)

    assert response.status_code == 400  # anymail's answer to a failed check
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT
