"""Writes of the inbox: receive, send, deliver, read, consent keywords."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from contacts.models import ActivityKind, Channel, Contact, PermissionState
from contacts.selectors import live_contact
from contacts.services import (
    permission_state,
    record_activity,
    set_permission,
    update_contact,
)
from inbox import channels
from inbox.models import (
    STATUS_RANK,
    Conversation,
    DeliveryEvent,
    DeliveryStatus,
    Direction,
    Message,
)
from inbox.providers import Inbound
from inbox.signals import message_received

logger = logging.getLogger(__name__)

# Carrier keywords: only a message that is exactly one of these words counts.
STOP_WORDS = {
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
}
START_WORDS = {"START", "YES", "UNSTOP"}


class SendRefused(Exception):
    """A reply that must not go out; the message says why, for staff."""


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


# Find or open the conversation of a channel handle and move it forward with
# a message; the preview follows the newest message even when webhooks
# arrive out of order. Both statements below start with it.
_UPSERT_CONVERSATION = """
WITH conversation AS (
    INSERT INTO inbox_conversation AS c
        (contact_id, channel, handle, created_at, last_message_at,
         last_inbound_at, last_preview, last_direction, unread_count)
    VALUES (%(contact)s, %(channel)s, %(handle)s, %(at)s, %(at)s,
            %(inbound_at)s, %(preview)s, %(direction)s, %(unread)s)
    ON CONFLICT (channel, handle) DO UPDATE SET
        contact_id = EXCLUDED.contact_id,
        last_preview = CASE WHEN EXCLUDED.last_message_at >= c.last_message_at
            THEN EXCLUDED.last_preview ELSE c.last_preview END,
        last_direction = CASE WHEN EXCLUDED.last_message_at >= c.last_message_at
            THEN EXCLUDED.last_direction ELSE c.last_direction END,
        last_message_at = GREATEST(c.last_message_at, EXCLUDED.last_message_at),
        last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at),
        unread_count = c.unread_count + EXCLUDED.unread_count
    RETURNING id
)
"""

# One round trip: the conversation, and the message filed in it.
_FILE_MESSAGE = (
    _UPSERT_CONVERSATION
    + """
UPDATE inbox_message
SET conversation_id = (SELECT id FROM conversation), contact_id = %(contact)s
WHERE id = %(message)s
RETURNING conversation_id
"""
)


def attach_to_conversation(message: Message, contact: Contact) -> int:
    """Put the message in the person's conversation for its channel handle.

    The handle may have moved to another person since (staff edited a phone
    number, or a merge): the conversation follows the identity engine.
    """
    inbound = message.direction == Direction.IN
    with connection.cursor() as cursor:
        cursor.execute(
            _FILE_MESSAGE,
            {
                "contact": contact.pk,
                "channel": message.channel,
                "handle": message.handle,
                "at": message.created_at,
                "inbound_at": message.created_at if inbound else None,
                "preview": message.preview,
                "direction": message.direction,
                "unread": 1 if inbound else 0,
                "message": message.pk,
            },
        )
        (conversation_id,) = cursor.fetchone()
    message.conversation_id = conversation_id
    message.contact = contact
    return conversation_id


class _StoredMeanwhile(Exception):
    """A retry of a message whose first delivery committed while we worked."""


# The message's id is taken first so that the person's timeline entry can
# point at it; the row itself is written once, with its person and
# conversation, in _FILE_INBOUND. Most retries arrive after the first delivery
# committed and stop here.
_RESERVE_INBOUND = """
SELECT nextval(pg_get_serial_sequence('inbox_message', 'id')),
       (SELECT id FROM inbox_message
        WHERE channel = %s AND provider_id = %s AND NOT (provider_id = ''))
"""

# One statement: the conversation, and the message stored in it. A retry
# racing the first delivery waits here for that commit and gets no row back.
_FILE_INBOUND = (
    _UPSERT_CONVERSATION
    + """
