"""The person: one Contact row per human, prospect or customer.

A contact owns identifiers (email, phone, channel handles), notes, timeline
activity and communication permissions. Other apps point their own rows at
Contact; a merge moves every such row (see contacts.services.merge_contacts),
so nothing here needs to know about them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BTreeIndex, OpClass
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Trim
from django.utils import timezone

from contacts.normalize import format_phone


class Stage(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"


class Status(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    LOST = "lost", "Lost"


class Source(models.TextChoices):
    BOOKING_PAGE = "booking_page", "Booking page"
    CHAT = "chat", "Chat box"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    GOOGLE_BUSINESS = "google_business", "Google Business"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    QUOTE = "quote", "Quote"
    SERVICE_REQUEST = "service_request", "Service request"
    REFERRAL = "referral", "Referral"
    PHONE_CALL = "phone_call", "Phone call"
    WALK_IN = "walk_in", "Walk-in / event"
    OTHER = "other", "Other"


class IdentifierKind(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    MESSENGER = "messenger", "Messenger PSID"
    INSTAGRAM = "instagram", "Instagram ID"
    GOOGLE_BUSINESS = "google_business", "Google Business conversation"
    CHAT = "chat", "Chat visitor"


# Which identifier decides when a capture's identifiers point at different
# people that must not merge: a channel handle is the surest sign of who wrote.
MATCH_STRENGTH = {
    IdentifierKind.MESSENGER: 4,
    IdentifierKind.INSTAGRAM: 4,
    IdentifierKind.GOOGLE_BUSINESS: 4,
    IdentifierKind.CHAT: 4,
    IdentifierKind.EMAIL: 2,
    IdentifierKind.PHONE: 1,
}


class Channel(models.TextChoices):
    """A way to reach a person, each with its own communication permission."""

    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    GOOGLE_BUSINESS = "google_business", "Google Business"
    CHAT = "chat", "Chat box"


class PermissionState(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GRANTED = "granted", "Granted"
    REVOKED = "revoked", "Revoked"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    CAPTURED = "captured", "Came back"
    NOTE = "note", "Note"
    EDITED = "edited", "Details edited"
    MESSAGE_IN = "message_in", "Message received"
    MESSAGE_OUT = "message_out", "Message sent"
    CONVERTED = "converted", "Converted to customer"
    MERGED = "merged", "Merged"
    CONSENT_CHANGED = "consent_changed", "Permission changed"
    DUPLICATE_FLAGGED = "duplicate_flagged", "Possible duplicate"
    BOOKING_ABANDONED = "booking_abandoned", "Left the booking page"
    BOOKING_CREATED = "booking_created", "Booked"
    BOOKING_CHANGED = "booking_changed", "Booking changed"
    QUOTE = "quote", "Quote"
    SERVICE_REQUEST = "service_request", "Service request"
    IMPORTED = "imported", "Imported"
    ASSIGNED = "assigned", "Owner changed"
    STATUS_CHANGED = "status_changed", "Status changed"


# List indexes cover live rows only: tombstones are never listed.
LIVE = Q(merged_into__isnull=True)


def not_null_indexes(prefix: str, fields: list[str]) -> list[models.Index]:
    """Return an index per nullable foreign key, holding only rows that have one."""
    return [
        models.Index(
            fields=[field],
            name=f"{prefix}_{field}_set",
            condition=models.Q(**{f"{field}__isnull": False}),
        )
        for field in fields
    ]


def list_index(*columns: Any, name: str) -> BTreeIndex:
    """Return an index of live rows whose key ends with the unique id.

    Deduplication is off: no two keys are equal, so the pass PostgreSQL
    makes over a full page before splitting it would only ever be wasted.
    """
    expressions = [F(c) if isinstance(c, str) else c for c in columns]
    return BTreeIndex(*expressions, name=name, condition=LIVE, deduplicate_items=False)


class ContactQuerySet(models.QuerySet):
    def live(self) -> ContactQuerySet:
        """Return contacts that were not merged into another."""
        return self.filter(merged_into__isnull=True)

    def prospects(self) -> ContactQuerySet:
        return self.live().filter(stage=Stage.PROSPECT)

    def customers(self) -> ContactQuerySet:
        return self.live().filter(stage=Stage.CUSTOMER)

    def people(self) -> ContactQuerySet:
        """Return live prospects and customers alike.

        The stages are named although they are all of them: the list and
        search indexes lead with the stage, and can serve only a query that
        names it.
        """
        return self.live().filter(stage__in=Stage.values)


class Contact(models.Model):
    stage = models.CharField(max_length=16, choices=Stage, default=Stage.PROSPECT)
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)

    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=80, blank=True)
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )

    source = models.CharField(max_length=32, choices=Source, default=Source.MANUAL)
    source_detail = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        db_index=False,  # partial index below
    )
    follow_up_on = models.DateField(null=True, blank=True)
    internal_info = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # partial index below
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_contacts",
        db_index=False,  # partial index below
    )
    merged_at = models.DateTimeField(null=True, blank=True)

    # The name lower-cased in both orders, so a B-tree finds everyone whose
    # name starts with what staff type ("ana gar", "garcía ana"), in ranges
    # that also count without reading the table (index-only scans).
    name_key = models.GeneratedField(
        expression=Lower(Trim(Concat("first_name", Value(" "), "last_name"))),
        output_field=models.CharField(max_length=301),
        db_persist=True,
    )
    name_key_reversed = models.GeneratedField(
        expression=Lower(Trim(Concat("last_name", Value(" "), "first_name"))),
        output_field=models.CharField(max_length=301),
        db_persist=True,
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        # Ascending, though the list shows the newest first: PostgreSQL reads
        # a B-tree backwards just as fast, and new rows (the latest times,
        # the highest ids) then land on the index's right edge, where an
        # insert skips the descent and a full page splits 90/10. Descending,
        # every import batch piled into one left-edge page that split in
        # halves: an index a fifth bigger and 12% slower contact inserts.
        indexes = [
            list_index("stage", "created_at", "id", name="contact_stage_created"),
            list_index(
                "stage",
                "source",
                "created_at",
                "id",
                name="contact_stage_source_created",
            ),
            list_index(
                "stage",
                "status",
                "created_at",
                "id",
                name="contact_stage_status_created",
            ),
            list_index(
                "stage", "last_activity_at", "id", name="contact_stage_activity"
            ),
            list_index(
                "stage", "owner", "created_at", "id", name="contact_stage_owner_created"
            ),
            # Sorting the list by follow-up date or by name pages with a keyset
            # cursor on these columns, so each needs its own ordered index.
            list_index(
                "stage", "follow_up_on", "id", name="contact_stage_follow_up_id"
            ),
            list_index(
                "stage", "last_name", "first_name", "id", name="contact_stage_name"
            ),
            # "Possible duplicates" joins contacts on their normalized name.
            models.Index(
                Lower("first_name"),
                Lower("last_name"),
                name="contact_lower_name",
                condition=LIVE,
            ),
            # The search box: a prefix of the name either way round, or of the
            # email, within one stage; created_at and id ride along so that
            # matches are sorted and counted from the index alone.
            *(
                list_index(
                    F("stage"),
                    OpClass(F(field), name="varchar_pattern_ops"),
                    F("created_at").desc(),
                    F("id").desc(),
                    name=name,
                )
                for field, name in (
                    ("name_key", "contact_name_search"),
                    ("name_key_reversed", "contact_name_reversed_search"),
                    ("email", "contact_email_search"),
                )
            ),
            models.Index(fields=["phone"], name="contact_phone"),
            # Most people have no owner, converter or tombstone: indexing only
            # the rows that have one keeps every insert of a new person cheaper.
            *not_null_indexes("contact", ["owner", "converted_by", "merged_into"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def name(self) -> str:
        """Return what to call this person: name, else email or phone."""
        if self.full_name or self.email:
            return self.full_name or self.email
        if self.phone:
            return format_phone(self.phone)
        return f"{self.get_source_display()} contact #{self.pk}"

    @property
    def is_customer(self) -> bool:
        return self.stage == Stage.CUSTOMER

    @property
    def follow_up_due(self) -> str:
        """Return "overdue" or "today" when the follow-up date has come."""
        if self.follow_up_on is None:
            return ""
        today = timezone.localdate()
        if self.follow_up_on < today:
            return "overdue"
        return "today" if self.follow_up_on == today else ""

    @property
    def address(self) -> str:
        parts = [self.street, self.city, self.region, self.postal_code, self.country]
        return ", ".join(part for part in parts if part)

    @property
    def map_url(self) -> str:
        """Return a link that shows where this person is, or "" when unknown."""
        from urllib.parse import quote_plus

        if self.latitude is not None and self.longitude is not None:
            query = f"{self.latitude},{self.longitude}"
        elif self.address:
            query = self.address
        else:
            return ""
        return f"https://www.openstreetmap.org/search?query={quote_plus(query)}"


class Identifier(models.Model):
    """A normalized value that points at exactly one live contact."""

    # identifier_contact (contact, kind) serves lookups by contact.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="identifiers", db_index=False
    )
    kind = models.CharField(max_length=16, choices=IdentifierKind)
    value = models.CharField(max_length=254)
    source = models.CharField(max_length=32, choices=Source, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"], name="identifier_unique_kind_value"
            )
        ]
        indexes = [models.Index(fields=["contact", "kind"], name="identifier_contact")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Note(models.Model):
    """An internal note by staff; never shown to the person."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "-created_at"], name="note_contact")]

    def __str__(self) -> str:
        return self.body[:60]


