from __future__ import annotations

from django.http import HttpRequest

from inbox.selectors import unread_total


def unread(request: HttpRequest) -> dict[str, int]:
    """Return the number of unread messages for the Inbox item of the menu."""
    if not request.user.is_authenticated:
        return {}
    return {"inbox_unread": unread_total()}
