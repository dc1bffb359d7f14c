"""The website chat box: a JSON API for static/inbox/chatbox.js, and its demo.

The widget runs on the business's own site, another origin, so the API
answers CORS requests and authenticates with a per-visitor token in a header
(no cookies, hence no CSRF). The token is the visitor's random id signed
with SECRET_KEY: it cannot be guessed or forged, and the server keeps it
valid for as long as the visitor's browser keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from contacts.models import Channel
from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone
from inbox import services
from inbox.models import ChatVisitor, DeliveryStatus, Direction, Message
from inbox.providers import Inbound, split_name

SALT = "inbox.chat.visitor"
MAX_TEXT = 4000
POLL_LIMIT = 100
RESEND_WINDOW = timedelta(minutes=1)


def issue_token(visitor: ChatVisitor) -> str:
    return signing.dumps(str(visitor.uid), salt=SALT, compress=False)


def visitor_for(token: str) -> ChatVisitor | None:
    try:
        uid = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return ChatVisitor.objects.filter(uid=uid).first()


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, X-Chat-Token"
    response["Access-Control-Max-Age"] = "86400"
    response["Cache-Control"] = "no-store"
    return response


def _error(text: str, status: int = 400) -> HttpResponse:
    return _cors(JsonResponse({"error": text}, status=status))


def chat_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Make a view public, CORS-enabled, and answer preflight requests."""

    @csrf_exempt
    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204))
        if request.method not in ("GET", "POST"):
            return _error("Method not allowed.", status=405)
        try:
            return _cors(view(request, *args, **kwargs))
        except Ratelimited:
            # Answered here rather than by the site's 429 page so that the
            # widget, on another origin, may read the reason.
            return _error("Too many messages. Please wait a minute.", status=429)

    return wrapper


def _authenticated(request: HttpRequest) -> ChatVisitor | None:
    return visitor_for(request.headers.get("X-Chat-Token", ""))


class ChatMessageForm(forms.Form):
    text = forms.CharField(max_length=MAX_TEXT, strip=True)
    client_id = forms.RegexField(regex=r"^[A-Za-z0-9_-]{8,64}$")
    name = forms.CharField(max_length=150, required=False)
    email = forms.CharField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False)

    def clean_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data["email"])
        except InvalidIdentifier as error:
            raise forms.ValidationError(
                "That email address does not look right."
            ) from error

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidIdentifier as error:
            raise forms.ValidationError(
                "That phone number does not look right."
            ) from error


def _payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "from": "visitor" if message.direction == Direction.IN else "staff",
        "text": message.body,
        "at": message.created_at.isoformat(),
    }


@chat_api
@ratelimit(key="ip", rate="10/m", method="POST", block=True)
def session(request: HttpRequest) -> HttpResponse:
    """Issue a token to a new visitor."""
    if request.method != "POST":
        return _error("Use POST.", status=405)
    page = request.headers.get("Referer", "")[:500]
    visitor = ChatVisitor.objects.create(page_url=page)
    return JsonResponse({"token": issue_token(visitor)}, status=201)


@chat_api
@ratelimit(key="ip", rate="30/m", method="POST", block=True)
@ratelimit(key="header:x-chat-token", rate="20/m", method="POST", block=True)
@ratelimit(key="ip", rate="120/m", method="GET", block=True)
def messages(request: HttpRequest) -> HttpResponse:
    """GET: the visitor's conversation since ?after=<id>. POST: a new message."""
    visitor = _authenticated(request)
    if visitor is None:
        return _error("Unknown visitor: start a new chat.", status=403)
    if request.method == "POST":
        return _post_message(request, visitor)
    return _poll(request, visitor)


def _post_message(request: HttpRequest, visitor: ChatVisitor) -> HttpResponse:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error("Send JSON.")
    form = ChatMessageForm(data if isinstance(data, dict) else {})
    if not form.is_valid():
        errors = {field: list(errs) for field, errs in form.errors.items()}
        return _cors(
            JsonResponse({"error": "Check the form.", "fields": errors}, status=400)
        )
    received = _receive(visitor, form.cleaned_data)
    return JsonResponse({"message": _payload(received.message)}, status=201)


@transaction.atomic
def _receive(visitor: ChatVisitor, data: dict[str, Any]) -> services.Received:
    changed = []
    for name in ("name", "email", "phone"):
        if data[name] and getattr(visitor, name) != data[name]:
            setattr(visitor, name, data[name])
            changed.append(name)
    visitor.last_seen_at = timezone.now()
    visitor.save(update_fields=[*changed, "last_seen_at"])
    return services.receive_message(
        Inbound(
            channel=Channel.CHAT,
            handle=visitor.handle,
            provider_id=f"{visitor.uid}:{data['client_id']}",
            body=data["text"],
            email=visitor.email,
            phone=visitor.phone,
            details=split_name(visitor.name),
        )
    )


def _poll(request: HttpRequest, visitor: ChatVisitor) -> HttpResponse:
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        return _error("after must be a message id.")
    # Ids are handed out before commit, so a message can become visible after
    # one with a higher id: the last minute is sent again, and the widget
    # skips what it already shows.
    recent = timezone.now() - RESEND_WINDOW
    found = list(
        Message.objects.filter(
            conversation__channel=Channel.CHAT, conversation__handle=visitor.handle
        )
        .filter(Q(pk__gt=after) | Q(created_at__gte=recent))
        .exclude(direction=Direction.OUT, status=DeliveryStatus.QUEUED)
        .order_by("pk")[:POLL_LIMIT]
    )
    # A staff reply the widget has fetched has reached the visitor.
    delivered = [m.pk for m in found if m.direction == Direction.OUT]
    if delivered:
        Message.objects.filter(
            pk__in=delivered, status__in=[DeliveryStatus.SENDING, DeliveryStatus.SENT]
        ).update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
    return JsonResponse({"messages": [_payload(m) for m in found]})


@login_not_required
@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    """A public page that embeds the chat box as a business's site would."""
    return render(request, "inbox/chat_demo.html")
