"""The set-based import engine shared by the wizard, the task and the command.

Rows go through in batches. Per batch: parse and normalise in Python, fold
rows about the same person into one, look up every identifier's owner in one
query, then write new contacts with COPY and everything else with one
statement per table. A test run does all of it except the writes, so both
report the same counts.

Concurrency: capture_contact serialises on advisory locks per identifier,
but a batch names up to ten thousand identifiers, more than PostgreSQL's
shared lock table holds by default. The import relies on the unique
constraint on (kind, value) instead: identifiers of new contacts are
inserted first with ON CONFLICT DO NOTHING (the foreign key to Contact is
deferred until commit), and a row whose identifier a webhook took in the
meantime is applied to that contact instead of creating a second one. A
capture that races the other way waits on the unique index until the batch
commits and then fails, and the provider's retry attaches to the imported
contact.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import queue
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from typing import Any, BinaryIO, NoReturn

import psycopg
import psycopg.errors
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import (
    ActivityKind,
    Channel,
    Contact,
    Note,
    PermissionState,
    Stage,
    Status,
)
from prospects.importing.models import (
    ImportJob,
    ImportRowError,
    JobStatus,
    OnDuplicate,
    Phase,
)
from prospects.importing.reader import Record, iter_records
from prospects.importing.rows import Row, RowParser, RowRejected
from prospects.importing.seen import CompactSet

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
# The first batch is small: nothing is written until it is parsed, and a
# whole batch took 0.15 s to parse while PostgreSQL sat idle.
FIRST_BATCH_SIZE = 500
RACE_ATTEMPTS = 3  # inserts of a batch's new contacts before giving up
# Contact columns the import may change on a contact that already exists.
UPDATABLE = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "status",
    "owner_id",
    "follow_up_on",
    "internal_info",
)
_LOOKUP_COLUMNS = (*UPDATABLE, "tags", "stage")


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class Group:
    """Rows of one batch about one person; the first row leads."""

    row: Row
    lines: list[int]
    late: bool = False  # the person already came up in an earlier batch
    contact_id: int | None = None
    current: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    new_identifiers: list[tuple[str, str]] = field(default_factory=list)
    permissions: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outcome: str = ""
    # Worked out by the parse process, off the writer's CPU: the hashes of
    # the match keys and, unless a test run, the COPY lines this group
    # writes if nobody has its identifiers yet, each missing only the new
    # contact's id at its end (the last column).
    hashes: tuple[int, ...] = ()
    contact_text: str = ""
    identifier_texts: tuple[str, ...] = ()
    activity_text: str = ""

    def __reduce__(self) -> tuple:
        # Groups cross from the parse process by the thousand: positional
        # arguments unpickle faster than a state dict.
        return (
            Group,
            (
                self.row,
                self.lines,
                self.late,
                self.contact_id,
                self.current,
                self.changes,
                self.new_identifiers,
                self.permissions,
                self.notes,
                self.outcome,
                self.hashes,
                self.contact_text,
                self.identifier_texts,
                self.activity_text,
            ),
        )

    def rehash(self) -> None:
        self.hashes = tuple(hash(key) for key in self.row.match_keys())


@dataclass
class BatchResult:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + n


@dataclass
class Lookup:
    """The batch's emails and phones, in the order their owners are trusted.

    Each group's emails come before its phones: a phone may be a
    household's, an email rarely is (the order capture_contact trusts).
    `groups[n]` is the index of the group of the n-th pair.
    """

    kinds: str
    values: str
    groups: list[int]

    @classmethod
    def of(cls, groups: list[Group]) -> Lookup:
        kinds: list[str] = []
        values: list[str] = []
        owners: list[int] = []
        for index, group in enumerate(groups):
            for kind, value in _pairs(group.row):
                kinds.append(kind)
                values.append(value)
                owners.append(index)
        return cls(joined(kinds), joined(values), owners)


@dataclass
class Prepared:
    result: BatchResult
    groups: list[Group]
    lookup: Lookup


@dataclass
class Options:
    headers: list[str]
    mapping: list[str]
    file_name: str
    on_duplicate: str = OnDuplicate.UPDATE
    default_source: str = "import"
    default_owner_id: int | None = None
    actor_id: int | None = None
    job_id: int | None = None

    @classmethod
    def for_job(cls, job: ImportJob) -> Options:
        return cls(
            headers=job.headers,
            mapping=job.mapping,
            file_name=job.file_name,
            on_duplicate=job.on_duplicate,
            default_source=job.default_source,
            default_owner_id=job.default_owner_id,
            actor_id=job.created_by_id,
            job_id=job.pk,
        )


def prepared_batches(
    engine: Engine, records: Iterable[Record], skip: int = 0
) -> Iterator[tuple[list[Record] | None, Prepared | None]]:
    """Yield the file's batches parsed, parsing the next ones meanwhile.

    Parsing is Python and the writes mostly wait on PostgreSQL, so a forked
    process reads and parses the next batches while this one matches and
    writes: beside the writes, not behind the GIL (a parse thread took the
    main thread's CPU whenever both wanted it). Where the system cannot fork,
    a thread does it. A parsed batch comes as (None, prepared); the first
    `skip` records (committed before a crash) come back unparsed as
    (records, None), and the parser remembers their people.
    """
    if _CAN_FORK:
        yield from _forked_batches(engine, records, skip)
    else:
        yield from _threaded_batches(engine, records, skip)


# A bare fork and a pipe, not multiprocessing: Celery's pool processes are
# daemonic, and multiprocessing refuses to start children from those, so the
# worker that runs every wizard import would lose the parse process.
_CAN_FORK = hasattr(os, "fork")


@dataclass
class _ParseFailed:
    error: BaseException


def _forked_batches(
    engine: Engine, records: Iterable[Record], skip: int
) -> Iterator[tuple[list[Record] | None, Prepared | None]]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _parse_ahead(engine, records, skip, write_end)  # never returns

    os.close(write_end)
    incoming = os.fdopen(read_end, "rb")
    # Unpickling a batch takes 20 ms of CPU; a thread does it while this one
    # waits on PostgreSQL, which releases the GIL.
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    reader = threading.Thread(target=_unpickle, args=(incoming, ready), daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, _ParseFailed):
                raise item.error
            yield item
    finally:
        # Still running only when the caller stopped early or parsing failed.
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while reader.is_alive():  # it ends at the pipe's end, once it can put
            with suppress(queue.Empty):
                ready.get_nowait()
            reader.join(0.05)
        incoming.close()


def _unpickle(incoming: BinaryIO, ready: queue.Queue[Any]) -> None:
    """Hand on what the parse process sends, up to its None or its failure."""
    while True:
        try:
            item = pickle.load(incoming)
        except EOFError:
            item = _ParseFailed(RuntimeError("The parse process stopped early"))
        except Exception as error:  # noqa: BLE001 - a pipe cut mid-batch
            item = _ParseFailed(error)
        ready.put(item)
        if item is None or isinstance(item, _ParseFailed):
            return


def _parse_ahead(
    engine: Engine, records: Iterable[Record], skip: int, write_end: int
) -> NoReturn:
    """The parse process: plain data in, pickles out, never the database.

    It inherits the parent's database connection and must not touch it, so
    it leaves through os._exit: no cleanup closes or writes the socket. The
    pipe holds little, so it parses at most a batch or two ahead and memory
    stays flat; if the parent dies, the next write fails and it exits.
    """
    code = 1
    try:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        gc.freeze()  # the inherited heap is never garbage: never traverse it
        with os.fdopen(write_end, "wb") as out, few_collections() as batch_done:
            for item in _parsed(engine, records, skip):
                out.write(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
                out.flush()
                batch_done()
        code = 0
    finally:
        os._exit(code)


def _parsed(engine: Engine, records: Iterable[Record], skip: int) -> Iterator[Any]:
    """Yield what the parse process sends: batches, then None or the failure."""
    try:
        for batch, committed in _batches_past(records, skip):
            if committed:
                engine.remember(batch)
                yield batch, None
            else:
                yield None, engine.prepare(batch)
    except Exception as error:  # noqa: BLE001 - handed to the parent
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - an error that does not pickle
            error = RuntimeError(repr(error))
        yield _ParseFailed(error)
    else:
        yield None


COLLECT_EVERY = 10  # batches between collections of young objects


@contextmanager
def few_collections() -> Iterator[Callable[[], None]]:
    """Run without the automatic garbage collector; yield a hook to call per batch.

    A batch allocates some 100,000 containers (rows, groups, their lists and
    dicts), so the collector ran its full passes over everything alive again
    and again: 2 s of the import's 4.7 s of CPU per 100,000 rows, and 1.4 s of
    the parse process's. Nearly all of it is freed by reference counting; a
    collection of the young objects every few batches reclaims the rare
    cycle. Not after every batch: the batch just written is still alive
    then, and walking it cost 20 ms each time.
    """
    enabled = gc.isenabled()
    gc.disable()
    batches = 0

    def batch_done() -> None:
        nonlocal batches
        batches += 1
        if batches % COLLECT_EVERY == 0:
            gc.collect(1)

    try:
        yield batch_done
    finally:
        if enabled:
            gc.enable()


def _threaded_batches(
    engine: Engine, records: Iterable[Record], skip: int
) -> Iterator[tuple[list[Record] | None, Prepared | None]]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: Future[Prepared] | None = None
        for batch, committed in _batches_past(records, skip):
            if committed:
                pool.submit(engine.remember, batch)  # in order with `prepare`
                yield batch, None
                continue
            future = pool.submit(engine.prepare, batch)
            if pending:
                yield None, pending.result()
            pending = future
        if pending:
            yield None, pending.result()


def _batches_past(
    records: Iterable[Record], skip: int
) -> Iterator[tuple[list[Record], bool]]:
    """Yield the batches, each with whether it lies within the first `skip`.

    The committed part ends exactly after `skip` records, wherever the run
    that committed them cut its batches (an older release, another size).
    """
    remaining = iter(records)
    if skip:
        for batch in batches(islice(remaining, skip)):
            yield batch, True
    for batch in batches(remaining):
        yield batch, False


def batches(records: Iterable[Record], size: int | None = None) -> Iterator[list]:
    size = size or BATCH_SIZE
    wanted = min(FIRST_BATCH_SIZE, size)
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= wanted:
            yield batch
            batch, wanted = [], size
    if batch:
        yield batch


class Engine:
    """Process a file's batches in order, remembering who came up earlier.

    `seen` holds a 64-bit hash per identifier of the rows before this
    batch, and `contacts_seen` the contacts met so far: some 8 bytes each
    (see CompactSet), the only state that grows with the file. They are what
    make a test run count duplicates inside the file exactly as the import
    does, although it writes nothing. `seen` lives with the parser (in the
    parse process, if any), which marks each group that came up before.
    """

    def __init__(self, options: Options, *, dry_run: bool) -> None:
        self.options = options
        self.dry_run = dry_run
        self.parser = RowParser(
            options.headers,
            options.mapping,
            default_source=options.default_source,
            default_owner_id=options.default_owner_id,
        )
        self.seen = CompactSet()  # kept where `prepare` runs
        self.contacts_seen = CompactSet()  # kept where `finish` runs
        self.now = timezone.now()
        self.now_text = self.now.isoformat()
        actor = NULL if options.actor_id is None else str(options.actor_id)
        summary = copy_escaped(f"Imported from {options.file_name}"[:500])
        job = "null" if options.job_id is None else str(options.job_id)
        # A created contact's timeline entry but for its source and line.
        self.activity_texts = (
            f"{ActivityKind.IMPORTED.value}\t",
            f'\t{actor}\t{summary}\t{{"job": {job}, "line": ',
            f"}}\t{self.now_text}\t{NULL}\t{NULL}\t",
        )

    def remember(self, records: Iterable[Record]) -> None:
        """Mark the people of already imported records as seen (for a resume)."""
        for record in records:
            try:
                row = self.parser.parse(record.line, record.cells)
            except RowRejected:
                continue
            self.seen.update(hash(key) for key in row.match_keys())

    def prepare(self, records: list[Record]) -> Prepared:
        """Parse and group a batch: pure Python, safe in another thread.

        Batches must come in file order: each is checked against the people
        of the batches before it.
        """
        result = BatchResult(rows=len(records))
        groups = self._group(self._parse(records, result))
        seen = self.seen
        for group in groups:
            group.rehash()
            group.late = not seen.isdisjoint(group.hashes)
            if not self.dry_run:
                self._render(group)
        seen.update(chain.from_iterable(group.hashes for group in groups))
        return Prepared(result, groups, Lookup.of(groups))

    def _render(self, group: Group) -> None:
        """Write the COPY lines of the contact this group may create."""
        row, now = group.row, self.now_text
        source = row.values["source"]
        group.contact_text = contact_text(row, now)
        group.identifier_texts = tuple(
            f"{kind}\t{copy_escaped(value)}\t{source}\t{now}\t"
            for kind, value in _pairs(row)
        )
        kind, middle, end = self.activity_texts
        group.activity_text = f"{kind}{source}{middle}{group.lines[0]}{end}"

    def process(self, records: list[Record]) -> BatchResult:
        """Parse, match and (unless a test run) write one batch."""
        return self.finish(self.prepare(records))

    def finish(self, prepared: Prepared) -> BatchResult:
        """Match a prepared batch and (unless a test run) write it."""
        result, groups = prepared.result, prepared.groups
        with connection.cursor() as cursor:
            # The batch's statements are big but simple: compiling them with
            # JIT cost more than it saved (80 ms on the owner lookup). Not
            # waiting for the WAL flush at COMMIT is safe here: a batch and
            # the job's progress commit together, so a server crash loses
            # both or neither and the resume redoes the batch.
            cursor.execute(
                "SET LOCAL jit = off"
                if self.dry_run
                else "SET LOCAL jit = off; SET LOCAL synchronous_commit = off"
            )
        self._match(groups, prepared.lookup)
        for group in groups:
            self._decide(group)
        if not self.dry_run:
            self._write(groups)
        outcomes = Counter(group.outcome for group in groups)
        for outcome, n in outcomes.items():
            result.add(outcome, n)
        result.add(
            "duplicates", sum(len(group.lines) for group in groups) - len(groups)
        )
        self.contacts_seen.update(g.contact_id for g in groups if g.contact_id)
        return result

    def _parse(self, records: list[Record], result: BatchResult) -> list[Row]:
        rows = []
        for record in records:
            if record.error:
                result.errors.append(RowError(record.line, "", "", record.error))
                continue
            try:
                rows.append(self.parser.parse(record.line, record.cells))
            except RowRejected as error:
                result.errors.append(
                    RowError(record.line, error.column, error.value, error.reason)
                )
        result.add("rejected", len(result.errors))
        return rows

    def _group(self, rows: list[Row]) -> list[Group]:
        """Fold rows sharing an email, phone (or, lacking both, a name)."""
        groups: list[Group] = []
        by_key: dict[str, Group] = {}
        for row in rows:
            found = {id(by_key[k]): by_key[k] for k in row.match_keys() if k in by_key}
            if not found:
                group = Group(row, [row.line])
                groups.append(group)
            else:
                group, *others = sorted(found.values(), key=lambda g: g.lines[0])
                group.row.absorb(row)
                group.lines.append(row.line)
                for other in others:
                    group.row.absorb(other.row)
                    group.lines += other.lines
                    groups.remove(other)
            for key in group.row.match_keys():
                by_key[key] = group
        return groups

    def _match(self, groups: list[Group], lookup: Lookup | None = None) -> None:
        """Find each group's existing contact, one query for the whole batch."""
        lookup = lookup or Lookup.of(groups)
        for number, owner in _identifier_owners(lookup.kinds, lookup.values):
            group = groups[lookup.groups[number - 1]]
            if group.contact_id is None:  # the first pair found wins
                group.contact_id = owner
        nameless = [g for g in groups if not g.row.emails and not g.row.phones]
        named = _contacts_by_name(nameless)
        for group in nameless:
            key = group.row.match_keys()[0]
            group.contact_id = named.get(key)
        self._fold_same_contact(groups)
        current = _current_values(
            [g.contact_id for g in groups if g.contact_id], lock=not self.dry_run
        )
        for group in groups:
            if group.contact_id:
                group.current = current.get(group.contact_id)
                if group.current is None:  # merged away since the lookup
                    group.contact_id = None
                elif group.contact_id in self.contacts_seen:
                    group.late = True

    @staticmethod
    def _fold_same_contact(groups: list[Group]) -> None:
        first: dict[int, Group] = {}
        for group in list(groups):
            if not group.contact_id:
                continue
            leader = first.setdefault(group.contact_id, group)
            if leader is not group:
                leader.row.absorb(group.row)
                leader.lines += group.lines
                leader.rehash()
                groups.remove(group)

    def _decide(self, group: Group) -> None:
        policy = self.options.on_duplicate
        if group.late:
            # A person met earlier in this file: later rows only fill blanks.
            if group.contact_id and policy != OnDuplicate.SKIP:
                _plan_changes(group, overwrite=False)
            group.outcome = "duplicates"
        elif group.contact_id is None:
            # All its identifiers are new: the COPY lines hold them.
            group.outcome = "created"
            if not self.dry_run and not group.contact_text:
                self._render(group)  # rows folded after the parse
            row = group.row
            if row.permissions:
                group.permissions = {
                    channel: (PermissionState.UNKNOWN.value, state)
                    for channel, state in row.permissions.items()
                }
            if row.notes:
                group.notes = list(row.notes)
        elif policy == OnDuplicate.SKIP:
            group.outcome = "skipped"
        else:
            _plan_changes(group, overwrite=policy == OnDuplicate.OVERWRITE)
            changed = group.changes or group.new_identifiers or group.permissions
            group.outcome = "updated" if changed or group.notes else "unchanged"

    def _write(self, groups: list[Group]) -> None:
        new = [g for g in groups if g.outcome == "created"]
        for _ in range(RACE_ATTEMPTS):
            lost = _insert_new(new, self.now_text)
            if not lost:
                break
            # Someone else took an identifier since the lookup: apply those
            # rows to whoever has it now, like any other match.
            for group in lost:
                group.contact_id = None
            self._match(lost)
            for group in lost:
                self._decide(group)
            new = [g for g in lost if g.outcome == "created"]
        else:
            raise RuntimeError("Identifiers kept changing hands during the import")
        existing = [g for g in groups if g.contact_id and g.outcome != "created"]
        _update_existing(existing, self.options, self.now)
        _write_history(groups, self.options, self.now)


# The columns the batch lookups search, per table.
_LOOKUP_STATISTICS = {
    "contacts_contact": ("id", "merged_into_id"),
    "contacts_identifier": ("kind", "value", "contact_id"),
    "contacts_communicationpermission": ("contact_id",),
    "contacts_note": ("contact_id",),
}


def refresh_statistics() -> None:
    """ANALYZE the tables the lookups read when the planner misjudges their size.

    A batch probes these tables thousands of times. Planned on statistics
    from an empty or nearly empty table (a new install, autovacuum off or
    behind, or a table this very import has grown), each probe scanned the
    whole table or the wrong index: 0.5 s a batch on 500 identifiers, five
    minutes on 10,000. So before each batch, a table over four times the
    size the statistics were taken at is analyzed, on the searched columns
    only (milliseconds while small): a few times per import into an empty
    database, then no more. Sizes come from the files, not from the
    statistics collector, which lags behind the last commits. Skipped if
    autovacuum holds the table, and without the table's ownership.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c CROSS JOIN LATERAL (SELECT"
            " pg_relation_size(c.oid) AS size,"
            " current_setting('block_size')::int AS block) AS s"
            " WHERE c.oid = ANY(%s::regclass[]) AND s.size >= 2 * s.block"
            " AND s.size > 4 * c.relpages::bigint * s.block",
            [list(_LOOKUP_STATISTICS)],
        )
        for (name,) in cursor.fetchall():
            columns = ", ".join(_LOOKUP_STATISTICS[name])
            cursor.execute(
                f"ANALYZE (SKIP_LOCKED) {connection.ops.quote_name(name)} ({columns})"
            )


@contextmanager
def _bound_cursor() -> Iterator[psycopg.Cursor]:
    """Return a cursor of the same connection that binds on the server.

    Django's cursor quotes every parameter into the SQL text; for arrays of
    thousands of strings that took 2 s of the main thread per 100,000 rows.
    Here `%b` sends them in binary, unquoted. Same connection, so the same
    transaction.
    """
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _pairs(row: Row) -> list[tuple[str, str]]:
    return [("email", e) for e in row.emails] + [("phone", p) for p in row.phones]


def _identifier_owners(kinds: str, values: str) -> list[tuple[int, int]]:
    """Return (pair number, owner) of the pairs someone has, in pair order.

    One probe of the unique (kind, value) index per pair, whatever the
    statistics say. As a plain join, even freshly analyzed, PostgreSQL
    hashed the whole table for a batch (250 ms on 400,000 identifiers,
    growing with the table; 10,000 probes take 15 ms): LIMIT keeps the
    subquery from being flattened into that join. And below a thousand
    identifiers it planned each probe as a scan of the table, 0.5 s a
    batch, not knowing the probes are 10,000 and the table stays cached:
    sequential scans are off for this statement.
    """
    if not values:
        return []
    with _bound_cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "SELECT t.n, i.contact_id"
            f" FROM unnest({_array('%b', 'varchar')}, {_array('%b', 'varchar')})"
            " WITH ORDINALITY AS t(kind, value, n)"
            " CROSS JOIN LATERAL (SELECT contact_id FROM contacts_identifier"
            " WHERE kind = t.kind AND value = t.value LIMIT 1) AS i"
            " ORDER BY t.n",
            [kinds, values],
        )
        owners = cursor.fetchall()
        cursor.execute("SET LOCAL enable_seqscan = on")
        return owners


def _contacts_by_name(groups: list[Group]) -> dict[str, int]:
    """Match rows without email or phone to live contacts without them."""
    if not groups:
        return {}
    firsts = [g.row.values.get("first_name", "").casefold() for g in groups]
    lasts = [g.row.values.get("last_name", "").casefold() for g in groups]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lower(c.first_name), lower(c.last_name), min(c.id)"
            " FROM contacts_contact c"
            " JOIN unnest(%s::text[], %s::text[]) AS t(first, last)"
            " ON lower(c.first_name) = t.first AND lower(c.last_name) = t.last"
            " WHERE c.merged_into_id IS NULL AND c.email = '' AND c.phone = ''"
            " GROUP BY 1, 2",
            [firsts, lasts],
        )
        return {f"name:{a}\x1f{b}": pk for a, b, pk in cursor.fetchall()}


def _current_values(ids: list[int], *, lock: bool) -> dict[int, dict[str, Any]]:
    """Return the live contacts' values; lock them for the batch when writing."""
    if not ids:
        return {}
    rows = Contact.objects.live().filter(pk__in=set(ids)).order_by("pk")
    if lock:
        rows = rows.select_for_update()
    values = {row["id"]: row for row in rows.values("id", *_LOOKUP_COLUMNS)}
    if not values:
        return values
    ids = list(values)
    with _bound_cursor() as cursor:
        cursor.execute(
            "SELECT contact_id, channel, state FROM contacts_communicationpermission"
            " WHERE contact_id = ANY(%b::bigint[])",
            [ids],
        )
        for contact_id, channel, state in cursor.fetchall():
            values[contact_id].setdefault("permissions", {})[channel] = state
        # The kind is checked here, not in SQL: with it, a stale planner
        # scanned the (kind, value) index for every email and phone.
        cursor.execute(
            "SELECT contact_id, kind, value FROM contacts_identifier"
            " WHERE contact_id = ANY(%b::bigint[])",
            [ids],
        )
        for contact_id, kind, value in cursor.fetchall():
            if kind in ("email", "phone"):
                values[contact_id].setdefault("identifiers", set()).add((kind, value))
        cursor.execute(
            "SELECT contact_id, body FROM contacts_note"
            " WHERE contact_id = ANY(%b::bigint[])",
            [ids],
        )
        for contact_id, body in cursor.fetchall():
            values[contact_id].setdefault("notes", set()).add(body)
    return values


# How far along a prospect is: an import moves the status forward only.
_STATUS_RANK = {
    Status.NEW.value: 0,
    Status.CONTACTED.value: 1,
    Status.QUALIFIED.value: 2,
    Status.LOST.value: 2,
}


def _plan_changes(group: Group, *, overwrite: bool) -> None:
    """Work out what the rows change on the existing contact.

    Blank values never overwrite; the status only moves forward; source,
    stage and creation date are the contact's history and stay as they are.
    """
    current = group.current or {}
    wanted = dict(group.row.values)
    wanted.pop("source", None)
    wanted.pop("source_detail", None)
    wanted.pop("created_at", None)
    if group.row.emails:
        wanted["email"] = group.row.emails[0]
    if group.row.phones:
        wanted["phone"] = group.row.phones[0]
    for name in UPDATABLE:
        value = wanted.get(name)
        if value in (None, ""):
            continue
        old = current.get(name)
        blank = old in (None, "") or (name == "status" and old == Status.NEW)
        if name == "status" and _STATUS_RANK[value] < _STATUS_RANK.get(old, 0):
            continue  # an older export does not undo follow-up work
        if old != value and (overwrite or blank):
            group.changes[name] = value
    tags = current.get("tags") or []
    if extra := [t for t in group.row.tags if t not in tags]:
        group.changes["tags"] = tags + extra
    owned = current.get("identifiers", set())
    group.new_identifiers = [p for p in _pairs(group.row) if p not in owned]
    for channel, state in group.row.permissions.items():
        old = current.get("permissions", {}).get(channel, PermissionState.UNKNOWN)
        if old != state and (overwrite or old == PermissionState.UNKNOWN):
            group.permissions[channel] = (old, state)
    known = current.get("notes", set())
    group.notes = [n for n in group.row.notes if n not in known]
    # The primary email or phone must be one of the contact's identifiers.
    for kind in ("email", "phone"):
        pair = (kind, group.changes.get(kind))
        if pair[1] and pair not in owned and pair not in group.new_identifiers:
            del group.changes[kind]


# The id comes last: the parse process writes the rest of the line.
_CONTACT_COLUMNS = (
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
    "owner_id",
    "follow_up_on",
    "internal_info",
    "tags",
    "created_at",
    "updated_at",
    "last_activity_at",
    "id",
)
_IDENTIFIER_COLUMNS = "kind, value, source, created_at, contact_id"
_ACTIVITY_COLUMNS = (
    "kind, source, actor_id, summary, data, occurred_at, content_type_id,"
    " object_id, contact_id"
)

# -- COPY text --------------------------------------------------------------
# New rows go to PostgreSQL as COPY text written here, a line per row joined
# with str.join: psycopg's write_row spent 7 microseconds of the writer's CPU
# a row (1.3 s per 100,000 contacts and their timeline entries).

NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SEPARATOR = "\x1f"


def copy_escaped(text: str) -> str:
    """Return text as one field of COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def copy_line(values: Iterable[Any], end: str = "\n") -> str:
    """Return one COPY text line: None as NULL, dates in ISO 8601."""
    fields = []
    for value in values:
        if value is None:
            fields.append(NULL)
        elif isinstance(value, str):
            fields.append(copy_escaped(value))
        elif isinstance(value, date):  # datetimes too
            fields.append(value.isoformat())
        else:
            fields.append(str(value))
    return "\t".join(fields) + end


def array_literal(items: list[str]) -> str:
    """Return a PostgreSQL array literal of strings, each quoted."""
    quoted = (
        '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items
    )
    return "{" + ",".join(quoted) + "}"


_PROSPECT = str(Stage.PROSPECT.value)
_NEW = str(Status.NEW.value)


def _copy_fields(texts: tuple[str, ...]) -> str:
    """Return strings as consecutive COPY fields (one check for the lot)."""
    probe = "".join(texts)
    if "\\" in probe or "\t" in probe or "\n" in probe or "\r" in probe:
        texts = tuple(map(copy_escaped, texts))
    return "\t".join(texts)


def contact_text(row: Row, now_text: str) -> str:
    """Return the COPY line of a new contact from this row, but for its id."""
    get = row.values.get
    created = get("created_at")
    created_text = created.isoformat() if created else now_text
    owner = get("owner_id")
    follow_up = get("follow_up_on")
    texts = _copy_fields(
        (
            get("first_name", ""),
            get("last_name", ""),
            row.emails[0] if row.emails else "",
            row.phones[0] if row.phones else "",
            get("street", ""),
            get("city", ""),
            get("region", ""),
            get("postal_code", ""),
            get("country", ""),
            get("source"),
            get("source_detail", ""),
        )
    )
    more = _copy_fields((get("internal_info", ""), array_literal(row.tags)))
    return (
        f"{_PROSPECT}\t{get('status', _NEW)}\t{texts}"
        f"\t{NULL if owner is None else owner}"
        f"\t{NULL if follow_up is None else follow_up.isoformat()}"
        f"\t{more}\t{created_text}\t{now_text}\t{created_text}\t"
    )


def joined(values: Iterable[Any]) -> str:
    """Return values as one text for string_to_array(%s, E'\\x1f').

    One string crosses to the server in one piece; psycopg dumps a list
    element by element in Python, and PostgreSQL reads a binary array of
    10,000 strings in 30 ms, four times what string_to_array takes. Emails
    and phones cannot hold the separator (the parser splits cells at it).
    """
    texts = [str(value) for value in values]
    text = _SEPARATOR.join(texts)
    if text.count(_SEPARATOR) != max(len(texts) - 1, 0):
        raise ValueError("A value holds the array separator")
    return text


def _copy(cursor: Any, sql: str, text: str) -> None:
    with cursor.copy(sql) as copy:
        copy.write(text)


def _array(param: str, cast: str) -> str:
    return f"string_to_array({param}, E'\\x1f')::{cast}[]"


# -- Writes -----------------------------------------------------------------


def _reserve_ids(count: int) -> list[int]:
    with connection.cursor() as cursor:
        # The sequence is looked up once: pg_get_serial_sequence() inside
        # nextval() ran its catalog lookups for every id (3% of the import's
        # server time).
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT"
            " pg_get_serial_sequence('contacts_contact', 'id')::regclass AS seq"
            " OFFSET 0) AS s, generate_series(1, %s)",
            [count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _copy_identifiers(text: str) -> bool:
    """COPY identifier lines in; return False if one was taken meanwhile.

    The lookup just found these free, so COPY nearly always succeeds and
    costs a third of INSERT ... ON CONFLICT's speculative inserts. If one was
    taken since (or belongs to another contact), the savepoint undoes it.
    """
    if not text:
        return True
    try:
        sql = f"COPY contacts_identifier ({_IDENTIFIER_COLUMNS}) FROM STDIN"
        with transaction.atomic(), connection.cursor() as cursor:
            _copy(cursor, sql, text)
    except psycopg.errors.UniqueViolation:
        return False
    return True


def _insert_free_identifiers(rows: list[tuple[int, str, str, str]], now: str) -> None:
    """Insert identifiers, skipping those someone has."""
    contact_ids, kinds, values, sources = zip(*rows, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO contacts_identifier ({_IDENTIFIER_COLUMNS})"
            " SELECT t.kind, t.value, t.source, %s, t.contact_id"
            f" FROM unnest({_array('%s', 'bigint')}, {_array('%s', 'varchar')},"
            f" {_array('%s', 'varchar')}, {_array('%s', 'varchar')})"
            " AS t(contact_id, kind, value, source)"
            " ON CONFLICT (kind, value) DO NOTHING",
            [now, joined(contact_ids), joined(kinds), joined(values), joined(sources)],
        )


def _lost_contacts(wanted: list[tuple[int, str, str, str]]) -> set[int]:
    """Return the new contacts of which some identifier did not go in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_id, kind, value FROM contacts_identifier"
            " WHERE contact_id = ANY(%s::bigint[])",
            [sorted({pk for pk, *_ in wanted})],
        )
        added = set(cursor.fetchall())
    return {pk for pk, kind, value, _ in wanted if (pk, kind, value) not in added}


