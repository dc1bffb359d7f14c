"""Turning one CSV record into clean prospect values, or a reason to reject it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.utils import timezone

from contacts.models import Channel, Contact, PermissionState, Source, Status
from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone
from prospects.exporting import FORMULA_STARTS
from prospects.importing.columns import IGNORE

# Text columns copied as they are, with the longest value Contact accepts.
TEXT_FIELDS = ("first_name", "last_name", "street", "city", "region", "postal_code")
MAX_LENGTHS = {
    name: Contact._meta.get_field(name).max_length for name in (*TEXT_FIELDS, "country")
}

_STATUS_WORDS = {
    **{s.value: s.value for s in Status},
    **{s.label.casefold(): s.value for s in Status},
    "open": Status.NEW,
    "open not contacted": Status.NEW,
    "not contacted": Status.NEW,
    "lead": Status.NEW,
    "in progress": Status.CONTACTED,
    "attempted to contact": Status.CONTACTED,
    "connected": Status.CONTACTED,
    "working": Status.CONTACTED,
    "working contacted": Status.CONTACTED,
    "open deal": Status.QUALIFIED,
    "closed converted": Status.QUALIFIED,
    "unqualified": Status.LOST,
    "bad timing": Status.LOST,
    "closed not converted": Status.LOST,
    "junk lead": Status.LOST,
    # Zoho
    "contact in future": Status.CONTACTED,
    "pre qualified": Status.QUALIFIED,
    "not qualified": Status.LOST,
    "lost lead": Status.LOST,
    # Odoo's pipeline stages
    "proposition": Status.QUALIFIED,
    "proposal": Status.QUALIFIED,
    "won": Status.QUALIFIED,
}
_SOURCE_WORDS = {
    **{s.value: s.value for s in Source},
    **{s.label.casefold(): s.value for s in Source},
    **{s.value.replace("_", " "): s.value for s in Source},
    "referral": Source.REFERRAL,
    "word of mouth": Source.REFERRAL,
    "phone": Source.PHONE_CALL,
    "phone inquiry": Source.PHONE_CALL,
    "walk in": Source.WALK_IN,
    "event": Source.WALK_IN,
    "facebook": Source.MESSENGER,
    "web chat": Source.CHAT,
}
# Plain strings, not enum members: rows cross to the parent process pickled,
# and unpickling a member costs an Enum lookup each time.
_STATUS_WORDS = {
    word: str(Status(value).value) for word, value in _STATUS_WORDS.items()
}
_SOURCE_WORDS = {
    word: str(Source(value).value) for word, value in _SOURCE_WORDS.items()
}
_OTHER = str(Source.OTHER.value)
_PERMISSION_WORDS = {
    **dict.fromkeys(
        ("granted", "yes", "y", "true", "1", "opted in", "opt in", "subscribed"),
        PermissionState.GRANTED,
    ),
    **dict.fromkeys(
        ("revoked", "no", "n", "false", "0", "opted out", "opt out", "unsubscribed"),
        PermissionState.REVOKED,
    ),
    "unknown": PermissionState.UNKNOWN,
}
# An opt-out column (Salesforce's HasOptedOutOfEmail, Zoho's Email Opt Out):
# yes revokes the permission; no says nothing about consent.
_OPT_OUT_WORDS = {
    **dict.fromkeys(
        ("yes", "y", "true", "1", "opted out", "opt out", "unsubscribed"), True
    ),
    **dict.fromkeys(("no", "n", "false", "0", "subscribed"), False),
}
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%b %d, %Y",
    "%d %b %Y",
)
_EMAIL_SPLIT = re.compile(r"\s*:::\s*|[,;\s]+")
_PHONE_SPLIT = re.compile(r"\s*:::\s*|[;,\n/|]+")
_TAG_SPLIT = re.compile(r"\s*:::\s*|[,;\n]+")


# Fast paths for the identifiers nearly every file holds. Each accepts only
# text that the full check (normalize_email, normalize_phone) accepts and gives
# exactly its result; anything else goes the full way. tests/imports/
# test_fast_paths.py compares them on many generated values.
# Django's own email patterns, compiled here: validate_email adds an allowlist
# lookup per call, and its patterns are lazy objects that cost a microsecond
# an attribute.
_EMAIL_USER = re.compile(
    validate_email.user_regex.pattern, validate_email.user_regex.flags
)
_EMAIL_DOMAIN = re.compile(
    validate_email.domain_regex.pattern, validate_email.domain_regex.flags
)
# A North American number in E.164 or in the plain national forms
# (5125550123, 512-555-0123, (512) 555-0123, 512.555.0123, 1 512 555 0123):
# the area code starts with 2-9 and there are ten digits after the 1.
_NANP_E164 = re.compile(r"\+1([2-9][0-9]{9})")
_NANP_NATIONAL = re.compile(
    r"(?:\+?1[ .-]?)?\(?([2-9][0-9]{2})\)?[ .-]?([0-9]{3})[ .-]?([0-9]{4})"
)


def fast_email(text: str) -> str:
    """Return normalize_email(text); raise InvalidIdentifier like it."""
    email = text.strip().lower()
    if email and len(email) <= 320:
        user, at, domain = email.rpartition("@")
        if at and _EMAIL_USER.match(user) and _EMAIL_DOMAIN.match(domain):
            return email
    try:
        return normalize_email(text)
    except InvalidIdentifier as error:
        # The cause, Django's ValidationError, refers to itself: with its
        # traceback it would hold every frame down to the batch being parsed
        # until the garbage collector, which is off during a run, came by.
        cause = error.__cause__
        if cause is not None:
            cause.__traceback__ = None
        raise


def fast_phone(text: str, region: str) -> str:
    """Return normalize_phone(text, region); raise InvalidIdentifier like it."""
    number = text.strip()
    if match := _NANP_E164.fullmatch(number):
        return number
    if region == "US" and (match := _NANP_NATIONAL.fullmatch(number)):
        return "+1" + "".join(match.groups())
    return normalize_phone(number, region)


class RowRejected(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = value
        self.reason = reason


@dataclass
class Row:
    """A record's clean values: identifiers, contact fields, notes, consent."""

    line: int
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)

    def __reduce__(self) -> tuple:
        # Rows are pickled from the parse process to the writer by the
        # thousand: positional arguments unpickle faster than a state dict.
        return (
            Row,
            (
                self.line,
                self.emails,
                self.phones,
                self.values,
                self.tags,
                self.notes,
                self.permissions,
            ),
        )

    def match_keys(self) -> list[str]:
        """Return what identifies this person within a file and in the DB."""
        keys = [f"email:{e}" for e in self.emails] + [f"phone:{p}" for p in self.phones]
        if not keys:
            first = self.values.get("first_name", "").casefold()
            last = self.values.get("last_name", "").casefold()
            keys.append(f"name:{first}\x1f{last}")
        return keys

    def absorb(self, other: Row) -> None:
        """Fold a later row about the same person into this one."""
        self.emails += [e for e in other.emails if e not in self.emails]
        self.phones += [p for p in other.phones if p not in self.phones]
        for name, value in other.values.items():
            self.values.setdefault(name, value)
        self.tags += [t for t in other.tags if t not in self.tags]
        self.notes += [n for n in other.notes if n not in self.notes]
        for channel, state in other.permissions.items():
            self.permissions.setdefault(channel, state)


