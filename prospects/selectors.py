"""Reads behind the prospect and customer screens."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from contacts.models import (
    Activity,
    ActivityKind,
    Channel,
    CommunicationPermission,
    Contact,
    Note,
    PermissionState,
    PossibleDuplicate,
)
from contacts.selectors import timeline
from prospects.pagination import Key, Page, page_of, paginate, start_at

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 25
# Counting stops here: past it the page says "10,000+". A capped count costs
# at most this many index entries, so it stays flat however large the table.
COUNT_CAP = 10_000
# Up to this many matches, a first page is sorted from the keys of all of them
# (one index pass that also counts) instead of asking twice.
FEW = 5_000
# The planner estimates a name prefix from a coarse histogram, often several
# times too high ("priya patel": 9,800 expected, 1,500 found at 1,000,000
# rows), so a search tries the few-matches way up to this many times FEW.
# When it holds more after all, the attempt costs one capped index read.
SEARCH_ESTIMATE_SLACK = 10

SORTS: dict[str, tuple[str, tuple[Key, ...]]] = {
    "-created": (
        "Newest first",
        (
            Key("created_at", descending=True, kind="datetime"),
            Key("id", True, kind="int"),
        ),
    ),
    "created": (
        "Oldest first",
        (Key("created_at", kind="datetime"), Key("id", kind="int")),
    ),
    "-activity": (
        "Last activity",
        (
            Key("last_activity_at", descending=True, kind="datetime"),
            Key("id", True, kind="int"),
        ),
    ),
    "name": (
        "Name",
        (Key("last_name"), Key("first_name"), Key("id", kind="int")),
    ),
    "follow_up": (
        "Follow-up date",
        (Key("follow_up_on", nullable=True, kind="date"), Key("id", kind="int")),
    ),
}
DEFAULT_SORT = "-created"


def base_queryset(stage: str, *, converted: bool = False) -> QuerySet[Contact]:
    """Return the live contacts a list shows, before any filter."""
    if converted:
        # Reporting: prospects that became customers, found from the
        # prospects list although they left it.
        return Contact.objects.customers().filter(converted_at__isnull=False)
    return Contact.objects.live().filter(stage=stage)


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


def capped_count(
    queryset: QuerySet[Contact],
    cap: int = COUNT_CAP,
    *,
    alternatives: Sequence[QuerySet[Contact]] = (),
) -> Count:
    """Count matching rows exactly up to `cap`, without a full COUNT(*).

    With alternatives (the ways a search can match, see
    contacts.selectors.search_conditions), each is first counted on its own
    index: one that passes the cap settles it. Only when all stay under it
    are their ids united, so a person matching twice counts once.
    """
    if len(alternatives) < 2:
        sql, params = _ids(alternatives[0] if alternatives else queryset, cap)
        return _capped(f"SELECT count(*) FROM ({sql}) AS capped", params, cap)
    queries = [_ids(alternative, cap) for alternative in alternatives]
    branches = " ".join(
        f"WHEN (SELECT count(*) FROM ({sql}) AS b) > {cap} THEN {cap + 1}"
        for sql, _ in queries
    )
    united = " UNION ".join(f"({sql})" for sql, _ in queries)
    # Each query's parameters twice: once for its branch, once in the union.
    params = [param for _, query_params in queries for param in query_params] * 2
    # PostgreSQL runs each subquery of the CASE only when it gets that far.
    sql = f"SELECT CASE {branches} ELSE (SELECT count(*) FROM ({united}) AS u) END"
    return _capped(sql, params, cap)


def _ids(queryset: QuerySet[Contact], cap: int) -> tuple[str, tuple[Any, ...]]:
    return queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()


def _capped(sql: str, params: Sequence[Any], cap: int) -> Count:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        value = cursor.fetchone()[0]
    return Count(min(value, cap), value > cap)


def list_page(
    queryset: QuerySet[Contact],
    *,
    sort: str,
    after: str = "",
    before: str = "",
    alternatives: Sequence[QuerySet[Contact]] = (),
    filtered: bool = True,
) -> tuple[Page, Count]:
    """Return one page of the list, owners loaded, and the count of matches.

    When the planner expects few matches (a name search), a page is cut
    from the sort keys of the matches past the cursor, read from the indexes
    of the search's `alternatives`: walking the sort index instead would
    pass over thousands of rows for each match. Other lists walk the sort
    index from the cursor, and the count is capped. An unfiltered list
    always walks: every row of the sort index is a match.
    """
    _, keys = SORTS.get(sort, SORTS[DEFAULT_SORT])
    expected = FEW * SEARCH_ESTIMATE_SLACK if alternatives else FEW
    if filtered and _estimate(queryset) <= expected:
        few = _page_of_few(queryset, keys, alternatives, after=after, before=before)
        if few is not None:
            return few
    page = paginate(
        queryset.select_related("owner"),
        keys,
        size=PAGE_SIZE,
        after=after,
        before=before,
    )
    if not (after or before) and not page.next_cursor:
        # A first page that is not full holds every match.
        return page, Count(len(page.rows), capped=False)
    return page, capped_count(queryset, alternatives=alternatives)


def _estimate(queryset: QuerySet[Contact]) -> int:
    """Return how many rows PostgreSQL's planner expects the query to match."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _page_of_few(
    queryset: QuerySet[Contact],
    keys: tuple[Key, ...],
    alternatives: Sequence[QuerySet[Contact]] = (),
    *,
    after: str = "",
    before: str = "",
) -> tuple[Page, Count] | None:
    """Return a page and the count from the sort keys of the matches.

    PostgreSQL sorts the keys past the cursor and counts them in one query,
    so only a page of them travels to Python. Return None when more than
    FEW rows lie past the cursor after all.
    """
    start = start_at(keys, after=after, before=before)
    fields = [key.field for key in keys]
    parts = [
        part.filter(start.condition(keys)).order_by().values_list(*fields)[: FEW + 1]
        for part in (alternatives or [queryset])
    ]
    # UNION, not UNION ALL: someone matching two ways is one row.
    matches = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    sql, params = matches.query.sql_with_params()
    columns = ", ".join(f'"{field}"' for field in fields)
    order = ", ".join(key.sql(start.reverse) for key in keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, count(*) OVER () FROM ({sql}) AS matches"
            f" ORDER BY {order} LIMIT {PAGE_SIZE + 1}",
            params,
        )
        found = cursor.fetchall()
    past_cursor = found[0][-1] if found else 0
    if past_cursor > FEW:
        return None
    page = page_of(
        [row[:-1] for row in found[:PAGE_SIZE]],
        list,
        more=len(found) > PAGE_SIZE,
        start=start,
    )
    # The last sort key is the id.
    contacts = Contact.objects.select_related("owner").in_bulk(
        [row[-1] for row in page.rows]
    )
    page.rows = [contacts[row[-1]] for row in page.rows]
    if start.values is None:
        return page, Count(past_cursor, capped=False)
    return page, capped_count(queryset, alternatives=alternatives)


