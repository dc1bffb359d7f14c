from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Booking, BusinessHours, Service
from bookings.services import book
from contacts.models import Channel, Contact, PermissionState, Source, Stage
from contacts.services import capture_contact, permission_state
from quotes.models import ServiceRequest

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 3, 10, tzinfo=CHICAGO)
SLOT = datetime(2026, 12, 7, 10, tzinfo=CHICAGO)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def submit(client, service, **fields):
    data = {
        "service": service.pk,
        "slot": SLOT.isoformat(),
        "name": "Ana García",
        "email": "ana@example.com",
        "phone": "",
        "address": "12 Elm St",
        "message": "Two bathrooms",
        "action": "book",
        **fields,
    }
    return client.post(reverse("bookings:public"), data)


def test_booking_page_opens_without_login_and_lists_services(client, deep_clean):
    response = client.get(reverse("bookings:public"))

    assert response.status_code == 200
    assert b"public-page" in response.content and b"Deep clean" in response.content


def test_picking_a_service_shows_its_free_times(client, deep_clean):
    response = client.get(reverse("bookings:public"), {"service": deep_clean.pk})

    assert b'value="2026-12-03T18:00:00+00:00"' in response.content  # 12:00 CST


def test_htmx_request_returns_only_the_choice_fragment(client, deep_clean):
    response = client.get(
        reverse("bookings:public"), {"service": deep_clean.pk}, HTTP_HX_REQUEST="true"
    )

    assert response.content.lstrip().startswith(b'<div id="booking-choice">')


def test_book_now_makes_a_booking_and_a_customer(client, deep_clean):
    response = submit(client, deep_clean)

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert booking.contact.stage == Stage.CUSTOMER
    assert booking.contact.source == Source.BOOKING_PAGE


def test_book_now_emails_a_confirmation_after_commit(
    client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, deep_clean)

    assert mailoutbox[0].to == ["ana@example.com"]
    assert "Deep clean" in mailoutbox[0].body


def test_confirmation_page_shows_the_booking(client, deep_clean):
    response = submit(client, deep_clean)

    page = client.get(response["Location"])
    assert b"You are booked" in page.content and b"Mon Dec 7, 10:00 AM" in page.content


def test_book_now_converts_an_existing_prospect_keeping_history(client, deep_clean):
    prospect = capture_contact(source=Source.SMS, email="ana@example.com").contact

    submit(client, deep_clean)

    prospect.refresh_from_db()
    assert prospect.stage == Stage.CUSTOMER
    assert prospect.activities.filter(source=Source.SMS).exists()


def test_text_me_grants_sms_permission_via_the_booking_page(client, deep_clean):
    submit(client, deep_clean, phone="(512) 555-0100", sms_opt_in="on")

    contact = Contact.objects.get()
    assert permission_state(contact, Channel.SMS) == PermissionState.GRANTED
    assert contact.permissions.get().via == "booking page"


def test_a_taken_slot_says_pick_another_and_keeps_what_was_typed(client, deep_clean):
    book(service=deep_clean, starts_at=SLOT, email="lee@example.com", origin="staff")

    response = submit(client, deep_clean)

    assert response.status_code == 422
    assert (
        "that time was just taken. please pick another"
        in response.content.decode().lower()
    )
    assert (
        b'value="Ana Garc' in response.content and b"Two bathrooms" in response.content
    )


def test_request_a_quote_creates_a_service_request_for_a_prospect(client, deep_clean):
    response = submit(
        client, deep_clean, action="quote", slot="", email="", phone="512 555 0101"
    )

    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert request.contact.stage == Stage.PROSPECT
    assert request.contact.source == Source.BOOKING_PAGE
    assert request.service_wanted == "Deep clean"


def test_request_a_quote_from_a_customer_keeps_them_a_customer(client, deep_clean):
    customer = capture_contact(source=Source.MANUAL, email="ana@example.com").contact
    Contact.objects.filter(pk=customer.pk).update(stage=Stage.CUSTOMER)

    submit(client, deep_clean, action="quote")

    assert ServiceRequest.objects.get().contact == customer
    assert Contact.objects.get().stage == Stage.CUSTOMER


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "ana@"}, "Enter a valid email address"),
        ({"phone": "12"}, "Enter a phone number with its area code"),
        ({"slot": "next tuesday"}, "Pick one of the times shown"),
        ({"slot": ""}, "Pick a time, or request a quote instead"),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_booked(
    client, deep_clean, fields, message
):
    response = submit(client, deep_clean, **fields)

    assert message in response.content.decode()
    assert not Booking.objects.exists()


