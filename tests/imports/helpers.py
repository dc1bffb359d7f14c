"""Running a file through the engine the way the wizard does."""

from __future__ import annotations

from pathlib import Path

from contacts.models import (
    Activity,
    CommunicationPermission,
    Contact,
    Identifier,
    Note,
    PermissionChange,
)
from prospects.importing.columns import guess_mapping
from prospects.importing.engine import Options, RowError, run_file
from prospects.importing.reader import Record, inspect_file, iter_records


def run(
    path: Path,
    *,
    dry_run: bool = False,
    on_duplicate: str = "update",
    mapping: dict[str, str] | None = None,
) -> tuple[dict[str, int], list[RowError]]:
    info = inspect_file(path)
    fields = guess_mapping(info.headers)
    for header, field in (mapping or {}).items():
        fields[info.headers.index(header)] = field
    options = Options(
        headers=info.headers,
        mapping=fields,
        file_name=path.name,
        on_duplicate=on_duplicate,
    )
    records = iter_records(path, info.encoding, info.delimiter)
    counts, errors = run_file(options, records, dry_run=dry_run)
    return {k: v for k, v in counts.items() if v}, errors


def options_for(path: Path) -> tuple[list[Record], Options]:
    """Return a file's records and the options the wizard would guess."""
    info = inspect_file(path)
    options = Options(
        headers=info.headers, mapping=guess_mapping(info.headers), file_name=path.name
    )
    return list(iter_records(path, info.encoding, info.delimiter)), options


def table_sizes() -> dict[str, int]:
    models = (
        Contact,
        Identifier,
        Activity,
        Note,
        CommunicationPermission,
        PermissionChange,
    )
    return {model.__name__: model.objects.count() for model in models}
