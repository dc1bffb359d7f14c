"""Bulk-load prospects with COPY, for benchmarks and big demo databases."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from contacts.demo import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    SOURCE_WEIGHTS,
    STREETS,
    ascii_slug,
)
from contacts.models import ActivityKind, Contact, Stage, Status

_CONTACT_COLUMNS = (
    "id",
    "stage",
    "status",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "source",
    "source_detail",
    "internal_info",
    "tags",
    "created_at",
    "updated_at",
    "last_activity_at",
)


def _reserve_ids(count: int) -> range:
    """Take `count` ids from the contacts sequence in one step."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('contacts_contact', 'id'),"
            " nextval(pg_get_serial_sequence('contacts_contact', 'id')) + %s - 1)",
            [count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def _phone(contact_id: int) -> str:
    # Unique per id, in the 2xx-9xx area codes of the North American plan.
    return f"+1{200 + contact_id // 10_000_000 % 800}{contact_id % 10_000_000:07d}"


def _rows(ids: range, rng: random.Random, now: datetime, days: int) -> Iterator[tuple]:
    sources = list(SOURCE_WEIGHTS)
    weights = list(SOURCE_WEIGHTS.values())
    statuses = list(Status)
    for contact_id in ids:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = now - timedelta(seconds=rng.randint(60, days * 86400))
        email = f"{ascii_slug(first + '.' + last)}.{contact_id}@example.net"
        yield (
            contact_id,
            Stage.PROSPECT.value,
            rng.choice(statuses).value,
            first,
            last,
            email,
            _phone(contact_id),
            f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            rng.choice(CITIES),
            "TX",
            "",
            "",
            rng.choices(sources, weights)[0].value,
            "",
            "",
            "{}",
            created,
            created,
            created,
        )


def bulk_prospects(
    count: int, *, seed: int = 1, days: int = 365, batch: int = 50_000
) -> int:
    """Insert `count` prospects with their identifiers and a timeline entry."""
    rng = random.Random(seed)
    now = timezone.now()
    done = 0
    while done < count:
        size = min(batch, count - done)
        with transaction.atomic():
            rows = list(_rows(_reserve_ids(size), rng, now, days))
            _copy_batch(rows)
        done += size
    return done


def _copy_batch(rows: list[tuple]) -> None:
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        columns = ", ".join(_CONTACT_COLUMNS)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with cursor.copy(
            "COPY contacts_identifier (contact_id, kind, value, source, created_at)"
            " FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((row[0], "email", row[5], row[12], row[16]))
                copy.write_row((row[0], "phone", row[6], row[12], row[16]))
        with cursor.copy(
            "COPY contacts_activity (contact_id, kind, source, summary, data,"
            " occurred_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (
                        row[0],
                        ActivityKind.CREATED.value,
                        row[12],
                        "New prospect",
                        "{}",
                        row[16],
                    )
                )
