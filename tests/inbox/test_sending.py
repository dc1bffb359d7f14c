from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from contacts.models import ActivityKind, Channel, PermissionState, Source
from contacts.services import capture_contact, set_permission
from inbox import services
from inbox.models import Conversation, DeliveryStatus, Direction, Message
from inbox.providers import Inbound
from inbox.tasks import deliver_message, requeue_stalled
from miocrm.celery import app as celery_app

pytestmark = pytest.mark.django_db

PHONE = "+15125550123"


@pytest.fixture
def apis(settings: Any, fake_api: Any) -> Any:
    settings.TWILIO_API_BASE = fake_api.url
    settings.META_GRAPH_API_BASE = fake_api.url + "/v21.0"
    settings.GOOGLE_BUSINESS_API_BASE = fake_api.url + "/v1"
    return fake_api


@pytest.fixture
def _retries_inline() -> Any:
    # Eager Celery replays retries inline only when errors do not propagate.
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


def receive(channel: str, handle: str, body: str = "Hi", **extra: Any) -> Message:
    inbound = Inbound(
        channel=channel,
        handle=handle,
        provider_id=f"{channel}-{Message.objects.count()}",
        body=body,
        phone=handle if channel == Channel.SMS else "",
        email=handle if channel == Channel.EMAIL else "",
        **extra,
    )
    return services.receive_message(inbound).message


def reply(message: Message, body: str = "Yes we do!", **kwargs: Any) -> Message:
    return services.send_message(
        contact=message.contact,
        channel=kwargs.get("channel", message.channel),
        handle=kwargs.get("handle", message.handle),
        body=body,
        sender=kwargs.get("sender"),
    )


