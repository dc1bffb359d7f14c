"""Two visitors submit the same slot at once, on separate connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from bookings.models import BookedUnit, Booking
from bookings.services import SlotUnavailable, book

pytestmark = pytest.mark.django_db(transaction=True)

SLOT = datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("America/Chicago"))


def run_at_once(*targets: Callable[[], object]) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def worker(target: Callable[[], object]) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as error:  # noqa: BLE001 - the test inspects them
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def visitor(
    service: object, email: str, start: datetime = SLOT
) -> Callable[[], object]:
    return lambda: book(service=service, starts_at=start, email=email, origin="staff")


def test_two_simultaneous_submits_of_one_slot_make_one_booking(deep_clean) -> None:
    errors = run_at_once(
        visitor(deep_clean, "ana@example.com"), visitor(deep_clean, "lee@example.com")
    )

    assert Booking.objects.count() == 1
    assert [type(error) for error in errors] == [SlotUnavailable]


def test_overlapping_slots_submitted_at_once_make_one_booking(deep_clean) -> None:
    errors = run_at_once(
        visitor(deep_clean, "ana@example.com"),
        visitor(deep_clean, "lee@example.com", SLOT + timedelta(minutes=60)),
        visitor(deep_clean, "kim@example.com", SLOT - timedelta(minutes=90)),
    )

    assert Booking.objects.count() + len(errors) == 3
    assert BookedUnit.objects.count() == 8 * Booking.objects.count()
    starts = sorted(Booking.objects.values_list("starts_at", flat=True))
    assert all(
        b - a >= timedelta(hours=2) for a, b in zip(starts, starts[1:], strict=False)
    )


def test_the_database_refuses_a_second_booking_of_a_held_unit(deep_clean) -> None:
    book(service=deep_clean, starts_at=SLOT, email="ana@example.com", origin="staff")

    with pytest.raises(SlotUnavailable):
        book(
            service=deep_clean, starts_at=SLOT, email="lee@example.com", origin="staff"
        )
