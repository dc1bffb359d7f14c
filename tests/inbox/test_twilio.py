from __future__ import annotations

from typing import Any

import pytest
import time_machine

from contacts.models import (
    Activity,
    ActivityKind,
    Channel,
    Contact,
    PermissionState,
    Source,
)
from contacts.services import capture_contact, permission_state
from inbox import services
from inbox.models import Conversation, DeliveryStatus, Direction, Message
from inbox.providers import twilio_signature
from tests.inbox.conftest import TWILIO_TOKEN, post_twilio, sms_payload

pytestmark = pytest.mark.django_db

SMS = "/webhooks/twilio/sms/"
STATUS = "/webhooks/twilio/status/"


def test_sms_from_unknown_number_becomes_prospect_with_sms_source(client: Any) -> None:
    response = post_twilio(client, SMS, sms_payload())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    contact = Contact.objects.get()
    assert (contact.stage, contact.source, contact.phone) == (
        "prospect",
        Source.SMS,
        "+15125550123",
    )


def test_sms_is_stored_in_the_senders_conversation(client: Any) -> None:
    post_twilio(client, SMS, sms_payload())

    message = Message.objects.get()
    assert message.conversation.contact == message.contact
    assert (message.direction, message.body) == (Direction.IN, "Do you clean carpets?")
    assert message.conversation.unread_count == 1


def test_sms_lands_on_the_timeline_pointing_at_the_message(client: Any) -> None:
    post_twilio(client, SMS, sms_payload())

    activity = Activity.objects.get(kind=ActivityKind.MESSAGE_IN)
    assert activity.subject == Message.objects.get()


def test_sms_from_known_person_joins_their_thread(client: Any) -> None:
    known = capture_contact(source=Source.MANUAL, phone="+1 512 555 0123").contact

    post_twilio(client, SMS, sms_payload())
    post_twilio(client, SMS, sms_payload(MessageSid="SM" + "c" * 32, Body="Friday?"))

    assert Contact.objects.count() == 1
    assert Message.objects.filter(contact=known).count() == 2
    assert Conversation.objects.get().unread_count == 2


def test_texts_from_a_sender_name_stay_with_one_person(client: Any) -> None:
    # "Vodafone" or a short code cannot be a phone identifier: the thread of
    # its conversation is the only way to know who it is.
    for n in range(3):
        sid = f"SM{n:032d}"
        post_twilio(client, SMS, sms_payload(From="Vodafone", MessageSid=sid))

    assert Contact.objects.count() == 1
    assert Message.objects.filter(contact=Contact.objects.get()).count() == 3


def test_sms_from_customer_goes_to_the_customer(client: Any) -> None:
    known = capture_contact(source=Source.MANUAL, phone="+15125550123").contact
    Contact.objects.filter(pk=known.pk).update(stage="customer")

    post_twilio(client, SMS, sms_payload())

    assert Message.objects.get().contact.stage == "customer"


def test_retried_sms_is_acknowledged_and_stored_once(client: Any) -> None:
    first = post_twilio(client, SMS, sms_payload())
    retry = post_twilio(client, SMS, sms_payload())

    assert (first.status_code, retry.status_code) == (200, 200)
    assert Message.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.MESSAGE_IN).count() == 1


def test_bad_signature_is_refused_and_writes_nothing(client: Any) -> None:
    response = post_twilio(client, SMS, sms_payload(), token="wrong-token")

    assert response.status_code == 403
    assert (Message.objects.count(), Contact.objects.count()) == (0, 0)


def test_missing_signature_is_refused(client: Any) -> None:
    response = client.post(SMS, sms_payload())

    assert response.status_code == 403


def test_signature_with_characters_no_hmac_has_is_refused(client: Any) -> None:
    response = client.post(SMS, sms_payload(), HTTP_X_TWILIO_SIGNATURE="sïgnature=")

    assert response.status_code == 403


def test_signature_over_the_url_with_its_default_port_is_accepted(
    client: Any, settings: Any
) -> None:
    # Twilio sometimes signs https://host:443/...; its own validator tries both.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["crm.example.com"]

    response = post_twilio(
        client,
        SMS,
        sms_payload(),
        url=f"https://crm.example.com:443{SMS}",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="crm.example.com",
    )

    assert response.status_code == 200


