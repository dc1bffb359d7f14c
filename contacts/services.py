"""Writes about people: capture (create or merge), merge, convert, notes, consent.

Every function here runs in one transaction and writes the timeline entry for
what it did, so the first source and every later touch stay known.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from contacts.models import (
    MATCH_STRENGTH,
    Activity,
    ActivityKind,
    Channel,
    CommunicationPermission,
    Contact,
    Identifier,
    IdentifierKind,
    Note,
    PermissionChange,
    PermissionState,
    PossibleDuplicate,
    Source,
    Stage,
)
from contacts.normalize import normalize_email, normalize_handle, normalize_phone

logger = logging.getLogger(__name__)

# Fields a capture may fill on an existing contact, only while they are blank.
DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
)
# Fields a staff edit may change, recorded on the timeline when they do.
EDITABLE_FIELDS = (
    *DETAIL_FIELDS,
    "email",
    "phone",
    "status",
    "owner",
    "source",
    "source_detail",
    "follow_up_on",
    "internal_info",
    "tags",
)
_MAX_LOCK_ATTEMPTS = 5
LAST_ACTIVITY_PRECISION = timedelta(minutes=1)


class MergeError(ValueError):
    """Two contacts that must not be merged."""


class IdentifierTaken(ValueError):
    """An email or phone that already belongs to another contact."""

    def __init__(self, kind: str, value: str, owner: Contact) -> None:
        super().__init__(f"{value} already belongs to {owner.name}")
        self.kind = kind
        self.value = value
        self.owner = owner


@dataclass(frozen=True)
class CaptureResult:
    contact: Contact
    created: bool
    merged: tuple[Contact, ...] = ()
    flagged: tuple[Contact, ...] = ()


@dataclass
class _Match:
    identifiers: list[tuple[str, str]]
    owners: dict[tuple[str, str], int] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def new_activity(
    *,
    contact: Contact,
    kind: str,
    summary: str = "",
    source: str = "",
    actor: Any = None,
    data: Mapping[str, Any] | None = None,
    subject: models.Model | None = None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Return an unsaved timeline entry; record_activities saves it."""
    return Activity(
        contact=contact,
        kind=kind,
        summary=summary[:500],
        source=source,
        actor=actor,
        data=dict(data or {}),
        occurred_at=occurred_at or timezone.now(),
        content_type=ContentType.objects.get_for_model(subject) if subject else None,
        object_id=subject.pk if subject else None,
    )


def record_activity(*, contact: Contact, **fields: Any) -> Activity:
    """Add an entry to the contact's timeline and mark them recently active.

    The fields are those of new_activity: kind, summary, source, actor, data,
    subject, occurred_at.
    """
    activity = new_activity(contact=contact, **fields)
    record_activities(contact, [activity])
    return activity


def record_activities(contact: Contact, activities: list[Activity]) -> None:
    """Save timeline entries of one contact in one statement."""
    insert_rows(activities)
    # Rewriting a contact row touches every index on it, so a burst of
    # messages moves "last activity" once a minute, not once a message.
    latest = max(activity.occurred_at for activity in activities)
    stale_before = latest - LAST_ACTIVITY_PRECISION
    if contact.last_activity_at is None or contact.last_activity_at <= stale_before:
        Contact.objects.filter(
            pk=contact.pk, last_activity_at__lte=stale_before
        ).update(last_activity_at=latest)
        contact.last_activity_at = latest


def insert_rows(rows: list[models.Model]) -> None:
    """Insert unsaved rows of one model in one statement and set their ids.

    What bulk_create does, minus compiling the statement anew on every call:
    on a webhook that compiling costs more than the insert itself. Models with
    database defaults go through bulk_create, which knows how to leave them out.
    """
    model = type(rows[0])
    fields, head, placeholders, returning = _insert_statement(model)
    if fields is None:
        model.objects.bulk_create(rows)
        return
    params = [
        field.get_db_prep_save(field.pre_save(row, True), connection)
        for row in rows
        for field in fields
    ]
    with connection.cursor() as cursor:
        values = ", ".join([placeholders] * len(rows))
        cursor.execute(f"{head}{values}{returning}", params)
        ids = cursor.fetchall()
    for row, (pk,) in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias


@functools.cache
def _insert_statement(model: type[models.Model]) -> tuple[Any, str, str, str]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.pk]
    if any(f.has_db_default() for f in fields) or not meta.pk.db_returning:
        return None, "", "", ""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    head = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES "
    pk = connection.ops.quote_name(meta.pk.column)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return fields, head, placeholders, f" RETURNING {pk}"


