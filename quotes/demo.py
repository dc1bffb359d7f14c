"""Demo quotes and service requests for people the contacts demo made."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.models import Service
from contacts.models import Contact
from quotes.models import QuoteStatus, RequestStatus
from quotes.services import create_quote, create_service_request

EXTRAS = [
    ("Inside oven", "45"),
    ("Inside fridge", "35"),
    ("Windows, per pane", "6.50"),
    ("Balcony", "40"),
]


def seed(rng: random.Random) -> None:
    services = list(Service.objects.all()) or [None]
    pool = list(Contact.objects.live().order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(pool, min(15, len(pool)))
    people = sorted(Contact.objects.filter(pk__in=chosen), key=lambda c: c.pk)
    for person in people[:10]:
        service = rng.choice(services)
        lines = [
            {
                "description": service.name if service else "Cleaning",
                "quantity": Decimal("1"),
                "unit_price": service.price
                if service and service.price
                else Decimal("150"),
                "tax_rate": Decimal("8.25"),
            }
        ]
        for description, price in rng.sample(EXTRAS, rng.randint(0, 2)):
            lines.append(
                {
                    "description": description,
                    "quantity": Decimal(rng.randint(1, 8)),
                    "unit_price": Decimal(price),
                    "tax_rate": Decimal("8.25"),
                }
            )
        # Written some days ago; an expired quote's date has passed.
        written = timezone.now() - timedelta(days=rng.randint(0, 45))
        status = rng.choice(list(QuoteStatus))
        valid_days = rng.choice([14, 30])
        if status == QuoteStatus.EXPIRED:
            written = timezone.now() - timedelta(days=valid_days + rng.randint(1, 20))
        create_quote(
            contact=person,
            lines=lines,
            status=status,
            valid_until=timezone.localdate(written) + timedelta(days=valid_days),
            notes="Prices include supplies.",
            created_at=written,
        )
    for person in people[10:]:
        service = rng.choice(services)
        create_service_request(
            contact=person,
            service=service,
            service_wanted=service.name if service else "Cleaning",
            description=rng.choice(["Three bedrooms.", "After a renovation.", ""]),
            address=person.address,
            preferred_dates=rng.choice(["Weekday mornings", "Any Saturday", ""]),
            status=rng.choice(list(RequestStatus)),
        )
