from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from contacts.models import Channel, Contact
from inbox import services
from inbox.models import Message
from inbox.providers import Inbound
from inbox.tasks import fetch_media, notify_owner

pytestmark = pytest.mark.django_db


def test_media_is_downloaded_into_storage(
    fake_api: Any, settings: Any, tmp_path: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    url = f"{fake_api.url}/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1"
    inbound = Inbound(
        channel=Channel.SMS,
        handle="+15125550123",
        phone="+15125550123",
        provider_id="SM-media",
        media=[{"url": url, "content_type": "image/png"}],
    )
    message = services.receive_message(inbound).message

    assert fetch_media(message.pk) == 1

    message.refresh_from_db()
    assert default_storage.open(message.media[0]["path"]).read().startswith(b"\x89PNG")
    assert fake_api.requests[0]["headers"]["Authorization"].startswith("Basic ")


def test_owner_is_told_by_email_when_their_person_writes(
    django_capture_on_commit_callbacks: Any, staff_user: Any
) -> None:
    staff_user.email = "sam@sparkle.example"
    staff_user.save()
    inbound = Inbound(
        channel=Channel.SMS,
        handle="+15125550123",
        phone="+15125550123",
        provider_id="SM-1",
        body="Hi",
    )
    message = services.receive_message(inbound).message
    Contact.objects.filter(pk=message.contact_id).update(owner=staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        services.receive_message(
            Inbound(
                channel=Channel.SMS,
                handle="+15125550123",
                phone="+15125550123",
                provider_id="SM-2",
                body="Are you there?",
            )
        )

    assert mail.outbox[0].to == ["sam@sparkle.example"]
    assert "Are you there?" in mail.outbox[0].body


def test_nobody_is_told_about_a_person_without_owner() -> None:
    inbound = Inbound(
        channel=Channel.SMS,
        handle="+15125550123",
        phone="+15125550123",
        provider_id="SM-1",
        body="Hi",
    )
    message = services.receive_message(inbound).message

    assert notify_owner(message.pk) is False
    assert Message.objects.count() == 1