INSERT INTO inbox_message
    (id, uid, conversation_id, contact_id, channel, direction, handle,
     provider_id, subject, body, media, headers, status, error_code, error,
     attempts, created_at)
SELECT %(id)s, %(uid)s, conversation.id, %(contact)s, %(channel)s, 'in',
       %(handle)s, %(provider_id)s, %(subject)s, %(body)s, %(media)s,
       %(headers)s, %(status)s, '', '', 0, %(at)s
FROM conversation
ON CONFLICT (channel, provider_id) WHERE NOT (provider_id = '') DO NOTHING
RETURNING conversation_id
"""
)


def _new_inbound(inbound: Inbound) -> Message:
    # A message is placed at the time the provider says it was written, so a
    # late retry or an out-of-order batch still reads in order; never later
    # than now, whatever the provider's clock says.
    now = timezone.now()
    written = min(inbound.sent_at, now) if inbound.sent_at else now
    return Message(
        channel=inbound.channel,
        direction=Direction.IN,
        handle=inbound.handle[:254],
        provider_id=inbound.provider_id[:255],
        subject=inbound.subject[:300],
        body=inbound.body,
        media=inbound.media,
        headers=inbound.headers,
        status=DeliveryStatus.RECEIVED,
        created_at=written,
    )


def _reserve_id(message: Message) -> int | None:
    """Give the message its id; return the id of its stored twin, if any."""
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_INBOUND, [message.channel, message.provider_id])
        message.pk, existing = cursor.fetchone()
    return existing


def _file_inbound(message: Message, contact: Contact) -> None:
    """Store the message in the person's conversation for its channel handle.

    The handle may have moved to another person since (staff edited a phone
    number, or a merge): the conversation follows the identity engine.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _FILE_INBOUND,
            {
                "id": message.pk,
                "uid": message.uid,
                "contact": contact.pk,
                "channel": message.channel,
                "handle": message.handle,
                "provider_id": message.provider_id,
                "subject": message.subject,
                "body": message.body,
                "media": json.dumps(message.media),
                "headers": json.dumps(message.headers),
                "status": message.status,
                "at": message.created_at,
                "inbound_at": message.created_at,
                "preview": message.preview,
                "direction": Direction.IN,
                "unread": 1,
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise _StoredMeanwhile
    message.conversation_id = row[0]
    message.contact = contact
    message._state.adding = False


def receive_message(inbound: Inbound, *, notify: bool = True) -> Received:
    """Store an inbound message once, with its conversation and its person.

    The person is found or created by `prospects` through the
    message_received signal, inside this transaction. `notify` tells the
    person's owner by email (demo data does not).
    """
    try:
        return _receive(inbound, notify=notify)
    except _StoredMeanwhile:
        # Everything this delivery did was rolled back with it.
        existing = Message.objects.get(
            channel=inbound.channel, provider_id=inbound.provider_id[:255]
        )
        return Received(existing, created=False)


@transaction.atomic
def _receive(inbound: Inbound, *, notify: bool) -> Received:
    message = _new_inbound(inbound)
    if existing := _reserve_id(message):
        return Received(Message.objects.get(pk=existing), created=False)

    # A sender no identifier can name (an SMS short code, a sender name)
    # stays with the person already on that handle's conversation, rather
    # than becoming a new prospect with every message.
    nameless = not (inbound.email or inbound.phone or inbound.handles)
    known = _known_by_handle(message, inbound.source) if nameless else None
    contacts = [known] if known else _announce(message, inbound)
    if not contacts:
        raise RuntimeError("no receiver linked the message to a person")
    if inbound.files:
        store_files(message, inbound.files)
    if inbound.channel == Channel.SMS:
        apply_sms_keyword(contact=contacts[0], body=inbound.body)
    _after_commit(message, contacts[0], notify=notify)
    return Received(message, created=True)


def _announce(message: Message, inbound: Inbound) -> list[Contact]:
    """Have `prospects` find or create the person and file the message."""
    contacts: list[Contact] = []
    message_received.send(
        sender=Message,
        source=inbound.source,
        email=inbound.email,
        phone=inbound.phone,
        handles=inbound.handles,
        details=inbound.details,
        summary=message.preview,
        data=_entry_data(message),
        subject=message,
        occurred_at=message.created_at,
        link=lambda contact: (
            contacts.append(contact) or _file_inbound(message, contact)
        ),
    )
    return contacts


def _entry_data(message: Message) -> dict[str, Any]:
    """Return what the person's timeline entry keeps of a received message."""
    return {"channel": message.channel, "message_id": message.pk}


def _known_by_handle(message: Message, source: str) -> Contact | None:
    """File the message with the person of its handle's conversation, if any."""
    contact_id = (
        Conversation.objects.filter(channel=message.channel, handle=message.handle)
        .values_list("contact_id", flat=True)
        .first()
    )
    if contact_id is None:
        return None
    contact = live_contact(Contact.objects.select_for_update().get(pk=contact_id))
    record_activity(
        contact=contact,
        kind=ActivityKind.MESSAGE_IN,
        source=source,
        summary=message.preview,
        data=_entry_data(message),
        subject=message,
        occurred_at=message.created_at,
    )
    _file_inbound(message, contact)
    return contact


MAX_FILE_BYTES = 20 * 1024 * 1024


def store_files(message: Message, files: list[tuple[str, bytes, str]]) -> None:
    """Save attachments that came inside the payload, before we answer.

    They exist nowhere else once the provider has our 200, so they are
    written now rather than by a task.
    """
    media = list(message.media)
    for n, (name, content, declared) in enumerate(files):
        item = {"filename": name[:200], "content_type": declared, "size": len(content)}
        if len(content) > MAX_FILE_BYTES:
            item["error"] = "larger than 20 MB, not kept"
        else:
            safe = get_valid_filename(name) or "attachment"
            path = f"inbox/{message.uid}/{n}-{safe}"
            item["path"] = default_storage.save(path, ContentFile(content))
        media.append(item)
    message.media = media
    Message.objects.filter(pk=message.pk).update(media=media)


def enqueue(task: Any, message_id: int) -> None:
    """Queue a task once the transaction commits, surviving a broker outage.

    The message is already committed when this runs: a broker that is down
    must not turn the provider's answer into an error. Deliveries left
    behind are picked up by requeue_stalled.
    """

    def send() -> None:
        try:
            task.delay(message_id)
        except Exception:
            logger.warning(
                "could not queue %s for message %s",
                task.name,
                message_id,
                exc_info=True,
            )

    transaction.on_commit(send)


def _after_commit(message: Message, contact: Contact, *, notify: bool) -> None:
    from inbox import tasks

    if any(item.get("url") for item in message.media):
        enqueue(tasks.fetch_media, message.pk)
    # Only someone with an address to tell: most prospects have no owner yet.
    if notify and contact.owner_id:
        enqueue(tasks.notify_owner, message.pk)
    # Meta shares profiles only with a page token: without one, never ask.
    from_meta = message.channel in channels.META_CHANNELS
    if from_meta and settings.META_PAGE_ACCESS_TOKEN and not contact.full_name:
        enqueue(tasks.fetch_profile, message.pk)


@transaction.atomic
def fill_blank_name(*, contact_id: int, changes: dict[str, str]) -> bool:
    """Give a nameless person the name a channel knows; never overwrite one."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    contact = live_contact(contact)
    if contact.first_name or contact.last_name or not any(changes.values()):
        return False
    update_contact(contact=contact, actor=None, changes=changes)
    return True


def apply_sms_keyword(*, contact: Contact, body: str) -> str | None:
    """Revoke or grant SMS permission when the text is only a keyword."""
    word = body.strip().strip(".!").upper()
    if word in STOP_WORDS:
        state = PermissionState.REVOKED
    elif word in START_WORDS:
        state = PermissionState.GRANTED
    else:
        return None
    set_permission(
        contact=contact,
        channel=Channel.SMS,
        state=state,
        via=f"SMS keyword {word}",
        reason=f"The person texted {word}.",
    )
    return state


@transaction.atomic
def mark_read(*, contact: Contact) -> int:
    """Mark every conversation of the person read; return how many were unread."""
    return Conversation.objects.filter(contact=contact, unread_count__gt=0).update(
        unread_count=0
    )


# Sending --------------------------------------------------------------------


def refusal(*, contact: Contact, channel: str, handle: str) -> str | None:
    """Return why a message to this person on this channel must not go out."""
    label = Channel(channel).label
    if not handle:
        return f"{contact.name} has no {label} address to reply to."
    if not channels.is_connected(channel):
        missing = ", ".join(channels.missing_settings(channel))
        return f"{label} is not connected (missing settings: {missing})."
    if permission_state(contact, channel) == PermissionState.REVOKED:
        return f"{contact.name} revoked permission for {label} messages."
    if channel in channels.META_CHANNELS:
        last_in = (
            Conversation.objects.filter(channel=channel, handle=handle)
            .values_list("last_inbound_at", flat=True)
            .first()
        )
        window = timedelta(hours=channels.META_WINDOW_HOURS)
        if last_in is None or timezone.now() - last_in > window:
            return (
                f"{label} only allows replies within 24 hours of the person's "
                "last message; that window has closed."
            )
    return None


@transaction.atomic
def send_message(
    *, contact: Contact, channel: str, handle: str, body: str, sender: Any
) -> Message:
    """Queue a reply, put it on the timeline, and deliver it after commit.

    Raise SendRefused with the reason when it must not go out.
    """
    body = body.strip()
    if not body:
        raise SendRefused("Write a message first.")
    if reason := refusal(contact=contact, channel=channel, handle=handle):
        raise SendRefused(reason)
    subject = ""
    if channel == Channel.EMAIL:
        subject = _reply_subject(channel, handle)
    # The chat box has no provider: the widget fetches what is stored, so a
    # chat reply is sent the moment it is saved, even with no worker running.
    is_chat = channel == Channel.CHAT
    message = Message.objects.create(
        channel=channel,
        direction=Direction.OUT,
        handle=handle,
        subject=subject,
        body=body,
        status=DeliveryStatus.SENT if is_chat else DeliveryStatus.QUEUED,
        sent_at=timezone.now() if is_chat else None,
        sender=sender,
    )
    attach_to_conversation(message, contact)
    record_activity(
        contact=contact,
        kind=ActivityKind.MESSAGE_OUT,
        source=channel,
        actor=sender,
        summary=message.preview,
        data={"channel": channel, "message_id": message.pk},
        subject=message,
    )
    if not is_chat:
        from inbox import tasks

        enqueue(tasks.deliver_message, message.pk)
    return message


def _reply_subject(channel: str, handle: str) -> str:
    last = (
        Message.objects.filter(
            conversation__channel=channel, conversation__handle=handle
        )
        .exclude(subject="")
        .order_by("-created_at")
        .values_list("subject", flat=True)
        .first()
    )
    if not last:
        return "Your message"
    return last if last.lower().startswith("re:") else f"Re: {last}"


# A send that has not finished after this long died with its worker (the
# provider calls time out after seconds): another run may take it over.
STALE_CLAIM = timedelta(minutes=10)


def stalled_deliveries() -> list[int]:
    """Return outbound messages whose delivery task seems lost.

    Never tried for two minutes (the broker was down when they were queued),
    or waiting longer than the longest retry backoff, or claimed by a worker
    that died.
    """
    now = timezone.now()
    never_tried = Q(
        status=DeliveryStatus.QUEUED,
        claimed_at__isnull=True,
        created_at__lt=now - timedelta(minutes=2),
    )
    retry_lost = Q(status=DeliveryStatus.QUEUED, claimed_at__lt=now - STALE_CLAIM)
    worker_died = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return list(
        Message.objects.filter(
            never_tried | retry_lost | worker_died, direction=Direction.OUT
        ).values_list("pk", flat=True)[:500]
    )


def claim_for_delivery(message_id: int) -> Message | None:
    """Take a queued message for sending; None when another run has it."""
    now = timezone.now()
    claimable = Q(status=DeliveryStatus.QUEUED) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    claimed = Message.objects.filter(
        claimable, pk=message_id, direction=Direction.OUT
    ).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        claimed_at=now,
    )
    if not claimed:
        return None
    return Message.objects.select_related("conversation").get(pk=message_id)


@transaction.atomic
def mark_sent(message: Message, *, provider_id: str, status: str) -> None:
    """Record the provider's acceptance, then any report that came first."""
    Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        provider_id=provider_id,
        sent_at=timezone.now(),
        error="",
        error_code="",
    )
    if not provider_id:
        return
    early = DeliveryEvent.objects.filter(
        channel=message.channel, provider_id=provider_id, message__isnull=True
    ).order_by("received_at")
    for event in early:
        record_delivery(
            channel=event.channel,
            provider_id=provider_id,
            status=event.status,
            error_code=event.error_code,
        )


