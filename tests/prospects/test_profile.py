from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts.models import (
    Activity,
    ActivityKind,
    CommunicationPermission,
    Contact,
    Note,
    Stage,
)
from contacts.services import (
    add_note,
    merge_contacts,
    record_activity,
    update_contact,
)
from prospects.selectors import TIMELINE_PAGE_SIZE
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db


def test_profile_needs_login(client: Any, ana: Contact) -> None:
    response = client.get(reverse("prospects:detail", args=[ana.pk]))

    assert response.status_code == 302


def test_profile_shows_details_and_map_link(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"ana@example.com" in response.content
    assert b"View location" in response.content


def test_profile_escapes_what_people_typed(staff_client: Any) -> None:
    person = make_person(first="<script>x</script>", email="x@example.com")

    response = staff_client.get(reverse("prospects:detail", args=[person.pk]))

    assert b"<script>x</script>" not in response.content


def test_message_entries_show_their_channel(staff_client: Any, ana: Contact) -> None:
    record_activity(
        contact=ana,
        kind=ActivityKind.MESSAGE_IN,
        summary="Do you clean carpets?",
        data={"channel": "messenger"},
    )

    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"#messenger" in response.content


def test_actions_open_prefilled_quote_booking_and_message_pages(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    content = response.content.decode()
    assert f"{reverse('quotes:create')}?contact={ana.pk}" in content
    assert f"{reverse('bookings:create')}?contact={ana.pk}" in content
    assert reverse("inbox:contact", args=[ana.pk]) in content


def test_a_merged_record_redirects_to_the_survivor(
    staff_client: Any, ana: Contact
) -> None:
    other = make_person(first="Ann", email="ann@example.com")
    merge_contacts(survivor=ana, loser=other)

    response = staff_client.get(reverse("prospects:detail", args=[other.pk]))

    assert response["Location"] == reverse("prospects:detail", args=[ana.pk])


@pytest.mark.parametrize("notes", [1, 10])
def test_profile_query_count_does_not_grow_with_the_timeline(
    staff_client: Any,
    staff_user: Any,
    django_assert_num_queries: Any,
    ana: Contact,
    notes: int,
) -> None:
    for n in range(notes):
        add_note(contact=ana, author=staff_user, body=f"Note {n}")
    CommunicationPermission.objects.create(contact=ana, channel="sms")

    # session, user, contact, identifiers, permissions, timeline, its notes,
    # touches, the admin check and the unread count of the navigation
    with django_assert_num_queries(10):
        staff_client.get(reverse("prospects:detail", args=[ana.pk]))


def test_older_button_loads_the_next_timeline_page(
    staff_client: Any, ana: Contact
) -> None:
    for n in range(TIMELINE_PAGE_SIZE + 3):
        record_activity(contact=ana, kind=ActivityKind.CAPTURED, summary=f"Touch {n}")
    first = staff_client.get(reverse("prospects:detail", args=[ana.pk]))
    cursor = first.context["timeline"].next_cursor

    older = staff_client.get(
        reverse("prospects:timeline", args=[ana.pk]),
        {"before": cursor},
        headers={"HX-Request": "true"},
    )

    shown = first.context["timeline"].rows + older.context["timeline"].rows
    assert len({entry.pk for entry in shown}) == ana.activities.count()


def test_convert_makes_a_customer_once(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    url = reverse("prospects:convert", args=[ana.pk])
    staff_client.post(url)
    staff_client.post(url)

    ana.refresh_from_db()
    assert (ana.stage, ana.converted_by) == (Stage.CUSTOMER, staff_user)
    assert ana.activities.filter(kind=ActivityKind.CONVERTED).count() == 1


def test_a_prospects_old_address_leads_to_the_customer_profile(
    staff_client: Any, ana: Contact
) -> None:
    from contacts.services import convert_to_customer

    convert_to_customer(contact=ana)

    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert response["Location"] == reverse("prospects:customer_detail", args=[ana.pk])


def test_convert_refuses_get(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:convert", args=[ana.pk]))

    assert response.status_code == 405


def test_convert_refuses_anonymous(client: Any, ana: Contact) -> None:
    client.post(reverse("prospects:convert", args=[ana.pk]))

    ana.refresh_from_db()
    assert ana.stage == Stage.PROSPECT


def test_permission_change_needs_a_reason(staff_client: Any, ana: Contact) -> None:
    staff_client.post(
        reverse("prospects:change_permission", args=[ana.pk]),
        {"channel": "sms", "state": "revoked", "reason": ""},
    )

    assert not CommunicationPermission.objects.filter(contact=ana).exists()


def test_permission_change_is_on_the_timeline(staff_client: Any, ana: Contact) -> None:
    staff_client.post(
        reverse("prospects:change_permission", args=[ana.pk]),
        {"channel": "sms", "state": "revoked", "reason": "Asked on the phone"},
    )

    entry = ana.activities.get(kind=ActivityKind.CONSENT_CHANGED)
    assert entry.data["reason"] == "Asked on the phone"


def test_note_added_with_htmx_returns_its_entry(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.post(
        reverse("prospects:note_add", args=[ana.pk]),
        {"body": "Called, no answer"},
        headers={"HX-Request": "true"},
    )

    assert [t.name for t in response.templates][0] == "prospects/_entry.html"
    assert Note.objects.get(contact=ana).body == "Called, no answer"


def test_empty_note_is_refused_with_a_message(staff_client: Any, ana: Contact) -> None:
    response = staff_client.post(
        reverse("prospects:note_add", args=[ana.pk]),
        {"body": "   "},
        headers={"HX-Request": "true"},
    )

    assert response["HX-Retarget"] == "#note-form"
    assert not Note.objects.exists()


def test_author_edits_own_note(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Called")

    staff_client.post(
        reverse("prospects:note_edit", args=[ana.pk, note.pk]),
        {"body": "Called twice"},
        headers={"HX-Request": "true"},
    )

    note.refresh_from_db()
    assert note.body == "Called twice"


def test_nobody_edits_someone_elses_note(
    staff_client: Any, admin_user: Any, ana: Contact
) -> None:
    note = add_note(contact=ana, author=admin_user, body="Mine")

    response = staff_client.post(
        reverse("prospects:note_edit", args=[ana.pk, note.pk]), {"body": "Hacked"}
    )

    assert response.status_code == 403


def test_author_deletes_own_note_and_its_entry(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Oops")

    staff_client.post(
        reverse("prospects:note_delete", args=[ana.pk, note.pk]),
        headers={"HX-Request": "true"},
    )

    assert not Activity.objects.filter(kind=ActivityKind.NOTE).exists()


def test_nobody_deletes_someone_elses_note(
    staff_client: Any, admin_user: Any, ana: Contact
) -> None:
    note = add_note(contact=ana, author=admin_user, body="Mine")

    staff_client.post(reverse("prospects:note_delete", args=[ana.pk, note.pk]))

    assert Note.objects.filter(pk=note.pk).exists()


def test_customer_profile_has_no_convert_button(
    staff_client: Any, ana: Contact
) -> None:
    from contacts.services import convert_to_customer

    convert_to_customer(contact=ana)

    response = staff_client.get(reverse("prospects:customer_detail", args=[ana.pk]))

    assert b"Convert to customer" not in response.content


def test_edits_on_the_timeline_name_fields_as_staff_know_them(
    staff_client: Any, ana: Contact, staff_user: Any
) -> None:
    update_contact(
        contact=ana, actor=staff_user, changes={"internal_info": "Gate code 1234"}
    )

    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"Internal information:" in response.content


def test_profile_offers_a_follow_up_date_when_none_is_set(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"No follow-up date." in response.content
    assert reverse("prospects:follow_up", args=[ana.pk]).encode() in response.content


def test_profile_shows_the_follow_up_date_and_whether_it_is_overdue(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    from datetime import date

    update_contact(
        contact=ana, actor=staff_user, changes={"follow_up_on": date(2020, 3, 6)}
    )

    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"Fri, Mar 6, 2020" in response.content
    assert b"Overdue" in response.content


def test_follow_up_changed_without_javascript_is_saved_and_logged(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.post(
        reverse("prospects:follow_up", args=[ana.pk]), {"follow_up_on": "2030-12-06"}
    )

    ana.refresh_from_db()
    assert response.status_code == 302
    assert ana.follow_up_on.isoformat() == "2030-12-06"
    assert ana.activities.get(kind=ActivityKind.EDITED).data["changes"] == {
        "follow_up_on": ["", "2030-12-06"]
    }


def test_follow_up_changed_with_htmx_returns_the_card_and_the_timeline_entry(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.post(
        reverse("prospects:follow_up", args=[ana.pk]),
        {"follow_up_on": "2030-12-06"},
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert "Fri, Dec 6, 2030" in content
    assert 'hx-swap-oob="afterbegin:#timeline-list"' in content
    assert "Follow-up date:" in content


def test_follow_up_clear_removes_the_date(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    from datetime import date

    update_contact(
        contact=ana, actor=staff_user, changes={"follow_up_on": date(2030, 1, 2)}
    )

    staff_client.post(
        reverse("prospects:follow_up", args=[ana.pk]),
        {"follow_up_on": "2030-01-02", "clear": "1"},
    )

    ana.refresh_from_db()
    assert ana.follow_up_on is None


def test_a_bad_follow_up_date_keeps_the_form_open_with_the_error(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.post(
        reverse("prospects:follow_up", args=[ana.pk]),
        {"follow_up_on": "someday"},
        headers={"HX-Request": "true"},
    )

    assert b"Enter a valid date" in response.content
    assert b'value="someday"' in response.content
    assert not ana.activities.filter(kind=ActivityKind.EDITED).exists()


def test_follow_up_refuses_get(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:follow_up", args=[ana.pk]))

    assert response.status_code == 405


def test_follow_up_refuses_anonymous(client: Any, ana: Contact) -> None:
    url = reverse("prospects:follow_up", args=[ana.pk])
    client.post(url, {"follow_up_on": "2030-12-06"})

    ana.refresh_from_db()
    assert ana.follow_up_on is None


def test_profile_always_has_an_internal_information_section(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.get(reverse("prospects:detail", args=[ana.pk]))

    assert b"Internal information" in response.content
    assert b"Nothing noted yet." in response.content


def test_note_edit_without_javascript_is_a_page_of_its_own(
    staff_client: Any, staff_user: Any, ana: Contact
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Called")

    response = staff_client.get(reverse("prospects:note_edit", args=[ana.pk, note.pk]))

    assert [t.name for t in response.templates][0] == "prospects/note_edit.html"
    assert b"Called" in response.content


def test_older_entries_without_javascript_reload_the_profile_further_back(
    staff_client: Any, ana: Contact
) -> None:
    for n in range(TIMELINE_PAGE_SIZE + 3):
        record_activity(contact=ana, kind=ActivityKind.CAPTURED, summary=f"Touch {n}")
    url = reverse("prospects:detail", args=[ana.pk])
    cursor = staff_client.get(url).context["timeline"].next_cursor

    older = staff_client.get(url, {"before": cursor})

    assert b"Touch 0" in older.content
    assert b"Back to the newest" in older.content
