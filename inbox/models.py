"""Conversations and messages on every channel, in and out.

A conversation is one person on one channel handle (a phone number, an email
address, a Messenger PSID, a chat visitor). The inbox thread of a person reads
all messages of all their conversations in time order.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Channel, Contact


class Direction(models.TextChoices):
    IN = "in", "Received"
    OUT = "out", "Sent"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


# How far along an outbound message is; a status callback never moves back.
STATUS_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.FAILED: 3,
}


class Conversation(models.Model):
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="conversations"
    )
    channel = models.CharField(max_length=24, choices=Channel)
    handle = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_preview = models.CharField(max_length=200, blank=True)
    last_direction = models.CharField(max_length=3, choices=Direction, blank=True)
    unread_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "handle"], name="conversation_unique_handle"
            )
        ]
        indexes = [
            models.Index(
                fields=["-last_message_at", "-id"], name="conversation_recent"
            ),
            models.Index(
                fields=["unread_count"],
                name="conversation_unread",
                condition=Q(unread_count__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.handle}"


class Message(models.Model):
    # Our own id: the idempotency key of delivery and the chat box's reference.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Lookups by conversation or by person use the two indexes in Meta, which
    # start with these columns: one index less to write for every message.
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    # A named reverse relation: merges move rows through Contact's visible
    # relations, and a hidden one ("+") would leave messages on the tombstone.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inbox_messages",
        db_index=False,
    )
    channel = models.CharField(max_length=24, choices=Channel)
    direction = models.CharField(max_length=3, choices=Direction)
    handle = models.CharField(max_length=254)
    # The provider's id: MessageSid, mid, Message-ID, ... A retry of a webhook
    # carries the same id, and the constraint below stores it once.
    provider_id = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    media = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus, default=DeliveryStatus.RECEIVED
    )
    error_code = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=~Q(provider_id=""),
                name="message_unique_provider_id",
            )
        ]
        indexes = [
            models.Index(fields=["contact", "created_at"], name="message_thread"),
            models.Index(
                fields=["conversation", "created_at"], name="message_conversation"
            ),
            # The sweep for lost deliveries (every two minutes) reads only the
            # replies still on their way: a few rows, never the whole table.
            models.Index(
                fields=["created_at"],
                name="message_pending",
                condition=Q(status__in=["queued", "sending"]),
            ),
            # Only staff replies have a sender; received messages stay out.
            models.Index(
                fields=["sender"],
                name="message_sender",
                condition=Q(sender__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.channel}: {self.body[:40]}"

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.IN

    @property
    def preview(self) -> str:
        text = " ".join((self.body or self.subject).split())
        if not text and self.media:
            return "(attachment)"
        return text[:200]


class DeliveryEvent(models.Model):
    """A provider's report on an outbound message, stored once per status.

    A report can arrive before the worker has stored the provider's id for
    the message (Twilio calls back while our request is still returning);
    it then waits here without a message and is applied once the id is known.
    """

    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="delivery_events",
    )
    channel = models.CharField(max_length=24, choices=Channel)
    provider_id = models.CharField(max_length=255)
    status = models.CharField(max_length=24)
    error_code = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id", "status"],
                name="delivery_event_unique_status",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}: {self.status}"


class ChatVisitor(models.Model):
    """Someone using the website chat box, known by a server-issued token."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    page_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or str(self.uid)

    @property
    def handle(self) -> str:
        return str(self.uid)