def _insert_new(groups: list[Group], now_text: str) -> list[Group]:
    """Create the batch's new contacts; return the groups that lost a race."""
    if not groups:
        return []
    for group, pk in zip(groups, _reserve_ids(len(groups)), strict=True):
        group.contact_id = pk
    identifiers = "".join(
        f"{text}{g.contact_id}\n" for g in groups for text in g.identifier_texts
    )
    lost_ids: set[int] = set()
    if not _copy_identifiers(identifiers):
        wanted = [
            (g.contact_id, kind, value, g.row.values["source"])
            for g in groups
            for kind, value in _pairs(g.row)
        ]
        _insert_free_identifiers(wanted, now_text)
        lost_ids = _lost_contacts(wanted)
    if lost_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM contacts_identifier WHERE contact_id = ANY(%s::bigint[])",
                [list(lost_ids)],
            )
    text = "".join(
        f"{g.contact_text}{g.contact_id}\n"
        for g in groups
        if g.contact_id not in lost_ids
    )
    with connection.cursor() as cursor:
        columns = ", ".join(_CONTACT_COLUMNS)
        with cursor.copy(f"COPY contacts_contact ({columns}) FROM STDIN") as copy:
            copy.write(text)
    return [g for g in groups if g.contact_id in lost_ids]


