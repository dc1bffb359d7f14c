"""Import a large CSV from the shell, on the same engine as the wizard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prospects.importing.columns import FIELD_KEYS, guess_mapping, normal_header
from prospects.importing.engine import Options, run_file
from prospects.importing.models import OnDuplicate
from prospects.importing.reader import FileRejected, inspect_file, iter_records
from prospects.importing.services import saved_mapping

MAX_ERRORS_SHOWN = 50


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
        )
        records = iter_records(path, info.encoding, info.delimiter)
        counts, errors = run_file(run, records, dry_run=options["dry_run"])
        self._report(counts, errors, dry_run=options["dry_run"])

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
        for error in errors[:MAX_ERRORS_SHOWN]:
            column = f" [{error.column}]" if error.column else ""
            self.stdout.write(f"  line {error.line}{column}: {error.reason}")
        if len(errors) > MAX_ERRORS_SHOWN:
            self.stdout.write(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more")
