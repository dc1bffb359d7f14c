from __future__ import annotations

import pytest

from contacts.models import (
    Activity,
    CommunicationPermission,
    Contact,
    Note,
    PermissionState,
    Source,
    Stage,
)
from contacts.services import (
    MergeError,
    add_note,
    capture_contact,
    convert_to_customer,
    merge_contacts,
    set_permission,
)

pytestmark = pytest.mark.django_db


def person(**kwargs: object) -> Contact:
    kwargs.setdefault("source", Source.MANUAL)
    return capture_contact(**kwargs).contact


def test_merge_moves_identifiers_notes_and_activity(staff_user: object) -> None:
    ana = person(email="ana@example.com")
    dup = person(phone="555-010-2030")
    add_note(contact=dup, author=staff_user, body="Called twice")

    merge_contacts(survivor=ana, loser=dup)

    assert set(ana.identifiers.values_list("kind", flat=True)) == {"email", "phone"}
    assert Note.objects.get().contact_id == ana.pk
    assert not Activity.objects.filter(contact=dup).exists()


def test_merge_leaves_a_tombstone_pointing_at_the_survivor() -> None:
    ana, dup = person(email="ana@example.com"), person(email="ana2@example.com")

    merge_contacts(survivor=ana, loser=dup)

    dup.refresh_from_db()
    assert dup.merged_into_id == ana.pk
    assert not Contact.objects.live().filter(pk=dup.pk).exists()


def test_merge_turns_the_losers_values_into_extra_identifiers() -> None:
    ana, dup = person(email="ana@example.com"), person(email="ana.g@example.com")

    merge_contacts(survivor=ana, loser=dup)

    emails = set(ana.identifiers.filter(kind="email").values_list("value", flat=True))
    assert emails == {"ana@example.com", "ana.g@example.com"}


def test_merge_keeps_the_first_source_and_logs_itself() -> None:
    older = person(email="ana@example.com", source=Source.BOOKING_PAGE)
    newer = person(email="ana2@example.com", source=Source.SMS)

    survivor = merge_contacts(survivor=newer, loser=older)

    assert survivor.source == Source.BOOKING_PAGE
    assert survivor.activities.filter(kind="merged").exists()


def test_merge_keeps_the_furthest_stage() -> None:
    customer = person(email="ana@example.com")
    convert_to_customer(contact=customer)
    prospect = person(email="ana2@example.com")

    merge_contacts(survivor=customer, loser=prospect)

    customer.refresh_from_db()
    assert customer.stage == Stage.CUSTOMER


def test_customer_cannot_be_merged_into_a_prospect() -> None:
    customer = person(email="ana@example.com")
    convert_to_customer(contact=customer)
    prospect = person(email="ana2@example.com")

    with pytest.raises(MergeError):
        merge_contacts(survivor=prospect, loser=customer)


def test_merge_keeps_the_later_permission_per_channel() -> None:
    ana, dup = person(email="ana@example.com"), person(email="ana2@example.com")
    set_permission(contact=ana, channel="sms", state=PermissionState.GRANTED)
    set_permission(contact=dup, channel="sms", state=PermissionState.REVOKED)

    merge_contacts(survivor=ana, loser=dup)

    permission = CommunicationPermission.objects.get(contact=ana, channel="sms")
    assert permission.state == PermissionState.REVOKED


def test_merge_uses_the_values_staff_chose() -> None:
    ana = person(email="ana@example.com", details={"first_name": "Ana"})
    dup = person(email="ana2@example.com", details={"first_name": "Anna"})

    survivor = merge_contacts(survivor=ana, loser=dup, values={"first_name": "Anna"})

    assert survivor.first_name == "Anna"


def test_merge_moves_rows_of_any_model_pointing_at_contact() -> None:
    # Generic over relations: every foreign key to Contact is followed,
    # including the tombstone pointer of an earlier merge.
    ana, dup, older_dup = (
        person(email="ana@example.com"),
        person(email="ana2@example.com"),
        person(email="ana3@example.com"),
    )
    merge_contacts(survivor=dup, loser=older_dup)

    merge_contacts(survivor=ana, loser=dup)

    older_dup.refresh_from_db()
    assert older_dup.merged_into_id == ana.pk