def release_for_retry(message: Message, *, error: str) -> None:
    Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED, error=error[:500]
    )


def mark_failed(message: Message, *, error: str, code: str = "") -> None:
    Message.objects.filter(
        pk=message.pk,
        status__in=[DeliveryStatus.SENDING, DeliveryStatus.QUEUED],
    ).update(status=DeliveryStatus.FAILED, error=error[:500], error_code=code[:40])
    logger.warning("message %s failed: %s %s", message.pk, code, error)


# Providers' status words (Twilio's, Google's receipts, anymail's events for
# email) in ours. Opening, clicking or complaining about an email proves it
# arrived; a deferred email is still on its way.
_PROVIDER_STATUS = {
    "accepted": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "opened": DeliveryStatus.DELIVERED,
    "clicked": DeliveryStatus.DELIVERED,
    "complained": DeliveryStatus.DELIVERED,
    "autoresponded": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "bounced": DeliveryStatus.FAILED,
    "rejected": DeliveryStatus.FAILED,
}


@transaction.atomic
def record_delivery(
    *,
    channel: str,
    provider_id: str,
    status: str,
    error_code: str = "",
    error: str = "",
) -> bool:
    """Apply a provider's status report once; return False for an unknown id.

    Reports arrive out of order and repeat: a status never moves back, and
    each (message, status) pair is applied once. A report for an id we have
    not stored yet is kept (its code, not its `error` words) and applied by
    mark_sent.
    """
    message = (
        Message.objects.select_for_update()
        .filter(channel=channel, provider_id=provider_id, direction=Direction.OUT)
        .first()
    )
    provider_id, status = provider_id[:255], status[:24]
    event, created = DeliveryEvent.objects.get_or_create(
        channel=channel,
        provider_id=provider_id,
        status=status,
        defaults={"error_code": error_code[:40], "message": message},
    )
    if message is None:
        return False
    if not created and event.message_id:
        return True
    if not created:
        event.message = message
        event.save(update_fields=["message"])
    _advance(message, status, error_code, error)
    return True


def _advance(message: Message, status: str, error_code: str, error: str = "") -> None:
    new = _PROVIDER_STATUS.get(status)
    if new is None or STATUS_RANK.get(new, 0) <= STATUS_RANK.get(message.status, 0):
        return
    message.status = new
    fields = ["status"]
    if new == DeliveryStatus.DELIVERED:
        message.delivered_at = timezone.now()
        fields.append("delivered_at")
    if new == DeliveryStatus.FAILED:
        message.error_code = error_code[:40]
        message.error = (
            error[:500] or f"{status} (provider error {error_code or 'unknown'})"
        )
        fields += ["error_code", "error"]
    message.save(update_fields=fields)
