"""The issue's Done-means, in a real browser: filter, open, note, permission,
convert, and find the person under Customers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import CommunicationPermission, Contact, Source, Stage
from contacts.services import capture_contact
from tests.browser import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(first: str, source: str, days_ago: int, email: str) -> Contact:
    created = timezone.now() - timedelta(days=days_ago)
    return capture_contact(
        source=source,
        email=email,
        details={"first_name": first, "last_name": "Tester", "created_at": created},
    ).contact


def test_staff_filters_opens_notes_changes_permission_and_converts(
    page: Any, live_server: Any, staff_user: Any
) -> None:
    _person("Brook", Source.BOOKING_PAGE, 2, "brook@example.com")
    _person("Olden", Source.BOOKING_PAGE, 60, "olden@example.com")
    _person("Chatty", Source.CHAT, 1, "chatty@example.com")
    login_in_browser(page, live_server, "sam", "s3cret-pass!")

    page.goto(f"{live_server.url}/prospects/")
    page.locator("summary", has_text="All sources").click()
    page.get_by_label("Booking page").check()
    page.wait_for_url(re.compile(r"source=booking_page"))
    assert page.locator(".source-menu summary").inner_text() == "1 selected"
    page.get_by_label("Period").select_option("30d")
    page.wait_for_url(re.compile(r"period=30d"))
    rows = page.locator(".prospects-table tbody tr")
    rows.filter(has_text="Olden").wait_for(state="detached")
    assert rows.count() == 1
    assert "Chatty" not in page.locator(".prospects-table").inner_text()

    page.get_by_role("link", name="Brook Tester").click()
    arrival = page.locator(".profile-header .arrival").inner_text()
    assert re.match(r"Came from Booking page, \S", arrival), arrival
    page.get_by_label("Internal note").fill("Called, left a voicemail")
    page.get_by_role("button", name="Add note").click()
    page.locator("#timeline-list .note-body", has_text="left a voicemail").wait_for()

    page.locator("summary", has_text="Change a permission").click()
    page.get_by_label("Channel").select_option("sms")
    page.get_by_label("State").select_option("granted")
    page.get_by_label("Reason").fill("Asked for texts on the phone")
    page.get_by_role("button", name="Save permission").click()
    page.get_by_text("Permission changed: SMS granted.").wait_for()
    reason = page.locator("#timeline-list li.entry", has_text="Permission changed")
    assert "Asked for texts on the phone" in reason.first.inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Convert to customer").click()
    page.get_by_text("is now a customer").wait_for()

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Customers"
    ).click()
    page.get_by_role("link", name="Brook Tester").wait_for()
    brook = Contact.objects.get(first_name="Brook")
    assert brook.stage == Stage.CUSTOMER
    assert brook.notes.get().body == "Called, left a voicemail"
    assert CommunicationPermission.objects.get(contact=brook).state == "granted"


def test_staff_sets_the_follow_up_date_on_the_profile_without_a_reload(
    page: Any, live_server: Any, staff_user: Any
) -> None:
    person = _person("Fern", Source.CHAT, 1, "fern@example.com")
    login_in_browser(page, live_server, "sam", "s3cret-pass!")
    page.goto(f"{live_server.url}/prospects/{person.pk}/")
    page.evaluate("window.notReloaded = true")

    page.get_by_text("Set a date").click()
    page.get_by_label("Follow-up date").fill("2030-12-06")
    page.get_by_role("button", name="Save date").click()

    page.locator("#follow-up", has_text="Fri, Dec 6, 2030").wait_for()
    page.locator("#timeline-list li.entry", has_text="Follow-up date").wait_for()
    assert page.evaluate("window.notReloaded") is True
    person.refresh_from_db()
    assert person.follow_up_on.isoformat() == "2030-12-06"


def test_a_sorted_filtered_list_keeps_its_sort_and_comes_back_whole(
    page: Any, live_server: Any, staff_user: Any
) -> None:
    _person("Zora", Source.CHAT, 3, "zora@example.com")
    _person("Abel", Source.CHAT, 2, "abel@example.com")
    _person("Mina", Source.SMS, 1, "mina@example.com")
    login_in_browser(page, live_server, "sam", "s3cret-pass!")
    page.goto(f"{live_server.url}/prospects/")

    page.get_by_role("link", name=re.compile("^Name")).click()
    page.wait_for_url(re.compile(r"sort=name"))
    page.locator("summary", has_text="All sources").click()
    page.get_by_label("Chat box").check()
    page.wait_for_url(re.compile(r"source=chat.*sort=name|sort=name.*source=chat"))
    names = page.locator(".prospects-table td.primary-cell")
    names.filter(has_text="Mina").wait_for(state="detached")
    assert names.all_inner_texts() == ["Abel Tester", "Zora Tester"]

    page.get_by_role("link", name="Abel Tester").click()
    page.go_back()
    page.locator(".list-filters").wait_for()
    assert names.all_inner_texts() == ["Abel Tester", "Zora Tester"]
