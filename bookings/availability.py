"""Free slots: opening hours, durations, existing bookings and lead time.

Opening hours are wall-clock times in the business time zone. Each day's
window is turned into two real instants and slots are stepped in real time
from the opening, so a day on which clocks change has an hour more or less,
and no slot names a wall-clock time that does not exist.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from bookings.models import (
    UNIT,
    BookedUnit,
    BookingSettings,
    BusinessHours,
    ClosedDay,
    Service,
)


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_instant(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    """Return the instant a wall-clock time happens on a day, in UTC.

    A time skipped by a spring-forward change resolves to the offset in
    force before it, which lands after the gap; a repeated time resolves to
    its first occurrence.
    """
    zone = zone or business_zone()
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_day_bounds(
    day: date, zone: ZoneInfo | None = None
) -> tuple[datetime, datetime]:
    """Return the first instant of the day and of the next, in UTC."""
    return local_instant(day, time(0), zone), local_instant(
        day + timedelta(days=1), time(0), zone
    )


def local_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(business_zone()).date()


def units_between(start: datetime, end: datetime) -> list[datetime]:
    """Return the starts of the 15-minute units covering [start, end)."""
    units = []
    unit = start
    while unit < end:
        units.append(unit)
        unit += UNIT
    return units


def floor_to_unit(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % 15)


def bookable_days(rules: BookingSettings, now: datetime | None = None) -> list[date]:
    """Return the days visitors may book on, from today to the horizon."""
    today = local_today(now)
    return [today + timedelta(days=n) for n in range(rules.horizon_days + 1)]


def _occupancy(start: datetime, end: datetime) -> Counter[datetime]:
    rows = (
        BookedUnit.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .values("starts_at")
        .annotate(taken=Count("id"))
    )
    return Counter({row["starts_at"]: row["taken"] for row in rows})


def free_slots(
    service: Service,
    days: list[date],
    *,
    now: datetime | None = None,
    rules: BookingSettings | None = None,
) -> dict[date, list[datetime]]:
    """Return, for each day, the start instants (UTC) at which `service` fits.

    A slot fits when it starts at least the lead time from now, ends by
    closing time, lies within the booking horizon and every unit it covers
    has a seat left. Reads the hours, closed days and bookings in 3 queries.
    """
    if not days:
        return {}
    now = now or timezone.now()
    rules = rules or BookingSettings.load()
    zone = business_zone()
    allowed = set(bookable_days(rules, now))
    hours = {h.weekday: h for h in BusinessHours.objects.all()}
    closed = set(
        ClosedDay.objects.filter(date__gte=min(days), date__lte=max(days)).values_list(
            "date", flat=True
        )
    )
    first, _ = local_day_bounds(min(days), zone)
    _, last = local_day_bounds(max(days), zone)
    taken = _occupancy(first, last + service.duration)

    earliest = now + timedelta(minutes=rules.lead_time_minutes)
    step = timedelta(minutes=rules.slot_interval_minutes)
    capacity = rules.capacity_for(service)
    result: dict[date, list[datetime]] = {}
    for day in days:
        opening = hours.get(day.weekday())
        result[day] = []
        if opening is None or day in closed or day not in allowed:
            continue
        start = local_instant(day, opening.opens, zone)
        closes = local_instant(day, opening.closes, zone)
        while start + service.duration <= closes:
            units = units_between(start, start + service.duration)
            if start >= earliest and all(taken[u] < capacity for u in units):
                result[day].append(start)
            start += step
    return result


def is_free(
    service: Service,
    start: datetime,
    *,
    now: datetime | None = None,
    rules: BookingSettings | None = None,
) -> bool:
    """Return whether a visitor may book `service` at `start` right now."""
    day = start.astimezone(business_zone()).date()
    return start in free_slots(service, [day], now=now, rules=rules)[day]
