"""CSV downloads of the wizard: the error report and the sample file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from prospects.exporting import neutralise
from prospects.importing.columns import EXPORT_HEADERS
from prospects.importing.models import ImportJob


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> str:
    """Return a cell a spreadsheet will not run as a formula (OWASP)."""
    return neutralise("" if value is None else str(value))


def csv_response(rows: Iterable[list[object]], filename: str) -> StreamingHttpResponse:
    """Stream rows as a UTF-8 CSV download (with a BOM, for Excel)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    safe_name = filename.replace('"', "").replace("\n", " ")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


def error_rows(job: ImportJob, phase: str) -> Iterator[list[object]]:
    yield ["Line", "Column", "Value", "Reason"]
    errors = job.errors.filter(phase=phase).order_by("line", "pk")
    for error in errors.values_list("line", "column", "value", "reason").iterator(
        chunk_size=2000
    ):
        yield list(error)


SAMPLE_ROWS = [
    [
        "Ana",
        "García",
        "ana@example.com",
        "+1 415 555 0101",
        "12 Mission St",
        "San Francisco",
        "CA",
        "94105",
        "United States",
        "Booking page",
        "New",
        "",
        "2026-01-15",
        "Prefers mornings",
        "granted",
        "unknown",
        "carpet, vip",
        "2025-11-03T10:02:00+00:00",
    ],
    [
        "Lee",
        "Okafor",
        "",
        "(415) 555-0102",
        "",
        "Oakland",
        "CA",
        "",
        "",
        "Referral",
        "Contacted",
        "",
        "",
        "",
        "unknown",
        "granted",
        "",
        "2025-12-01",
    ],
]


def sample_rows() -> Iterator[list[object]]:
    yield list(EXPORT_HEADERS)
    yield from SAMPLE_ROWS
