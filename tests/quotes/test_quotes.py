from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import ActivityKind, Contact, Source, Stage
from contacts.services import capture_contact
from quotes.models import Quote, QuoteLine, QuoteStatus
from quotes.services import Person, create_quote

pytestmark = pytest.mark.django_db

LINE = {
    "description": "Deep clean",
    "quantity": Decimal("1"),
    "unit_price": Decimal("180"),
}


def quote_for(contact, *lines, **fields):
    return create_quote(contact=contact, lines=lines or [LINE], **fields)


@pytest.fixture
def ana():
    return capture_contact(source=Source.SMS, email="ana@example.com").contact


def test_totals_round_each_line_to_cents_then_add_them_up(ana):
    tax = Decimal("8.25")
    quote = quote_for(
        ana,
        {
            "description": "A",
            "quantity": Decimal("1.5"),
            "unit_price": Decimal("19.99"),
            "tax_rate": tax,
        },
        {
            "description": "B",
            "quantity": Decimal("0.33"),
            "unit_price": Decimal("10.01"),
            "tax_rate": tax,
        },
    )
    quote = Quote.objects.get(pk=quote.pk)

    # A: 29.985 -> 29.99 net, 2.4742 -> 2.47 tax; B: 3.3033 -> 3.30, 0.2723 -> 0.27.
    # Rounding the sum instead would give 2.75 of tax.
    assert (quote.subtotal, quote.tax_total, quote.total) == (
        Decimal("33.29"),
        Decimal("2.74"),
        Decimal("36.03"),
    )


def test_quote_numbers_are_sequential(ana):
    numbers = [quote_for(ana).number for _ in range(3)]

    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_quote_for_an_existing_contact_goes_on_their_timeline(ana):
    quote = quote_for(ana)

    entry = ana.activities.get(kind=ActivityKind.QUOTE)
    assert entry.subject == quote and entry.source == Source.QUOTE


def test_quote_for_someone_new_creates_a_quote_prospect():
    quote = create_quote(
        person=Person(name="Lee Brown", email="lee@example.com"), lines=[LINE]
    )

    quote.refresh_from_db()
    assert quote.contact.source == Source.QUOTE
    assert (quote.contact.first_name, quote.contact.stage) == ("Lee", Stage.PROSPECT)


def test_quote_for_someone_typed_in_who_is_known_merges_into_them(ana):
    quote = create_quote(
        person=Person(name="Ana", email="ANA@example.com"), lines=[LINE]
    )

    quote.refresh_from_db()
    assert quote.contact == ana and Contact.objects.count() == 1
    assert ana.activities.filter(kind=ActivityKind.QUOTE).exists()


def post_create(client, **fields):
    data = {
        "person-new_name": "",
        "person-new_email": "",
        "person-new_phone": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Deep clean",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "90.50",
        "lines-0-tax_rate": "0",
        "status": "draft",
        **fields,
    }
    return client.post(reverse("quotes:create"), data)


def test_staff_create_a_quote_for_a_picked_contact(staff_client, ana):
    response = post_create(staff_client, **{"person-contact": ana.pk})

    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.contact == ana
    assert quote.total == Decimal("181.00")


def test_staff_create_a_quote_for_someone_new(staff_client):
    post_create(
        staff_client,
        **{"person-new_name": "Kim Lee", "person-new_phone": "512 555 0199"},
    )

    assert Quote.objects.get().contact.phone == "+15125550199"


def test_a_quote_needs_a_person_and_a_line(staff_client):
    response = post_create(
        staff_client, **{"lines-0-description": "", "lines-0-unit_price": ""}
    )

    assert b"Pick an existing contact" in response.content
    assert b"Add at least one line" in response.content
    assert not Quote.objects.exists()


def test_create_prefills_the_contact_from_the_profile_link(staff_client, ana):
    response = staff_client.get(reverse("quotes:create"), {"contact": ana.pk})

    assert (
        f'name="person-contact" value="{ana.pk}" checked'.encode() in response.content
    )


def test_edit_replaces_the_lines_and_status(staff_client, ana):
    quote = quote_for(ana)

    staff_client.post(
        reverse("quotes:detail", args=[quote.pk]),
        {
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "1",
            "lines-0-description": "Deep clean",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "180",
            "lines-0-tax_rate": "0",
            "lines-0-DELETE": "on",
            "lines-1-description": "Oven",
            "lines-1-quantity": "1",
            "lines-1-unit_price": "45",
            "lines-1-tax_rate": "10",
            "status": "sent",
        },
    )

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert list(QuoteLine.objects.values_list("description", flat=True)) == ["Oven"]
    assert quote.total == Decimal("49.50")


def test_printable_view_shows_the_lines_and_total(staff_client, ana):
    quote = quote_for(ana)

    response = staff_client.get(reverse("quotes:print", args=[quote.pk]))

    assert b"quote-print" in response.content and b"$180.00" in response.content


# Session, user, admin check and unread count for the menu, count, the page
# of quotes with contacts, and their lines in one prefetch.
LIST_QUERIES = 7


def test_quote_list_queries_do_not_grow_with_rows(
    staff_client, ana, django_assert_num_queries
):
    quote_for(ana)
    with django_assert_num_queries(LIST_QUERIES):
        staff_client.get(reverse("quotes:list"))
    for _ in range(5):
        quote_for(ana, LINE, LINE)

    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(reverse("quotes:list"))

    assert response.content.count(b"$360.00") == 5


