from __future__ import annotations

from datetime import timedelta

import pytest

from contacts.models import ActivityKind, Contact, PermissionChange, Source, Stage
from contacts.services import (
    IdentifierTaken,
    add_note,
    capture_contact,
    convert_to_customer,
    delete_note,
    edit_note,
    record_activity,
    set_permission,
    update_contact,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> Contact:
    return capture_contact(source=Source.MANUAL, email="ana@example.com").contact


def test_conversion_records_who_and_when(ana: Contact, staff_user: object) -> None:
    convert_to_customer(contact=ana, actor=staff_user)

    ana.refresh_from_db()
    assert (ana.stage, ana.converted_by) == (Stage.CUSTOMER, staff_user)
    assert ana.converted_at is not None


def test_conversion_is_idempotent(ana: Contact) -> None:
    convert_to_customer(contact=ana)

    assert convert_to_customer(contact=ana) is False
    assert ana.activities.filter(kind=ActivityKind.CONVERTED).count() == 1


def test_permission_change_keeps_history_and_timeline(ana: Contact) -> None:
    set_permission(contact=ana, channel="sms", state="granted", via="booking form")
    set_permission(contact=ana, channel="sms", state="revoked", via="STOP keyword")

    history = list(PermissionChange.objects.values_list("previous_state", "state"))
    assert history == [("unknown", "granted"), ("granted", "revoked")]
    assert ana.activities.filter(kind=ActivityKind.CONSENT_CHANGED).count() == 2


def test_setting_the_same_permission_again_changes_nothing(ana: Contact) -> None:
    set_permission(contact=ana, channel="email", state="granted")

    assert set_permission(contact=ana, channel="email", state="granted") is False


def test_notes_are_on_the_timeline_and_edits_follow(
    ana: Contact, staff_user: object
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Called, no answer")

    edit_note(note=note, body="Called, left a voicemail")

    entry = ana.activities.get(kind=ActivityKind.NOTE)
    assert entry.summary == "Called, left a voicemail"


def test_deleting_a_note_removes_its_timeline_entry(
    ana: Contact, staff_user: object
) -> None:
    note = add_note(contact=ana, author=staff_user, body="Wrong person")

    delete_note(note=note)

    assert not ana.activities.filter(kind=ActivityKind.NOTE).exists()


def test_edit_records_the_changed_fields(ana: Contact, staff_user: object) -> None:
    update_contact(
        contact=ana, actor=staff_user, changes={"first_name": "Ana", "city": "Austin"}
    )

    entry = ana.activities.get(kind=ActivityKind.EDITED)
    assert entry.data["changes"] == {"first_name": ["", "Ana"], "city": ["", "Austin"]}


def test_edit_refuses_an_email_that_belongs_to_someone_else(
    ana: Contact, staff_user: object
) -> None:
    capture_contact(source=Source.MANUAL, email="lee@example.com")

    with pytest.raises(IdentifierTaken):
        update_contact(
            contact=ana, actor=staff_user, changes={"email": "lee@example.com"}
        )


def test_activity_moves_last_activity_forward(ana: Contact) -> None:
    later = ana.last_activity_at + timedelta(hours=2)

    record_activity(contact=ana, kind=ActivityKind.NOTE, occurred_at=later)

    ana.refresh_from_db()
    assert ana.last_activity_at == later


def test_a_burst_of_activity_rewrites_the_contact_once_a_minute(ana: Contact) -> None:
    start = ana.last_activity_at + timedelta(hours=1)
    record_activity(contact=ana, kind=ActivityKind.NOTE, occurred_at=start)

    record_activity(
        contact=Contact.objects.get(pk=ana.pk),
        kind=ActivityKind.NOTE,
        occurred_at=start + timedelta(seconds=20),
    )

    ana.refresh_from_db()
    assert ana.last_activity_at == start
