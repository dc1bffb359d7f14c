from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Source, Status
from contacts.services import convert_to_customer
from prospects.selectors import PAGE_SIZE
from tests.prospects.conftest import make_person

pytestmark = pytest.mark.django_db

# The menu's unread count (inbox) is one query on every staff page.
UNREAD_COUNT = 1


def _names(response: Any) -> list[str]:
    return [contact.name for contact in response.context["page"].rows]


def test_list_needs_login(client: Any) -> None:
    response = client.get(reverse("prospects:list"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_list_shows_open_prospects_newest_first(staff_client: Any) -> None:
    make_person(first="Old", email="old@example.com", days_ago=3)
    make_person(first="New", email="new@example.com", days_ago=1)

    response = staff_client.get(reverse("prospects:list"))

    assert _names(response) == ["New García", "Old García"]


def test_converted_prospects_leave_the_list_and_appear_under_customers(
    staff_client: Any, ana: Contact
) -> None:
    convert_to_customer(contact=ana)

    prospects = staff_client.get(reverse("prospects:list"))
    customers = staff_client.get(reverse("prospects:customer_list"))

    assert _names(prospects) == []
    assert _names(customers) == ["Ana García"]


def test_converted_filter_still_finds_converted_prospects(
    staff_client: Any, ana: Contact
) -> None:
    convert_to_customer(contact=ana)

    response = staff_client.get(reverse("prospects:list"), {"converted": "1"})

    assert _names(response) == ["Ana García"]


def test_source_filter_accepts_several_sources(staff_client: Any) -> None:
    make_person(first="Sms", email="s@example.com", source=Source.SMS)
    make_person(first="Chat", email="c@example.com", source=Source.CHAT)
    make_person(first="Mail", email="m@example.com", source=Source.EMAIL)

    response = staff_client.get(reverse("prospects:list"), {"source": ["sms", "chat"]})

    assert sorted(_names(response)) == ["Chat García", "Sms García"]


def test_period_filter_keeps_recent_prospects(staff_client: Any) -> None:
    make_person(first="Recent", email="r@example.com", days_ago=2)
    make_person(first="Stale", email="s@example.com", days_ago=40)

    response = staff_client.get(reverse("prospects:list"), {"period": "30d"})

    assert _names(response) == ["Recent García"]


def test_custom_period_filters_by_from_and_to(staff_client: Any) -> None:
    make_person(first="Inside", email="i@example.com", days_ago=10)
    make_person(first="Outside", email="o@example.com", days_ago=40)
    # The filter reads dates in the business's time zone, not in UTC.
    start = timezone.localdate(Contact.objects.get(first_name="Inside").created_at)

    response = staff_client.get(
        reverse("prospects:list"),
        {"period": "custom", "created_from": start.isoformat()},
    )

    assert _names(response) == ["Inside García"]


@pytest.mark.parametrize("bound", ["created_from", "created_to"])
def test_custom_period_days_are_the_business_days(
    staff_client: Any, time_machine: Any, bound: str
) -> None:
    # 9 pm on 3 December in Chicago is already 4 December in UTC.
    time_machine.move_to("2026-12-04T03:00:00Z")
    make_person(first="Evening", email="e@example.com")

    response = staff_client.get(
        reverse("prospects:list"), {"period": "custom", bound: "2026-12-03"}
    )

    assert _names(response) == ["Evening García"]


def test_search_finds_a_phone_typed_in_any_format(
    staff_client: Any, ana: Contact
) -> None:
    make_person(first="Other", phone="+15125550199")

    response = staff_client.get(reverse("prospects:list"), {"q": "(512) 555-0101"})

    assert _names(response) == ["Ana García"]


def test_search_finds_a_name_by_its_beginning(staff_client: Any, ana: Contact) -> None:
    make_person(first="Lee", last="Brown", email="lee@example.com")

    response = staff_client.get(reverse("prospects:list"), {"q": "ana gar"})

    assert _names(response) == ["Ana García"]


def test_search_finds_an_email_prefix(staff_client: Any, ana: Contact) -> None:
    make_person(first="Lee", email="lee@example.com")

    response = staff_client.get(reverse("prospects:list"), {"q": "ana@ex"})

    assert _names(response) == ["Ana García"]


def test_search_finds_a_last_name_by_its_beginning(
    staff_client: Any, ana: Contact
) -> None:
    make_person(first="Lee", last="Brown", email="lee@example.com")

    response = staff_client.get(reverse("prospects:list"), {"q": "GARC"})

    assert _names(response) == ["Ana García"]


def test_search_finds_a_name_typed_last_name_first(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.get(reverse("prospects:list"), {"q": "garcía, an"})

    assert _names(response) == ["Ana García"]


def test_one_word_finds_someone_without_a_name_by_their_email(
    staff_client: Any,
) -> None:
    make_person(first="", last="", email="jsmith@example.com")

    response = staff_client.get(reverse("prospects:list"), {"q": "jsmi"})

    assert _names(response) == ["jsmith@example.com"]


def test_search_finds_a_phone_someone_had_before_a_merge(
    staff_client: Any, ana: Contact
) -> None:
    from contacts.services import merge_contacts

    other = make_person(first="Ann", email="ann@example.com", phone="+15125550177")
    merge_contacts(survivor=ana, loser=other)

    response = staff_client.get(reverse("prospects:list"), {"q": "512-555-0177"})

    assert _names(response) == ["Ana García"]


@pytest.mark.parametrize("few", [True, False])
def test_someone_matching_a_search_two_ways_is_counted_once(
    staff_client: Any, monkeypatch: Any, few: bool
) -> None:
    if not few:
        monkeypatch.setattr("prospects.selectors.FEW", 0)
    for n in range(PAGE_SIZE + 2):
        # "ana" is the start of both the first name and the email.
        make_person(first="Ana", last=f"P{n:03}", email=f"ana{n}@example.com")

    response = staff_client.get(reverse("prospects:list"), {"q": "ana"})

    assert str(response.context["count"]) == str(PAGE_SIZE + 2)


def test_a_search_alternative_past_the_cap_caps_the_count(
    staff_client: Any,
) -> None:
    from contacts.selectors import search_conditions
    from prospects import selectors

    for n in range(3):
        make_person(first="Ana", last=f"P{n}", email=f"x{n}@example.com")
    base = Contact.objects.prospects()
    alternatives = [base.filter(c) for c in search_conditions("ana")]

    count = selectors.capped_count(base, cap=2, alternatives=alternatives)

    assert str(count) == "2+"


def test_owner_filter_mine_and_unassigned(staff_client: Any, staff_user: Any) -> None:
    make_person(first="Mine", email="m@example.com", owner=staff_user)
    make_person(first="Nobody", email="n@example.com")

    mine = staff_client.get(reverse("prospects:list"), {"owner": "mine"})
    unassigned = staff_client.get(reverse("prospects:list"), {"owner": "none"})

    assert _names(mine) == ["Mine García"]
    assert _names(unassigned) == ["Nobody García"]


def test_follow_up_overdue_filter(staff_client: Any) -> None:
    from datetime import date, timedelta

    make_person(first="Late", email="l@example.com", follow_up_on=date(2020, 1, 1))
    make_person(
        first="Later",
        email="f@example.com",
        follow_up_on=timezone.localdate() + timedelta(days=30),
    )

    response = staff_client.get(reverse("prospects:list"), {"follow_up": "overdue"})

    assert _names(response) == ["Late García"]


def test_has_phone_filter(staff_client: Any) -> None:
    make_person(first="Phone", phone="+15125550111")
    make_person(first="Mail", email="mail@example.com")

    response = staff_client.get(reverse("prospects:list"), {"has_phone": "on"})

    assert _names(response) == ["Phone García"]


def test_status_filter(staff_client: Any) -> None:
    make_person(first="Hot", email="h@example.com", status=Status.QUALIFIED)
    make_person(first="Cold", email="c@example.com")

    response = staff_client.get(reverse("prospects:list"), {"status": "qualified"})

    assert _names(response) == ["Hot García"]


def test_htmx_filter_returns_only_the_rows_fragment(
    staff_client: Any, ana: Contact
) -> None:
    response = staff_client.get(
        reverse("prospects:list"),
        {"q": "ana"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )

    assert [t.name for t in response.templates][0] == "prospects/_rows.html"
    assert b"<html" not in response.content


def test_the_page_and_its_fragment_are_cached_apart(staff_client: Any) -> None:
    response = staff_client.get(reverse("prospects:list"))

    assert "HX-Request" in response["Vary"]


def test_count_shows_matching_prospects(staff_client: Any) -> None:
    for n in range(3):
        make_person(first=f"P{n}", email=f"p{n}@example.com")

    response = staff_client.get(reverse("prospects:list"))

    assert str(response.context["count"]) == "3"


def test_count_is_capped_instead_of_counting_everything(
    staff_client: Any, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("prospects.selectors.COUNT_CAP", 2)
    from prospects import selectors

    for n in range(3):
        make_person(first=f"P{n}", email=f"p{n}@example.com")

    count = selectors.capped_count(Contact.objects.prospects(), cap=2)

    assert str(count) == "2+"


def test_pages_follow_the_older_cursor_without_gaps(staff_client: Any) -> None:
    for n in range(PAGE_SIZE + 5):
        make_person(first=f"P{n:03}", email=f"p{n}@example.com", days_ago=n / 100)

    first = staff_client.get(reverse("prospects:list"))
    cursor = first.context["page"].next_cursor
    second = staff_client.get(reverse("prospects:list"), {"after": cursor})

    seen = _names(first) + _names(second)
    assert len(set(seen)) == PAGE_SIZE + 5


def test_newer_cursor_returns_to_the_first_page(staff_client: Any) -> None:
    for n in range(PAGE_SIZE + 5):
        make_person(first=f"P{n:03}", email=f"p{n}@example.com", days_ago=n / 100)
    first = staff_client.get(reverse("prospects:list"))
    second = staff_client.get(
        reverse("prospects:list"), {"after": first.context["page"].next_cursor}
    )

    back = staff_client.get(
        reverse("prospects:list"), {"before": second.context["page"].previous_cursor}
    )

    assert _names(back) == _names(first)


@pytest.mark.parametrize("sort", ["name", "follow_up", "-activity", "created"])
def test_every_sort_pages_through_everyone_once(staff_client: Any, sort: str) -> None:
    from datetime import date

    for n in range(PAGE_SIZE + 3):
        follow_up = date(2030, 1, 1 + n % 3) if n % 2 else None
        make_person(
            first=f"P{n:03}",
            last=["Brown", "Adams"][n % 2],
            email=f"p{n}@example.com",
            follow_up_on=follow_up,
        )

    first = staff_client.get(reverse("prospects:list"), {"sort": sort})
    second = staff_client.get(
        reverse("prospects:list"),
        {"sort": sort, "after": first.context["page"].next_cursor},
    )

    assert len(set(_names(first) + _names(second))) == PAGE_SIZE + 3


@pytest.mark.parametrize("sort", ["name", "follow_up", "created"])
def test_newer_cursor_returns_to_the_first_page_in_every_sort(
    staff_client: Any, sort: str
) -> None:
    from datetime import date

    for n in range(PAGE_SIZE + 3):
        follow_up = date(2030, 1, 1 + n % 3) if n % 2 else None
        make_person(first=f"P{n:03}", email=f"p{n}@example.com", follow_up_on=follow_up)
    url = reverse("prospects:list")
    first = staff_client.get(url, {"sort": sort})
    after = first.context["page"].next_cursor
    second = staff_client.get(url, {"sort": sort, "after": after})

    before = second.context["page"].previous_cursor
    back = staff_client.get(url, {"sort": sort, "before": before})

    assert _names(back) == _names(first)
    assert back.context["page"].previous_cursor == ""


def test_a_bad_date_is_reported_and_other_filters_still_apply(
    staff_client: Any,
) -> None:
    make_person(first="Sms", email="s@example.com", source=Source.SMS)
    make_person(first="Chat", email="c@example.com", source=Source.CHAT)

    response = staff_client.get(
        reverse("prospects:list"), {"created_from": "someday", "source": "chat"}
    )

    assert _names(response) == ["Chat García"]
    assert b"Enter a valid date" in response.content


def test_a_forged_cursor_shows_the_first_page(staff_client: Any, ana: Contact) -> None:
    response = staff_client.get(reverse("prospects:list"), {"after": "bm9wZQ"})

    assert _names(response) == ["Ana García"]


@pytest.fixture
def large(monkeypatch: Any) -> None:
    """Take the path of a list with more matches than selectors.FEW."""
    monkeypatch.setattr("prospects.selectors.FEW", 0)


def _people(rows: int, owner: Any = None) -> None:
    for n in range(rows):
        make_person(
            first=f"P{n}",
            email=f"p{n}@example.com",
            phone=f"+1512555{n:04}",
            owner=owner,
        )


@pytest.mark.parametrize("rows", [1, 20, PAGE_SIZE + 10])
def test_few_matches_query_count_does_not_grow_with_rows(
    staff_client: Any, django_assert_num_queries: Any, staff_user: Any, rows: int
) -> None:
    _people(rows, owner=staff_user)

    # session, user, staff for the owner filter, the planner's estimate, the
    # sort keys of every match, the page's rows with owners, the admin check,
    # the menu's unread count
    with django_assert_num_queries(8):
        staff_client.get(reverse("prospects:list"), {"source": "sms", "q": "p"})


@pytest.mark.parametrize("rows", [PAGE_SIZE + 1, 2 * PAGE_SIZE])
def test_many_matches_query_count_does_not_grow_with_rows(
    staff_client: Any,
    django_assert_num_queries: Any,
    staff_user: Any,
    large: None,
    rows: int,
) -> None:
    _people(rows, owner=staff_user)

    # session, user, staff, estimate, rows with owners, capped count, admin
    with django_assert_num_queries(7 + UNREAD_COUNT):
        response = staff_client.get(reverse("prospects:list"), {"q": "p"})
    assert str(response.context["count"]) == str(rows)


@pytest.mark.parametrize("rows", [1, 20])
def test_a_first_page_that_is_not_full_is_counted_without_a_query(
    staff_client: Any, django_assert_num_queries: Any, large: None, rows: int
) -> None:
    _people(rows)

    # session, user, staff, the page's rows, admin: an unfiltered list walks
    # the sort index without asking the planner for an estimate first
    with django_assert_num_queries(5 + UNREAD_COUNT):
        response = staff_client.get(reverse("prospects:list"))
    assert str(response.context["count"]) == str(rows)


@pytest.mark.parametrize("sort", ["-created", "created", "-activity", "follow_up"])
def test_both_first_page_paths_agree(
    staff_client: Any, monkeypatch: Any, sort: str
) -> None:
    from datetime import date

    for n in range(PAGE_SIZE + 5):
        follow_up = date(2030, 1, 1 + n % 3) if n % 2 else None
        make_person(first=f"P{n:03}", email=f"p{n}@example.com", follow_up_on=follow_up)
    url = reverse("prospects:list")
    few = staff_client.get(url, {"sort": sort})

    monkeypatch.setattr("prospects.selectors.FEW", 0)
    many = staff_client.get(url, {"sort": sort})

    assert _names(few) == _names(many)
    assert few.context["page"].next_cursor == many.context["page"].next_cursor


@pytest.mark.parametrize("rows", [1, 10])
def test_customer_list_query_count_is_constant(
    staff_client: Any, django_assert_num_queries: Any, rows: int
) -> None:
    for n in range(rows):
        convert_to_customer(contact=make_person(first=f"C{n}", email=f"c{n}@e.com"))

    # session, user, staff, the page's rows with owners, admin
    with django_assert_num_queries(5 + UNREAD_COUNT):
        staff_client.get(reverse("prospects:customer_list"))


def test_rows_link_to_the_profile_of_each_prospect_and_customer(
    staff_client: Any, ana: Contact
) -> None:
    lee = make_person(first="Lee", email="lee@example.com")
    convert_to_customer(contact=lee)

    prospects = staff_client.get(reverse("prospects:list")).content.decode()
    customers = staff_client.get(reverse("prospects:customer_list")).content.decode()

    assert f'href="{reverse("prospects:detail", args=[ana.pk])}"' in prospects
    assert f'href="{reverse("prospects:customer_detail", args=[lee.pk])}"' in customers


def test_converted_filter_links_to_the_customer_profile(
    staff_client: Any, ana: Contact
) -> None:
    convert_to_customer(contact=ana)

    response = staff_client.get(reverse("prospects:list"), {"converted": "1"})

    url = reverse("prospects:customer_detail", args=[ana.pk])
    assert f'href="{url}"' in response.content.decode()


def test_an_overdue_follow_up_is_marked_in_words(staff_client: Any) -> None:
    from datetime import date

    make_person(first="Late", email="l@example.com", follow_up_on=date(2020, 1, 6))

    response = staff_client.get(reverse("prospects:list"))

    assert b"Jan 6, 2020" in response.content
    assert b"Overdue</span>" in response.content


def _all_pages(client: Any, params: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], ""
    while True:
        response = client.get(reverse("prospects:list"), {**params, "after": cursor})
        pages.append(_names(response))
        cursor = response.context["page"].next_cursor
        if not cursor:
            return pages


@pytest.mark.parametrize("sort", ["-created", "created", "-activity", "follow_up"])
def test_search_pages_are_the_same_read_from_keys_or_by_walking(
    staff_client: Any, monkeypatch: Any, sort: str
) -> None:
    from datetime import date

    for n in range(2 * PAGE_SIZE + 5):
        follow_up = date(2030, 1, 1 + n % 3) if n % 2 else None
        make_person(first=f"P{n:03}", email=f"x{n}@example.com", follow_up_on=follow_up)
    params = {"q": "p", "sort": sort}

    from_keys = _all_pages(staff_client, params)
    monkeypatch.setattr("prospects.selectors.FEW", 0)
    walked = _all_pages(staff_client, params)

    assert from_keys == walked
    assert len({name for page in from_keys for name in page}) == 2 * PAGE_SIZE + 5


def test_newer_cursor_of_a_search_returns_to_its_first_page(
    staff_client: Any,
) -> None:
    for n in range(PAGE_SIZE + 5):
        make_person(first=f"P{n:03}", email=f"x{n}@example.com", days_ago=n / 100)
    url = reverse("prospects:list")
    first = staff_client.get(url, {"q": "p"})
    after = first.context["page"].next_cursor
    second = staff_client.get(url, {"q": "p", "after": after})

    back = staff_client.get(
        url, {"q": "p", "before": second.context["page"].previous_cursor}
    )

    assert _names(back) == _names(first)
    assert str(second.context["count"]) == str(PAGE_SIZE + 5)


@pytest.mark.parametrize("rows", [PAGE_SIZE + 1, PAGE_SIZE + 20])
def test_a_later_page_of_few_matches_has_a_constant_query_count(
    staff_client: Any, django_assert_num_queries: Any, staff_user: Any, rows: int
) -> None:
    _people(rows, owner=staff_user)
    url = reverse("prospects:list")
    cursor = staff_client.get(url, {"q": "p"}).context["page"].next_cursor

    # session, user, staff, estimate, sort keys past the cursor, the page's
    # rows with owners, the capped count, the admin check, the unread count
    with django_assert_num_queries(8 + UNREAD_COUNT):
        staff_client.get(url, {"q": "p", "after": cursor})


def test_from_and_to_apply_only_to_a_custom_period(staff_client: Any) -> None:
    # Today: inside the last 30 days, after the To date left in the form.
    make_person(first="Recent", email="r@example.com", days_ago=0)
    long_ago = (timezone.localdate() - timezone.timedelta(days=400)).isoformat()
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()

    response = staff_client.get(
        reverse("prospects:list"),
        {"period": "30d", "created_from": long_ago, "created_to": yesterday},
    )

    assert _names(response) == ["Recent García"]
