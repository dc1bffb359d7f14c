"""Domain signals of the inbox, received by `prospects`.

message_received: a person wrote in on a channel. Sent by the inbox's
service inside the transaction that stores the message, with keyword
arguments:
    source: a contacts.models.Source value (sms, email, chat, ...)
    email, phone: what the message reveals, raw ("" when unknown)
    handles: {IdentifierKind value: handle}, e.g. {"messenger": psid}
    details: fields for a new contact (first_name, last_name, ...)
    summary: the timeline text (the message, shortened)
    data: extra facts for the timeline entry (channel, message id, ...)
    subject: the stored message, which the timeline entry points at
    occurred_at: when the person wrote it (the provider's time when known)
    link: a callable taking the Contact, which attaches the conversation
"""

from __future__ import annotations

from django.dispatch import Signal

message_received = Signal()
