"""Demo services, hours, bookings and abandoned visits, made through services."""

from __future__ import annotations

import random
from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.availability import bookable_days, free_slots
from bookings.models import (
    BookingDraft,
    BookingOrigin,
    BookingSettings,
    BusinessHours,
    ClosedDay,
    Service,
)
from bookings.services import (
    SlotUnavailable,
    book,
    capture_abandoned_drafts,
    new_draft_token,
)
from contacts.models import Contact

SERVICES = [
    ("Standard clean", "Kitchen, bathrooms, floors and dusting.", 120, "140", False),
    (
        "Deep clean",
        "Everything in a standard clean, plus inside ovens.",
        180,
        "220",
        False,
    ),
    ("Move-out clean", "Empty home, ready for the inspection.", 240, "320", True),
    ("Carpet shampoo", "Per room; stains treated first.", 60, "60", True),
]
VISITORS = [
    ("Rosa Delgado", "rosa.delgado@example.net", "(512) 555-0142"),
    ("Ben Okoye", "", "(512) 555-0177"),
    ("Clara Jensen", "clara.jensen@example.org", ""),
]


def _setup() -> list[Service]:
    BookingSettings.load()
    for weekday in range(5):
        BusinessHours.objects.get_or_create(
            weekday=weekday, defaults={"opens": time(8), "closes": time(17)}
        )
    BusinessHours.objects.get_or_create(
        weekday=5, defaults={"opens": time(9), "closes": time(13)}
    )
    today = timezone.localdate()
    ClosedDay.objects.get_or_create(
        date=today.replace(month=12, day=25)
        if today < today.replace(month=12, day=25)
        else today.replace(year=today.year + 1, month=12, day=25),
        defaults={"reason": "Christmas"},
    )
    services = []
    for position, (name, description, minutes, price, is_from) in enumerate(SERVICES):
        service, _ = Service.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "duration_minutes": minutes,
                "price": Decimal(price),
                "price_is_from": is_from,
                "position": position,
            },
        )
        services.append(service)
    return services


def _book_some(rng: random.Random, services: list[Service]) -> None:
    rules = BookingSettings.load()
    pool = list(Contact.objects.live().order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(pool, min(12, len(pool)))
    people = list(Contact.objects.filter(pk__in=chosen).order_by("pk"))
    days = bookable_days(rules)[1:15]
    for person in people:
        service = rng.choice(services)
        slots = [
            s for day_slots in free_slots(service, days).values() for s in day_slots
        ]
        if not slots:
            continue
        try:
            book(
                service=service,
                starts_at=rng.choice(slots),
                contact=person,
                name=person.name,
                email=person.email,
                phone=person.phone,
                origin=BookingOrigin.STAFF,
                # Demo people have made-up addresses: never email them.
                send_confirmation=False,
            )
        except SlotUnavailable:
            continue


def _abandon_some(rng: random.Random, services: list[Service]) -> None:
    idle = timezone.now() - timedelta(hours=2)
    for name, email, phone in VISITORS:
        service = rng.choice(services)
        slots = free_slots(service, bookable_days(BookingSettings.load())[2:5])
        choice = next((s for day in slots.values() for s in day), None)
        BookingDraft.objects.create(
            token=new_draft_token(),
            service=service,
            slot=choice,
            name=name,
            email=email,
            phone=phone,
            message=rng.choice(["", "We have a dog.", "Can you bring supplies?"]),
            created_at=idle,
            updated_at=idle,
        )
    capture_abandoned_drafts()


def seed(rng: random.Random) -> None:
    services = _setup()
    _book_some(rng, services)
    _abandon_some(rng, services)
