from __future__ import annotations

from django.contrib import admin

from inbox.models import ChatVisitor, Conversation, DeliveryEvent, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("contact", "channel", "handle", "last_message_at", "unread_count")
    list_filter = ("channel",)
    search_fields = ("handle",)
    raw_id_fields = ("contact",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "direction", "handle", "status")
    list_filter = ("channel", "direction", "status")
    search_fields = ("handle", "provider_id")
    raw_id_fields = ("contact", "conversation", "sender")


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin):
    list_display = ("message", "status", "error_code", "received_at")
    raw_id_fields = ("message",)


@admin.register(ChatVisitor)
class ChatVisitorAdmin(admin.ModelAdmin):
    list_display = ("uid", "name", "email", "phone", "created_at", "last_seen_at")
    search_fields = ("name", "email", "phone")
