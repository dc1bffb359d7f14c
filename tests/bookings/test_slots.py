from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings.availability import free_slots, local_instant
from bookings.models import BusinessHours, ClosedDay, Service
from bookings.services import book

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 12, 7)
# Well before Monday, so the lead time never gets in the way.
EARLIER = datetime(2026, 12, 1, 12, tzinfo=UTC)


def local_times(slots: list[datetime]) -> list[str]:
    return [slot.astimezone(CHICAGO).strftime("%H:%M") for slot in slots]


def test_slots_fill_opening_hours_with_room_for_the_duration(deep_clean) -> None:
    slots = free_slots(deep_clean, [MONDAY], now=EARLIER)[MONDAY]

    assert (
        local_times(slots)
        == [f"{hour:02d}:{minute:02d}" for hour in range(8, 16) for minute in (0, 30)][
            :-1
        ]
    )


def test_a_longer_service_ends_by_closing_time(move_out) -> None:
    slots = free_slots(move_out, [MONDAY], now=EARLIER)[MONDAY]

    assert local_times(slots)[-1] == "13:00"


def test_slots_sooner_than_the_lead_time_are_not_offered(deep_clean) -> None:
    now = datetime(2026, 12, 7, 9, 10, tzinfo=CHICAGO)

    slots = free_slots(deep_clean, [MONDAY], now=now)[MONDAY]

    assert local_times(slots)[0] == "11:30"


def test_existing_booking_blocks_every_overlapping_slot(deep_clean) -> None:
    book(
        service=deep_clean,
        starts_at=datetime(2026, 12, 7, 10, tzinfo=CHICAGO),
        email="ana@example.com",
        origin="staff",
    )

    slots = local_times(free_slots(deep_clean, [MONDAY], now=EARLIER)[MONDAY])

    assert "08:00" in slots and "12:00" in slots
    assert not {"08:30", "09:00", "10:00", "11:30"} & set(slots)


def test_a_service_with_more_capacity_can_overlap_a_booking(deep_clean) -> None:
    book(
        service=deep_clean,
        starts_at=datetime(2026, 12, 7, 10, tzinfo=CHICAGO),
        email="ana@example.com",
        origin="staff",
    )
    group = Service.objects.create(name="Window team", duration_minutes=60, capacity=2)

    slots = local_times(free_slots(group, [MONDAY], now=EARLIER)[MONDAY])

    assert "10:00" in slots


def test_closed_days_and_days_without_hours_have_no_slots(deep_clean) -> None:
    ClosedDay.objects.create(date=MONDAY, reason="Holiday")
    sunday = MONDAY - timedelta(days=1)

    slots = free_slots(deep_clean, [MONDAY, sunday], now=EARLIER)

    assert slots == {MONDAY: [], sunday: []}


def test_days_past_the_booking_horizon_have_no_slots(deep_clean, rules) -> None:
    rules.horizon_days = 3
    rules.save()

    slots = free_slots(deep_clean, [MONDAY], now=EARLIER)

    assert slots[MONDAY] == []


def _open_sunday(opens: time, closes: time) -> None:
    BusinessHours.objects.create(weekday=6, opens=opens, closes=closes)


def test_spring_forward_day_keeps_wall_clock_slots_in_office_hours(rules) -> None:
    _open_sunday(time(8), time(17))
    service = Service.objects.create(name="Hour", duration_minutes=60)
    day = date(2026, 3, 8)

    slots = free_slots(service, [day], now=datetime(2026, 3, 1, tzinfo=UTC))[day]

    assert local_times(slots)[0] == "08:00" and local_times(slots)[-1] == "16:00"
    assert slots[0] == datetime(2026, 3, 8, 13, tzinfo=UTC)  # CDT, UTC-5


def test_spring_forward_night_skips_the_missing_hour(rules) -> None:
    rules.slot_interval_minutes = 60
    rules.save()
    _open_sunday(time(0), time(5))
    service = Service.objects.create(name="Hour", duration_minutes=60)
    day = date(2026, 3, 8)

    slots = free_slots(service, [day], now=datetime(2026, 3, 1, tzinfo=UTC))[day]

    assert local_times(slots) == ["00:00", "01:00", "03:00", "04:00"]


def test_fall_back_night_offers_the_repeated_hour_twice(rules) -> None:
    rules.slot_interval_minutes = 60
    rules.save()
    _open_sunday(time(0), time(5))
    service = Service.objects.create(name="Hour", duration_minutes=60)
    day = date(2026, 11, 1)

    slots = free_slots(service, [day], now=datetime(2026, 10, 25, tzinfo=UTC))[day]

    assert local_times(slots) == ["00:00", "01:00", "01:00", "02:00", "03:00", "04:00"]
    assert len(set(slots)) == 6


def test_local_instant_reads_wall_clock_in_the_business_zone(rules) -> None:
    moment = local_instant(date(2026, 7, 1), time(9))

    assert moment == datetime(2026, 7, 1, 14, tzinfo=UTC)
