"""The booking page in a real browser: an abandoned visit and a booking."""

from __future__ import annotations

import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import BookingDraft, BusinessHours, Service
from contacts.models import ActivityKind, Contact, Source, Stage
from tests.browser import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def services() -> Service:
    for weekday in range(7):
        BusinessHours.objects.create(weekday=weekday, opens=clock(7), closes=clock(19))
    Service.objects.create(name="Move-out clean", duration_minutes=240, price=320)
    return Service.objects.create(
        name="Deep clean", duration_minutes=120, price=Decimal("180")
    )


def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the browser")
        time.sleep(0.1)


def open_booking_page(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name="Deep clean").click()
    page.get_by_role("group", name="Start times").wait_for()
    return page


def test_abandoned_visit_becomes_a_prospect_and_a_booking_a_customer(
    browser: Any, page: Any, live_server: Any, services: Service, staff_user: Any
) -> None:
    visitor = open_booking_page(browser, live_server)
    visitor.locator("input[name=slot]").first.check()
    visitor.get_by_label("Email").fill("ana@example.com")
    visitor.get_by_label("Phone").fill("(512) 555-0100")
    visitor.context.close()
    wait_for(lambda: BookingDraft.objects.filter(phone__contains="555").exists())

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        call_command("capture_abandoned_bookings")

    prospect = Contact.objects.prospects().get(source=Source.BOOKING_PAGE)
    entry = prospect.activities.get(kind=ActivityKind.BOOKING_ABANDONED)
    assert "Deep clean" in entry.summary
    login_in_browser(page, live_server, "sam", "s3cret-pass!")
    page.goto(f"{live_server.url}{reverse('prospects:list')}?source=booking_page")
    page.get_by_role("link", name="ana@example.com").first.click()
    expect(page.locator(".timeline")).to_contain_text("Deep clean")

    second = open_booking_page(browser, live_server)
    second.locator("label.slot").first.click()
    second.get_by_label("Name").fill("Lee Brown")
    second.get_by_label("Email").fill("lee@example.com")
    second.get_by_role("button", name="Book now").click()
    second.get_by_role("heading", name="You are booked").wait_for()
    second.context.close()

    customer = Contact.objects.customers().get(email="lee@example.com")
    assert customer.source == Source.BOOKING_PAGE
    page.goto(f"{live_server.url}{reverse('prospects:customer_list')}")
    expect(page.get_by_text("Lee Brown")).to_be_visible()
    page.goto(f"{live_server.url}/bookings/")
    assert page.get_by_role("cell", name="Lee Brown").is_visible()
    assert Contact.objects.get(pk=prospect.pk).stage == Stage.PROSPECT


def test_the_page_saves_a_draft_while_the_visitor_types(
    browser: Any, live_server: Any, services: Service
) -> None:
    visitor = open_booking_page(browser, live_server)
    visitor.get_by_label("Name").fill("Kim")
    time.sleep(1)
    assert not BookingDraft.objects.exists()

    visitor.get_by_label("Email").fill("kim@example.com")
    wait_for(lambda: BookingDraft.objects.filter(email="kim@example.com").exists())
    visitor.get_by_label("Anything we should know?").fill("Two cats")
    wait_for(lambda: BookingDraft.objects.filter(message="Two cats").exists())

    draft = BookingDraft.objects.get()
    assert draft.service == services and draft.name == "Kim"
    visitor.context.close()
