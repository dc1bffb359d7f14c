"""Roles: every active user is staff; admins also manage imports and settings."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ADMIN_GROUP = "Admins"


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user may use admin-only pages."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_miocrm_is_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMIN_GROUP).exists()
        user._miocrm_is_admin = cached
    return cached


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let admins through; answer 403 to other signed-in staff."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_admin(request.user):
            raise PermissionDenied("Only admins can open this page.")
        return view(request, *args, **kwargs)

    return wrapper


def client_ip(request: HttpRequest) -> str:
    """Return the address of the client, as rate limits and logs should see it.

    Behind the TLS proxy (BEHIND_TLS_PROXY=1) REMOTE_ADDR is the proxy's
    own address; the client's is the last one in X-Forwarded-For, the entry
    the proxy appended. Entries before it come from the client and can be
    forged, so they are never read.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_TLS_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return remote