class Activity(models.Model):
    """One entry on a contact's timeline: a capture, note, message, change."""

    # activity_timeline and activity_subject serve lookups by these two.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=24, choices=ActivityKind)
    source = models.CharField(max_length=32, choices=Source, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # partial index below
    )
    summary = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    # The row this entry is about (a note, a message, a quote), when there is one.
    content_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(
                F("contact"),
                F("occurred_at").desc(),
                F("id").desc(),
                name="activity_timeline",
            ),
            # Only entries about a note, message or booking have a subject; an
            # import's "imported from" entries are left out of this index.
            models.Index(
                fields=["content_type", "object_id"],
                name="activity_subject_set",
                condition=Q(object_id__isnull=False),
            ),
            *not_null_indexes("activity", ["actor"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class CommunicationPermission(models.Model):
    """Whether a contact may be messaged on one channel, as it stands now."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="permissions"
    )
    channel = models.CharField(max_length=24, choices=Channel)
    state = models.CharField(
        max_length=16, choices=PermissionState, default=PermissionState.UNKNOWN
    )
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel"], name="permission_unique_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_state_display()}"

    @classmethod
    def merge_contact_rows(cls, field: str, survivor: Contact, loser: Contact) -> None:
        """Keep, per channel, whichever of the two states was set last."""
        kept = {p.channel: p for p in cls.objects.filter(contact=survivor)}
        for permission in cls.objects.filter(contact=loser):
            current = kept.get(permission.channel)
            if current is None:
                permission.contact = survivor
                permission.save(update_fields=["contact"])
            elif permission.changed_at > current.changed_at:
                current.delete()
                permission.contact = survivor
                permission.save(update_fields=["contact"])
            else:
                permission.delete()


class PermissionChange(models.Model):
    """The history of a permission: who or what set which state, and when."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="permission_changes"
    )
    channel = models.CharField(max_length=24, choices=Channel)
    state = models.CharField(max_length=16, choices=PermissionState)
    previous_state = models.CharField(max_length=16, choices=PermissionState)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="permchange_contact")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.previous_state} -> {self.state}"


class PossibleDuplicate(models.Model):
    """Two contacts that may be one person, left for staff to review."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "other"], name="possible_duplicate_unique_pair"
            ),
            models.CheckConstraint(
                condition=Q(contact__lt=F("other")), name="possible_duplicate_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} ~ {self.other_id}: {self.reason}"

    @classmethod
    def merge_contact_rows(cls, field: str, survivor: Contact, loser: Contact) -> None:
        """Drop the pair being merged; re-point the loser's other pairs."""
        pairs = cls.objects.filter(Q(contact=loser) | Q(other=loser))
        pairs.filter(Q(contact=survivor) | Q(other=survivor)).delete()
        for pair in pairs:
            other_id = pair.other_id if pair.contact_id == loser.pk else pair.contact_id
            low, high = sorted([survivor.pk, other_id])
            cls.objects.get_or_create(
                contact_id=low,
                other_id=high,
                defaults={"reason": pair.reason, "created_at": pair.created_at},
            )
            pair.delete()
