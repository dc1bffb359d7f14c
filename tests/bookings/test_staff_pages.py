from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Booking, BookingStatus, BusinessHours, ClosedDay, Service
from bookings.services import book
from contacts.models import ActivityKind, Contact, Source, Stage
from contacts.services import capture_contact

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 3, 10, tzinfo=CHICAGO)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def make_bookings(service, count, day=7):
    for n in range(count):
        book(
            service=service,
            starts_at=datetime(2026, 12, day, 8, tzinfo=CHICAGO).replace(hour=8 + n),
            email=f"person{n}@example.com",
            name=f"Person {n}",
            origin="staff",
        )


def test_bookings_list_needs_login(client, deep_clean):
    response = client.get(reverse("bookings:list"))

    assert response.status_code == 302 and "/login/" in response["Location"]


# Session, user, admin check and unread count for the menu, count, the page
# of bookings with service and contact, and the filter form's service choices.
LIST_QUERIES = 7


def test_bookings_list_queries_do_not_grow_with_rows(
    staff_client, deep_clean, django_assert_num_queries
):
    Service.objects.filter(pk=deep_clean.pk).update(duration_minutes=60)
    deep_clean.refresh_from_db()
    make_bookings(deep_clean, 3)
    with django_assert_num_queries(LIST_QUERIES):
        staff_client.get(reverse("bookings:list"))
    make_bookings(deep_clean, 6, day=8)

    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(reverse("bookings:list"))

    assert response.content.count(b"person") >= 9


def test_past_filter_shows_only_past_bookings(staff_client, deep_clean):
    make_bookings(deep_clean, 1)
    Booking.objects.update(
        starts_at=datetime(2026, 11, 2, 9, tzinfo=CHICAGO),
        ends_at=datetime(2026, 11, 2, 11, tzinfo=CHICAGO),
    )

    upcoming = staff_client.get(reverse("bookings:list"))
    past = staff_client.get(reverse("bookings:list"), {"when": "past"})

    assert b"person0@" not in upcoming.content and b"person0@" in past.content


def test_week_view_groups_bookings_by_day(staff_client, deep_clean):
    make_bookings(deep_clean, 1)

    response = staff_client.get(
        reverse("bookings:list"), {"view": "week", "day": "2026-12-08"}
    )

    assert b"Monday, Dec 7" in response.content and b"Person 0" in response.content


def test_week_view_shows_past_days_of_the_week_too(staff_client, deep_clean):
    make_bookings(deep_clean, 1, day=1)  # Tuesday, before "now" (Thursday)

    response = staff_client.get(
        reverse("bookings:list"), {"view": "week", "day": "2026-12-03"}
    )

    assert b"Person 0" in response.content


def test_week_view_earlier_and_later_keep_the_filters(staff_client, deep_clean):
    response = staff_client.get(
        reverse("bookings:list"),
        {"view": "week", "day": "2026-12-08", "service": deep_clean.pk},
    )

    later = f"service={deep_clean.pk}&amp;view=week&amp;day=2026-12-14"
    assert later.encode() in response.content


# As the list, with the week's bookings in one query instead of the count
# and page.
WEEK_QUERIES = 6


def test_week_view_queries_do_not_grow_with_rows(
    staff_client, deep_clean, django_assert_num_queries
):
    Service.objects.filter(pk=deep_clean.pk).update(duration_minutes=60)
    deep_clean.refresh_from_db()
    make_bookings(deep_clean, 1)
    week = {"view": "week", "day": "2026-12-08"}
    with django_assert_num_queries(WEEK_QUERIES):
        staff_client.get(reverse("bookings:list"), week)
    make_bookings(deep_clean, 5, day=8)

    with django_assert_num_queries(WEEK_QUERIES):
        response = staff_client.get(reverse("bookings:list"), week)

    assert response.content.count(b"Deep clean</a>") == 6


def test_a_chosen_date_lists_that_whole_day(staff_client, deep_clean):
    make_bookings(deep_clean, 1, day=1)

    response = staff_client.get(reverse("bookings:list"), {"day": "2026-12-01"})

    assert b"person0@" in response.content


@pytest.mark.parametrize("q", ["Person 0", "(512) 555-0100", "person0@"])
def test_search_finds_bookings_by_full_name_phone_or_email(staff_client, deep_clean, q):
    make_bookings(deep_clean, 1)
    Booking.objects.update(phone="+15125550100")
    book(
        service=deep_clean,
        starts_at=datetime(2026, 12, 8, 9, tzinfo=CHICAGO),
        email="lee@example.com",
        name="Person 1",
        phone="512 555 0199",
        origin="staff",
    )

    response = staff_client.get(reverse("bookings:list"), {"q": q})

    assert [b.email for b in response.context["page"].object_list] == [
        "person0@example.com"
    ]


