"""Demo data for the prospect screens, on top of the people contacts seeded.

Adds what those screens show beyond plain people: look-alike records for
"Possible duplicates", staff edits and status changes on timelines, and a
referral typed in by hand. Everything goes through the same services staff
use.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model

from contacts.models import Contact, Source, Status
from contacts.services import capture_contact, update_contact
from prospects import services


def _team() -> list:
    return list(get_user_model().objects.filter(is_active=True).order_by("pk"))


def _look_alikes(rng: random.Random, people: list[Contact]) -> None:
    """Give a few people a second record: same name and city, other email."""
    named = [p for p in people if p.first_name and p.city]
    for index, person in enumerate(rng.sample(named, k=min(4, len(named)))):
        capture_contact(
            source=rng.choice([Source.CHAT, Source.BOOKING_PAGE]),
            email=f"{person.first_name.lower()}.{index}@mail.example.org",
            details={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "city": person.city,
            },
        )


def _staff_work(rng: random.Random, people: list[Contact], team: list) -> None:
    """Edits and status changes, as staff leave them on timelines."""
    for person in rng.sample(people, k=min(10, len(people))):
        update_contact(
            contact=person,
            actor=rng.choice(team),
            changes={"internal_info": "Prefers a call after 5 pm."},
        )
    picked = [p.pk for p in rng.sample(people, k=min(15, len(people)))]
    services.set_status(
        ids=picked, status=Status.CONTACTED, actor=team[0], stage="prospect"
    )


def seed(rng: random.Random) -> None:
    team = _team()
    people = list(Contact.objects.prospects().order_by("pk")[:200])
    if not team or not people:
        return
    _look_alikes(rng, people)
    _staff_work(rng, people, team)
    services.create_prospect(
        source=Source.REFERRAL,
        email="",
        phone="+15125550999",
        details={
            "first_name": "Rosa",
            "last_name": "Delgado",
            "city": "Austin",
            "source_detail": "Referred by a customer",
            "owner": team[0],
        },
        actor=team[0],
        first_note="Needs a move-out clean at the end of the month.",
        permissions=["sms"],
    )
