from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from bookings.models import BookingDraft, DraftStatus
from bookings.services import book
from bookings.tasks import capture_abandoned_bookings
from contacts.models import ActivityKind, Contact, Source, Stage
from contacts.services import capture_contact, convert_to_customer
from miocrm.celery import app
from quotes.services import Person, create_service_request

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 12, 3, 10, tzinfo=CHICAGO)
SLOT = datetime(2026, 12, 7, 10, tzinfo=CHICAGO)


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def leave_page(client, service, **fields):
    data = {
        "email": "ana@example.com",
        "service": service.pk,
        "slot": SLOT.isoformat(),
        "name": "Ana García",
        "message": "Two bathrooms",
        **fields,
    }
    client.post(reverse("bookings:draft_save"), data)


def test_idle_draft_becomes_a_booking_page_prospect(client, deep_clean, traveller):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 1

    contact = Contact.objects.get()
    assert (contact.stage, contact.source) == (Stage.PROSPECT, Source.BOOKING_PAGE)
    assert contact.first_name == "Ana"


def test_the_chosen_service_slot_and_message_go_on_the_timeline(
    client, deep_clean, traveller
):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))

    capture_abandoned_bookings()

    entry = Contact.objects.get().activities.get(kind=ActivityKind.BOOKING_ABANDONED)
    assert "Deep clean" in entry.summary and "Mon Dec 7, 10:00 AM" in entry.summary
    assert entry.data["message"] == "Two bathrooms"
    assert entry.source == Source.BOOKING_PAGE


def test_a_second_sweep_captures_nothing_again(client, deep_clean, traveller):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))
    capture_abandoned_bookings()
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 0
    assert (
        Contact.objects.get()
        .activities.filter(kind=ActivityKind.BOOKING_ABANDONED)
        .count()
        == 1
    )


def test_drafts_still_being_typed_are_left_alone(client, deep_clean, traveller):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=29))

    assert capture_abandoned_bookings() == 0
    assert BookingDraft.objects.get().status == DraftStatus.OPEN


def test_the_idle_time_comes_from_settings(client, deep_clean, traveller, settings):
    settings.BOOKING_ABANDON_MINUTES = 5
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=6))

    assert capture_abandoned_bookings() == 1


def test_finished_bookings_are_not_captured_as_abandoned(client, deep_clean, traveller):
    leave_page(client, deep_clean)
    client.post(
        reverse("bookings:public"),
        {
            "service": deep_clean.pk,
            "slot": SLOT.isoformat(),
            "name": "Ana García",
            "email": "ana@example.com",
            "action": "book",
        },
    )
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 0
    assert BookingDraft.objects.get().status == DraftStatus.BOOKED


def test_an_existing_prospect_gets_a_new_touch(client, deep_clean, traveller):
    prospect = capture_contact(source=Source.SMS, phone="512 555 0100").contact
    leave_page(client, deep_clean, phone="(512) 555-0100", email="")
    traveller.shift(timedelta(minutes=31))

    capture_abandoned_bookings()

    assert Contact.objects.get() == prospect
    assert prospect.activities.filter(kind=ActivityKind.BOOKING_ABANDONED).exists()


def test_an_existing_customer_only_gets_a_timeline_entry(client, deep_clean, traveller):
    customer = capture_contact(source=Source.MANUAL, email="ana@example.com").contact
    convert_to_customer(contact=customer)
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))

    capture_abandoned_bookings()

    customer.refresh_from_db()
    assert Contact.objects.count() == 1 and customer.stage == Stage.CUSTOMER
    assert customer.activities.filter(kind=ActivityKind.BOOKING_ABANDONED).exists()


def test_a_visitor_who_comes_back_and_books_is_converted(client, deep_clean, traveller):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))
    capture_abandoned_bookings()

    client.post(
        reverse("bookings:public"),
        {
            "service": deep_clean.pk,
            "slot": SLOT.isoformat(),
            "name": "Ana García",
            "email": "ana@example.com",
            "action": "book",
        },
    )

    assert Contact.objects.get().stage == Stage.CUSTOMER


def test_a_draft_without_a_usable_email_or_phone_is_discarded(
    client, deep_clean, traveller
):
    leave_page(client, deep_clean, email="ana@")
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 0
    assert BookingDraft.objects.get().status == DraftStatus.DISCARDED
    assert not Contact.objects.exists()


def test_the_management_command_runs_the_sweep(client, deep_clean, traveller, capsys):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))

    call_command("capture_abandoned_bookings")

    assert "Captured 1" in capsys.readouterr().out
    assert Contact.objects.filter(source=Source.BOOKING_PAGE).exists()


def test_beat_schedule_names_the_sweep_task() -> None:
    task = app.conf.beat_schedule["capture-abandoned-bookings"]["task"]

    assert app.tasks[task].name == capture_abandoned_bookings.name == task


def test_one_failing_draft_does_not_stop_the_sweep(
    client, deep_clean, traveller, monkeypatch
):
    from bookings import services

    leave_page(client, deep_clean)
    client.cookies.clear()
    leave_page(client, deep_clean, email="lee@example.com")
    traveller.shift(timedelta(minutes=31))
    real_send = services.booking_abandoned.send

    def flaky_send(**event):
        if event["email"] == "ana@example.com":
            raise RuntimeError("receiver failed")
        return real_send(**event)

    monkeypatch.setattr(services.booking_abandoned, "send", flaky_send)

    assert capture_abandoned_bookings() == 1
    assert BookingDraft.objects.get(email="ana@example.com").status == DraftStatus.OPEN


def test_a_visitor_who_booked_another_way_is_not_captured_as_abandoned(
    client, deep_clean, traveller
):
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=5))
    book(
        service=deep_clean,
        starts_at=SLOT,
        email="ANA@example.com",
        name="Ana García",
        origin="staff",
    )
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 0
    assert BookingDraft.objects.get().status == DraftStatus.BOOKED
    kinds = Contact.objects.get().activities.values_list("kind", flat=True)
    assert ActivityKind.BOOKING_ABANDONED not in set(kinds)


def test_a_visitor_who_requested_a_quote_another_way_is_not_captured(
    client, deep_clean, traveller
):
    leave_page(client, deep_clean, email="", phone="512 555 0100")
    create_service_request(
        person=Person(name="Ana", phone="(512) 555-0100"), service_wanted="Windows"
    )
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 0
    assert BookingDraft.objects.get().status == DraftStatus.REQUESTED


def test_an_earlier_booking_does_not_stop_a_new_visit_being_captured(
    client, deep_clean, traveller
):
    book(service=deep_clean, starts_at=SLOT, email="ana@example.com", origin="staff")
    traveller.shift(timedelta(minutes=5))
    leave_page(client, deep_clean)
    traveller.shift(timedelta(minutes=31))

    assert capture_abandoned_bookings() == 1
