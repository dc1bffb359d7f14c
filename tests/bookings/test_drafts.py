from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import BookingDraft, DraftStatus
from bookings.views import DRAFT_COOKIE

pytestmark = pytest.mark.django_db


def save(client, **fields):
    return client.post(reverse("bookings:draft_save"), fields)


def test_nothing_is_saved_before_an_email_or_phone_is_typed(client, deep_clean):
    response = save(client, name="Ana", service=deep_clean.pk)

    assert response.status_code == 204
    assert not BookingDraft.objects.exists() and DRAFT_COOKIE not in response.cookies


def test_typing_an_email_saves_a_draft_under_a_random_cookie_token(client, deep_clean):
    response = save(client, email="ana@example.com", service=deep_clean.pk)

    draft = BookingDraft.objects.get()
    cookie = response.cookies[DRAFT_COOKIE]
    assert cookie.value == draft.token and len(draft.token) >= 40
    assert cookie["httponly"] and draft.service == deep_clean


def test_later_changes_update_the_same_draft(client, deep_clean):
    save(client, email="ana@example.com")

    save(client, email="ana@example.com", phone="512 555 0100", message="Pets")

    draft = BookingDraft.objects.get()
    assert (draft.phone, draft.message) == ("512 555 0100", "Pets")


def test_a_made_up_token_cannot_reach_another_visitors_draft(client, deep_clean):
    save(client, email="ana@example.com")
    client.cookies[DRAFT_COOKIE] = "guessed"

    save(client, email="mallory@example.com")

    assert BookingDraft.objects.filter(email="ana@example.com").exists()
    assert BookingDraft.objects.count() == 2


def test_after_booking_a_new_visit_starts_a_new_draft(client, deep_clean):
    save(client, email="ana@example.com")
    BookingDraft.objects.update(status=DraftStatus.BOOKED)

    save(client, email="ana@example.com", message="Another job")

    assert BookingDraft.objects.filter(status=DraftStatus.OPEN).count() == 1


def test_returning_visitor_sees_what_they_typed(client, deep_clean):
    save(client, email="ana@example.com", name="Ana García", service=deep_clean.pk)

    response = client.get(reverse("bookings:public"))

    assert b'value="ana@example.com"' in response.content
    assert b'aria-current="true"' in response.content


def test_honeypot_drafts_are_ignored(client, deep_clean):
    save(client, email="bot@example.com", website="x")

    assert not BookingDraft.objects.exists()


def test_draft_saves_are_rate_limited_per_address(client, deep_clean):
    statuses = [save(client, email="ana@example.com").status_code for _ in range(61)]

    assert statuses[-1] == 429 and set(statuses[:60]) == {204}


def test_bad_slot_and_service_values_are_dropped_not_fatal(client, deep_clean):
    response = save(client, email="ana@example.com", slot="soon", service="x")

    draft = BookingDraft.objects.get()
    assert response.status_code == 204 and draft.slot is None and draft.service is None
