"""Import a large CSV from the shell, on the same engine as the wizard."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from contacts.models import Source
from prospects.exporting import neutralise
from prospects.importing.columns import FIELD_KEYS, guess_mapping, normal_header
from prospects.importing.engine import BatchResult, Options, run_file
from prospects.importing.models import OnDuplicate
from prospects.importing.reader import FileRejected, inspect_file, iter_records
from prospects.importing.services import saved_mapping

MAX_ERRORS_SHOWN = 50
PROGRESS_EVERY = 50_000  # rows between progress lines


class Command(BaseCommand):
    help = "Import prospects from a CSV file (or test it with --dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count and check; write nothing."
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help=f"Override a column's field; fields: {', '.join(sorted(FIELD_KEYS))}",
        )
        parser.add_argument(
            "--on-duplicate",
            choices=[choice.value for choice in OnDuplicate],
            default=OnDuplicate.UPDATE.value,
            help="A row matching an existing contact: fill blanks (update, the "
            "default), skip it, or overwrite with the file's values.",
        )
        parser.add_argument(
            "--source",
            choices=[choice.value for choice in Source],
            default=Source.IMPORT.value,
            help="Source of new prospects whose row names none.",
        )
        parser.add_argument(
            "--owner", metavar="EMAIL", help="Owner of new prospects (a user)."
        )
        parser.add_argument(
            "--errors",
            type=Path,
            metavar="CSV",
            help="Write every rejected row (line, column, value, reason) here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            info = inspect_file(path)
        except FileRejected as error:
            raise CommandError(str(error)) from None
        mapping = self._mapping(info.headers, options["map"])
        self.stdout.write(
            f"{path.name}: {info.total_rows} rows, {info.encoding_label}, "
            f"{info.delimiter_name}-separated"
        )
        for header, field in zip(info.headers, mapping, strict=True):
            self.stdout.write(f"  {header!r} -> {field}")

        run = Options(
            headers=info.headers,
            mapping=mapping,
            file_name=path.name,
            on_duplicate=options["on_duplicate"],
            default_source=options["source"],
            default_owner_id=self._owner_id(options["owner"]),
        )
        records = iter_records(path, info.encoding, info.delimiter)
        report = _ErrorReport(options["errors"])
        progress = _Progress(self.stdout, info.total_rows, report)
        with report:
            counts, errors = run_file(
                run,
                records,
                dry_run=options["dry_run"],
                on_batch=progress,
                keep_errors=MAX_ERRORS_SHOWN,
            )
        self._report(counts, errors, dry_run=options["dry_run"])
        if options["errors"]:
            self.stdout.write(f"Error report: {options['errors']}")

    def _mapping(self, headers: list[str], overrides: list[str]) -> list[str]:
        mapping = guess_mapping(headers, saved_mapping(headers))
        by_header = {normal_header(h): i for i, h in enumerate(headers)}
        for item in overrides:
            header, _, field = item.rpartition("=")
            index = by_header.get(normal_header(header))
            if index is None:
                raise CommandError(f"--map {item!r}: no column named {header!r}")
            if field not in FIELD_KEYS:
                raise CommandError(f"--map {item!r}: unknown field {field!r}")
            mapping[index] = field
        return mapping

    @staticmethod
    def _owner_id(email: str | None) -> int | None:
        if not email:
            return None
        users = get_user_model().objects.filter(is_active=True)
        owner = users.filter(Q(email__iexact=email) | Q(username=email)).first()
        if owner is None:
            raise CommandError(f"--owner {email!r}: no active user with that email")
        return owner.pk

    def _report(self, counts: dict[str, int], errors: list, *, dry_run: bool) -> None:
        verb = "Would import" if dry_run else "Imported"
        summary = ", ".join(
            f"{counts.get(key, 0)} {key}"
            for key in (
                "created",
                "updated",
                "unchanged",
                "skipped",
                "duplicates",
                "rejected",
            )
        )
        self.stdout.write(self.style.SUCCESS(f"{verb}: {summary}"))
        for error in errors:
            column = f" [{error.column}]" if error.column else ""
            self.stdout.write(f"  line {error.line}{column}: {error.reason}")
        if counts.get("rejected", 0) > len(errors):
            self.stdout.write(f"  ... and {counts['rejected'] - len(errors)} more")


class _ErrorReport:
    """The --errors file: the wizard's error report, written batch by batch."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.stream: TextIO | None = None

    def __enter__(self) -> _ErrorReport:
        if self.path:
            self.stream = self.path.open("w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.stream)
            self.writer.writerow(["Line", "Column", "Value", "Reason"])
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.stream:
            self.stream.close()

    def add(self, result: BatchResult) -> None:
        if self.stream:
            cells = ((e.line, e.column, e.value, e.reason) for e in result.errors)
            self.writer.writerows([neutralise(str(c)) for c in row] for row in cells)


class _Progress:
    """Say how far a long run is, and hand each batch's errors to the report."""

    def __init__(self, out: Any, total: int, report: _ErrorReport) -> None:
        self.out, self.total, self.report = out, total, report
        self.done = self.shown = 0

    def __call__(self, result: BatchResult) -> None:
        self.report.add(result)
        self.done += result.rows
        if self.done - self.shown >= PROGRESS_EVERY:
            self.shown = self.done
            self.out.write(f"  {self.done:,} / {self.total:,} rows")
