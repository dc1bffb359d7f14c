"""Believable demo people, made through the same services users go through."""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from contacts.models import Channel, Contact, PermissionState, Source, Status
from contacts.services import (
    add_note,
    capture_contact,
    convert_to_customer,
    set_permission,
)
from miocrm.access import ADMIN_GROUP

FIRST_NAMES = [
    "Ana",
    "José",
    "Lee",
    "Priya",
    "Tom",
    "Zoë",
    "Łukasz",
    "Mei",
    "Omar",
    "Grace",
    "Diego",
    "Hannah",
    "Kwame",
    "Sofia",
    "Liam",
    "Aisha",
    "Noah",
    "Emma",
    "Yuki",
    "Carlos",
    "Fatima",
    "Ben",
    "Chloé",
    "Ivan",
    "Maya",
    "Sam",
    "Nina",
    "Leo",
]
LAST_NAMES = [
    "García",
    "Okafor",
    "Brown",
    "Patel",
    "Nguyen",
    "Kowalski",
    "Smith",
    "Haddad",
    "Müller",
    "Rossi",
    "Kim",
    "Johnson",
    "Silva",
    "O'Brien",
    "Dubois",
    "Tanaka",
    "Martínez",
    "Walker",
    "Lopez",
    "Schmidt",
    "Novak",
    "Ahmed",
    "Clarke",
    "Reyes",
]
CITIES = ["Austin", "Round Rock", "Cedar Park", "Pflugerville", "Georgetown", "Kyle"]
STREETS = ["Elm St", "Oak Ave", "Lamar Blvd", "Congress Ave", "Burnet Rd", "Cedar Ln"]
NOTES = [
    "Called, no answer. Try again Friday.",
    "Wants a quote for a deep clean before moving out.",
    "Asked about carpet cleaning prices.",
    "Prefers text over calls.",
    "Has two dogs; mention pet-safe products.",
    "Referred by a neighbour on Elm St.",
    "Left a voicemail.",
]
SOURCE_WEIGHTS = {
    Source.BOOKING_PAGE: 20,
    Source.CHAT: 10,
    Source.SMS: 14,
    Source.EMAIL: 10,
    Source.GOOGLE_BUSINESS: 3,
    Source.MESSENGER: 6,
    Source.INSTAGRAM: 6,
    Source.MANUAL: 8,
    Source.IMPORT: 10,
    Source.REFERRAL: 5,
    Source.PHONE_CALL: 5,
    Source.QUOTE: 2,
    Source.SERVICE_REQUEST: 2,
}
HANDLE_SOURCES = {
    Source.MESSENGER: "messenger",
    Source.INSTAGRAM: "instagram",
    Source.GOOGLE_BUSINESS: "google_business",
    Source.CHAT: "chat",
}


def staff_users() -> list:
    """Create the demo team: an admin and two staff members."""
    User = get_user_model()
    admins, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    team = []
    for username, first, last, is_admin in [
        ("sam", "Sam", "Rivera", True),
        ("alex", "Alex", "Chen", False),
        ("jordan", "Jordan", "Baker", False),
    ]:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
            },
        )
        if created:
            user.set_unusable_password()
            user.save()
        if is_admin:
            user.groups.add(admins)
        team.append(user)
    return team


def ascii_slug(text: str) -> str:
    """Return text folded to lower-case ASCII letters, for demo addresses."""
    folded = unicodedata.normalize("NFKD", text.replace("Ł", "L").replace("ł", "l"))
    return "".join(
        c for c in folded.lower() if c.isascii() and (c.isalnum() or c == ".")
    )


def _person(rng: random.Random, index: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    slug = ascii_slug(f"{first}.{last}")
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{slug}.{index}@example.com",
        "phone": f"+1512555{index % 10000:04d}",
        "street": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
        "city": rng.choice(CITIES),
        "region": "TX",
    }


def seed_people(rng: random.Random, count: int, team: list) -> list[Contact]:
    """Capture `count` people from every source, spread over 90 days."""
    now = timezone.now()
    sources = list(SOURCE_WEIGHTS)
    weights = list(SOURCE_WEIGHTS.values())
    people = []
    for index in range(count):
        source = rng.choices(sources, weights)[0]
        person = _person(rng, index)
        when = now - timedelta(minutes=rng.randint(5, 90 * 24 * 60))
        handles = {}
        if source in HANDLE_SOURCES:
            handles[HANDLE_SOURCES[source]] = f"demo-{source}-{index}"
        email = person.pop("email") if rng.random() < 0.8 else ""
        phone = person.pop("phone") if rng.random() < 0.75 or not email else ""
        details = {
            **{k: v for k, v in person.items() if k not in ("email", "phone")},
            "created_at": when,
            "status": rng.choices(list(Status), [50, 25, 15, 10])[0],
            "owner": rng.choice([None, *team]),
        }
        if rng.random() < 0.3:
            details["follow_up_on"] = (now + timedelta(days=rng.randint(-5, 14))).date()
        result = capture_contact(
            source=source, email=email, phone=phone, handles=handles, details=details
        )
        people.append(result.contact)
    return people


def seed(rng: random.Random, *, people: int = 300) -> list[Contact]:
    """Seed the demo team and people with notes, permissions and customers."""
    team = staff_users()
    contacts = seed_people(rng, people, team)
    for contact in rng.sample(contacts, k=len(contacts) // 3):
        add_note(contact=contact, author=rng.choice(team), body=rng.choice(NOTES))
    for contact in rng.sample(contacts, k=len(contacts) // 4):
        channel = rng.choice([Channel.EMAIL, Channel.SMS])
        state = rng.choice([PermissionState.GRANTED, PermissionState.REVOKED])
        set_permission(contact=contact, channel=channel, state=state, via="demo data")
    for contact in rng.sample(contacts, k=len(contacts) // 5):
        convert_to_customer(contact=contact, actor=rng.choice(team))
    return contacts
