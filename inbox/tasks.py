"""Background work of the inbox: delivery, media downloads, notifications."""

from __future__ import annotations

import logging
import mimetypes

import requests
from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.urls import reverse

from contacts.models import Channel
from inbox import adapters, services
from inbox.models import Message

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_MEDIA_BYTES = 20 * 1024 * 1024


@shared_task(bind=True, max_retries=MAX_ATTEMPTS - 1, acks_late=True)
def deliver_message(self: object, message_id: int) -> str:
    """Send one queued message through its channel's adapter.

    Idempotent on our message id: only a run that claims the queued message
    (a conditional update) calls the provider, so a duplicate task does
    nothing. Temporary failures go back to the queue with backoff.
    """
    message = services.claim_for_delivery(message_id)
    if message is None:
        return "skipped"
    try:
        provider_id, status = adapters.ADAPTERS[message.channel](message)
    except adapters.PermanentFailure as error:
        services.mark_failed(message, error=str(error), code=error.code)
        return "failed"
    except adapters.TemporaryFailure as error:
        if self.request.retries >= self.max_retries:
            services.mark_failed(message, error=f"Gave up after retries: {error}")
            return "failed"
        services.release_for_retry(message, error=str(error))
        countdown = min(2 ** (self.request.retries + 1) * 5, 600)
        raise self.retry(exc=error, countdown=countdown) from error
    services.mark_sent(message, provider_id=provider_id, status=status)
    return status


@shared_task(acks_late=True)
def requeue_stalled() -> int:
    """Queue again the deliveries whose task was lost; return how many."""
    stalled = services.stalled_deliveries()
    for message_id in stalled:
        deliver_message.delay(message_id)
    return len(stalled)


def _download(url: str, channel: str) -> requests.Response:
    auth = None
    if channel == Channel.SMS:
        # Twilio media URLs need the account's credentials when HTTP auth
        # for media is on; without it they are public and auth is harmless.
        auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    response = requests.get(url, auth=auth, timeout=(5, 30), stream=True)
    response.raise_for_status()
    return response


@shared_task(bind=True, max_retries=5, acks_late=True)
def fetch_media(self: object, message_id: int) -> int:
    """Download a message's attachments into our storage; return how many."""
    message = Message.objects.get(pk=message_id)
    stored = 0
    media = list(message.media)
    for n, item in enumerate(media):
        if item.get("path") or not item.get("url"):
            continue
        try:
            response = _download(item["url"], message.channel)
            content = response.raw.read(MAX_MEDIA_BYTES + 1, decode_content=True)
        except requests.RequestException as error:
            countdown = 30 * (self.request.retries + 1)
            raise self.retry(exc=error, countdown=countdown) from error
        if len(content) > MAX_MEDIA_BYTES:
            item["error"] = "larger than 20 MB, not downloaded"
            continue
        kind = response.headers.get("Content-Type", "").split(";")[0]
        ext = mimetypes.guess_extension(kind) or ""
        name = f"inbox/{message.uid}/{n}{ext}"
        item["path"] = default_storage.save(name, ContentFile(content))
        item["content_type"] = kind or item.get("content_type", "")
        stored += 1
    Message.objects.filter(pk=message_id).update(media=media)
    return stored


@shared_task(acks_late=True)
def notify_owner(message_id: int) -> bool:
    """Email the person's owner that they wrote in."""
    message = Message.objects.select_related("contact__owner").get(pk=message_id)
    owner = message.contact.owner if message.contact else None
    if owner is None or not owner.email:
        return False
    send_mail(
        subject=f"New {message.get_channel_display()} message from "
        f"{message.contact.name}",
        message=f"{message.contact.name} wrote:\n\n{message.preview}\n\n"
        f"Answer in the inbox: {settings.SITE_URL}"
        f"{reverse('inbox:contact', args=[message.contact_id])}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[owner.email],
    )
    return True


@shared_task(bind=True, max_retries=3, acks_late=True)
def fetch_profile(self: object, message_id: int) -> bool:
    """Fill a Messenger or Instagram sender's blank name from Meta's profile."""
    message = Message.objects.select_related("contact").get(pk=message_id)
    contact = message.contact
    if contact is None or contact.first_name or contact.last_name:
        return False
    if not settings.META_PAGE_ACCESS_TOKEN:
        return False
    fields = "first_name,last_name" if message.channel == Channel.MESSENGER else "name"
    try:
        response = requests.get(
            f"{settings.META_GRAPH_API_BASE}/{message.handle}",
            params={"fields": fields, "access_token": settings.META_PAGE_ACCESS_TOKEN},
            timeout=(5, 15),
        )
    except requests.RequestException as error:
        raise self.retry(exc=error, countdown=60) from error
    if response.status_code != 200:
        # Meta withholds profiles without the needed permission: keep no name.
        logger.warning(
            "meta profile lookup failed: %s %s",
            response.status_code,
            response.text[:300],
        )
        return False
    data = response.json()
    first = data.get("first_name") or ""
    last = data.get("last_name") or ""
    if not (first or last) and data.get("name"):
        first, _, last = str(data["name"]).partition(" ")
    changes = {"first_name": first[:150], "last_name": last[:150]}
    return services.fill_blank_name(contact_id=contact.pk, changes=changes)
