from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import Contact, PossibleDuplicate, Stage
from contacts.services import convert_to_customer
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db


def test_merge_search_finds_the_duplicate(staff_client: Any, ana: Contact) -> None:
    other = make_person(first="Ana", last="Garcia", email="ag@example.org")

    response = staff_client.get(
        reverse("prospects:merge_pick", args=[ana.pk]), {"q": "ag@"}
    )

    assert response.context["candidates"] == [other]


def test_merge_keeps_the_chosen_value(staff_client: Any, ana: Contact) -> None:
    other = make_person(
        first="Ana", last="Garcia", email="ag@example.org", city="Dallas", days_ago=0
    )

    staff_client.post(
        reverse("prospects:merge", args=[ana.pk, other.pk]), {"city": "loser"}
    )

    ana.refresh_from_db()
    other.refresh_from_db()
    assert other.merged_into == ana
    assert ana.city == "Dallas"


def test_a_customer_survives_a_merge_with_a_prospect(
    staff_client: Any, ana: Contact
) -> None:
    customer = make_person(first="Ana", email="ana2@example.org", days_ago=0)
    convert_to_customer(contact=customer)

    staff_client.post(reverse("prospects:merge", args=[ana.pk, customer.pk]), {})

    ana.refresh_from_db()
    assert ana.merged_into_id == customer.pk
    assert Contact.objects.get(pk=customer.pk).stage == Stage.CUSTOMER


def test_merge_page_shows_both_side_by_side(staff_client: Any, ana: Contact) -> None:
    other = make_person(first="Anna", email="anna@example.org", days_ago=0)

    response = staff_client.get(reverse("prospects:merge", args=[ana.pk, other.pk]))

    assert b"Anna" in response.content
    assert "first_name" in response.context["form"].fields


def test_merge_page_shows_values_as_the_profile_does(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    other = make_person(
        first="Ana",
        email="ana2@example.org",
        phone="+15125550188",
        status="qualified",
        owner=staff_user,
        days_ago=0,
    )

    response = staff_client.get(reverse("prospects:merge", args=[ana.pk, other.pk]))

    content = response.content.decode()
    assert "Qualified" in content
    assert "Sam Rivera" in content
    assert "(512) 555-0188" in content
    assert "Same" in content  # the last name, shown once on each side


def test_duplicates_page_lists_same_name_and_city(
    staff_client: Any, ana: Contact
) -> None:
    twin = make_person(first="ANA", last="garcía", email="x@example.org", city="austin")
    make_person(first="Ana", last="García", email="y@example.org", city="Dallas")

    response = staff_client.get(reverse("prospects:duplicates"))

    pairs = [(a, b) for a, b, _ in response.context["by_name"]]
    assert pairs == [(ana, twin)]


def test_duplicates_page_lists_similar_email_local_part(
    staff_client: Any, ana: Contact
) -> None:
    twin = make_person(first="Ana", last="García", email="a.n.a+work@other.org")

    response = staff_client.get(reverse("prospects:duplicates"))

    assert [(a, b) for a, b, _ in response.context["by_name"]] == [(ana, twin)]


def test_dismissed_pairs_are_not_suggested_again(
    staff_client: Any, ana: Contact
) -> None:
    twin = make_person(first="Ana", last="García", email="x@example.org", city="Austin")

    staff_client.post(
        reverse("prospects:dismiss_duplicate"), {"contact": twin.pk, "other": ana.pk}
    )
    response = staff_client.get(reverse("prospects:duplicates"))

    assert response.context["by_name"] == []
    assert PossibleDuplicate.objects.get().resolved_at is not None
