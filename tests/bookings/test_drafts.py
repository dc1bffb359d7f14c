from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import BookingDraft, DraftStatus
from bookings.views import _DRAFT_SIGNER as SIGNER
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
    assert SIGNER.unsign(cookie.value) == draft.token and len(draft.token) >= 40
    assert cookie["httponly"] and draft.service == deep_clean


def test_the_page_issues_the_token_every_save_of_the_visit_uses(client, deep_clean):
    page = client.get(reverse("bookings:public"))
    token = SIGNER.unsign(page.cookies[DRAFT_COOKIE].value)

    first = save(client, email="kim@example.com")
    save(client, email="kim@example.com", name="Kim")

    assert BookingDraft.objects.get().token == token
    assert DRAFT_COOKIE not in first.cookies  # nothing to wait for: it had one
    assert BookingDraft.objects.get().name == "Kim"


def test_a_visitor_with_a_token_is_not_issued_another(client, deep_clean):
    first = client.get(reverse("bookings:public"))

    again = client.get(reverse("bookings:public"))

    assert DRAFT_COOKIE in first.cookies and DRAFT_COOKIE not in again.cookies


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
    assert not BookingDraft.objects.filter(token="guessed").exists()


def test_an_unsigned_copy_of_a_real_token_is_refused(client, deep_clean):
    save(client, email="ana@example.com")
    client.cookies[DRAFT_COOKIE] = BookingDraft.objects.get().token

    save(client, email="mallory@example.com")

    assert BookingDraft.objects.get(email="ana@example.com")
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