def normalized_identifiers(
    *, email: str = "", phone: str = "", handles: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Return the (kind, value) pairs a capture names, normalized.

    Raise InvalidIdentifier for an email or phone that cannot be one.
    """
    pairs = []
    if value := normalize_email(email):
        pairs.append((IdentifierKind.EMAIL.value, value))
    if value := normalize_phone(phone):
        pairs.append((IdentifierKind.PHONE.value, value))
    for kind, raw in (handles or {}).items():
        if value := normalize_handle(raw):
            pairs.append((IdentifierKind(kind).value, value))
    return pairs


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_identifiers(identifiers: Iterable[tuple[str, str]]) -> None:
    # Captures naming the same identifier queue behind one another until the
    # transaction ends, which is what makes twenty simultaneous webhooks from
    # one new phone create one contact. Sorted keys keep the order global, so
    # two captures sharing several identifiers cannot deadlock.
    keys = sorted({_lock_key(kind, value) for kind, value in identifiers})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(key)"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(key, n) ORDER BY n",
            [keys],
        )


# Raw SQL on the capture path: every webhook runs these, and the ORM spends
# longer compiling them than PostgreSQL spends answering. Pairs are matched
# in Python: kind = ANY and value = ANY is one index scan, and a mixed pair
# such as (email, <a phone>) can never match anyway.
_OWNERS_SQL = (
    "SELECT kind, value, contact_id FROM contacts_identifier"
    " WHERE kind = ANY(%s) AND value = ANY(%s)"
)


def _find_owners(identifiers: list[tuple[str, str]]) -> _Match:
    """Lock and return the live contacts that own any of the identifiers."""
    kinds = sorted({kind for kind, _ in identifiers})
    values = sorted({value for _, value in identifiers})
    wanted = set(identifiers)
    for _ in range(_MAX_LOCK_ATTEMPTS):
        with connection.cursor() as cursor:
            cursor.execute(_OWNERS_SQL, [kinds, values])
            rows = cursor.fetchall()
        owners = {
            (kind, value): contact_id
            for kind, value, contact_id in rows
            if (kind, value) in wanted
        }
        contact_ids = sorted(set(owners.values()))
        if not contact_ids:
            return _Match(identifiers)
        locked = _lock_contacts(contact_ids)
        # A merge that committed while we waited for the row locks moves
        # identifiers to the survivor: look again until nothing moved.
        if all(c.merged_into_id is None for c in locked.values()) and len(
            locked
        ) == len(contact_ids):
            return _Match(identifiers, owners, locked)
    raise RuntimeError("Contacts kept changing while capturing; try again.")


def _lock_contacts(contact_ids: list[int]) -> dict[int, Contact]:
    """Lock the contacts for update in id order, so captures cannot deadlock."""
    names, sql = _lock_contacts_statement()
    if sql is None:
        rows = Contact.objects.select_for_update().filter(pk__in=contact_ids)
        return {c.pk: c for c in rows.order_by("pk")}
    with connection.cursor() as cursor:
        cursor.execute(sql, [contact_ids])
        rows = cursor.fetchall()
    return {
        contact.pk: contact
        for contact in (Contact.from_db(connection.alias, names, row) for row in rows)
    }


@functools.cache
def _lock_contacts_statement() -> tuple[list[str], str | None]:
    fields = Contact._meta.concrete_fields
    # A field whose database value needs converting goes through the ORM.
    if any(
        f.get_db_converters(connection)
        or connection.ops.get_db_converters(f.get_col(Contact._meta.db_table))
        for f in fields
    ):
        return [], None
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Contact._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
    return [f.attname for f in fields], sql


def _conflicting_kind(contacts: Iterable[Contact]) -> str | None:
    """Return a kind of identifier that two of the contacts both have."""
    seen: dict[str, int] = {}
    rows = Identifier.objects.filter(contact__in=list(contacts)).values_list(
        "kind", "contact"
    )
    for kind, contact_id in rows:
        if seen.setdefault(kind, contact_id) != contact_id:
            return kind
    return None


def choose_survivor(contacts: Iterable[Contact]) -> Contact:
    """Return who survives a merge: a customer over a prospect, else the oldest."""
    return min(contacts, key=lambda c: (c.stage != Stage.CUSTOMER, c.created_at, c.pk))


def _strongest_owner(match: _Match) -> Contact:
    def strength(item: tuple[tuple[str, str], int]) -> tuple[int, int]:
        (kind, _), contact_id = item
        return (MATCH_STRENGTH[IdentifierKind(kind)], -contact_id)

    _, contact_id = max(match.owners.items(), key=strength)
    return match.contacts[contact_id]


def _fill_blanks(contact: Contact, details: Mapping[str, Any]) -> list[str]:
    changed = []
    for name in DETAIL_FIELDS:
        value = details.get(name)
        if not _is_blank(value) and _is_blank(getattr(contact, name)):
            setattr(contact, name, value)
            changed.append(name)
    return changed


def _add_identifiers(contact: Contact, match: _Match, source: str) -> list[str]:
    """Give the contact the captured identifiers nobody owns yet."""
    new = [pair for pair in match.identifiers if pair not in match.owners]
    if new:
        insert_rows(
            [
                Identifier(contact=contact, kind=kind, value=value, source=source)
                for kind, value in new
            ]
        )
    changed = []
    for kind, value in new:
        match.owners[(kind, value)] = contact.pk
        primary = {"email": "email", "phone": "phone"}.get(kind)
        if primary and not getattr(contact, primary):
            setattr(contact, primary, value)
            changed.append(primary)
    return changed


def _flag_duplicates(contact: Contact, others: Iterable[Contact], reason: str) -> None:
    for other in others:
        low, high = sorted([contact.pk, other.pk])
        _, created = PossibleDuplicate.objects.get_or_create(
            contact_id=low, other_id=high, defaults={"reason": reason}
        )
        if created:
            record_activity(
                contact=contact,
                kind=ActivityKind.DUPLICATE_FLAGGED,
                summary=f"May be the same person as {other.name}",
                data={"other_id": other.pk, "reason": reason},
            )


# No savepoint: a capture runs inside the transaction of the message, draft
# or quote it is about, and a failed capture fails that whole transaction.
@transaction.atomic(savepoint=False)
def capture_contact(
    *,
    source: str,
    email: str = "",
    phone: str = "",
    handles: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
    summary: str = "",
    data: Mapping[str, Any] | None = None,
    actor: Any = None,
    kind: str = ActivityKind.CAPTURED,
    subject: models.Model | None = None,
    occurred_at: datetime | None = None,
    fill_customer: bool = True,
) -> CaptureResult:
    """Find the person these identifiers belong to, or create a prospect.

    One owner: attach new identifiers and fill blank fields (not on a
    customer when `fill_customer` is off). Several owners: merge them when
    nothing conflicts, otherwise keep the strongest match and flag the others
    as possible duplicates. Every capture is a timeline entry with its
    source: `kind` names the event (a message, an abandoned booking) and
    `subject` is the row it is about. A new person also gets a "created"
    entry before the event's own.
    """
    details = details or {}
    identifiers = normalized_identifiers(email=email, phone=phone, handles=handles)
    _lock_identifiers(identifiers)
    match = _find_owners(identifiers) if identifiers else _Match(identifiers)

    event = {
        "kind": kind,
        "source": source,
        "actor": actor,
        "data": data,
        "subject": subject,
        "occurred_at": occurred_at,
    }
    if not match.contacts:
        contact = _create_prospect(source, details, match, actor)
        entries = [_created_entry(contact, source, actor)]
        if kind != ActivityKind.CAPTURED:
            entries.append(new_activity(contact=contact, summary=summary, **event))
        record_activities(contact, entries)
        return CaptureResult(contact=contact, created=True)

    merged: list[Contact] = []
    flagged: list[Contact] = []
    contacts = list(match.contacts.values())
    customers = [c for c in contacts if c.stage == Stage.CUSTOMER]
    conflict = _conflicting_kind(contacts) if len(contacts) > 1 else None
    if len(contacts) == 1:
        contact = contacts[0]
    elif conflict or len(customers) > 1:
        contact = _strongest_owner(match)
        flagged = [c for c in contacts if c.pk != contact.pk]
        reason = (
            f"share the identifiers of one {source} capture, but both have "
            f"{'a different ' + conflict if conflict else 'customer records'}"
        )
        _flag_duplicates(contact, flagged, reason)
    else:
        contact = choose_survivor(contacts)
        for loser in contacts:
            if loser.pk != contact.pk:
                merge_contacts(survivor=contact, loser=loser, actor=actor)
                merged.append(loser)
        contact.refresh_from_db()
        match.owners = dict.fromkeys(match.owners, contact.pk)

    if fill_customer or contact.stage != Stage.CUSTOMER:
        changed = _fill_blanks(contact, details)
        changed += _add_identifiers(contact, match, source)
        if changed:
            contact.save(update_fields=[*changed, "updated_at"])
    summary = summary or f"Came back through {Source(source).label}"
    record_activity(contact=contact, summary=summary, **event)
    return CaptureResult(contact, False, tuple(merged), tuple(flagged))


def _create_prospect(
    source: str, details: Mapping[str, Any], match: _Match, actor: Any
) -> Contact:
    known = {name: details[name] for name in DETAIL_FIELDS if name in details}
    extra = {
        name: details[name]
        for name in ("status", "owner", "follow_up_on", "internal_info", "tags")
        if not _is_blank(details.get(name))
    }
    contact = Contact(stage=Stage.PROSPECT, source=source, **known, **extra)
    contact.source_detail = details.get("source_detail", "") or ""
    if details.get("created_at"):
        contact.created_at = details["created_at"]
        contact.last_activity_at = details["created_at"]
    for kind, value in match.identifiers:
        if kind in ("email", "phone") and not getattr(contact, kind):
            setattr(contact, kind, value)
    insert_rows([contact])
    _add_identifiers(contact, match, source)
    return contact


def _created_entry(contact: Contact, source: str, actor: Any) -> Activity:
    return new_activity(
        contact=contact,
        kind=ActivityKind.CREATED,
        source=source,
        actor=actor,
        summary=f"New prospect from {Source(source).label}",
        occurred_at=contact.created_at,
    )


def _related_fields() -> list[models.ForeignKey]:
    """Return every foreign key, in any app, that points at Contact."""
    return [
        relation.field
        for relation in Contact._meta.related_objects
        if relation.one_to_many or relation.one_to_one
    ]


def _move_related_rows(survivor: Contact, loser: Contact) -> None:
    for fk in _related_fields():
        model = fk.model
        hook = getattr(model, "merge_contact_rows", None)
        if hook is not None:
            hook(fk.name, survivor, loser)
        elif fk.one_to_one:
            if not model._base_manager.filter(**{fk.name: survivor}).exists():
                model._base_manager.filter(**{fk.name: loser}).update(
                    **{fk.name: survivor}
                )
        else:
            model._base_manager.filter(**{fk.name: loser}).update(**{fk.name: survivor})


@transaction.atomic
def merge_contacts(
    *,
    survivor: Contact,
    loser: Contact,
    actor: Any = None,
    values: Mapping[str, Any] | None = None,
) -> Contact:
    """Merge the loser into the survivor and leave a tombstone behind.

    Every row pointing at the loser moves over, whatever app it belongs to.
    The survivor keeps its values unless `values` picks others, fills its
    blanks from the loser, and keeps the furthest stage and the first source.
    """
    if survivor.pk == loser.pk:
        raise MergeError("A contact cannot be merged with itself.")
    locked = Contact.objects.select_for_update().filter(pk__in=[survivor.pk, loser.pk])
    rows = {c.pk: c for c in locked.order_by("pk")}
    survivor, loser = rows[survivor.pk], rows[loser.pk]
    if survivor.merged_into_id or loser.merged_into_id:
        raise MergeError("One of these contacts was already merged.")
    if loser.stage == Stage.CUSTOMER and survivor.stage != Stage.CUSTOMER:
        raise MergeError("A customer cannot be merged into a prospect.")

    _move_related_rows(survivor, loser)
    _combine_fields(survivor, loser, values or {})
    survivor.save()
    loser.merged_into = survivor
    loser.merged_at = timezone.now()
    loser.save(update_fields=["merged_into", "merged_at", "updated_at"])
    record_activity(
        contact=survivor,
        kind=ActivityKind.MERGED,
        actor=actor,
        summary=f"Merged with {loser.name} (#{loser.pk})",
        data={"loser_id": loser.pk, "loser_name": loser.name},
    )
    return survivor


def _combine_fields(
    survivor: Contact, loser: Contact, values: Mapping[str, Any]
) -> None:
    for name in (*DETAIL_FIELDS, "owner", "follow_up_on", "internal_info"):
        if _is_blank(getattr(survivor, name)):
            setattr(survivor, name, getattr(loser, name))
    for name in ("email", "phone"):
        if not getattr(survivor, name):
            setattr(survivor, name, getattr(loser, name))
    survivor.tags = sorted(set(survivor.tags) | set(loser.tags))
    for name, value in values.items():
        if name not in EDITABLE_FIELDS:
            raise MergeError(f"{name} cannot be chosen in a merge.")
        setattr(survivor, name, value)
    if loser.created_at < survivor.created_at:
        survivor.created_at = loser.created_at
        survivor.source = loser.source
        survivor.source_detail = loser.source_detail
    survivor.last_activity_at = max(survivor.last_activity_at, loser.last_activity_at)
    if loser.stage == Stage.CUSTOMER or survivor.stage == Stage.CUSTOMER:
        survivor.stage = Stage.CUSTOMER
        survivor.converted_at = survivor.converted_at or loser.converted_at
        survivor.converted_by = survivor.converted_by or loser.converted_by


@transaction.atomic
def convert_to_customer(*, contact: Contact, actor: Any = None) -> bool:
    """Make the prospect a customer; return False when it already was one."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.stage == Stage.CUSTOMER or contact.merged_into_id:
        return False
    contact.stage = Stage.CUSTOMER
    contact.converted_at = timezone.now()
    contact.converted_by = actor
    contact.save(update_fields=["stage", "converted_at", "converted_by", "updated_at"])
    record_activity(
        contact=contact,
        kind=ActivityKind.CONVERTED,
        actor=actor,
        summary="Converted to customer",
    )
    return True


@transaction.atomic
def set_permission(
    *,
    contact: Contact,
    channel: str,
    state: str,
    actor: Any = None,
    via: str = "",
    reason: str = "",
) -> bool:
    """Set a communication permission; return False when it was already so."""
    permission, _ = CommunicationPermission.objects.select_for_update().get_or_create(
        contact=contact, channel=channel
    )
    previous = permission.state
    if previous == state:
        return False
    permission.state = state
    permission.changed_at = timezone.now()
    permission.changed_by = actor
    permission.via = via
    permission.reason = reason
    permission.save()
    PermissionChange.objects.create(
        contact=contact,
        channel=channel,
        state=state,
        previous_state=previous,
        actor=actor,
        via=via,
        reason=reason,
    )
    label = (
        f"{Channel(channel).label} permission {PermissionState(state).label.lower()}"
    )
    record_activity(
        contact=contact,
        kind=ActivityKind.CONSENT_CHANGED,
        actor=actor,
        summary=f"{label}" + (f" ({via})" if via else ""),
        data={
            "channel": channel,
            "state": state,
            "previous": previous,
            "reason": reason,
        },
    )
    return True


def permission_state(contact: Contact, channel: str) -> str:
    """Return the contact's current permission state on a channel."""
    permission = CommunicationPermission.objects.filter(
        contact=contact, channel=channel
    ).first()
    return permission.state if permission else PermissionState.UNKNOWN


@transaction.atomic
def add_note(*, contact: Contact, author: Any, body: str) -> Note:
    """Add an internal note and put it on the timeline."""
    note = Note.objects.create(contact=contact, author=author, body=body)
    record_activity(
        contact=contact,
        kind=ActivityKind.NOTE,
        actor=author,
        summary=body[:200],
        subject=note,
        occurred_at=note.created_at,
    )
    return note


@transaction.atomic
def edit_note(*, note: Note, body: str) -> Note:
    """Change a note's text, and its timeline entry with it."""
    note.body = body
    note.save(update_fields=["body", "updated_at"])
    note_type = ContentType.objects.get_for_model(Note)
    Activity.objects.filter(content_type=note_type, object_id=note.pk).update(
        summary=body[:200]
    )
    return note


@transaction.atomic
def delete_note(*, note: Note) -> None:
    """Delete a note and its timeline entry."""
    note_type = ContentType.objects.get_for_model(Note)
    Activity.objects.filter(content_type=note_type, object_id=note.pk).delete()
    note.delete()


def _display(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


@transaction.atomic
def update_contact(
    *, contact: Contact, actor: Any, changes: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """Apply staff edits, keep identifiers in step, and log what changed.

    Return the changed fields as {field: [old, new]}. Raise IdentifierTaken
    when a new email or phone belongs to another contact.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changed: dict[str, list[Any]] = {}
    for name, new in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not editable")
        old = getattr(contact, name)
        if old != new:
            changed[name] = [_display(old), _display(new)]
            setattr(contact, name, new)
    if not changed:
        return changed
    for kind in ("email", "phone"):
        value = getattr(contact, kind)
        if kind in changed and value:
            identifier, _ = Identifier.objects.get_or_create(
                kind=kind,
                value=value,
                defaults={"contact": contact, "source": Source.MANUAL},
            )
            if identifier.contact_id != contact.pk:
                raise IdentifierTaken(kind, value, identifier.contact)
    contact.save()
    labels = [Contact._meta.get_field(name).verbose_name for name in changed]
    record_activity(
        contact=contact,
        kind=ActivityKind.EDITED,
        actor=actor,
        summary="Changed " + ", ".join(labels),
        data={"changes": changed},
    )
    return changed