def clean_cell(raw: str) -> str:
    """Return a cell trimmed, without the quote an export put before a formula.

    NUL characters (from a damaged file) go: PostgreSQL stores no text with
    them and would refuse the whole batch.
    """
    text = raw.replace("\x00", "").strip() if "\x00" in raw else raw.strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        text = text[1:].strip()
    return text


def _owners() -> dict[str, int]:
    """Return active users by email, username and full name, lower-cased."""
    owners: dict[str, int] = {}
    users = get_user_model().objects.filter(is_active=True).order_by("-pk")
    for user in users:
        full = f"{user.first_name} {user.last_name}".strip()
        for name in (full, user.username, user.email):
            if name:
                owners[name.casefold()] = user.pk
    return owners


@functools.lru_cache(maxsize=4096)  # a file repeats its few statuses and sources
def _word(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def parse_datetime(text: str) -> datetime:
    """Return an aware datetime from ISO 8601 or the usual spreadsheet forms."""
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                value = datetime.strptime(text, pattern)  # noqa: DTZ007 - made aware below
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def split_name(full: str) -> tuple[str, str]:
    """Split "Ana María García" or "García, Ana" into first and last name."""
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    parts = full.split()
    if len(parts) < 2:
        return full, ""
    return " ".join(parts[:-1]), parts[-1]


class RowParser:
    """Apply a column mapping to records; one parser per run of a file."""

    def __init__(
        self,
        headers: list[str],
        mapping: list[str],
        *,
        default_source: str = Source.IMPORT,
        default_owner_id: int | None = None,
    ) -> None:
        self.headers = headers
        self.columns: dict[str, list[int]] = {}
        for index, key in enumerate(mapping):
            if key != IGNORE and index < len(headers):
                self.columns.setdefault(key, []).append(index)
        self.mapped = [
            (index, key, headers[index])
            for key, indexes in self.columns.items()
            for index in indexes
        ]
        self.region = settings.PHONE_DEFAULT_REGION or "US"
        self.default_source = str(default_source)
        self.default_owner_id = default_owner_id
        self.owners = _owners() if "owner_email" in self.columns else {}
        # The steps a row goes through, in order, leaving out those reading
        # only columns this file does not have.
        mapped = set(self.columns)
        self.steps = [
            step
            for step, keys in (
                (self._names, {"full_name", "first_name", "last_name"}),
                (self._identifiers, {"email", "phone"}),
                (self._texts, {*TEXT_FIELDS, "country", "internal_info"}),
                (self._choices, None),  # the default source and owner
                (self._dates, {"created_at", "follow_up_on"}),
                (self._extras, {"tags", "notes"}),
            )
            if keys is None or keys & mapped
        ]

    def _cells(self, cells: list[str], key: str) -> list[tuple[str, str]]:
        return self._found.get(key, [])

    def _first(self, cells: list[str], key: str) -> tuple[str, str]:
        found = self._found.get(key)
        return found[0] if found else ("", "")

    def parse(self, line: int, cells: list[str]) -> Row:
        """Return the row's clean values; raise RowRejected naming the column."""
        extra = [c for c in cells[len(self.headers) :] if c.strip()]
        if extra:
            raise RowRejected(
                "",
                extra[0][:200],
                f"The row has {len(cells)} cells but the header names "
                f"{len(self.headers)} columns (a stray delimiter or quote?)",
            )
        # One pass over the mapped cells; the steps below read what it found.
        self._found: dict[str, list[tuple[str, str]]] = {}
        for index, key, header in self.mapped:
            if index < len(cells) and (text := clean_cell(cells[index])):
                self._found.setdefault(key, []).append((header, text))
        row = Row(line)
        for step in self.steps:
            step(row, cells)
        if (
            not row.emails
            and not row.phones
            and not (row.values.get("first_name") or row.values.get("last_name"))
        ):
            raise RowRejected("", "", "The row has no email, no phone and no name")
        return row

    def _names(self, row: Row, cells: list[str]) -> None:
        _, full = self._first(cells, "full_name")
        first, last = split_name(full) if full else ("", "")
        for key, fallback in (("first_name", first), ("last_name", last)):
            _, value = self._first(cells, key)
            if value := value or fallback:
                row.values[key] = value

    def _identifiers(self, row: Row, cells: list[str]) -> None:
        column, region = self._first(cells, "phone_country")
        region = self._region(column, region) if region else self.region
        for column, text in self._cells(cells, "email"):
            for part in filter(None, _EMAIL_SPLIT.split(text)):
                try:
                    email = fast_email(part)
                except InvalidIdentifier:
                    raise RowRejected(
                        column, text, f"{part!r} is not a valid email address"
                    ) from None
                if email not in row.emails:
                    row.emails.append(email)
        for column, text in self._cells(cells, "phone"):
            for part in filter(None, (p.strip() for p in _PHONE_SPLIT.split(text))):
                try:
                    phone = fast_phone(clean_cell(part), region)
                except InvalidIdentifier:
                    raise RowRejected(
                        column, text, f"{part!r} cannot be read as a phone number"
                    ) from None
                if phone not in row.phones:
                    row.phones.append(phone)

    def _region(self, column: str, text: str) -> str:
        code = text.strip().lstrip("+").upper()
        if code.isdigit():
            region = phonenumbers.region_code_for_country_code(int(code))
            if region != "ZZ":
                return region
        elif len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS:
            return code
        raise RowRejected(
            column, text, f"{text!r} is not a country code such as US, GB or +44"
        )

    def _texts(self, row: Row, cells: list[str]) -> None:
        for key in (*TEXT_FIELDS[2:], "country"):
            parts = [text for _, text in self._cells(cells, key)]
            if not parts:
                continue
            value = ", ".join(parts) if key == "street" else parts[0]
            column = self.headers[self.columns[key][0]]
            self._check_length(key, column, value)
            row.values[key] = value
        for key in ("first_name", "last_name"):
            if key in row.values:
                column = self.headers[self.columns.get(key, [0])[0]]
                self._check_length(key, column, row.values[key])
        internal = [text for _, text in self._cells(cells, "internal_info")]
        if internal:
            row.values["internal_info"] = "\n".join(internal)

    @staticmethod
    def _check_length(key: str, column: str, value: str) -> None:
        limit = MAX_LENGTHS[key]
        if len(value) > limit:
            raise RowRejected(
                column, value[:200], f"Longer than {limit} characters ({len(value)})"
            )

    def _choices(self, row: Row, cells: list[str]) -> None:
        column, text = self._first(cells, "status")
        if text:
            status = _STATUS_WORDS.get(_word(text)) or _STATUS_WORDS.get(
                text.casefold()
            )
            if not status:
                labels = ", ".join(s.label for s in Status)
                raise RowRejected(
                    column, text, f"Unknown status {text!r} (use one of {labels})"
                )
            row.values["status"] = status
        column, text = self._first(cells, "source")
        source = _SOURCE_WORDS.get(_word(text)) or _SOURCE_WORDS.get(text.casefold())
        if text and not source:
            row.values["source_detail"] = text[:200]
        row.values["source"] = source or (_OTHER if text else self.default_source)
        column, text = self._first(cells, "owner_email")
        if text:
            owner = self.owners.get(text.casefold())
            if owner is None:
                raise RowRejected(
                    column, text, f"No active user with the email or name {text!r}"
                )
            row.values["owner_id"] = owner
        elif self.default_owner_id:
            row.values["owner_id"] = self.default_owner_id
        for key, channel in (
            ("email_permission", Channel.EMAIL),
            ("sms_permission", Channel.SMS),
        ):
            column, text = self._first(cells, key)
            if not text:
                continue
            state = _PERMISSION_WORDS.get(_word(text))
            if state is None:
                raise RowRejected(
                    column, text, f"{text!r} is not granted, revoked or unknown"
                )
            if state != PermissionState.UNKNOWN:
                row.permissions[channel.value] = state.value
        for key, channel in (
            ("email_opt_out", Channel.EMAIL),
            ("sms_opt_out", Channel.SMS),
        ):
            column, text = self._first(cells, key)
            if not text:
                continue
            opted_out = _OPT_OUT_WORDS.get(_word(text))
            if opted_out is None:
                raise RowRejected(column, text, f"{text!r} is not yes or no")
            if opted_out:  # stronger than any permission column beside it
                row.permissions[channel.value] = PermissionState.REVOKED.value

    def _dates(self, row: Row, cells: list[str]) -> None:
        column, text = self._first(cells, "created_at")
        if text:
            try:
                row.values["created_at"] = parse_datetime(text)
            except ValueError:
                raise RowRejected(
                    column, text, f"{text!r} is not a date (use YYYY-MM-DD)"
                ) from None
        column, text = self._first(cells, "follow_up_on")
        if text:
            try:
                row.values["follow_up_on"] = date.fromisoformat(text[:10])
            except ValueError:
                try:
                    row.values["follow_up_on"] = parse_datetime(text).date()
                except ValueError:
                    raise RowRejected(
                        column, text, f"{text!r} is not a date (use YYYY-MM-DD)"
                    ) from None

    def _extras(self, row: Row, cells: list[str]) -> None:
        for _, text in self._cells(cells, "tags"):
            for part in _TAG_SPLIT.split(text):
                tag = part.strip().lstrip("*").strip()[:50]
                if tag and tag not in row.tags:
                    row.tags.append(tag)
        row.notes = [text for _, text in self._cells(cells, "notes")]
