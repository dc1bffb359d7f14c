from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from contacts.models import ActivityKind, Contact, Identifier
from inbox.models import Conversation, Message
from tests.inbox.conftest import post_twilio, sms_payload

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_sms_from_one_new_number_make_one_prospect() -> None:
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            client = Client()
            payload = sms_payload(MessageSid=f"SM{n:032d}", Body=f"message {n}")
            barrier.wait()
            statuses.append(
                post_twilio(client, "/webhooks/twilio/sms/", payload).status_code
            )
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [200] * THREADS
    assert Contact.objects.count() == 1
    assert Identifier.objects.filter(kind="phone").count() == 1
    assert Message.objects.count() == THREADS
    assert Conversation.objects.get().unread_count == THREADS


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_of_one_message_store_it_once() -> None:
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def send() -> None:
        try:
            barrier.wait()
            response = post_twilio(Client(), "/webhooks/twilio/sms/", sms_payload())
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads: list[Any] = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 5
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_count_once_on_the_timeline_and_as_unread() -> None:
    barrier = threading.Barrier(5)

    def send() -> None:
        try:
            barrier.wait()
            post_twilio(Client(), "/webhooks/twilio/sms/", sms_payload())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    contact = Contact.objects.get()
    assert contact.activities.filter(kind=ActivityKind.MESSAGE_IN).count() == 1
    assert Conversation.objects.get().unread_count == 1