def _update_existing(groups: list[Group], options: Options, now: Any) -> None:
    """Apply the planned changes to existing contacts in one statement."""
    rows = [
        (g.contact_id, kind, value, options.default_source)
        for g in groups
        for kind, value in g.new_identifiers
    ]
    if rows and not _copy_identifiers(
        "".join(copy_line((k, v, s, now, pk)) for pk, k, v, s in rows)
    ):
        _insert_free_identifiers(rows, now.isoformat())
    changed = [g for g in groups if g.changes]
    if not changed:
        return
    columns: dict[str, list[Any]] = {name: [] for name in (*UPDATABLE, "tags")}
    for group in changed:
        merged = {**group.current, **group.changes}
        for name in UPDATABLE:
            columns[name].append(merged[name])
        columns["tags"].append("\x1f".join(merged["tags"]))
    types = {"owner_id": "bigint", "follow_up_on": "date", "internal_info": "text"}
    arrays = ", ".join(f"%s::{types.get(n, 'varchar')}[]" for n in columns)
    sets = ", ".join(f"{n} = t.{n}" for n in UPDATABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE contacts_contact c SET {sets},"
            " tags = CASE WHEN t.tags = '' THEN '{}'::varchar[]"
            " ELSE string_to_array(t.tags, E'\\x1f')::varchar[] END,"
            # The timeline entry's marker too, in the same new row version.
            " updated_at = %s, last_activity_at = greatest(c.last_activity_at, %s)"
            f" FROM unnest(%s::bigint[], {arrays})"
            f" AS t(id, {', '.join(columns)}) WHERE c.id = t.id",
            [now, now, [g.contact_id for g in changed], *columns.values()],
        )


