from __future__ import annotations

import pytest
from django.db import connection

from prospects.importing import engine
from tests.imports.helpers import run

pytestmark = pytest.mark.django_db(transaction=True)


def _planned_identifiers() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'contacts_identifier'::regclass"
        )
        return cursor.fetchone()[0]


def test_a_table_analyzed_while_empty_is_analyzed_once_it_holds_rows(
    write_csv,
) -> None:
    # Planned on the statistics of an empty table, each of a batch's 10,000
    # lookups scanned these 500 identifiers: half a second instead of 15 ms.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_identifier")
    rows = "".join(f"P{n},p{n}@example.com\n" for n in range(500))
    run(write_csv("Name,Email\n" + rows))
    assert _planned_identifiers() == 0

    engine.refresh_statistics()

    assert _planned_identifiers() == 500
