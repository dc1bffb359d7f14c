from __future__ import annotations

import logging

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from miocrm.celery import app as celery_app
from miocrm.context_processors import NAV_ITEMS, _resolvable

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Open the first staff page that exists."""
    links = _resolvable(NAV_ITEMS)
    if links:
        return redirect(links[0]["url"])
    return render(request, "home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.warning("healthz: database check failed", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("healthz: broker check failed", exc_info=True)
        return False


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and broker respond, else 503 naming them."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if not ok]
    status = 503 if down else 200
    body = {"status": "down" if down else "ok", "down": down}
    return JsonResponse(body, status=status)


@login_not_required
def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Tell a client that sent too many requests to slow down."""
    message = "Too many requests. Please wait a minute and try again."
    if request.accepts("text/html") and not request.path.startswith("/chat/"):
        return render(request, "429.html", {"message": message}, status=429)
    return JsonResponse({"error": message}, status=429)


_login = auth_views.LoginView.as_view(redirect_authenticated_user=True)


@login_not_required
@ratelimit(key="ip", rate="20/m", method="POST", block=True)
def login(request: HttpRequest) -> HttpResponse:
    """Sign staff in; slow down guessing by limiting attempts per address."""
    return _login(request)