def _write_history(groups: list[Group], options: Options, now: Any) -> None:
    """Write notes, permissions and timeline entries for the batch."""
    touched = [
        g
        for g in groups
        if g.contact_id and g.outcome in ("created", "updated", "duplicates")
    ]
    lines = [
        f"{g.activity_text}{g.contact_id}\n" for g in touched if g.outcome == "created"
    ]
    summary = f"Updated from {options.file_name}"[:500]
    for group in touched:
        if group.outcome == "created" or not (group.changes or group.new_identifiers):
            continue
        data = {"job": options.job_id, "line": group.lines[0]}
        if group.changes:
            data["changed"] = sorted(group.changes)
        source = group.row.values.get("source", options.default_source)
        entry = (ActivityKind.IMPORTED.value, source, options.actor_id, summary)
        lines.append(
            copy_line((*entry, json.dumps(data), now, None, None, group.contact_id))
        )
    _write_notes(touched, options, lines)
    _write_permissions(touched, options, now, lines)
    if not lines:
        return
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY contacts_activity ({_ACTIVITY_COLUMNS}) FROM STDIN"
        ) as copy:
            copy.write("".join(lines))
        # Imported history is not fresh activity: only move the marker forward
        # for contacts that already existed and got an entry (those with
        # changes had it moved by their UPDATE).
        updated_ids = [
            g.contact_id
            for g in touched
            if g.outcome != "created"
            and not g.changes
            and (g.new_identifiers or g.notes or g.permissions)
        ]
        if updated_ids:
            cursor.execute(
                "UPDATE contacts_contact SET last_activity_at = %s"
                " WHERE id = ANY(%s::bigint[]) AND last_activity_at < %s",
                [now, updated_ids, now],
            )


