from __future__ import annotations

import random

import pytest

from bookings import demo
from bookings.models import Booking, BookingDraft, DraftStatus
from contacts import demo as contacts_demo
from contacts.models import ActivityKind, Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(mailoutbox, django_capture_on_commit_callbacks):
    rng = random.Random(7)
    contacts_demo.seed(rng, people=30)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        demo.seed(rng)
    return callbacks


def test_demo_books_jobs_without_emailing_demo_people(seeded, mailoutbox):
    assert Booking.objects.count() >= 10
    assert mailoutbox == []


def test_demo_queues_no_confirmation_tasks(seeded):
    assert seeded == []


def test_demo_abandoned_visits_are_on_prospect_timelines(seeded):
    assert not BookingDraft.objects.filter(status=DraftStatus.OPEN).exists()
    assert Contact.objects.filter(
        activities__kind=ActivityKind.BOOKING_ABANDONED
    ).exists()
