"""Demo conversations: people writing in on every channel, and staff replies.

Messages arrive through the same service the webhooks use, so new senders
become prospects and known ones join their threads. Replies are stored as
already delivered: a demo never calls a real provider.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from contacts.models import Activity, ActivityKind, Channel, Contact
from contacts.services import record_activity
from inbox import services
from inbox.models import Conversation, DeliveryStatus, Direction, Message
from inbox.providers import Inbound

QUESTIONS = [
    "Hi! Do you clean carpets too?",
    "How much for a 3-bedroom deep clean?",
    "Are you available this Saturday morning?",
    "Can I move my appointment to next week?",
    "Do you bring your own supplies?",
    "Thanks, the house looks amazing!",
    "Is there a discount for a monthly plan?",
    "Do you do move-out cleans? We leave on the 30th.",
    "What time will the team arrive?",
    "STOP",
]
ANSWERS = [
    "Yes we do! Carpets are $40 a room.",
    "A 3-bedroom deep clean is $220, about 4 hours.",
    "We have 9:00 or 11:00 free on Saturday. Which suits you?",
    "Of course, I've moved you to Tuesday at 10:00.",
    "We bring everything, no need to prepare anything.",
]
NEW_SENDERS = [
    ("sms", "+15125550911", "", ""),
    ("messenger", "27311100009", "", ""),
    ("instagram", "17841400000099", "", ""),
    ("google_business", "c0ffee00-1111-4222-8333-944445555666", "Maya Ortiz", ""),
    ("chat", "", "Omar Haddad", "omar.haddad@example.net"),
    ("email", "j.kim@example.org", "Jae Kim", "j.kim@example.org"),
]


def _handle_for(contact: Contact, channel: str) -> str:
    if channel == Channel.SMS:
        return contact.phone
    if channel == Channel.EMAIL:
        return contact.email
    return str(uuid.uuid4())


def _receive(channel: str, handle: str, body: str, **extra: Any) -> Message:
    inbound = Inbound(
        channel=channel,
        handle=handle,
        provider_id=f"demo-{uuid.uuid4().hex}",
        body=body,
        subject="Cleaning question" if channel == Channel.EMAIL else "",
        phone=handle if channel == Channel.SMS else extra.get("phone", ""),
        email=handle if channel == Channel.EMAIL else extra.get("email", ""),
        details=extra.get("details") or {},
    )
    return services.receive_message(inbound, notify=False).message


def _reply(message: Message, body: str, staff: object) -> Message:
    reply = Message.objects.create(
        channel=message.channel,
        direction=Direction.OUT,
        handle=message.handle,
        body=body,
        status=DeliveryStatus.DELIVERED,
        sender=staff,
        sent_at=timezone.now(),
        delivered_at=timezone.now(),
    )
    services.attach_to_conversation(reply, message.contact)
    record_activity(
        contact=message.contact,
        kind=ActivityKind.MESSAGE_OUT,
        source=message.channel,
        actor=staff,
        summary=reply.preview,
        data={"channel": message.channel, "message_id": reply.pk},
        subject=reply,
    )
    return reply


def _backdate(message: Message, when: object) -> None:
    Message.objects.filter(pk=message.pk).update(created_at=when)
    Activity.objects.filter(
        content_type=ContentType.objects.get_for_model(Message), object_id=message.pk
    ).update(occurred_at=when)
    Conversation.objects.filter(pk=message.conversation_id).update(last_message_at=when)


def seed(rng: random.Random) -> None:
    staff = get_user_model().objects.filter(is_active=True).order_by("pk").first()
    now = timezone.now()
    people = list(Contact.objects.live().exclude(phone="").order_by("?")[:24])
    for n, person in enumerate(people):
        channel = rng.choice(["sms", "sms", "email", "chat", "messenger"])
        if channel == "email" and not person.email:
            channel = "sms"
        handle = _handle_for(person, channel)
        extra = {"phone": person.phone} if channel in ("chat", "messenger") else {}
        when = now - timedelta(
            hours=n * 5 + rng.randint(0, 4), minutes=rng.randint(0, 59)
        )
        message = _receive(channel, handle, rng.choice(QUESTIONS[:-1]), **extra)
        _backdate(message, when)
        if rng.random() < 0.6:
            reply = _reply(message, rng.choice(ANSWERS), staff)
            _backdate(reply, when + timedelta(minutes=rng.randint(3, 40)))
            Conversation.objects.filter(pk=message.conversation_id).update(
                unread_count=0
            )
    for channel, handle, name, email in NEW_SENDERS:
        first, _, last = name.partition(" ")
        details = {"first_name": first, "last_name": last} if name else {}
        _receive(
            channel,
            handle or str(uuid.uuid4()),
            rng.choice(QUESTIONS[:-1]),
            email=email,
            details=details,
        )
    # One person who texted STOP, so the refusal shows in the composer.
    _receive("sms", "+15125550977", "STOP")
