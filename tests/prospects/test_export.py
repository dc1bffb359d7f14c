from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from contacts.models import Channel, Contact, PermissionState, Source
from contacts.services import set_permission
from prospects import views
from prospects.exporting import COLUMNS, neutralise
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_needs_login(client: Any) -> None:
    response = client.get(reverse("prospects:export"))

    assert response.status_code == 302


def test_export_refuses_post(staff_client: Any) -> None:
    response = staff_client.post(reverse("prospects:export"))

    assert response.status_code == 405


def test_csv_has_exactly_the_importer_columns(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:export"))

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == list(COLUMNS)


def test_csv_row_holds_labels_dates_permissions_and_tags(
    staff_client: Any, staff_user: Any
) -> None:
    staff_user.email = "sam@example.com"
    staff_user.save()
    person = make_person(
        email="ana@example.com",
        owner=staff_user,
        follow_up_on=date(2027, 1, 5),
        tags=["vip", "carpets"],
        source="booking_page",
    )
    set_permission(contact=person, channel=Channel.SMS, state=PermissionState.REVOKED)

    row = _csv(staff_client.get(reverse("prospects:export")))[0]

    assert row["Source"] == "Booking page"
    assert row["Owner email"] == "sam@example.com"
    assert row["Follow-up date"] == "2027-01-05"
    assert (row["Email permission"], row["SMS permission"]) == ("unknown", "revoked")
    assert row["Tags"] == "vip, carpets"
    created = datetime.fromisoformat(row["Created date"])
    assert created == person.created_at.replace(microsecond=created.microsecond)


def test_export_follows_the_list_filters(staff_client: Any) -> None:
    make_person(first="Sms", email="s@example.com", source="sms")
    make_person(first="Chat", email="c@example.com", source="chat")

    rows = _csv(staff_client.get(reverse("prospects:export"), {"source": "chat"}))

    assert [row["First name"] for row in rows] == ["Chat"]


def test_export_of_selected_rows_only(staff_client: Any) -> None:
    one = make_person(first="One", email="1@example.com")
    make_person(first="Two", email="2@example.com")

    rows = _csv(staff_client.get(reverse("prospects:export"), {"ids": [one.pk]}))

    assert [row["First name"] for row in rows] == ["One"]


def test_formula_cells_are_neutralised(staff_client: Any) -> None:
    make_person(first="=HYPERLINK(1)", last="@SUM", email="f@example.com")

    row = _csv(staff_client.get(reverse("prospects:export")))[0]

    assert (row["First name"], row["Last name"]) == ("'=HYPERLINK(1)", "'@SUM")


def test_phones_are_exported_with_the_quote_the_importer_strips(
    staff_client: Any, ana: Contact
) -> None:
    row = _csv(staff_client.get(reverse("prospects:export")))[0]

    assert row["Phone"] == "'+15125550101"


@pytest.mark.parametrize("text", ["-1", "+1", "\tx", "\rx", "\nx"])
def test_every_formula_start_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_xlsx_export_holds_the_same_cells(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:export"), {"format": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert header == COLUMNS
    assert first[2] == "ana@example.com"


def test_xlsx_formula_cells_are_text_marked_with_excels_text_prefix(
    staff_client: Any,
) -> None:
    make_person(first="=HYPERLINK(1)", email="f@example.com", phone="+15125550101")

    response = staff_client.get(reverse("prospects:export"), {"format": "xlsx"})

    row = load_workbook(io.BytesIO(response.content)).active[2]
    first, phone = row[0], row[3]
    assert [(c.value, c.data_type, c.quotePrefix) for c in (first, phone)] == [
        ("=HYPERLINK(1)", "s", True),
        ("+15125550101", "s", True),
    ]


def test_xlsx_cells_that_look_like_numbers_or_truths_stay_text(
    staff_client: Any,
) -> None:
    make_person(first="0012", last="TRUE", email="n@example.com")

    response = staff_client.get(reverse("prospects:export"), {"format": "xlsx"})

    row = load_workbook(io.BytesIO(response.content)).active[2]
    assert [(c.value, c.data_type) for c in row[:2]] == [("0012", "s"), ("TRUE", "s")]


def test_a_list_too_long_for_a_workbook_is_sent_back_with_a_way_out(
    staff_client: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(views, "XLSX_ROWS", 2)
    for n in range(3):
        make_person(email=f"p{n}@example.com", source=Source.REFERRAL)
    url = reverse("prospects:export")

    refused = staff_client.get(
        url, {"format": "xlsx", "source": "referral"}, follow=True
    )
    csv_file = staff_client.get(url, {"source": "referral"})

    assert refused.redirect_chain[0][0].endswith("?source=referral")
    assert "export this list as CSV" in refused.content.decode()
    assert len(b"".join(csv_file.streaming_content).splitlines()) == 4


def test_customer_export_holds_customers(staff_client: Any, ana: Contact) -> None:
    from contacts.services import convert_to_customer

    convert_to_customer(contact=ana)
    make_person(first="Lee", email="lee@example.com")

    rows = _csv(staff_client.get(reverse("prospects:export"), {"stage": "customer"}))

    assert [row["First name"] for row in rows] == ["Ana"]


# -- Round trip: what the export writes, the importer reads back -----------


def _every_field(owner: Any) -> list[Contact]:
    """Prospects using every exported column, awkward values included."""
    ana = make_person(
        email="ana@example.com",
        phone="+15125550101",
        street="1 Main St, Apt 2",
        city="Austin",
        region="TX",
        postal_code="78701",
        country="US",
        source="booking_page",
        status="contacted",
        owner=owner,
        follow_up_on=date(2027, 1, 5),
        internal_info='=gate code "12"\nring twice',
        tags=["vip", "carpets"],
        days_ago=3,
    )
    set_permission(contact=ana, channel=Channel.EMAIL, state=PermissionState.GRANTED)
    set_permission(contact=ana, channel=Channel.SMS, state=PermissionState.REVOKED)
    zoe = make_person(first="Zoë", last="-Ng", phone="+442079460958", source="chat")
    lukasz = make_person(first="Łukasz", last="@Nowak", email="lukasz@example.com")
    return [ana, zoe, lukasz]


def _reimport(path: Any) -> dict[str, int]:
    from tests.imports.helpers import run

    Contact.objects.all().delete()
    counts, errors = run(path)
    assert errors == []
    return counts


def test_csv_export_imports_back_to_the_same_export(
    admin_client: Any, admin_user: Any, tmp_path: Any
) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    _every_field(admin_user)
    exported = b"".join(admin_client.get(reverse("prospects:export")).streaming_content)
    path = tmp_path / "prospects.csv"
    path.write_bytes(exported)

    counts = _reimport(path)

    again = b"".join(admin_client.get(reverse("prospects:export")).streaming_content)
    assert (counts, again.decode()) == ({"created": 3}, exported.decode())


def test_xlsx_export_saved_as_csv_imports_back_to_the_same_cells(
    admin_client: Any, admin_user: Any, tmp_path: Any
) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    _every_field(admin_user)

    def cells() -> list[tuple[Any, ...]]:
        response = admin_client.get(reverse("prospects:export"), {"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        return list(sheet.iter_rows(values_only=True))

    exported = cells()
    path = tmp_path / "prospects.csv"  # as "Save as CSV UTF-8" writes the text
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(exported)

    counts = _reimport(path)

    assert (counts, cells()) == ({"created": 3}, exported)
