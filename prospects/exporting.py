"""Export prospects or customers to CSV and XLSX, in the importer's own columns.

The column names and value formats are a contract with the import wizard
(prospects/importing): a file exported here imports back unchanged.

Formula injection (OWASP): a cell that begins with =, +, -, @, tab, CR or LF
is prefixed with a single quote, so a spreadsheet shows it as text instead of
running it. That includes E.164 phones ("'+15550102030"): the importer strips
one leading quote before such a character, so phones survive the round trip.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, PermissionState, Source, Status

COLUMNS = (
    "First name",
    "Last name",
    "Email",
    "Phone",
    "Street",
    "City",
    "Region",
    "Postal code",
    "Country",
    "Source",
    "Status",
    "Owner email",
    "Follow-up date",
    "Internal information",
    "Email permission",
    "SMS permission",
    "Tags",
    "Created date",
)
# Cells a spreadsheet would run as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SOURCES = dict(Source.choices)
_STATUSES = dict(Status.choices)
CHUNK = 2000


def neutralise(value: str) -> str:
    """Return the cell text a spreadsheet will not read as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def row(contact: Contact) -> list[str]:
    """Return one contact as export cells, already neutralised.

    `contact` comes from prospects.selectors.export_queryset, which annotates
    the email and SMS permission states.
    """
    values = [
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
        contact.street,
        contact.city,
        contact.region,
        contact.postal_code,
        contact.country,
        _SOURCES.get(contact.source, contact.source),
        _STATUSES.get(contact.status, contact.status),
        contact.owner.email if contact.owner else "",
        contact.follow_up_on.isoformat() if contact.follow_up_on else "",
        contact.internal_info,
        getattr(contact, "email_permission", None) or PermissionState.UNKNOWN.value,
        getattr(contact, "sms_permission", None) or PermissionState.UNKNOWN.value,
        ", ".join(contact.tags),
        timezone.localtime(contact.created_at).isoformat(),
    ]
    return [neutralise(str(value)) for value in values]


def rows(queryset: QuerySet[Contact]) -> Iterator[list[str]]:
    """Yield the header, then one row per contact, reading in chunks."""
    yield list(COLUMNS)
    for contact in queryset.iterator(chunk_size=CHUNK):
        yield row(contact)


class _Echo:
    """A file that hands back what is written, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: Iterable[list[str]]) -> Iterator[str]:
    """Yield CSV text line by line, starting with a UTF-8 BOM for Excel."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for cells in table:
        yield writer.writerow(cells)


def xlsx_bytes(table: Iterable[list[str]]) -> bytes:
    """Return the table as an XLSX workbook, every cell stored as text.

    A workbook has no need of the CSV's guarding quote, which Excel would
    show: a cell that begins like a formula is stored without it and marked
    with Excel's own text prefix (quotePrefix), so it stays text even when
    someone edits it.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for cells in table:
        line: list[Any] = []
        for value in cells:
            if value[:1] == "'" and value[1:].startswith(FORMULA_STARTS):
                cell = WriteOnlyCell(sheet, value=value[1:])
                cell.data_type = "s"  # text, not the formula it looks like
                cell.quotePrefix = True
                line.append(cell)
            else:
                # A plain str is stored as text: openpyxl reads nothing into
                # it but a leading "=", which every cell here has guarded.
                # (A styled cell per value made exports ten times slower.)
                line.append(value)
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(stage_label: str, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    return f"{stage_label}-{stamp}.{extension}"


def export_values(contact: Any) -> dict[str, str]:
    """Return one contact's export as {column: cell}, for tests and previews."""
    return dict(zip(COLUMNS, row(contact), strict=True))