def _write_notes(groups: list[Group], options: Options, lines: list[str]) -> None:
    notes = [
        Note(contact_id=g.contact_id, author_id=options.actor_id, body=body)
        for g in groups
        for body in g.notes
    ]
    if not notes:
        return
    Note.objects.bulk_create(notes)
    note_type = ContentType.objects.get_for_model(Note).pk
    for note in notes:
        lines.append(
            copy_line(
                (
                    ActivityKind.NOTE.value,
                    "",
                    options.actor_id,
                    note.body[:200],
                    "{}",
                    note.created_at,
                    note_type,
                    note.pk,
                    note.contact_id,
                )
            )
        )


def _write_permissions(
    groups: list[Group], options: Options, now: Any, lines: list[str]
) -> None:
    changes = [
        (g.contact_id, channel, old, new)
        for g in groups
        for channel, (old, new) in g.permissions.items()
    ]
    if not changes:
        return
    via = "import"
    reason = f"Imported from {options.file_name}"[:300]
    ids, channels, olds, news = (list(col) for col in zip(*changes, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_communicationpermission (contact_id, channel,"
            " state, changed_at, changed_by_id, via, reason)"
            " SELECT t.id, t.channel, t.state, %s, %s, %s, %s"
            " FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[])"
            " AS t(id, channel, state)"
            " ON CONFLICT (contact_id, channel) DO UPDATE SET state = EXCLUDED.state,"
            " changed_at = EXCLUDED.changed_at,"
            " changed_by_id = EXCLUDED.changed_by_id, via = EXCLUDED.via,"
            " reason = EXCLUDED.reason",
            [now, options.actor_id, via, reason, ids, channels, news],
        )
        cursor.execute(
            "INSERT INTO contacts_permissionchange (contact_id, channel, state,"
            " previous_state, actor_id, via, reason, created_at)"
            " SELECT t.id, t.channel, t.state, t.previous, %s, %s, %s, %s"
            " FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[],"
            " %s::varchar[]) AS t(id, channel, state, previous)",
            [options.actor_id, via, reason, now, ids, channels, news, olds],
        )
    for contact_id, channel, old, new in changes:
        label = (
            f"{Channel(channel).label} permission "
            f"{PermissionState(new).label.lower()} (import)"
        )
        data = {"channel": channel, "state": new, "previous": old, "reason": reason}
        lines.append(
            copy_line(
                (
                    ActivityKind.CONSENT_CHANGED.value,
                    "",
                    options.actor_id,
                    label,
                    json.dumps(data),
                    now,
                    None,
                    None,
                    contact_id,
                )
            )
        )


# -- Running a whole file --------------------------------------------------


def run_file(
    options: Options,
    records: Iterable[Record],
    *,
    dry_run: bool,
    on_batch: Callable[[BatchResult], None] | None = None,
    keep_errors: int | None = None,
) -> tuple[dict[str, int], list[RowError]]:
    """Run a file without a job (the command, tests, the bench).

    Return the counts and the errors, the first `keep_errors` of them when
    given (`on_batch` sees every batch's).
    """
    engine = Engine(options, dry_run=dry_run)
    totals: dict[str, int] = {}
    errors: list[RowError] = []
    with few_collections() as batch_done:
        for _, prepared in prepared_batches(engine, records):
            refresh_statistics()
            with transaction.atomic():
                result = engine.finish(prepared)
            for key, n in result.counts.items():
                totals[key] = totals.get(key, 0) + n
            if keep_errors is None:
                errors += result.errors
            else:
                errors += result.errors[: max(keep_errors - len(errors), 0)]
            if on_batch:
                on_batch(result)
            batch_done()
    return totals, errors


def run_job(job_id: int, phase: str) -> None:
    """Run a job's test or import, one committed batch at a time.

    The job row is locked and its progress checked at the start of every
    batch and saved with the batch, so a crashed import resumes after its
    last committed batch and two workers never process the same rows.
    """
    job = ImportJob.objects.get(pk=job_id)
    dry_run = phase == Phase.TEST
    engine = Engine(Options.for_job(job), dry_run=dry_run)
    records = iter_records(job.path, job.encoding, job.delimiter)
    done = 0
    with few_collections() as batch_done:
        for batch, prepared in prepared_batches(engine, records, skip=job.rows_done):
            if prepared is None:  # committed before a crash: the parser recalled it
                done += len(batch)
                continue
            refresh_statistics()
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job_id)
                if locked.rows_done != done or locked.phase != phase:
                    logger.warning("Import job %s moved on elsewhere; stopping", job_id)
                    return
                result = engine.finish(prepared)
                _save_batch(locked, phase, result)
            done += result.rows
            batch_done()
    _finish(job_id, phase)


def _save_batch(job: ImportJob, phase: str, result: BatchResult) -> None:
    counts = job.counts(phase)
    for key, n in result.counts.items():
        counts[key] = counts.get(key, 0) + n
    job.rows_done += result.rows
    if phase == Phase.TEST:
        job.test_counts = counts
    else:
        job.import_counts = counts
    job.progressed_at = timezone.now()
    job.save(
        update_fields=["rows_done", "test_counts", "import_counts", "progressed_at"]
    )
    ImportRowError.objects.bulk_create(
        ImportRowError(
            job=job,
            phase=phase,
            line=error.line,
            column=error.column[:255],
            value=error.value[:1000],
            reason=error.reason[:500],
        )
        for error in result.errors
    )


def _finish(job_id: int, phase: str) -> None:
    now = timezone.now()
    if phase == Phase.TEST:
        ImportJob.objects.filter(pk=job_id, status=JobStatus.TESTING).update(
            status=JobStatus.TESTED, tested_at=now
        )
    else:
        ImportJob.objects.filter(pk=job_id, status=JobStatus.IMPORTING).update(
            status=JobStatus.DONE, finished_at=now
        )
