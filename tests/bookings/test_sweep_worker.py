"""The beat entry's task name runs the sweep on a real worker over Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from bookings.models import BookingDraft, DraftStatus
from bookings.services import new_draft_token
from contacts.models import Contact, Source
from miocrm.celery import app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, pool="solo"):
        yield
    app.conf.task_always_eager = True


def test_the_scheduled_task_name_captures_drafts_on_a_worker(worker) -> None:
    idle = timezone.now() - timedelta(minutes=45)
    BookingDraft.objects.create(
        token=new_draft_token(), email="ana@example.com", updated_at=idle
    )

    app.send_task("bookings.tasks.capture_abandoned_bookings")

    # No result backend is configured: watch the database instead.
    deadline = time.monotonic() + 20
    while not Contact.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Contact.objects.get().source == Source.BOOKING_PAGE
    assert BookingDraft.objects.get().status == DraftStatus.CAPTURED
