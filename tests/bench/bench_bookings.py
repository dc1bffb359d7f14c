"""The booking page: slot computation, booking, drafts and the abandon sweep.

Tasks run inline and mail goes to memory: each book() renders and "sends"
its confirmation as a worker would, and nothing is left queued in Redis for
a worker to send later, about bookings of the benchmark's database.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time, timedelta

from django.core import mail
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from bookings.availability import bookable_days, free_slots
from bookings.models import (
    BookedUnit,
    Booking,
    BookingDraft,
    BookingSettings,
    BusinessHours,
    ClosedDay,
    Service,
)
from bookings.services import book, capture_abandoned_drafts, new_draft_token
from miocrm.celery import app
from tests.bench.report import Report, timed

PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
BOOKINGS = 300
DRAFTS = 500


def _reset() -> Service:
    BookedUnit.objects.all().delete()
    Booking.objects.all().delete()
    BookingDraft.objects.all().delete()
    ClosedDay.objects.all().delete()
    BusinessHours.objects.all().delete()
    rules = BookingSettings.load()
    rules.lead_time_minutes, rules.horizon_days = 60, 30
    rules.slot_interval_minutes, rules.capacity = 30, 3
    rules.save()
    for weekday in range(7):
        BusinessHours.objects.create(weekday=weekday, opens=time(7), closes=time(19))
    return Service.objects.create(
        name=f"Bench {uuid.uuid4().hex[:6]}", duration_minutes=60
    )


def _fill(service: Service, tag: str) -> None:
    rules = BookingSettings.load()
    slots = [
        s for day in free_slots(service, bookable_days(rules)).values() for s in day
    ]
    for n, slot in enumerate(slots[:BOOKINGS]):
        book(service=service, starts_at=slot, email=f"b-{tag}-{n}@example.org")


def _plain_inserts(service: Service, count: int) -> None:
    start = timezone.now() + timedelta(days=400)
    for n in range(count):
        with transaction.atomic():
            Booking.objects.create(
                service=service,
                starts_at=start + timedelta(hours=n),
                ends_at=start + timedelta(hours=n, minutes=60),
                origin="staff",
            )


def _drafts(tag: str) -> None:
    idle = timezone.now() - timedelta(hours=1)
    BookingDraft.objects.bulk_create(
        BookingDraft(
            token=new_draft_token(),
            email=f"d-{tag}-{n}@example.org",
            updated_at=idle,
            created_at=idle,
        )
        for n in range(DRAFTS)
    )


@contextmanager
def _tasks_inline() -> Iterator[None]:
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
        ):
            mail.outbox = []
            yield
    finally:
        app.conf.task_always_eager = eager


def run(report: Report) -> None:
    with _tasks_inline(), warnings.catch_warnings():
        # WhiteNoise warns once that STATIC_ROOT was never collected.
        warnings.filterwarnings("ignore", message="No directory at")
        _run(report)


def _run(report: Report) -> None:
    tag = uuid.uuid4().hex[:8]
    service = _reset()

    booking_rate = BOOKINGS / timed(lambda: _fill(service, tag))
    if len(mail.outbox) != BOOKINGS:
        raise AssertionError(f"{len(mail.outbox)} confirmations for {BOOKINGS}")
    plain_rate = 200 / timed(lambda: _plain_inserts(service, 200))
    report.figure(
        "plain Booking insert, one transaction each (baseline)", plain_rate, "/s"
    )
    report.figure(
        "book(): slot check, units, new customer, email",
        booking_rate,
        "/s",
        baseline=plain_rate,
    )

    days = bookable_days(BookingSettings.load())
    month = timed(lambda: free_slots(service, days), repeat=5)
    report.figure(
        f"free slots for {len(days)} days beside {BOOKINGS} bookings",
        month * 1000,
        "ms",
        target="< 100 ms",
        higher_is_better=False,
    )
    client = Client(HTTP_HOST="localhost")
    # Plain static files: the bench does not run collectstatic.
    with override_settings(STORAGES=PLAIN_STATIC):
        page = timed(lambda: client.get(f"/book/?service={service.pk}"), repeat=10)
    report.figure(
        "GET /book/ with a service picked",
        page * 1000,
        "ms",
        target="< 150 ms",
        higher_is_better=False,
    )

    _drafts(tag)
    sweep = DRAFTS / timed(capture_abandoned_drafts)
    report.figure(
        "abandon sweep: drafts captured as prospects", sweep, "/s", baseline=plain_rate
    )
