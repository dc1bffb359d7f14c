"""Two visitors submit the same slot at once, on separate connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
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


def test_with_two_seats_two_simultaneous_submits_both_book(deep_clean) -> None:
    deep_clean.capacity = 2
    deep_clean.save()

    errors = run_at_once(
        visitor(deep_clean, "ana@example.com"),
        visitor(deep_clean, "lee@example.com"),
        visitor(deep_clean, "kim@example.com"),
    )

    seats = set(BookedUnit.objects.values_list("seat", flat=True))
    assert Booking.objects.count() == 2 and seats == {0, 1}
    assert [type(error) for error in errors] == [SlotUnavailable]


def test_the_database_refuses_a_second_booking_of_a_held_unit(deep_clean) -> None:
    book(service=deep_clean, starts_at=SLOT, email="ana@example.com", origin="staff")

    with pytest.raises(SlotUnavailable):
        book(
            service=deep_clean, starts_at=SLOT, email="lee@example.com", origin="staff"
        )


def test_the_visitor_who_loses_the_race_is_told_and_keeps_what_they_typed(
    deep_clean,
) -> None:
    from django.test import Client
    from django.urls import reverse

    responses = {}
    slot = datetime(2030, 1, 7, 10, tzinfo=ZoneInfo("America/Chicago"))

    def submit(name: str) -> Callable[[], object]:
        def post() -> None:
            responses[name] = Client().post(
                reverse("bookings:public"),
                {
                    "service": deep_clean.pk,
                    "slot": slot.isoformat(),
                    "name": name,
                    "email": f"{name.lower()}@example.com",
                    "message": f"Note from {name}",
                    "action": "book",
                },
            )

        return post

    with time_machine.travel(datetime(2030, 1, 2, 12, tzinfo=UTC), tick=False):
        errors = run_at_once(submit("Ana"), submit("Lee"))

    statuses = sorted(r.status_code for r in responses.values())
    loser = next(name for name, r in responses.items() if r.status_code == 422)
    page = responses[loser].content.decode()
    assert not errors and statuses == [302, 422] and Booking.objects.count() == 1
    assert "just taken" in page and f"Note from {loser}" in page
