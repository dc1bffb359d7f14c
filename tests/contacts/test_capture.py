from __future__ import annotations

import pytest

from contacts.models import (
    ActivityKind,
    Contact,
    Identifier,
    PossibleDuplicate,
    Source,
    Stage,
)
from contacts.services import capture_contact, convert_to_customer

pytestmark = pytest.mark.django_db


def capture(**kwargs: object) -> Contact:
    kwargs.setdefault("source", Source.SMS)
    return capture_contact(**kwargs).contact


def test_unknown_person_becomes_a_prospect_with_the_source() -> None:
    result = capture_contact(source=Source.SMS, phone="(555) 010-2030")

    assert result.created
    assert (result.contact.stage, result.contact.source) == (Stage.PROSPECT, "sms")


def test_identifiers_are_stored_normalized() -> None:
    contact = capture(email="  John.Doe@Example.COM ", phone="(555) 010-2030")

    values = set(contact.identifiers.values_list("kind", "value"))
    assert values == {("email", "john.doe@example.com"), ("phone", "+15550102030")}


def test_known_email_in_another_spelling_attaches_to_the_same_person() -> None:
    first = capture(email="ana@example.com")

    again = capture_contact(source=Source.CHAT, email=" ANA@example.com")

    assert (again.contact.pk, again.created) == (first.pk, False)


def test_a_later_touch_is_on_the_timeline_with_its_source() -> None:
    first = capture(email="ana@example.com", source=Source.BOOKING_PAGE)

    capture(email="ana@example.com", source=Source.CHAT)

    kinds = list(first.activities.order_by("id").values_list("kind", "source"))
    assert kinds == [("created", "booking_page"), ("captured", "chat")]


def test_blank_input_never_overwrites() -> None:
    capture(email="ana@example.com", details={"first_name": "Ana", "city": "Austin"})

    contact = capture(email="ana@example.com", details={"first_name": "", "city": None})

    assert (contact.first_name, contact.city) == ("Ana", "Austin")


def test_capture_fills_blank_fields_but_keeps_typed_ones() -> None:
    capture(email="ana@example.com", details={"first_name": "Ana"})

    contact = capture(
        email="ana@example.com", details={"first_name": "Anita", "last_name": "García"}
    )

    assert (contact.first_name, contact.last_name) == ("Ana", "García")


def test_new_identifier_is_added_to_the_known_person() -> None:
    first = capture(email="ana@example.com")

    capture(email="ana@example.com", phone="555 010 2030")

    first.refresh_from_db()
    assert first.phone == "+15550102030"


def test_email_of_one_and_phone_of_another_merge_when_nothing_conflicts() -> None:
    by_email = capture(email="ana@example.com")
    by_phone = capture(phone="555-010-2030")

    result = capture_contact(
        source=Source.BOOKING_PAGE, email="ana@example.com", phone="5550102030"
    )

    assert result.contact.pk == by_email.pk
    assert Contact.objects.live().count() == 1
    by_phone.refresh_from_db()
    assert by_phone.merged_into_id == by_email.pk


def test_household_sharing_a_phone_is_flagged_not_merged() -> None:
    ana = capture(email="ana@example.com")
    lee = capture(email="lee@example.com", phone="555-010-2030")

    result = capture_contact(
        source=Source.BOOKING_PAGE, email="ana@example.com", phone="5550102030"
    )

    assert result.contact.pk == ana.pk
    assert Contact.objects.live().count() == 2
    assert PossibleDuplicate.objects.filter(contact=ana, other=lee).exists()


def test_flagged_capture_leaves_the_shared_phone_with_its_owner() -> None:
    capture(email="ana@example.com")
    lee = capture(email="lee@example.com", phone="555-010-2030")

    capture(email="ana@example.com", phone="5550102030")

    assert Identifier.objects.get(kind="phone").contact_id == lee.pk


def test_channel_handle_wins_over_email_when_they_conflict() -> None:
    chatter = capture(handles={"messenger": "psid-1"}, email="ana@example.com")
    other = capture(email="lee@example.com", source=Source.EMAIL)

    result = capture_contact(
        source=Source.MESSENGER,
        handles={"messenger": "psid-1"},
        email="lee@example.com",
    )

    assert result.contact.pk == chatter.pk
    assert result.flagged == (other,)


def test_prospect_merges_into_customer_even_when_the_customer_is_newer() -> None:
    prospect = capture(email="ana@example.com")
    customer = capture(phone="555-010-2030")
    convert_to_customer(contact=customer)

    result = capture_contact(
        source=Source.SMS, email="ana@example.com", phone="555-010-2030"
    )

    assert result.contact.pk == customer.pk
    prospect.refresh_from_db()
    assert prospect.merged_into_id == customer.pk


def test_two_customers_never_merge_automatically() -> None:
    one = capture(email="ana@example.com")
    two = capture(phone="555-010-2030")
    convert_to_customer(contact=one)
    convert_to_customer(contact=two)

    capture(email="ana@example.com", phone="555-010-2030")

    assert Contact.objects.customers().count() == 2


def test_capture_of_a_customer_adds_a_timeline_entry_only() -> None:
    customer = capture(email="ana@example.com")
    convert_to_customer(contact=customer)

    result = capture_contact(source=Source.BOOKING_PAGE, email="ana@example.com")

    assert result.contact.stage == Stage.CUSTOMER
    assert result.contact.activities.filter(kind=ActivityKind.CAPTURED).count() == 1


def test_an_event_about_a_new_person_follows_the_created_entry() -> None:
    contact = capture(
        phone="555-010-2030", kind=ActivityKind.MESSAGE_IN, summary="Do you clean?"
    )

    entries = list(contact.activities.order_by("id").values_list("kind", "summary"))
    assert entries == [
        ("created", "New prospect from SMS"),
        ("message_in", "Do you clean?"),
    ]
