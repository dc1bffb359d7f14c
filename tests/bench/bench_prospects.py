"""CRM → Prospects list: server time at 10,000 and 1,000,000 prospects.

Each figure is the median time of a full request through the Django stack
(middleware, session, filters, queries, template), measured in-process with
the test client. The 1,000,000 step takes about a minute to seed; set
BENCH_PROSPECTS_MILLION=0 to skip it. Data lives in a database of its own
per size (bench_<database>_prospects_<size>), so other benchmarks running
beside it are safe and the million rows stay between runs.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from tests.bench.report import Report

SIZES = (10_000, 1_000_000)
RUNS = 31
TARGET_MS = 50.0
TARGET_RATIO = 1.5
_INDEX = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)?"
    r" (?:using|on) (\w+)"
)


def _use_database(base: str, size: int) -> None:
    """Switch to this size's own database, created and migrated if need be.

    One database per size, so that the million rows seeded once stay for
    the next run instead of being replaced by the 10,000 and seeded again.
    """
    from django.core.management import call_command

    database = f"{base}_prospects_{size}"
    connection.close()
    settings.DATABASES["default"]["NAME"] = base
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if not cursor.fetchone():
            cursor.execute(f"CREATE DATABASE {database}")
    connection.close()
    settings.DATABASES["default"]["NAME"] = database
    call_command("migrate", verbosity=0)


def _seed(size: int) -> None:
    from contacts.bulk import bulk_prospects
    from contacts.models import Contact

    if Contact.objects.prospects().count() != size:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE contacts_contact, contacts_identifier, contacts_activity,"
                " contacts_note, contacts_communicationpermission,"
                " contacts_permissionchange, contacts_possibleduplicate CASCADE"
            )
        started = time.monotonic()
        bulk_prospects(size)
        print(f"   seeded {size:,} prospects in {time.monotonic() - started:.0f} s")
    # Every run: a migration may have rewritten the table since the seed,
    # and index-only scans need the visibility map that VACUUM sets. On a
    # table that is already clean this takes about a second.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("VACUUM ANALYZE contacts_identifier")


def _deep_cursor(size: int) -> str:
    """Return the "Older" cursor of a page 90% of the way down the list."""
    from contacts.models import Contact
    from prospects.pagination import encode_cursor

    offset = int(size * 0.9)
    row = (
        Contact.objects.prospects()
        .order_by("-created_at", "-id")
        .values_list("created_at", "id")[offset : offset + 1]
        .get()
    )
    return encode_cursor(list(row))


def _client() -> Client:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"first_name": "Bench"}
    )
    client = Client()
    client.force_login(user)
    return client


def _median_ms(request: Callable[[], Any]) -> float:
    for _ in range(2):
        request()  # warm caches: the first request pays for imports and plans
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = request()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(samples)


def _indexes(client: Client, params: dict[str, str]) -> str:
    """Return the indexes PostgreSQL plans for the rows and count queries."""
    with CaptureQueriesContext(connection) as queries:
        client.get("/prospects/", params)
    used = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if "contacts_contact" not in sql or sql.startswith("EXPLAIN"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
        names = sorted(set(_INDEX.findall(plan))) or ["sequential scan"]
        used.append(f"{_kind(sql)}: {', '.join(names)}")
    return "; ".join(used)


def _kind(sql: str) -> str:
    """Name the list page's query: see prospects.selectors.list_page."""
    if sql.startswith("SELECT count(*)"):
        return "capped count"
    if sql.startswith("SELECT CASE"):
        return "capped count of each way to match"
    if "count(*) OVER ()" in sql:
        return "sort keys of the matches"
    if '"contacts_contact"."id" IN (' in sql:
        return "page rows by id"
    return "page rows"


def _next_cursor(client: Client, params: dict[str, str]) -> str:
    """Return the "Older" cursor of a list page, read from its link."""
    html = client.get("/prospects/", params).content.decode()
    found = re.search(r'rel="next" href="[^"]*after=([\w-]+)', html)
    assert found, "the page has no Older link"
    return found.group(1)


def _cases(size: int, client: Client) -> dict[str, dict[str, str]]:
    first_name = {"q": "priya"}
    return {
        "first page": {},
        "source + period filter": {"source": "booking_page", "period": "30d"},
        # The synthetic data has 28 first and ~30 last names: a full name
        # matches ~15 people at 10k and ~1,500 at 1M; one first name ~360
        # and ~36,000.
        "name search": {"q": "priya patel"},
        "first-name search": first_name,
        "first-name search, page 2": {
            **first_name,
            "after": _next_cursor(client, first_name),
        },
        "deep page (90% down)": {"after": _deep_cursor(size)},
    }


def run(report: Report) -> None:
    # The test client's host, and static files straight from the app folders
    # (no collectstatic here), as in the test suite.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], STORAGES=plain_static
    ):
        base = settings.DATABASES["default"]["NAME"]
        try:
            _measure(report, base=base)
        finally:
            connection.close()
            settings.DATABASES["default"]["NAME"] = base


def _measure(report: Report, *, base: str) -> None:
    sizes = SIZES
    if os.environ.get("BENCH_PROSPECTS_MILLION") == "0":
        sizes = SIZES[:1]
    figures: dict[str, dict[int, float]] = {}
    for size in sizes:
        _use_database(base, size)
        _seed(size)
        client = _client()
        for label, params in _cases(size, client).items():
            ms = _median_ms(lambda c=client, p=params: c.get("/prospects/", p))
            figures.setdefault(label, {})[size] = ms
            target = f"< {TARGET_MS:.0f} ms" if size == SIZES[-1] else ""
            report.figure(f"{label} at {size:,}", ms, "ms", target=target)
            report.note(f"    plan: {_indexes(client, params)}")
    if len(sizes) < 2:
        report.note("1,000,000 step skipped (BENCH_PROSPECTS_MILLION=0)")
        return
    for label, by_size in figures.items():
        ratio = by_size[SIZES[1]] / by_size[SIZES[0]]
        report.figure(f"{label}: 1M / 10k", ratio, "x", target=f"<= {TARGET_RATIO}")