def get_contact(pk: int) -> Contact:
    """Return a live contact for a staff page, or 404."""
    contact = (
        Contact.objects.select_related("owner", "converted_by", "merged_into")
        .filter(pk=pk)
        .first()
    )
    if contact is None:
        raise Http404("No such person.")
    return contact


def timeline_page(contact: Contact, *, before: str = "") -> Page:
    """Return a page of the timeline, newest first, with its notes attached."""
    keys = (
        Key("occurred_at", descending=True, kind="datetime"),
        Key("id", True, kind="int"),
    )
    page = paginate(timeline(contact), keys, size=TIMELINE_PAGE_SIZE, after=before)
    attach_notes(page.rows)
    return page


def attach_notes(activities: list[Activity]) -> None:
    """Give each note entry its Note (`entry.note`), in one query."""
    ids = [a.object_id for a in activities if a.kind == ActivityKind.NOTE]
    notes = Note.objects.select_related("author").in_bulk(ids) if ids else {}
    for activity in activities:
        activity.note = notes.get(activity.object_id)


def latest_entry(contact: Contact) -> Activity:
    """Return the newest timeline entry, ready to render on its own."""
    entry = timeline(contact).first()
    attach_notes([entry])
    return entry


def note_entry(note: Note) -> Activity:
    """Return the timeline entry of a note, ready to render on its own."""
    note_type = ContentType.objects.get_for_model(Note)
    entry = Activity.objects.select_related("actor").get(
        content_type=note_type, object_id=note.pk
    )
    entry.note = note
    return entry


