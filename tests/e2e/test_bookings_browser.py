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


# The live server serves every test of the run, and a page closed at the end
# of one test may still save its draft while the next runs: assertions on
# drafts and the prospects they become name the visitor they are about.


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

    prospect = Contact.objects.prospects().get(
        source=Source.BOOKING_PAGE, email="ana@example.com"
    )
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
    assert not BookingDraft.objects.filter(name="Kim").exists()

    visitor.get_by_label("Email").fill("kim@example.com")
    wait_for(lambda: BookingDraft.objects.filter(email="kim@example.com").exists())
    visitor.get_by_label("Anything we should know?").fill("Two cats")
    wait_for(lambda: BookingDraft.objects.filter(message="Two cats").exists())

    draft = BookingDraft.objects.get(email="kim@example.com")
    assert draft.service == services and draft.name == "Kim"
    visitor.context.close()


# Text whose colour against its real background is below WCAG AA (4.5:1, or
# 3:1 for large text), ignoring what is hidden from people.
LOW_CONTRAST_JS = """() => {
  const rgb = (c) => { const p = c.match(/[\\d.]+/g).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const over = (top, base) => ({r: top.r * top.a + base.r * (1 - top.a),
    g: top.g * top.a + base.g * (1 - top.a), b: top.b * top.a + base.b * (1 - top.a)});
  const background = (el) => {
    const layers = [];
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a === 1) break; }
    }
    const white = {r: 255, g: 255, b: 255};
    return layers.reverse().reduce((base, c) => over(c, base), white);
  };
  const lum = (c) => ["r", "g", "b"].map((k) => { const v = c[k] / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    const style = getComputedStyle(el);
    if (!walker.currentNode.textContent.trim() || !el.getClientRects().length
        || style.visibility === "hidden" || el.closest("[aria-hidden=true]")) continue;
    const back = background(el);
    const fore = over(rgb(style.color), back);
    const [hi, lo] = [lum(fore), lum(back)].sort((a, b) => b - a);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight) >= 700 && size >= 18.66);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < (large ? 3 : 4.5)) low.push(el.outerHTML.slice(0, 80));
  }
  return low;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_booking_page_text_meets_aa_contrast_also_with_errors(
    browser: Any, live_server: Any, services: Service, scheme: str
) -> None:
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name="Deep clean").click()
    page.locator("label.slot").first.click()
    page.get_by_label("Email").fill("ana@")
    page.get_by_role("button", name="Book now").click()
    page.locator("#form-errors").wait_for()

    low = page.evaluate(LOW_CONTRAST_JS)

    context.close()
    assert low == []


def test_keyboard_reaches_the_steps_in_reading_order(
    browser: Any, live_server: Any, services: Service
) -> None:
    visitor = open_booking_page(browser, live_server)
    visitor.locator("input[name=slot]").first.focus()

    reached = []
    for _ in range(8):
        visitor.keyboard.press("Tab")
        reached.append(visitor.evaluate("document.activeElement.name"))

    visitor.context.close()
    assert reached == [
        "name",
        "email",
        "phone",
        "address",
        "message",
        "sms_opt_in",
        "action",
        "action",
    ]


def test_after_a_refused_submit_focus_starts_on_the_list_of_problems(
    browser: Any, live_server: Any, services: Service
) -> None:
    visitor = open_booking_page(browser, live_server)
    visitor.get_by_role("button", name="Book now").click()
    visitor.locator("#form-errors").wait_for()

    focused = visitor.evaluate("document.activeElement.id")

    visitor.context.close()
    assert focused == "form-errors"


def test_book_now_works_without_javascript(
    browser: Any, live_server: Any, services: Service
) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    visitor = context.new_page()
    visitor.goto(f"{live_server.url}/book/")
    visitor.get_by_role("link", name="Deep clean").click()
    visitor.locator("nav.day-list a").nth(1).click()
    visitor.locator("label.slot").first.click()
    visitor.get_by_label("Name").fill("Kim Lee")
    visitor.get_by_label("Email").fill("kim@example.com")
    visitor.get_by_role("button", name="Book now").click()

    expect(visitor.get_by_role("heading", name="You are booked")).to_be_visible()
    context.close()
    assert Contact.objects.customers().filter(email="kim@example.com").exists()


def test_the_second_visitor_for_a_slot_is_told_and_keeps_what_they_typed(
    browser: Any, live_server: Any, services: Service
) -> None:
    first = open_booking_page(browser, live_server)
    second = open_booking_page(browser, live_server)
    for visitor, name in ((first, "Ana"), (second, "Lee")):
        visitor.locator("label.slot").first.click()
        visitor.get_by_label("Name").fill(name)
        visitor.get_by_label("Email").fill(f"{name.lower()}@example.com")
        visitor.get_by_label("Anything we should know?").fill(f"{name}'s note")
    first.get_by_role("button", name="Book now").click()
    first.get_by_role("heading", name="You are booked").wait_for()

    second.get_by_role("button", name="Book now").click()

    expect(second.locator("#form-errors")).to_contain_text("just taken")
    expect(second.get_by_label("Anything we should know?")).to_have_value("Lee's note")
    expect(second.get_by_label("Email")).to_have_value("lee@example.com")
    first.context.close()
    second.context.close()


def test_quick_typing_and_leaving_keeps_one_draft(
    browser: Any, live_server: Any, services: Service
) -> None:
    visitor = open_booking_page(browser, live_server)
    visitor.get_by_label("Email").fill("quick.kim@example.com")
    visitor.wait_for_timeout(750)
    visitor.get_by_label("Phone").fill("(512) 555-0100")
    visitor.wait_for_timeout(750)
    visitor.get_by_label("Name").fill("Kim")
    visitor.context.close()

    drafts = BookingDraft.objects.filter(email="quick.kim@example.com")
    wait_for(lambda: drafts.filter(name="Kim").exists())
    assert drafts.count() == 1


def test_choosing_a_day_by_keyboard_keeps_focus_and_announces_the_times(
    browser: Any, live_server: Any, services: Service
) -> None:
    visitor = open_booking_page(browser, live_server)
    day = visitor.locator("nav.day-list a").nth(1)
    day_id = day.get_attribute("id")
    day.focus()

    visitor.keyboard.press("Enter")

    expect(visitor.locator("#choice-status")).to_contain_text("start times on")
    focused = visitor.evaluate("document.activeElement.id")
    visitor.context.close()
    assert focused == day_id
