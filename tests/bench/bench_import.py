"""CSV import: the set-based engine against django-import-export and raw COPY.

Files of 10,000 and 100,000 rows carry 5% duplicates inside the file, 5%
rows matching existing contacts and a few bad rows. Both baselines run in
the same process on the same rows: django-import-export's plain
ModelResource (timed on a sample, its rate is flat in the file size) and a
raw COPY into a bare table with no index (the physical limit).
"""

from __future__ import annotations

import csv
import random
import resource
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import tablib
from django.db import connection

from prospects.importing import engine
from prospects.importing.columns import guess_mapping
from prospects.importing.engine import Options, run_file
from prospects.importing.reader import inspect_file, iter_records
from prospects.importing.resources import ProspectResource
from tests.bench.report import Report

SIZES = (10_000, 100_000)
BASELINE_SAMPLE = 2_000
HEADERS = ["First name", "Last name", "Email", "Phone", "City", "Status", "Tags"]
FIRST = ["Ana", "José", "Zoë", "Lee", "Mo", "Priya", "Łukasz", "Sam", "Kai", "Noor"]
LAST = ["García", "Ng", "Okafor", "Park", "Silva", "Nowak", "Rivera", "Chen"]
CITIES = ["Austin", "Dallas", "Houston", "San Antonio", "El Paso"]


def _existing_emails(folder: Path, tag: str, count: int) -> list[str]:
    """Create `count` contacts of this run (tagged emails) for rows to match."""
    emails = [f"existing{n}.{tag}@example.org" for n in range(count)]
    path = folder / f"existing-{tag}.csv"
    path.write_text("Name,Email\n" + "".join(f"Known Person,{e}\n" for e in emails))
    options, info = _options(path)
    run_file(options, iter_records(path, info.encoding, info.delimiter), dry_run=False)
    return emails


def write_file(path: Path, size: int, tag: str, existing: list[str]) -> None:
    """Write a file: 5% repeats, 5% known contacts, one bad row in 2,000."""
    rng = random.Random(f"{tag}-{size}")
    area = rng.randint(200, 999)  # phones of earlier runs must not match
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        for n in range(size):
            roll = rng.random()
            email = f"lead{n}.{tag}@example.org"
            phone = f"+1{area}{2_000_000 + n}"
            if roll < 0.05 and n:
                email = f"lead{rng.randrange(n)}.{tag}@example.org"
            elif roll < 0.10:
                email = rng.choice(existing)
            elif roll < 0.1005:
                email = "not-an-email"
            elif roll < 0.101:
                phone = "12"
            writer.writerow(
                [
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    email,
                    phone,
                    rng.choice(CITIES),
                    rng.choice(["New", "contacted", "Qualified"]),
                    "bench",
                ]
            )


def _options(path: Path) -> tuple[Options, object]:
    info = inspect_file(path)
    options = Options(
        headers=info.headers, mapping=guess_mapping(info.headers), file_name=path.name
    )
    return options, info


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _server_cpu() -> float | None:
    """Return the CPU seconds of this connection's PostgreSQL process, if local."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/schedstat") as stats:
            return int(stats.read().split()[0]) / 1e9
    except OSError:  # a server on another machine, or another user's process
        return None


def _engine(
    path: Path, *, dry_run: bool
) -> tuple[float, tuple[float, float, float | None], dict[str, int]]:
    """Return wall seconds, CPU seconds (this process, parsing, server), counts."""
    options, info = _options(path)
    server = _server_cpu()
    started, cpu, child = time.perf_counter(), time.process_time(), _children_cpu()
    records = iter_records(path, info.encoding, info.delimiter)
    counts, _ = run_file(options, records, dry_run=dry_run)
    wall = time.perf_counter() - started
    ended = _server_cpu()
    server_cpu = ended - server if server is not None and ended is not None else None
    cpus = (time.process_time() - cpu, _children_cpu() - child, server_cpu)
    return wall, cpus, counts


def _cpu_note(label: str, cpus: tuple[float, float, float | None]) -> str:
    text = f"{label} {cpus[0]:.1f} s + {cpus[1]:.1f} s parsing"
    return text if cpus[2] is None else f"{text} + {cpus[2]:.1f} s PostgreSQL"


def _clean_up(tag: str) -> None:
    """Delete this run's contacts (their emails carry the tag) and their rows.

    Other benchmarks may write to the same database at the same time, so
    rows are picked by the tag, never by an id range.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_import_ids AS SELECT id FROM contacts_contact"
            " WHERE email LIKE %s",
            [f"%.{tag}-%@example.org"],
        )
        for table in (
            "contacts_activity",
            "contacts_identifier",
            "contacts_note",
            "contacts_communicationpermission",
            "contacts_permissionchange",
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE contact_id IN"
                " (SELECT id FROM bench_import_ids)"
            )
        cursor.execute(
            "DELETE FROM contacts_contact WHERE id IN (SELECT id FROM bench_import_ids)"
        )
        cursor.execute("DROP TABLE bench_import_ids")
        # With autovacuum off (as on CI) the deleted rows would stay in the
        # tables and their indexes for good, and every later run would write
        # into bigger, colder indexes than a maintained database has.
        cursor.execute(
            "VACUUM (ANALYZE) contacts_contact, contacts_identifier, contacts_activity"
        )


