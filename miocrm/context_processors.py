from __future__ import annotations

import functools

from django.http import HttpRequest
from django.urls import NoReverseMatch, get_urlconf, reverse

from miocrm.access import is_admin

# Top navigation in UI.md order; an entry shows once its app has the page.
NAV_ITEMS = [
    ("Prospects", "prospects:list"),
    ("Inbox", "inbox:index"),
    ("Quotes", "quotes:list"),
    ("Service requests", "quotes:request_list"),
    ("Bookings", "bookings:list"),
    ("Customers", "prospects:customer_list"),
]
CREATE_ITEMS = [
    ("Prospect", "prospects:create"),
    ("Quote", "quotes:create"),
    ("Service request", "quotes:request_create"),
]
ADMIN_ITEMS = [
    ("Import prospects", "prospects:import_upload"),
    ("Services and hours", "bookings:settings"),
    ("Channels", "inbox:channels"),
]


def _resolvable(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Return links to the items whose page exists, fresh for each caller."""
    return [dict(link) for link in _links(tuple(items), get_urlconf())]


@functools.cache
def _links(
    items: tuple[tuple[str, str], ...], urlconf: str | None
) -> tuple[dict[str, str], ...]:
    # Every staff page draws the menu, and URLs never change while the
    # process runs: reverse them once per URL configuration.
    links = []
    for label, name in items:
        try:
            links.append({"label": label, "url": reverse(name), "name": name})
        except NoReverseMatch:
            continue
    return tuple(links)


def navigation(request: HttpRequest) -> dict[str, object]:
    """Return the staff layout's menus, holding only pages that exist."""
    if not request.user.is_authenticated:
        return {}
    nav_items = _resolvable(NAV_ITEMS)
    # The current section is the item whose URL is the longest prefix of the
    # path, so /prospects/customers/ marks Customers rather than Prospects.
    matching = [item for item in nav_items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["current"] = True
    return {
        "nav_items": nav_items,
        "create_items": _resolvable(CREATE_ITEMS),
        "admin_items": _resolvable(ADMIN_ITEMS) if is_admin(request.user) else [],
        "user_is_admin": is_admin(request.user),
    }