def test_quote_list_filters_by_status(staff_client, ana):
    quote_for(ana, status=QuoteStatus.ACCEPTED)
    draft = quote_for(ana)

    response = staff_client.get(reverse("quotes:list"), {"status": "draft"})

    assert list(response.context["page"].object_list) == [draft]


def test_quote_list_filters_by_period(staff_client, ana):
    old = quote_for(ana)
    Quote.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    recent = quote_for(ana)

    response = staff_client.get(reverse("quotes:list"), {"period": "30"})

    assert list(response.context["page"].object_list) == [recent]


@pytest.mark.parametrize("q", ["ana@example", "Q-000", "deep"])
def test_quote_list_search_finds_by_contact_number_or_line(staff_client, ana, q):
    quote = quote_for(ana)
    if q == "Q-000":
        q = quote.display_number

    response = staff_client.get(reverse("quotes:list"), {"q": q})

    assert list(response.context["page"].object_list) == [quote]


def test_contact_search_offers_matching_contacts(staff_client, ana):
    response = staff_client.get(
        reverse("quotes:contact_search"),
        {"contact_q": "ana@", "field": "person-contact"},
    )

    assert f'name="person-contact" value="{ana.pk}"'.encode() in response.content


def test_quote_pages_need_login(client):
    response = client.get(reverse("quotes:list"))

    assert response.status_code == 302


def test_a_status_change_goes_on_the_contacts_timeline(ana, staff_user):
    from quotes.services import update_quote

    quote = quote_for(ana)

    update_quote(quote=quote, fields={"status": "accepted"}, lines=[LINE])

    assert ana.activities.filter(summary=f"Quote {quote.display_number} accepted")


def test_contact_search_finds_a_phone_however_it_is_typed(staff_client):
    lee = capture_contact(source=Source.SMS, phone="+15125550100").contact

    response = staff_client.get(
        reverse("quotes:contact_search"), {"contact_q": "(512) 555-01"}
    )

    assert f'value="{lee.pk}"'.encode() in response.content


@pytest.mark.parametrize("q", ["Ana García", "(512) 555-0100", "garc"])
def test_quote_list_search_finds_by_full_name_or_phone_as_typed(staff_client, q):
    ana = capture_contact(
        source=Source.SMS,
        phone="+15125550100",
        details={"first_name": "Ana", "last_name": "García"},
    ).contact
    lee = capture_contact(source=Source.SMS, email="lee@example.com").contact
    quote = quote_for(ana)
    quote_for(lee)

    response = staff_client.get(reverse("quotes:list"), {"q": q})

    assert list(response.context["page"].object_list) == [quote]


def test_a_new_quote_is_valid_for_thirty_days_unless_changed(staff_client):
    response = staff_client.get(reverse("quotes:create"))

    valid_until = timezone.localdate() + timedelta(days=30)
    assert response.context["form"]["valid_until"].value() == valid_until


def test_create_quote_from_a_request_starts_with_the_service_line(staff_client, ana):
    from bookings.models import Service

    service = Service.objects.create(
        name="Deep clean", duration_minutes=120, price=Decimal("180")
    )

    response = staff_client.get(
        reverse("quotes:create"), {"contact": ana.pk, "service": service.pk}
    )

    assert b'value="Deep clean"' in response.content
    assert b'name="lines-0-unit_price" value="180.00"' in response.content


@pytest.mark.parametrize("q", ["Ana Ga", "garcía", "ana.g@", "(512) 555-0100"])
def test_contact_picker_finds_by_name_words_email_prefix_or_phone(staff_client, q):
    ana = capture_contact(
        source=Source.SMS,
        email="ana.g@example.com",
        phone="+15125550100",
        details={"first_name": "Ana", "last_name": "García"},
    ).contact
    capture_contact(source=Source.SMS, email="lee@example.com")

    response = staff_client.get(reverse("quotes:contact_search"), {"contact_q": q})

    assert response.content.count(b'type="radio"') == 1
    assert f'value="{ana.pk}"'.encode() in response.content


def test_contact_picker_lists_the_most_recently_active_first(staff_client):
    older = capture_contact(source=Source.SMS, details={"first_name": "Ana"}).contact
    newer = capture_contact(source=Source.SMS, details={"first_name": "Ana"}).contact
    Contact.objects.filter(pk=older.pk).update(
        last_activity_at=timezone.now() - timedelta(days=3)
    )

    response = staff_client.get(reverse("quotes:contact_search"), {"contact_q": "ana"})

    page = response.content.decode()
    assert page.index(f'value="{newer.pk}"') < page.index(f'value="{older.pk}"')


def test_an_open_quote_past_its_date_is_flagged_in_the_list(staff_client, ana):
    quote_for(ana, status=QuoteStatus.SENT, valid_until=timezone.localdate())
    late = quote_for(
        ana,
        status=QuoteStatus.SENT,
        valid_until=timezone.localdate() - timedelta(days=1),
    )

    response = staff_client.get(reverse("quotes:list"))

    assert response.content.count(b"Past date") == 1 and late.is_overdue
