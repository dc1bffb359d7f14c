"""Helpers for browser tests (the `browser` and `page` fixtures are in conftest)."""

from __future__ import annotations

from typing import Any


def login_in_browser(page: Any, live_server: Any, username: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