# Every way a person reaches the business, as opposed to staff's own edits.
TOUCH_KINDS = (
    ActivityKind.CREATED,
    ActivityKind.CAPTURED,
    ActivityKind.MESSAGE_IN,
    ActivityKind.BOOKING_ABANDONED,
    ActivityKind.BOOKING_CREATED,
    ActivityKind.QUOTE,
    ActivityKind.SERVICE_REQUEST,
    ActivityKind.IMPORTED,
)


def touches(contact: Contact) -> int:
    """Return how many times the person reached the business."""
    return Activity.objects.filter(contact=contact, kind__in=TOUCH_KINDS).count()


def permissions(contact: Contact) -> list[dict[str, Any]]:
    """Return each channel's permission as it stands, unknown when never set."""
    rows = {
        p.channel: p
        for p in CommunicationPermission.objects.filter(contact=contact).select_related(
            "changed_by"
        )
    }
    return [
        {
            "channel": channel,
            "label": label,
            "state": rows[channel].state
            if channel in rows
            else PermissionState.UNKNOWN,
            "row": rows.get(channel),
        }
        for channel, label in Channel.choices
    ]


def merge_summary(contact: Contact) -> dict[str, Any]:
    """Return what a merge moves besides fields: identifiers and timeline."""
    return {
        "contact": contact,
        "identifiers": list(contact.identifiers.order_by("kind", "created_at")),
        "entries": Activity.objects.filter(contact=contact).count(),
    }


def export_queryset(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """Return rows ready for export: owner and both permissions in one query."""

    def state(channel: str) -> Subquery:
        return Subquery(
            CommunicationPermission.objects.filter(
                contact=OuterRef("pk"), channel=channel
            ).values("state")[:1]
        )

    return queryset.select_related("owner").annotate(
        email_permission=state(Channel.EMAIL), sms_permission=state(Channel.SMS)
    )


def open_duplicates(limit: int = 100) -> list[PossibleDuplicate]:
    """Return the pairs the engine flagged that nobody reviewed yet."""
    return list(
        PossibleDuplicate.objects.filter(
            resolved_at__isnull=True,
            contact__merged_into__isnull=True,
            other__merged_into__isnull=True,
        )
        .select_related("contact", "other")
        .order_by("-created_at", "-id")[:limit]
    )


# Same normalized name, and the same city or the same email local part once
# dots, digits and "+tags" are stripped (ana.garcia7@x ~ anagarcia@y). Walking
# the newest contacts first and probing the name index for each keeps this
# to one index lookup per candidate, even over a million contacts.
_LOCAL = (
    "regexp_replace(split_part(split_part(lower({t}.email), '@', 1), '+', 1),"
    " '[^a-z]', '', 'g')"
)
_NAME_PAIRS_SQL = f"""
SELECT a.id, b.id,
       CASE WHEN a.city <> '' AND lower(a.city) = lower(b.city)
            THEN 'Same name and city' ELSE 'Same name and similar email' END
FROM contacts_contact b
JOIN contacts_contact a
  ON lower(a.first_name) = lower(b.first_name)
 AND lower(a.last_name) = lower(b.last_name)
 AND a.merged_into_id IS NULL
 AND a.id < b.id
WHERE b.merged_into_id IS NULL
  AND (b.first_name <> '' OR b.last_name <> '')
  AND ((a.city <> '' AND lower(a.city) = lower(b.city))
       OR (a.email <> '' AND {_LOCAL.format(t="a")} = {_LOCAL.format(t="b")}))
  AND NOT EXISTS (
      SELECT 1 FROM contacts_possibleduplicate d
      WHERE d.contact_id = a.id AND d.other_id = b.id
  )
ORDER BY b.id DESC, a.id DESC
LIMIT %s
"""


def name_duplicates(limit: int = 100) -> list[tuple[Contact, Contact, str]]:
    """Return likely pairs by name that are neither flagged nor dismissed."""
    with connection.cursor() as cursor:
        cursor.execute(_NAME_PAIRS_SQL, [limit])
        rows = cursor.fetchall()
    ids = {pk for a, b, _ in rows for pk in (a, b)}
    contacts = Contact.objects.in_bulk(ids)
    return [(contacts[a], contacts[b], reason) for a, b, reason in rows]
