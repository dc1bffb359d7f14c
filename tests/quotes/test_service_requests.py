from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Service
from contacts.models import ActivityKind, Contact, Source, Stage
from contacts.services import capture_contact
from quotes.models import RequestStatus, ServiceRequest
from quotes.services import Person, create_service_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana():
    return capture_contact(source=Source.SMS, email="ana@example.com").contact


def test_request_for_someone_new_creates_a_service_request_prospect():
    request = create_service_request(
        person=Person(name="Lee", phone="512 555 0100"), service_wanted="Windows"
    )

    request.refresh_from_db()
    assert (request.contact.source, request.contact.stage) == (
        Source.SERVICE_REQUEST,
        Stage.PROSPECT,
    )


def test_request_for_an_existing_contact_goes_on_their_timeline(ana):
    request = create_service_request(contact=ana, service_wanted="Windows")

    entry = ana.activities.get(kind=ActivityKind.SERVICE_REQUEST)
    assert entry.subject == request and "Windows" in entry.summary


def test_staff_create_a_request_for_someone_typed_in_who_is_known(staff_client, ana):
    staff_client.post(
        reverse("quotes:request_create"),
        {
            "person-new_name": "Ana",
            "person-new_email": "ana@example.com",
            "service_wanted": "Carpets",
            "status": "new",
        },
    )

    assert ServiceRequest.objects.get().contact == ana
    assert Contact.objects.count() == 1


def test_request_service_wanted_defaults_to_the_picked_service(staff_client, ana):
    service = Service.objects.create(name="Deep clean", duration_minutes=120)

    staff_client.post(
        reverse("quotes:request_create"),
        {"person-contact": ana.pk, "service": service.pk, "status": "new"},
    )

    assert ServiceRequest.objects.get().service_wanted == "Deep clean"


def test_staff_update_a_request_status(staff_client, ana):
    request = create_service_request(contact=ana, service_wanted="Windows")

    staff_client.post(
        reverse("quotes:request_detail", args=[request.pk]),
        {"service_wanted": "Windows", "status": "scheduled"},
    )

    request.refresh_from_db()
    assert request.status == RequestStatus.SCHEDULED


# Session, user, admin check and unread count for the menu, count, page with
# contact and service.
LIST_QUERIES = 6


def test_request_list_queries_do_not_grow_with_rows(
    staff_client, ana, django_assert_num_queries
):
    create_service_request(contact=ana, service_wanted="Windows")
    with django_assert_num_queries(LIST_QUERIES):
        staff_client.get(reverse("quotes:request_list"))
    for n in range(5):
        create_service_request(contact=ana, service_wanted=f"Job {n}")

    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(reverse("quotes:request_list"))

    assert b"Job 4" in response.content


def test_request_list_filters_by_status_and_search(staff_client, ana):
    create_service_request(contact=ana, service_wanted="Windows")
    closed = create_service_request(
        contact=ana, service_wanted="Gutters", status=RequestStatus.CLOSED
    )

    response = staff_client.get(
        reverse("quotes:request_list"), {"status": "closed", "q": "gutt"}
    )

    assert list(response.context["page"].object_list) == [closed]


def test_request_list_search_finds_by_full_name(staff_client):
    ana = capture_contact(
        source=Source.SMS,
        email="ana@example.com",
        details={"first_name": "Ana", "last_name": "García"},
    ).contact
    request = create_service_request(contact=ana, service_wanted="Windows")
    create_service_request(
        person=Person(name="Ana Brown", email="b@example.com"), service_wanted="Oven"
    )

    response = staff_client.get(reverse("quotes:request_list"), {"q": "ana garcía"})

    assert list(response.context["page"].object_list) == [request]