def test_cancel_frees_the_time_and_notes_it_on_the_timeline(staff_client, deep_clean):
    make_bookings(deep_clean, 1)
    booking = Booking.objects.get()

    staff_client.post(reverse("bookings:cancel", args=[booking.pk]))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and not booking.units.exists()
    assert booking.contact.activities.filter(kind=ActivityKind.BOOKING_CHANGED).exists()


def test_reschedule_moves_the_booking(staff_client, deep_clean):
    make_bookings(deep_clean, 1)
    booking = Booking.objects.get()

    staff_client.post(
        reverse("bookings:reschedule", args=[booking.pk]),
        {"day": "2026-12-09", "start_time": "13:00"},
    )

    booking.refresh_from_db()
    assert booking.starts_at == datetime(2026, 12, 9, 13, tzinfo=CHICAGO)


def test_reschedule_onto_a_taken_time_is_refused(staff_client, deep_clean):
    make_bookings(deep_clean, 1)
    other = book(
        service=deep_clean,
        starts_at=datetime(2026, 12, 9, 13, tzinfo=CHICAGO),
        email="lee@example.com",
        origin="staff",
    )
    booking = Booking.objects.exclude(pk=other.pk).get()

    response = staff_client.post(
        reverse("bookings:reschedule", args=[booking.pk]),
        {"day": "2026-12-09", "start_time": "14:00"},
    )

    assert response.status_code == 422 and b"just taken" in response.content


def test_create_prefills_the_contact_from_the_profile_link(staff_client, deep_clean):
    contact = capture_contact(source=Source.SMS, email="ana@example.com").contact

    response = staff_client.get(reverse("bookings:create"), {"contact": contact.pk})

    assert f'value="{contact.pk}" checked'.encode() in response.content


def test_staff_booking_for_a_contact_makes_them_a_customer(staff_client, deep_clean):
    contact = capture_contact(source=Source.SMS, email="ana@example.com").contact

    staff_client.post(
        reverse("bookings:create"),
        {
            "contact": contact.pk,
            "service": deep_clean.pk,
            "day": "2026-12-07",
            "start_time": "09:00",
        },
    )

    contact.refresh_from_db()
    assert contact.stage == Stage.CUSTOMER and contact.bookings.count() == 1


def test_staff_booking_for_someone_new_creates_a_customer(staff_client, deep_clean):
    staff_client.post(
        reverse("bookings:create"),
        {
            "new_name": "Lee Brown",
            "new_email": "lee@example.com",
            "service": deep_clean.pk,
            "day": "2026-12-07",
            "start_time": "09:00",
        },
    )

    contact = Contact.objects.get()
    assert (contact.first_name, contact.stage) == ("Lee", Stage.CUSTOMER)


def test_settings_are_for_admins_only(staff_client, deep_clean):
    response = staff_client.get(reverse("bookings:settings"))

    assert response.status_code == 403


def test_admin_sets_hours_per_weekday(admin_client, rules):
    data = {
        "hours-TOTAL_FORMS": "7",
        "hours-INITIAL_FORMS": "7",
        "lead_time_minutes": "60",
        "horizon_days": "14",
        "slot_interval_minutes": "15",
        "capacity": "2",
    }
    for day in range(7):
        data[f"hours-{day}-is_open"] = "on" if day < 5 else ""
        data[f"hours-{day}-opens"] = "07:30"
        data[f"hours-{day}-closes"] = "15:00"

    response = admin_client.post(reverse("bookings:settings"), data)

    assert response.status_code == 302
    assert list(BusinessHours.objects.values_list("weekday", "opens")) == [
        (day, time(7, 30)) for day in range(5)
    ]


def test_admin_hours_must_close_after_opening(admin_client, rules):
    data = {
        "hours-TOTAL_FORMS": "7",
        "hours-INITIAL_FORMS": "7",
        "lead_time_minutes": "60",
        "horizon_days": "14",
        "slot_interval_minutes": "30",
        "capacity": "1",
        "hours-0-is_open": "on",
        "hours-0-opens": "15:00",
        "hours-0-closes": "09:00",
    }

    response = admin_client.post(reverse("bookings:settings"), data)

    assert b"Closing must come after opening" in response.content


def test_admin_adds_a_service_in_quarter_hours(admin_client, rules):
    response = admin_client.post(
        reverse("bookings:service_create"),
        {"name": "Carpet", "duration_minutes": "50", "position": "0", "active": "on"},
    )

    assert b"multiple of 15" in response.content and not Service.objects.exists()