def test_sms_reply_goes_to_twilios_messages_api(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(201, {"sid": "SM" + "f" * 32, "status": "queued"})
    incoming = receive(Channel.SMS, PHONE)

    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(incoming)

    request = apis.requests[0]
    assert request["path"] == "/2010-04-01/Accounts/AC" + "1" * 32 + "/Messages.json"
    assert (request["body"]["To"], request["body"]["Body"]) == ([PHONE], ["Yes we do!"])
    sent.refresh_from_db()
    assert (sent.status, sent.provider_id) == (DeliveryStatus.SENT, "SM" + "f" * 32)


def test_sms_reply_authenticates_with_the_account(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(201, {"sid": "SM1", "status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        reply(receive(Channel.SMS, PHONE))

    assert apis.requests[0]["headers"]["Authorization"].startswith("Basic ")


def test_provider_refusal_marks_the_message_failed_with_its_error(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.SMS, PHONE))

    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == (DeliveryStatus.FAILED, "21610")
    assert "unsubscribed" in sent.error


def test_temporary_provider_failure_is_retried_until_it_goes_through(
    apis: Any, django_capture_on_commit_callbacks: Any, _retries_inline: None
) -> None:
    apis.answer(503, {"message": "busy"})
    apis.answer(500, {"message": "busy"})
    apis.answer(201, {"sid": "SM2", "status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.SMS, PHONE))

    sent.refresh_from_db()
    assert (sent.status, sent.attempts, len(apis.requests)) == ("sent", 3, 3)


def test_meta_rate_limit_is_retried_rather_than_failed(
    apis: Any, django_capture_on_commit_callbacks: Any, _retries_inline: None
) -> None:
    # Meta throttles with 400 and code 613 (or flags the error transient).
    apis.answer(400, {"error": {"message": "Calls limit reached", "code": 613}})
    transient = {"message": "Try later", "code": 2, "is_transient": True}
    apis.answer(400, {"error": transient})
    apis.answer(200, {"recipient_id": "6789", "message_id": "m_retry"})
    incoming = receive(Channel.MESSENGER, "6789")
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(incoming)

    sent.refresh_from_db()
    assert (sent.status, sent.provider_id, sent.attempts) == ("sent", "m_retry", 3)


def test_meta_refusal_outside_the_window_fails_with_its_error(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(
        400,
        {
            "error": {
                "message": "This message is sent outside of allowed window.",
                "type": "OAuthException",
                "code": 10,
                "error_subcode": 2018278,
            }
        },
    )
    incoming = receive(Channel.MESSENGER, "6789")
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(incoming)

    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == (DeliveryStatus.FAILED, "10")
    assert "allowed window" in sent.error


def test_an_accepted_message_without_an_id_is_not_sent_again(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(201, {"status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.SMS, PHONE))

    sent.refresh_from_db()
    assert (sent.status, len(apis.requests)) == (DeliveryStatus.SENT, 1)


def test_delivering_the_same_message_twice_sends_it_once(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.default = (201, {"sid": "SM3", "status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.SMS, PHONE))

    assert deliver_message(sent.pk) == "skipped"
    assert len(apis.requests) == 1


def test_messenger_reply_goes_to_the_send_api(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(200, {"recipient_id": "6789", "message_id": "m_abc"})
    incoming = receive(Channel.MESSENGER, "6789")
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(incoming)

    request = apis.requests[0]
    assert request["path"] == "/v21.0/me/messages?access_token=meta-page-token"
    assert request["body"]["recipient"] == {"id": "6789"}
    sent.refresh_from_db()
    assert sent.provider_id == "m_abc"


def test_google_reply_carries_our_message_id_as_its_key(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.answer(200, {"name": "conversations/c-1/messages/x"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.GOOGLE_BUSINESS, "c-1"))

    request = apis.requests[0]
    assert request["path"] == "/v1/conversations/c-1/messages"
    assert request["body"]["messageId"] == str(sent.uid)
    assert request["headers"]["Authorization"] == "Bearer google-access-token"


def test_email_reply_threads_under_the_persons_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    incoming = receive(Channel.EMAIL, "ana@example.com", subject="Carpets")
    Message.objects.filter(pk=incoming.pk).update(provider_id="<orig@mail.example>")

    with django_capture_on_commit_callbacks(execute=True):
        reply(incoming)

    sent = mail.outbox[0]
    assert sent.subject == "Re: Carpets"
    assert sent.extra_headers["In-Reply-To"] == "<orig@mail.example>"
    assert "<orig@mail.example>" in sent.extra_headers["References"]


def test_email_reply_stores_its_message_id_for_the_next_reply(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.EMAIL, "ana@example.com", subject="Carpets"))

    sent.refresh_from_db()
    assert sent.provider_id == mail.outbox[0].extra_headers["Message-ID"]


def test_email_reply_keeps_its_message_id_when_sent_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # A worker that died after the email left sends it again: same Message-ID.
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(receive(Channel.EMAIL, "ana@example.com", subject="Carpets"))
    stale = timezone.now() - services.STALE_CLAIM - timedelta(seconds=1)
    Message.objects.filter(pk=sent.pk).update(status="sending", claimed_at=stale)

    deliver_message(sent.pk)

    first, again = (m.extra_headers["Message-ID"] for m in mail.outbox)
    assert first == again == f"<{sent.uid}@sparkle.example>"


def test_reply_lands_on_the_timeline_with_its_channel() -> None:
    sent = reply(receive(Channel.CHAT, "visitor-1"))

    activity = sent.contact.activities.get(kind=ActivityKind.MESSAGE_OUT)
    assert (activity.data["channel"], activity.subject) == ("chat", sent)


def test_chat_reply_is_sent_without_a_worker() -> None:
    sent = reply(receive(Channel.CHAT, "visitor-1"))

    assert sent.status == DeliveryStatus.SENT


def test_reply_is_refused_when_sms_permission_was_revoked() -> None:
    incoming = receive(Channel.SMS, PHONE)
    set_permission(
        contact=incoming.contact, channel=Channel.SMS, state=PermissionState.REVOKED
    )

    with pytest.raises(services.SendRefused, match="revoked permission"):
        reply(incoming)
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_messenger_reply_is_refused_after_the_24_hour_window() -> None:
    incoming = receive(Channel.MESSENGER, "6789")

    later = timezone.now() + timedelta(hours=24, minutes=1)
    with time_machine.travel(later), pytest.raises(services.SendRefused, match="24"):
        reply(incoming)


def test_messenger_reply_is_allowed_within_the_24_hour_window() -> None:
    incoming = receive(Channel.MESSENGER, "6789")

    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        sent = reply(incoming)

    assert sent.status == DeliveryStatus.QUEUED


def test_reply_on_a_channel_without_credentials_is_refused(settings: Any) -> None:
    incoming = receive(Channel.SMS, PHONE)
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(services.SendRefused, match="not connected"):
        reply(incoming)


def test_reply_by_sms_to_a_person_known_only_by_chat_opens_an_sms_conversation(
    apis: Any,
) -> None:
    contact = capture_contact(source=Source.CHAT, phone=PHONE).contact

    services.send_message(
        contact=contact, channel=Channel.SMS, handle=PHONE, body="Hello", sender=None
    )

    assert Conversation.objects.get(contact=contact).channel == "sms"


def test_a_send_abandoned_by_a_dead_worker_is_taken_over_later(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.default = (201, {"sid": "SM5", "status": "queued"})
    sent = reply(receive(Channel.SMS, PHONE))
    stale = timezone.now() - services.STALE_CLAIM - timedelta(seconds=1)
    Message.objects.filter(pk=sent.pk).update(status="sending", claimed_at=stale)

    assert deliver_message(sent.pk) == DeliveryStatus.SENT


def test_a_send_in_progress_is_not_taken_over(apis: Any) -> None:
    sent = reply(receive(Channel.SMS, PHONE))
    Message.objects.filter(pk=sent.pk).update(
        status="sending", claimed_at=timezone.now()
    )

    assert deliver_message(sent.pk) == "skipped"
    assert apis.requests == []


def test_reply_stays_queued_when_the_broker_is_down(
    monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def broker_down(*args: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(deliver_message, "delay", broker_down)
    incoming = receive(Channel.SMS, PHONE)

    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(incoming)

    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.QUEUED


def test_lost_deliveries_are_queued_again(
    apis: Any, django_capture_on_commit_callbacks: Any
) -> None:
    apis.default = (201, {"sid": "SM6", "status": "queued"})
    sent = reply(receive(Channel.SMS, PHONE))
    Message.objects.filter(pk=sent.pk).update(
        created_at=timezone.now() - timedelta(minutes=3)
    )

    assert requeue_stalled() == 1

    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT


def test_a_reply_waiting_for_its_retry_is_left_alone(apis: Any) -> None:
    sent = reply(receive(Channel.SMS, PHONE))
    Message.objects.filter(pk=sent.pk).update(
        created_at=timezone.now() - timedelta(minutes=3),
        claimed_at=timezone.now() - timedelta(minutes=1),
    )

    assert requeue_stalled() == 0
