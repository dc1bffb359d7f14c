from __future__ import annotations

import pytest

from tests.browser import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_and_out_in_a_browser(
    page: object, live_server: object, staff_user: object
) -> None:
    login_in_browser(page, live_server, "sam", "s3cret-pass!")

    page.locator("summary", has_text="Sam").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/login/")
