"""Keyset ("cursor") pagination that costs the same on page 1 and page 10,000.

OFFSET makes PostgreSQL walk and throw away every row before the page, so a
deep page over a million prospects takes about a second. A cursor holds the
sort values of the row at the edge of the page instead, and the next page is
"rows after these values" in index order: one index range scan, always flat.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Key:
    """One column of a sort order; the last key of an order must be unique."""

    field: str
    descending: bool = False
    nullable: bool = False
    kind: str = "str"  # how a cursor value is read back: str, int, datetime, date

    def order_by(self, reverse: bool = False) -> Any:
        from django.db.models import F

        descending = self.descending != reverse
        expression = F(self.field)
        # Nulls sort after every value in both directions of the index
        # (ASC NULLS LAST, DESC NULLS FIRST is PostgreSQL's default pairing).
        if descending:
            return expression.desc(nulls_first=True)
        return expression.asc(nulls_last=True)

    def sql(self, reverse: bool = False) -> str:
        """Return the ORDER BY term of this key, as a column of a subquery."""
        if self.descending != reverse:
            return f'"{self.field}" DESC NULLS FIRST'
        return f'"{self.field}" ASC NULLS LAST'


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str = ""
    previous_cursor: str = ""


def encode_cursor(values: list[Any]) -> str:
    data = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[Key, ...]) -> list[Any] | None:
    """Return the cursor's values, or None when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        return [_parse(value, key) for value, key in zip(values, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error):
        return None


def _parse(value: Any, key: Key) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null in a non-null key")
        return None
    if key.kind == "datetime":
        return datetime.fromisoformat(value)
    if key.kind == "date":
        return date.fromisoformat(value)
    if key.kind == "int":
        return int(value)
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _after(keys: tuple[Key, ...], values: list[Any], reverse: bool) -> Q:
    """Return the condition "comes after `values` in this order"."""
    key, value, rest = keys[0], values[0], keys[1:]
    descending = key.descending != reverse
    nulls_last = not descending
    if value is None:
        # Nulls come last ascending and first descending.
        same = Q(**{f"{key.field}__isnull": True})
        later = Q() if nulls_last else Q(**{f"{key.field}__isnull": False})
        if not rest:
            return later if not nulls_last else Q(pk__in=[])
        tail = _after(rest, values[1:], reverse)
        return (same & tail) | later if not nulls_last else same & tail
    beyond = "lt" if descending else "gt"
    bound = "lte" if descending else "gte"
    strictly = Q(**{f"{key.field}__{beyond}": value})
    if key.nullable and nulls_last:
        strictly |= Q(**{f"{key.field}__isnull": True})
    if not rest:
        return strictly
    tail = Q(**{key.field: value}) & _after(rest, values[1:], reverse)
    condition = strictly | tail
    if not key.nullable:
        # The redundant bound gives PostgreSQL a range to start the index
        # scan at; the OR alone would be a filter over rows already passed.
        condition = Q(**{f"{key.field}__{bound}": value}) & condition
    return condition


@dataclass(frozen=True)
class Start:
    """Where a page starts: after (or, reading backwards, before) a cursor."""

    values: list[Any] | None
    reverse: bool

    def condition(self, keys: tuple[Key, ...]) -> Q:
        """Return the rows past the cursor; all rows without one."""
        if self.values is None:
            return Q()
        return _after(keys, self.values, self.reverse)


def start_at(keys: tuple[Key, ...], *, after: str = "", before: str = "") -> Start:
    """Return where a request for the page after or before a cursor starts."""
    reverse = bool(before) and not after
    cursor = before if reverse else after
    return Start(decode_cursor(cursor, keys) if cursor else None, reverse)


def page_of(
    rows: list[Any],
    values: Callable[[Any], list[Any]],
    *,
    more: bool,
    start: Start,
) -> Page:
    """Return rows read from `start` as a page, with its Older and Newer cursors.

    `more` says a row was left over past the page; `values` gives a row's
    sort values for the cursors.
    """
    if start.reverse:
        rows.reverse()
    page = Page(rows=rows)
    if not rows:
        return page
    # Forward: "older" exists when a row was left over, "newer" whenever we
    # started from a cursor. Backward it is the mirror image.
    resumed = start.values is not None
    has_next, has_previous = (resumed, more) if start.reverse else (more, resumed)
    if has_next:
        page.next_cursor = encode_cursor(values(rows[-1]))
    if has_previous:
        page.previous_cursor = encode_cursor(values(rows[0]))
    return page


def paginate(
    queryset: QuerySet,
    keys: tuple[Key, ...],
    *,
    size: int,
    after: str = "",
    before: str = "",
) -> Page:
    """Return one page of rows after (or before) a cursor, in key order."""
    start = start_at(keys, after=after, before=before)
    ordered = queryset.order_by(*(key.order_by(start.reverse) for key in keys))
    rows = list(ordered.filter(start.condition(keys))[: size + 1])
    return page_of(
        rows[:size],
        lambda row: _values(row, keys),
        more=len(rows) > size,
        start=start,
    )


def _values(row: Any, keys: tuple[Key, ...]) -> list[Any]:
    values = []
    for key in keys:
        value = row
        for part in key.field.split("__"):
            value = getattr(value, part)
        values.append(value)
    return values
