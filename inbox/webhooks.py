"""Provider webhooks: verify, parse, store once, answer fast.

Every view answers 403 and writes nothing on a bad signature, 400 (logged)
on a payload it does not understand, and 200 on a retry of something already
stored. The message, its conversation and its person are committed before
the answer; slow work is left to Celery.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from contacts.models import Channel
from contacts.normalize import InvalidIdentifier
from inbox import providers, services
from inbox.providers import UnknownPayload
from miocrm.access import client_ip

logger = logging.getLogger(__name__)

# Google's receipt types in the words of our delivery statuses.
GOOGLE_RECEIPTS = {"DELIVERED": "delivered", "READ": "read"}

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# Providers sign every request, so valid traffic is never throttled; only an
# address that keeps sending bad signatures is slowed down.
BAD_SIGNATURE_RATE = "60/m"


def _forbidden(request: HttpRequest, provider: str) -> HttpResponse:
    logger.warning(
        "%s webhook rejected: bad or missing signature from %s",
        provider,
        client_ip(request),
    )
    if is_ratelimited(
        request,
        group="webhook-bad-signature",
        key="ip",
        rate=BAD_SIGNATURE_RATE,
        increment=True,
    ):
        return HttpResponse("Too many requests", status=429, content_type="text/plain")
    return HttpResponse("Invalid signature", status=403, content_type="text/plain")


def _bad_request(provider: str, error: Exception, fields: object) -> HttpResponse:
    # Field names, not values: the log must not carry people's messages.
    names = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
    logger.warning(
        "%s webhook: unknown payload (%s); fields: %s", provider, error, names
    )
    return HttpResponse(
        f"Unknown payload: {error}", status=400, content_type="text/plain"
    )


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise UnknownPayload("body is not JSON") from error


def _receive(inbound: providers.Inbound) -> None:
    try:
        services.receive_message(inbound)
    except InvalidIdentifier:
        # A sender we cannot normalize (e.g. a short code): keep the message
        # without the phone as an identifier rather than lose it.
        inbound.phone = ""
        inbound.details = {}
        services.receive_message(inbound)


@csrf_exempt
@login_not_required
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """Receive an SMS; reply with empty TwiML (Twilio answers keywords)."""
    if not providers.twilio_signature_ok(request, settings.TWILIO_AUTH_TOKEN):
        return _forbidden(request, "twilio")
    try:
        inbound = providers.parse_twilio_sms(request.POST)
    except UnknownPayload as error:
        return _bad_request("twilio", error, request.POST.dict())
    _receive(inbound)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@login_not_required
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Record a delivery status of an SMS we sent."""
    if not providers.twilio_signature_ok(request, settings.TWILIO_AUTH_TOKEN):
        return _forbidden(request, "twilio")
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    if not sid or not status:
        error = UnknownPayload("no MessageSid or MessageStatus")
        return _bad_request("twilio status", error, request.POST.dict())
    found = services.record_delivery(
        channel=Channel.SMS,
        provider_id=sid,
        status=status,
        error_code=request.POST.get("ErrorCode", ""),
    )
    if not found:
        logger.info("twilio status for a message we do not know: %s", sid)
    return HttpResponse(status=204)


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def meta(request: HttpRequest) -> HttpResponse:
    """Verify the subscription (GET) or receive Messenger/Instagram events."""
    if request.method == "GET":
        return _meta_handshake(request)
    header = request.headers.get("X-Hub-Signature-256", "")
    if not providers.meta_signature_ok(request.body, header, settings.META_APP_SECRET):
        return _forbidden(request, "meta")
    payload = None
    try:
        payload = _json(request.body)
        messages, delivered = providers.parse_meta(payload)
    except UnknownPayload as error:
        return _bad_request("meta", error, payload)
    for inbound in messages:
        _receive(inbound)
    channel = Channel.MESSENGER if payload["object"] == "page" else Channel.INSTAGRAM
    for mid in delivered:
        services.record_delivery(channel=channel, provider_id=mid, status="delivered")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _meta_handshake(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("hub.verify_token", "")
    expected = settings.META_VERIFY_TOKEN
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return HttpResponse(
            request.GET.get("hub.challenge", ""), content_type="text/plain"
        )
    return _forbidden(request, "meta handshake")


@csrf_exempt
@login_not_required
@require_POST
def google_business(request: HttpRequest) -> HttpResponse:
    """Receive a Google Business Messages event."""
    verification = _google_verification(request)
    if verification is not None:
        return verification
    header = request.headers.get("X-Goog-Signature", "")
    key = settings.GOOGLE_BUSINESS_PARTNER_KEY
    if not providers.google_signature_ok(request.body, header, key):
        return _forbidden(request, "google business")
    payload = None
    try:
        payload = _json(request.body)
        inbound, receipts = providers.parse_google_business(payload)
    except UnknownPayload as error:
        return _bad_request("google business", error, payload)
    if inbound is not None:
        _receive(inbound)
    for name, receipt in receipts:
        if receipt in GOOGLE_RECEIPTS:
            services.record_delivery(
                channel=Channel.GOOGLE_BUSINESS,
                provider_id=name,
                status=GOOGLE_RECEIPTS[receipt],
            )
    return JsonResponse({})


def _google_verification(request: HttpRequest) -> HttpResponse | None:
    """Answer Google's check of a new webhook URL, or None for an event."""
    try:
        payload = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or set(payload) != {"clientToken", "secret"}:
        return None
    expected = settings.GOOGLE_BUSINESS_CLIENT_TOKEN
    token = str(payload["clientToken"])
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(str(payload["secret"]), content_type="text/plain")
    return _forbidden(request, "google business verification")
