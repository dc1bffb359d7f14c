"""The send task on a real Celery worker over Redis (not eager)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from contacts.models import Channel
from inbox import services
from inbox.models import DeliveryStatus, Message
from inbox.providers import Inbound
from miocrm.celery import app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _close_connections(**kwargs: Any) -> None:
    # Runs in the worker's thread, whose connection would otherwise outlive
    # the test and keep the test database from being dropped.
    connections.close_all()


@pytest.fixture
def worker() -> Iterator[None]:
    app.conf.task_always_eager = False
    task_postrun.connect(_close_connections)
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1):
        yield
    task_postrun.disconnect(_close_connections)
    app.conf.task_always_eager = True


def wait_for(message: Message, status: str, seconds: float = 20) -> Message:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            return message
        time.sleep(0.1)
    return message


def test_worker_delivers_a_queued_sms_through_twilio(
    worker: None, fake_api: Any, settings: Any
) -> None:
    settings.TWILIO_API_BASE = fake_api.url
    fake_api.answer(201, {"sid": "SM" + "9" * 32, "status": "queued"})
    inbound = Inbound(
        channel=Channel.SMS,
        handle="+15125550123",
        phone="+15125550123",
        provider_id="SM-in",
        body="Hi",
    )
    incoming = services.receive_message(inbound).message

    sent = services.send_message(
        contact=incoming.contact,
        channel=Channel.SMS,
        handle="+15125550123",
        body="On our way",
        sender=None,
    )

    sent = wait_for(sent, DeliveryStatus.SENT)
    assert (sent.status, sent.provider_id) == (DeliveryStatus.SENT, "SM" + "9" * 32)
    assert len(fake_api.requests) == 1