def _peak_memory(path: Path) -> float:
    """Peak Python memory of a test run, parser included.

    The engine parses in a forked process, which tracemalloc here cannot
    see; this run parses in a thread instead, so one process holds all of it.
    """
    options, info = _options(path)
    forking, engine._CAN_FORK = engine._CAN_FORK, False
    tracemalloc.start()
    try:
        records = iter_records(path, info.encoding, info.delimiter)
        run_file(options, records, dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        engine._CAN_FORK = forking
    return peak / 1024 / 1024


def _import_export_rate(tag: str) -> float:
    """Rows per second of a plain ModelResource import (new rows, default mode)."""
    dataset = tablib.Dataset(headers=["first_name", "last_name", "email", "phone"])
    for n in range(BASELINE_SAMPLE):
        dataset.append(
            ["Ana", "García", f"iie{n}.{tag}-iie@example.org", f"+1512{n:07d}"]
        )
    started = time.perf_counter()
    result = ProspectResource().import_data(dataset, dry_run=False)
    elapsed = time.perf_counter() - started
    assert not result.has_errors()
    return BASELINE_SAMPLE / elapsed


def _copy_rate(path: Path) -> float:
    """Rows per second of COPY into a bare table: the physical limit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_bare (first_name text,"
            " last_name text, email text, phone text, city text, status text,"
            " tags text)"
        )
        cursor.execute("TRUNCATE bench_bare")
        started = time.perf_counter()
        with path.open(encoding="utf-8") as stream:
            next(stream)
            rows = 0
            with cursor.copy("COPY bench_bare FROM STDIN (FORMAT csv)") as copy:
                while chunk := stream.read(1 << 20):
                    copy.write(chunk)
            cursor.execute("SELECT count(*) FROM bench_bare")
            rows = cursor.fetchone()[0]
        return rows / (time.perf_counter() - started)


def run(report: Report) -> None:
    tag = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        _run(report, tag, folder)
    finally:
        _clean_up(tag)


def _run(report: Report, tag: str, folder: Path) -> None:
    baseline = _import_export_rate(tag)
    report.figure(
        "django-import-export ModelResource import (baseline)", baseline, "rows/s"
    )
    memory = {}
    for size in SIZES:
        path = folder / f"leads-{size}.csv"
        existing = _existing_emails(folder, f"{tag}-{size}", size // 20)
        write_file(path, size, f"{tag}-{size}", existing)
        report.figure(
            f"{size:,} rows: COPY into a bare table (limit)", _copy_rate(path), "rows/s"
        )
        tested, test_cpu, test_counts = _engine(path, dry_run=True)
        imported, import_cpu, counts = _engine(path, dry_run=False)
        report.figure(
            f"{size:,} rows: test run",
            size / tested,
            "rows/s",
            baseline=baseline,
            target="no slower than the import",
        )
        report.figure(
            f"{size:,} rows: import",
            size / imported,
            "rows/s",
            baseline=baseline,
            target=">= x20",
        )
        report.figure(
            f"{size:,} rows: import time",
            imported,
            "s",
            target="< 10 s at 100,000" if size == 100_000 else "",
        )
        report.note(
            f"CPU: {_cpu_note('test run', test_cpu)};"
            f" {_cpu_note('import', import_cpu)}"
            " (the parse process runs beside the writes)"
        )
        report.note(f"counts {counts} (test run equal: {counts == test_counts})")
        memory[size] = _peak_memory(path)
        report.figure(
            f"{size:,} rows: peak Python memory (test run)", memory[size], "MB"
        )
    growth = memory[SIZES[-1]] / memory[SIZES[0]]
    report.note(f"memory grows x{growth:.1f} for x10 rows (hashes of identifiers seen)")
