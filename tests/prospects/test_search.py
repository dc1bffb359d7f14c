from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.services import convert_to_customer
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db


def _search(client: Any, q: str) -> Any:
    return client.get(reverse("prospects:search"), {"q": q})


def test_the_top_bar_finds_prospects_and_customers(staff_client: Any) -> None:
    make_person(first="Ana", last="García", email="ana@example.com")
    customer = make_person(first="Ana", last="Brown", email="ab@example.com")
    convert_to_customer(contact=customer)

    page = _search(staff_client, "ana").content.decode()

    prospects, customers = page.split('id="search-2"')
    assert "Ana García" in prospects and "Ana Brown" in customers


def test_one_match_opens_that_person(staff_client: Any) -> None:
    ana = make_person(phone="+15125550101")

    response = _search(staff_client, "(512) 555-0101")

    assert response["Location"] == reverse("prospects:detail", args=[ana.pk])


def test_nobody_found_offers_to_add_a_prospect(staff_client: Any) -> None:
    response = _search(staff_client, "zelda")

    assert b"Nobody matches" in response.content
    assert reverse("prospects:create").encode() in response.content


def test_every_staff_page_has_the_search_box(staff_client: Any) -> None:
    response = staff_client.get(reverse("prospects:list"))

    assert b'action="/search/"' in response.content


@pytest.mark.parametrize("people", [2, 12])
def test_search_costs_the_same_queries_however_many_match(
    staff_client: Any, django_assert_num_queries: Any, people: int
) -> None:
    for n in range(people):
        make_person(first="Ana", last=f"Person{n}", email=f"a{n}@example.com")
    staff_client.get(reverse("prospects:list"))  # session and user cached alike

    with django_assert_num_queries(9):
        _search(staff_client, "ana")
