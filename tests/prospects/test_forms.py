from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import (
    ActivityKind,
    CommunicationPermission,
    Contact,
    Identifier,
    Source,
)
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db

NEW = {
    "first_name": "Lee",
    "last_name": "Brown",
    "email": " Lee@Example.com ",
    "phone": "(512) 555-0177",
    "source": "referral",
    "source_detail": "Ana's neighbour",
    "status": "new",
    "first_note": "Wants a quote for carpets",
    "email_permission": "on",
}


def test_create_form_needs_login(client: Any) -> None:
    response = client.get(reverse("prospects:create"))

    assert response.status_code == 302


def test_create_saves_normalized_identifiers_note_and_permission(
    staff_client: Any,
) -> None:
    response = staff_client.post(reverse("prospects:create"), NEW)

    lee = Contact.objects.get(last_name="Brown")
    assert response["Location"] == reverse("prospects:detail", args=[lee.pk])
    assert (lee.email, lee.phone, lee.source) == (
        "lee@example.com",
        "+15125550177",
        Source.REFERRAL,
    )
    assert lee.notes.get().body == "Wants a quote for carpets"
    assert CommunicationPermission.objects.get(contact=lee).state == "granted"


def test_invalid_phone_keeps_everything_typed(staff_client: Any) -> None:
    response = staff_client.post(reverse("prospects:create"), {**NEW, "phone": "12"})

    assert "phone" in response.context["form"].errors
    assert b"Ana&#x27;s neighbour" in response.content
    assert not Contact.objects.exists()


def test_other_source_needs_a_note(staff_client: Any) -> None:
    response = staff_client.post(
        reverse("prospects:create"), {**NEW, "source": "other", "source_detail": ""}
    )

    assert "source_detail" in response.context["form"].errors


def test_existing_email_is_shown_instead_of_creating_a_duplicate(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.post(
        reverse("prospects:create"), {**NEW, "email": "ANA@example.com"}
    )

    assert list(response.context["owners"]) == [ana]
    assert Contact.objects.count() == 1


def test_adding_the_details_to_the_existing_person(
    staff_client: Any, ana: Contact
) -> None:
    staff_client.post(
        reverse("prospects:create"),
        {
            **NEW,
            "email": "ana@example.com",
            "action": "add_to_existing",
            "existing": ana.pk,
        },
    )

    assert Contact.objects.count() == 1
    assert Identifier.objects.get(kind="phone", value="+15125550177").contact == ana
    assert ana.notes.get().body == "Wants a quote for carpets"


def test_add_to_existing_is_refused_for_another_person(
    staff_client: Any, ana: Contact
) -> None:
    lee = make_person(first="Lee", email="lee@example.com")

    response = staff_client.post(
        reverse("prospects:create"),
        {
            **NEW,
            "email": "ana@example.com",
            "action": "add_to_existing",
            "existing": lee.pk,
        },
    )

    assert list(response.context["owners"]) == [ana]


def test_edit_records_changes_on_the_timeline(staff_client: Any, ana: Contact) -> None:
    staff_client.post(
        reverse("prospects:edit", args=[ana.pk]),
        {
            "first_name": "Ana",
            "last_name": "García López",
            "email": "ana@example.com",
            "phone": "+15125550101",
            "city": "Austin",
            "source": "sms",
            "status": "contacted",
        },
    )

    entry = ana.activities.get(kind=ActivityKind.EDITED)
    assert entry.data["changes"]["last_name"] == ["García", "García López"]


def test_edit_to_someone_elses_email_is_refused(
    staff_client: Any, ana: Contact
) -> None:
    make_person(first="Lee", email="lee@example.com")

    response = staff_client.post(
        reverse("prospects:edit", args=[ana.pk]),
        {
            "first_name": "Ana",
            "email": "lee@example.com",
            "source": "sms",
            "status": "new",
        },
    )

    ana.refresh_from_db()
    assert "email" in response.context["form"].errors
    assert ana.email == "ana@example.com"


def test_edit_shows_the_phone_as_people_write_it_and_saving_keeps_it(
    staff_client: Any, ana: Contact
) -> None:
    url = reverse("prospects:edit", args=[ana.pk])
    form = staff_client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}

    response = staff_client.post(url, {**data, "owner": "", "tags": ""})

    assert form.initial["phone"] == "(512) 555-0101"
    assert response.status_code == 302
    assert not ana.activities.filter(kind="edited").exists()