def test_admin_closes_a_day(admin_client, rules):
    admin_client.post(
        reverse("bookings:closed_day_add"), {"date": "2026-12-25", "reason": "Xmas"}
    )

    assert ClosedDay.objects.get().reason == "Xmas"


def test_settings_page_renders_for_admins(admin_client, deep_clean):
    response = admin_client.get(reverse("bookings:settings"))

    assert response.status_code == 200 and b"Deep clean" in response.content


def staff_books(client, **fields):
    return client.post(
        reverse("bookings:create"),
        {
            "new_name": "Lee Brown",
            "new_email": "lee@example.com",
            "service": Service.objects.get().pk,
            "day": "2026-12-07",
            "start_time": "09:00",
            **fields,
        },
    )


def test_staff_booking_emails_a_confirmation_when_ticked(
    staff_client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_books(staff_client, send_confirmation="on")

    assert [message.to for message in mailoutbox] == [["lee@example.com"]]


def test_staff_booking_sends_no_email_when_unticked(
    staff_client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_books(staff_client)

    assert Booking.objects.exists() and mailoutbox == []


def test_new_booking_form_offers_the_confirmation_email_ticked(
    staff_client, deep_clean
):
    response = staff_client.get(reverse("bookings:create"))

    assert b'name="send_confirmation" id="id_send_confirmation" checked' in (
        response.content
    )


def test_create_from_a_request_or_a_day_prefills_service_and_day(
    staff_client, deep_clean
):
    response = staff_client.get(
        reverse("bookings:create"), {"service": deep_clean.pk, "day": "2026-12-09"}
    )

    form = response.context["form"]
    assert (form["service"].value(), form["day"].value()) == (
        deep_clean.pk,
        date(2026, 12, 9),
    )


def test_closing_a_day_with_bookings_warns_about_them(admin_client, deep_clean):
    make_bookings(deep_clean, 1)

    response = admin_client.post(
        reverse("bookings:closed_day_add"),
        {"date": "2026-12-07", "reason": "Training"},
        follow=True,
    )

    warning = b"1 confirmed booking on that day still stands: move or cancel it"
    assert warning in response.content


def test_a_service_price_cannot_be_negative(admin_client, rules):
    response = admin_client.post(
        reverse("bookings:service_create"),
        {"name": "Carpet", "duration_minutes": "60", "price": "-5", "position": "0"},
    )

    assert response.status_code == 422 and not Service.objects.exists()


def test_moving_a_booking_can_email_the_new_time(
    staff_client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    make_bookings(deep_clean, 1)
    booking = Booking.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("bookings:reschedule", args=[booking.pk]),
            {"day": "2026-12-09", "start_time": "13:00", "notify": "on"},
        )

    assert mailoutbox[0].subject.endswith("is now Wed Dec 9, 1:00 PM")
    assert "was Mon Dec 7, 8:00 AM" in mailoutbox[0].body


def test_cancelling_a_booking_can_email_the_customer(
    staff_client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    make_bookings(deep_clean, 1)
    booking = Booking.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("bookings:cancel", args=[booking.pk]), {"notify": "on"}
        )

    assert [m.to for m in mailoutbox] == [["person0@example.com"]]
    assert "is cancelled" in mailoutbox[0].subject


def test_moving_or_cancelling_without_the_box_ticked_emails_nobody(
    staff_client, deep_clean, mailoutbox, django_capture_on_commit_callbacks
):
    make_bookings(deep_clean, 1)
    booking = Booking.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("bookings:reschedule", args=[booking.pk]),
            {"day": "2026-12-09", "start_time": "13:00"},
        )
        staff_client.post(reverse("bookings:cancel", args=[booking.pk]))

    assert mailoutbox == []


def test_booking_from_a_service_request_prefills_it_and_marks_it_scheduled(
    staff_client, deep_clean
):
    from quotes.models import RequestStatus
    from quotes.services import create_service_request

    contact = capture_contact(source=Source.SMS, email="ana@example.com").contact
    request = create_service_request(
        contact=contact,
        service=deep_clean,
        service_wanted="Deep clean",
        address="1 Elm",
    )
    form = staff_client.get(
        reverse("bookings:create"), {"contact": contact.pk, "request": request.pk}
    ).context["form"]

    staff_client.post(
        reverse("bookings:create"),
        {
            "contact": contact.pk,
            "service": form["service"].value(),
            "address": form["address"].value(),
            "service_request": form["service_request"].value(),
            "day": "2026-12-07",
            "start_time": "09:00",
        },
    )

    request.refresh_from_db()
    assert request.status == RequestStatus.SCHEDULED
    assert Booking.objects.get().address == "1 Elm"