def test_honeypot_submissions_book_nothing(client, deep_clean):
    response = submit(client, deep_clean, website="http://spam.example")

    assert response.status_code == 302
    assert not Booking.objects.exists() and not Contact.objects.exists()


def test_booking_posts_are_rate_limited_per_address(client, deep_clean):
    statuses = [submit(client, deep_clean, email="bad").status_code for _ in range(11)]

    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_a_rate_limited_visitor_is_told_to_wait_and_keeps_what_they_typed(
    client, deep_clean
):
    for _ in range(10):
        submit(client, deep_clean, email="bad")

    response = submit(client, deep_clean)

    page = response.content.decode()
    assert response.status_code == 429 and not Booking.objects.exists()
    assert "Please wait a minute" in page and "Two bathrooms" in page


def test_refused_submit_lists_the_problems_first_with_links_to_the_fields(
    client, deep_clean
):
    response = submit(client, deep_clean, name="", email="ana@")

    page = response.content.decode()
    summary = page[page.index('id="form-errors"') : page.index("step-service")]
    assert 'href="#id_name"' in summary and "Enter your name." in summary
    assert 'href="#id_email"' in summary


def test_confirmation_page_shows_the_phone_as_people_write_it(client, deep_clean):
    response = submit(client, deep_clean, phone="512 555 0100", sms_opt_in="on")

    page = client.get(response["Location"])
    assert b"We will text (512) 555-0100" in page.content


def test_request_a_quote_with_text_me_grants_sms_permission(client, deep_clean):
    submit(client, deep_clean, action="quote", phone="512 555 0101", sms_opt_in="on")

    contact = ServiceRequest.objects.get().contact
    assert permission_state(contact, Channel.SMS) == PermissionState.GRANTED


def test_on_the_fall_back_night_the_repeated_hour_names_its_offset(
    client, rules, settings
):
    rules.slot_interval_minutes = 60
    rules.save()
    BusinessHours.objects.create(weekday=6, opens=time(0), closes=time(4))
    service = Service.objects.create(name="Hour", duration_minutes=60)

    with time_machine.travel(datetime(2026, 10, 25, tzinfo=CHICAGO), tick=False):
        response = client.get(
            reverse("bookings:public"), {"service": service.pk, "day": "2026-11-01"}
        )

    page = response.content.decode()
    assert "1:00 AM CDT" in page and "1:00 AM CST" in page


def test_booking_page_needs_csrf(deep_clean):
    from django.test import Client

    response = submit(Client(enforce_csrf_checks=True), deep_clean)

    assert response.status_code == 403


def test_every_visible_field_on_the_booking_page_has_a_label(client, deep_clean):
    import re

    html = client.get(reverse("bookings:public"), {"service": deep_clean.pk}).content
    page = html.decode()
    ids = re.findall(
        r'<(?:input|textarea|select)(?![^>]*type="(?:hidden|radio)")'
        r'[^>]*\bid="([^"]+)"',
        page,
    )

    assert ids and all(f'for="{field_id}"' in page for field_id in ids)
    # Slot radios are wrapped in their label: the time is the label.
    assert '<label class="slot"><input type="radio" name="slot"' in page


# The visitor's draft, the service picked, the rules, hours, closed days,
# the seats taken, and the list of services.
PAGE_QUERIES = 7


def test_booking_page_queries_do_not_grow_with_services_or_bookings(
    client, deep_clean, django_assert_num_queries
):
    client.get(reverse("bookings:public"))  # the visit's draft token
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(reverse("bookings:public"), {"service": deep_clean.pk})
    for n in range(4):
        Service.objects.create(name=f"Extra {n}", duration_minutes=60)
        book(
            service=deep_clean,
            starts_at=datetime(2026, 12, 8 + n, 9, tzinfo=CHICAGO),
            email=f"p{n}@example.com",
            origin="staff",
        )

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(reverse("bookings:public"), {"service": deep_clean.pk})

    assert b"Extra 3" in response.content
