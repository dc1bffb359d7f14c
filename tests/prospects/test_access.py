"""Every prospect and customer page is for signed-in staff only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.services import add_note
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db

# (url name, needs the contact's pk, needs a note's pk too, method)
PAGES = [
    ("prospects:list", False, False, "get"),
    ("prospects:customer_list", False, False, "get"),
    ("prospects:create", False, False, "post"),
    ("prospects:bulk", False, False, "post"),
    ("prospects:duplicates", False, False, "get"),
    ("prospects:dismiss_duplicate", False, False, "post"),
    ("prospects:detail", True, False, "get"),
    ("prospects:customer_detail", True, False, "get"),
    ("prospects:edit", True, False, "post"),
    ("prospects:convert", True, False, "post"),
    ("prospects:follow_up", True, False, "post"),
    ("prospects:change_permission", True, False, "post"),
    ("prospects:timeline", True, False, "get"),
    ("prospects:note_add", True, False, "post"),
    ("prospects:note_edit", True, True, "post"),
    ("prospects:note_delete", True, True, "post"),
    ("prospects:merge_pick", True, False, "get"),
]


@pytest.mark.parametrize(("name", "with_pk", "with_note", "method"), PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: Any,
    staff_user: Any,
    ana: Contact,
    name: str,
    with_pk: bool,
    with_note: bool,
    method: str,
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Private")
    args = [ana.pk, note.pk][: with_pk + with_note]

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_signed_out_visitors_cannot_merge(client: Any, ana: Contact) -> None:
    other = make_person(first="Ann", email="ann@example.com")

    response = client.post(reverse("prospects:merge", args=[ana.pk, other.pk]))

    other.refresh_from_db()
    assert "/login/" in response["Location"]
    assert other.merged_into is None
