from __future__ import annotations

from django.urls import include, path

from inbox import chat, views, webhooks

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/channels/", views.channels, name="channels"),
    path("inbox/<int:contact_id>/", views.contact, name="contact"),
    path(
        "inbox/<int:contact_id>/messages/",
        views.messages_fragment,
        name="messages",
    ),
    path("inbox/<int:contact_id>/send/", views.send, name="send"),
    path(
        "inbox/messages/<int:message_id>/attachments/<int:index>/",
        views.attachment,
        name="attachment",
    ),
    path("webhooks/twilio/sms/", webhooks.twilio_sms, name="twilio_sms"),
    path("webhooks/twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("webhooks/meta/", webhooks.meta, name="meta"),
    path("webhooks/google-business/", webhooks.google_business, name="google_business"),
    path("chat/demo/", chat.demo, name="chat_demo"),
    path("chat/api/session/", chat.session, name="chat_session"),
    path("chat/api/messages/", chat.messages, name="chat_messages"),
    path("anymail/", include("anymail.urls")),
]
