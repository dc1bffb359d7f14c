"""Reads of the inbox: the conversation list, a person's thread, their routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum
from django.shortcuts import get_object_or_404

from contacts.models import Channel, Contact, Stage
from contacts.normalize import format_phone
from inbox.models import Conversation, Direction, Message

THREAD_LIMIT = 200


@dataclass(frozen=True)
class Route:
    """A channel and handle the person can be answered on."""

    channel: str
    handle: str

    @property
    def value(self) -> str:
        return f"{self.channel}|{self.handle}"

    def as_kwargs(self) -> dict[str, str]:
        return {"channel": self.channel, "handle": self.handle}

    @property
    def label(self) -> str:
        """Return the route as staff read it; opaque channel ids stay hidden."""
        label = Channel(self.channel).label
        if self.channel == Channel.SMS:
            return f"{label} · {format_phone(self.handle)}"
        if self.channel == Channel.EMAIL:
            return f"{label} · {self.handle}"
        return label


def conversations(*, user: Any, filters: dict[str, str]) -> QuerySet[Conversation]:
    """Return conversations newest first, narrowed by the inbox filters."""
    queryset = Conversation.objects.select_related("contact").order_by(
        "-last_message_at", "-id"
    )
    if filters.get("channel") in Channel.values:
        queryset = queryset.filter(channel=filters["channel"])
    if filters.get("unread"):
        queryset = queryset.filter(unread_count__gt=0)
    if filters.get("mine"):
        queryset = queryset.filter(contact__owner=user)
    if filters.get("prospects"):
        queryset = queryset.filter(contact__stage=Stage.PROSPECT)
    return queryset


def unread_total() -> int:
    total = Conversation.objects.filter(unread_count__gt=0).aggregate(
        total=Sum("unread_count")
    )["total"]
    return total or 0


def contact_for_inbox(contact_id: int) -> Contact:
    """Return the live person for a thread, following merges, or 404."""
    contact = get_object_or_404(Contact.objects.select_related("owner"), pk=contact_id)
    while contact.merged_into_id:
        contact = Contact.objects.select_related("owner").get(pk=contact.merged_into_id)
    return contact


def thread(contact: Contact) -> list[Message]:
    """Return the person's latest messages on every channel, oldest first."""
    latest = (
        Message.objects.filter(contact=contact)
        .select_related("sender")
        .order_by("-created_at", "-id")[:THREAD_LIMIT]
    )
    return list(reversed(latest))


def routes(contact: Contact) -> list[Route]:
    """Return where the person can be answered, latest conversation first."""
    found = [
        Route(channel, handle)
        for channel, handle in Conversation.objects.filter(contact=contact)
        .order_by("-last_inbound_at", "-last_message_at")
        .values_list("channel", "handle")
    ]
    # Someone who gave a phone or email but never wrote on it can still be
    # reached there.
    for channel, handle in (
        (Channel.SMS.value, contact.phone),
        (Channel.EMAIL.value, contact.email),
    ):
        if handle and Route(channel, handle) not in found:
            found.append(Route(channel, handle))
    return found


def default_route(contact: Contact, available: list[Route]) -> Route | None:
    """Return the route of the person's latest inbound message."""
    last = (
        Message.objects.filter(contact=contact, direction=Direction.IN)
        .order_by("-created_at")
        .values_list("channel", "handle")
        .first()
    )
    if last and Route(*last) in available:
        return Route(*last)
    return available[0] if available else None