def test_signature_covers_every_field_including_new_ones(client: Any) -> None:
    payload = sms_payload()
    signature = twilio_signature(TWILIO_TOKEN, f"http://testserver{SMS}", payload)
    tampered = {**payload, "Body": "Send me your bank details"}

    response = client.post(SMS, tampered, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


def test_unknown_shape_is_rejected_with_400_and_logged(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = post_twilio(client, SMS, {"Hello": "world"})

    assert response.status_code == 400
    assert "unknown payload" in caplog.text


def test_signature_is_checked_against_the_public_https_url_behind_a_proxy(
    client: Any, settings: Any
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["crm.example.com", "testserver"]

    response = post_twilio(
        client,
        SMS,
        sms_payload(),
        url=f"https://crm.example.com{SMS}",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="crm.example.com",
    )

    assert response.status_code == 200


def test_media_is_recorded_for_download(
    client: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fetched: list[int] = []
    monkeypatch.setattr(
        "inbox.tasks.fetch_media.delay", lambda message_id: fetched.append(message_id)
    )
    payload = sms_payload(
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
        MediaContentType0="image/jpeg",
    )

    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, SMS, payload)

    message = Message.objects.get()
    assert message.media[0]["content_type"] == "image/jpeg"
    assert fetched == [message.pk]


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "OPTOUT", "Quit"])
def test_stop_keyword_revokes_sms_permission(client: Any, word: str) -> None:
    post_twilio(client, SMS, sms_payload(Body=word))

    contact = Contact.objects.get()
    assert permission_state(contact, Channel.SMS) == PermissionState.REVOKED


def test_stop_lands_on_the_timeline(client: Any) -> None:
    post_twilio(client, SMS, sms_payload(Body="STOP"))

    activity = Activity.objects.get(kind=ActivityKind.CONSENT_CHANGED)
    assert "SMS keyword STOP" in activity.summary


@pytest.mark.parametrize("word", ["START", "yes", "UNSTOP"])
def test_start_keyword_grants_sms_permission_again(client: Any, word: str) -> None:
    post_twilio(client, SMS, sms_payload(Body="STOP"))
    post_twilio(client, SMS, sms_payload(Body=word, MessageSid="SM" + "d" * 32))

    contact = Contact.objects.get()
    assert permission_state(contact, Channel.SMS) == PermissionState.GRANTED


@pytest.mark.parametrize(
    "body", ["HELP", "info", "Please stop by on Friday", "stop!!?"]
)
def test_help_and_longer_texts_change_no_permission(client: Any, body: str) -> None:
    post_twilio(client, SMS, sms_payload(Body=body))

    contact = Contact.objects.get()
    assert permission_state(contact, Channel.SMS) == PermissionState.UNKNOWN


def _outbound(sid: str) -> Message:
    contact = capture_contact(source=Source.SMS, phone="+15125550123").contact
    return Message.objects.create(
        contact=contact,
        channel=Channel.SMS,
        direction=Direction.OUT,
        handle="+15125550123",
        provider_id=sid,
        status=DeliveryStatus.SENT,
    )


def test_status_callback_marks_message_delivered(client: Any) -> None:
    message = _outbound("SM" + "e" * 32)

    payload = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    response = post_twilio(client, STATUS, payload)

    message.refresh_from_db()
    assert response.status_code == 204
    assert message.status == DeliveryStatus.DELIVERED


def test_status_callback_records_the_providers_error(client: Any) -> None:
    message = _outbound("SM" + "e" * 32)

    payload = {
        "MessageSid": message.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
    }
    post_twilio(client, STATUS, payload)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (DeliveryStatus.FAILED, "30006")


def test_late_status_never_moves_a_message_back(client: Any) -> None:
    message = _outbound("SM" + "e" * 32)

    for status in ("delivered", "sent", "delivered"):
        post_twilio(
            client, STATUS, {"MessageSid": message.provider_id, "MessageStatus": status}
        )

    message.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED
    assert message.delivery_events.count() == 2


def test_status_callback_with_an_unheard_of_status_is_kept_not_a_500(
    client: Any,
) -> None:
    message = _outbound("SM" + "e" * 32)

    payload = {"MessageSid": message.provider_id, "MessageStatus": "x" * 40}
    response = post_twilio(client, STATUS, payload)

    message.refresh_from_db()
    assert response.status_code == 204
    assert message.status == DeliveryStatus.SENT


def test_status_callback_with_bad_signature_is_refused(client: Any) -> None:
    message = _outbound("SM" + "e" * 32)

    payload = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    response = post_twilio(client, STATUS, payload, token="nope")

    message.refresh_from_db()
    assert response.status_code == 403
    assert message.status == DeliveryStatus.SENT


def test_status_arriving_before_the_worker_stored_the_sid_is_applied_later(
    client: Any,
) -> None:
    contact = capture_contact(source=Source.SMS, phone="+15125550123").contact
    message = Message.objects.create(
        contact=contact,
        channel=Channel.SMS,
        direction=Direction.OUT,
        handle="+15125550123",
        status=DeliveryStatus.SENDING,
    )
    sid = "SM" + "7" * 32
    post_twilio(client, STATUS, {"MessageSid": sid, "MessageStatus": "delivered"})

    services.mark_sent(message, provider_id=sid, status=DeliveryStatus.SENT)

    message.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED


def test_an_address_sending_many_bad_signatures_is_slowed_down(client: Any) -> None:
    # Frozen clock: the limit counts per minute window.
    with time_machine.travel("2026-12-03 10:00:05Z", tick=False):
        for _ in range(60):
            post_twilio(client, SMS, sms_payload(), token="wrong-token")

        refused = post_twilio(client, SMS, sms_payload(), token="wrong-token")
        signed = post_twilio(client, SMS, sms_payload())

    assert (refused.status_code, signed.status_code) == (429, 200)
