from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import ActivityKind, Contact, Stage
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(db: Any) -> list[Contact]:
    return [
        make_person(first="One", email="1@example.com"),
        make_person(first="Two", email="2@example.com"),
    ]


def test_bulk_assigns_owner_and_logs_it(
    staff_client: Any, staff_user: Any, two: list[Contact]
) -> None:
    staff_client.post(
        reverse("prospects:bulk"),
        {"ids": [c.pk for c in two], "action": "assign", "owner": staff_user.pk},
    )

    assert set(Contact.objects.values_list("owner", flat=True)) == {staff_user.pk}
    assert two[0].activities.filter(kind=ActivityKind.ASSIGNED).exists()


def test_bulk_sets_status(staff_client: Any, two: list[Contact]) -> None:
    staff_client.post(
        reverse("prospects:bulk"),
        {"ids": [two[0].pk], "action": "status", "status": "lost"},
    )

    assert Contact.objects.get(pk=two[0].pk).status == "lost"
    assert Contact.objects.get(pk=two[1].pk).status == "new"


def test_bulk_status_needs_a_status(staff_client: Any, two: list[Contact]) -> None:
    staff_client.post(
        reverse("prospects:bulk"), {"ids": [two[0].pk], "action": "status"}
    )

    assert Contact.objects.get(pk=two[0].pk).status == "new"


def test_bulk_converts_prospects(staff_client: Any, two: list[Contact]) -> None:
    response = staff_client.post(
        reverse("prospects:bulk"),
        {"ids": [c.pk for c in two], "action": "convert", "next": "/prospects/?q=x"},
    )

    assert set(Contact.objects.values_list("stage", flat=True)) == {Stage.CUSTOMER}
    assert response["Location"] == "/prospects/?q=x"


def test_bulk_refuses_an_unknown_owner(staff_client: Any, two: list[Contact]) -> None:
    staff_client.post(
        reverse("prospects:bulk"),
        {"ids": [two[0].pk], "action": "assign", "owner": "999"},
    )

    assert Contact.objects.get(pk=two[0].pk).owner is None


def test_bulk_redirects_only_to_this_site(
    staff_client: Any, two: list[Contact]
) -> None:
    response = staff_client.post(
        reverse("prospects:bulk"),
        {"ids": [two[0].pk], "action": "convert", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("prospects:list")


def test_bulk_refuses_get(staff_client: Any) -> None:
    assert staff_client.get(reverse("prospects:bulk")).status_code == 405
