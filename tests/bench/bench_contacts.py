"""The identity engine: captures per second against plain single-row inserts."""

from __future__ import annotations

import uuid

from django.db import connection, transaction

from contacts.models import Contact, Source
from contacts.services import capture_contact
from tests.bench.report import Report, timed

COUNT = 2000


def _plain_inserts(tag: str) -> None:
    for n in range(COUNT):
        with transaction.atomic():
            Contact.objects.create(email=f"plain-{tag}-{n}@example.org")


def _new_people(tag: str) -> None:
    for n in range(COUNT):
        capture_contact(
            source=Source.SMS,
            email=f"new-{tag}-{n}@example.org",
            phone=f"+1737{n:07d}",
            details={"first_name": "Bench"},
        )


def _known_people(tag: str) -> None:
    for n in range(COUNT):
        capture_contact(source=Source.CHAT, email=f"new-{tag}-{n}@example.org")


def run(report: Report) -> None:
    tag = uuid.uuid4().hex[:8]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM contacts_identifier WHERE value LIKE '+1737%%'")

    plain = COUNT / timed(lambda: _plain_inserts(tag))
    report.figure("plain Contact insert, one transaction each (baseline)", plain, "/s")
    new = COUNT / timed(lambda: _new_people(tag))
    report.figure("capture of a new person (email + phone)", new, "/s", baseline=plain)
    known = COUNT / timed(lambda: _known_people(tag))
    report.figure("capture of a known person (email)", known, "/s", baseline=plain)
