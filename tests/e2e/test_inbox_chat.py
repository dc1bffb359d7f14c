from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from contacts.models import Contact, Source
from contacts.services import capture_contact
from inbox.providers import twilio_signature
from tests.browser import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_chats_staff_replies_and_the_widget_shows_it(
    browser: Any, page: Any, live_server: Any, staff_user: Any
) -> None:
    page.goto(f"{live_server.url}/chat/demo/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Your name").fill("Lee Brown")
    page.get_by_label("Email or phone").fill("lee@example.com")
    page.get_by_label("Your message").fill("Do you clean ovens? <b>really</b>")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.visitor")).to_have_text(
        "Do you clean ovens? <b>really</b>"
    )

    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Closed at the end: its open connections would keep server threads, and
    # their database sessions, alive past the test database's teardown.
    with staff_context:
        staff = staff_context.new_page()
        login_in_browser(staff, live_server, "sam", "s3cret-pass!")
        staff.goto(f"{live_server.url}/inbox/")
        staff.get_by_role("link", name="Lee Brown").click()
        expect(staff.locator(".bubble.in")).to_contain_text("Do you clean ovens?")
        staff.get_by_label("Message").fill("Yes we do, from $60.")
        staff.get_by_role("button", name="Send").click()
        expect(staff.locator(".bubble.out")).to_contain_text("Yes we do")

        expect(page.locator(".msg.staff")).to_have_text(
            "Yes we do, from $60.", timeout=10_000
        )
    assert Contact.objects.get().source == "chat"


def test_widget_keeps_the_conversation_across_page_loads(
    page: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/chat/demo/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("button", name="Skip").click()
    page.get_by_label("Your message").fill("Still there?")
    page.get_by_role("button", name="Send").click()
    # Stored once the server gave it an id; the pending copy has none.
    expect(page.locator(".msg.visitor[data-id]")).to_have_count(1)

    page.reload()
    page.get_by_role("button", name="Chat with us").click()

    expect(page.locator(".msg.visitor")).to_have_text("Still there?")


def test_visitor_who_skipped_can_leave_an_email_later_and_join_their_thread(
    page: Any, live_server: Any
) -> None:
    known = capture_contact(source=Source.SMS, email="ana@example.com").contact
    page.goto(f"{live_server.url}/chat/demo/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("button", name="Skip").click()
    expect(page.get_by_label("Email or phone")).to_be_hidden()
    page.get_by_label("Your message").fill("Do you do windows?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.visitor[data-id]")).to_have_count(1)

    page.get_by_role("button", name="Add your email or phone").click()
    page.get_by_label("Email or phone").fill("ana@example.com")
    page.get_by_label("Your message").fill("It's Ana, by the way")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".msg.visitor[data-id]")).to_have_count(2)
    expect(page.get_by_role("button", name="Add your email or phone")).to_be_hidden()
    assert Contact.objects.live().get() == known
    assert known.inbox_messages.count() == 2


def test_widget_fits_a_phone_screen(browser: Any, live_server: Any) -> None:
    with browser.new_context(viewport={"width": 375, "height": 700}) as context:
        phone = context.new_page()
        phone.goto(f"{live_server.url}/chat/demo/")
        phone.get_by_role("button", name="Chat with us").click()

        box = phone.locator(".panel").bounding_box()

    assert (box["width"], box["height"]) == (375, 700)


def test_new_sms_appears_in_the_open_inbox_without_reload(
    page: Any, live_server: Any, staff_user: Any, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = "e2e-token"
    login_in_browser(page, live_server, "sam", "s3cret-pass!")
    page.goto(f"{live_server.url}/inbox/")
    url = f"{live_server.url}/webhooks/twilio/sms/"
    payload = {
        "MessageSid": "SM" + "4" * 32,
        "From": "+15125550188",
        "To": "+15125550100",
        "Body": "Is anyone there?",
        "NumMedia": "0",
    }

    response = requests.post(
        url,
        data=payload,
        headers={"X-Twilio-Signature": twilio_signature("e2e-token", url, payload)},
        timeout=10,
    )

    assert response.status_code == 200
    expect(page.locator("#conversation-list")).to_contain_text(
        "Is anyone there?", timeout=10_000
    )
