from __future__ import annotations

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory

from miocrm.access import admin_required, client_ip

pytestmark = pytest.mark.django_db


def test_staff_pages_send_visitors_to_login(client: object) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_login_page_is_public(client: object) -> None:
    assert client.get("/login/").status_code == 200


def test_staff_sign_in_with_username_and_password(
    client: object, staff_user: object
) -> None:
    response = client.post("/login/", {"username": "sam", "password": "s3cret-pass!"})

    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)


def test_wrong_password_keeps_the_username_and_says_so(
    client: object, staff_user: object
) -> None:
    response = client.post("/login/", {"username": "sam", "password": "nope"})

    assert b"Please enter a correct username and password" in response.content
    assert b'value="sam"' in response.content


def test_login_attempts_are_rate_limited(client: object, staff_user: object) -> None:
    # Frozen clock: the limit counts per minute window, which must not roll
    # over in the middle of the test.
    with time_machine.travel("2026-12-03 10:00:05Z", tick=False):
        for _ in range(20):
            client.post("/login/", {"username": "sam", "password": "nope"})

        response = client.post(
            "/login/", {"username": "sam", "password": "s3cret-pass!"}
        )

    assert response.status_code == 429


def _login_attempts(client: object, count: int, **headers: str) -> int:
    """Post wrong passwords; return the status of the last answer."""
    with time_machine.travel("2026-12-03 10:00:05Z", tick=False):
        for _ in range(count):
            response = client.post(
                "/login/", {"username": "sam", "password": "nope"}, headers=headers
            )
    return response.status_code


def test_behind_the_proxy_each_forwarded_client_has_its_own_limit(
    client: object, staff_user: object, settings: object
) -> None:
    settings.BEHIND_TLS_PROXY = True
    _login_attempts(client, 21, x_forwarded_for="203.0.113.7")

    assert _login_attempts(client, 1, x_forwarded_for="198.51.100.2") == 200


def test_behind_the_proxy_a_forged_first_hop_does_not_escape_the_limit(
    client: object, staff_user: object, settings: object
) -> None:
    settings.BEHIND_TLS_PROXY = True
    for n in range(21):
        status = _login_attempts(client, 1, x_forwarded_for=f"10.0.0.{n}, 203.0.113.7")

    assert status == 429


def test_without_a_proxy_the_forwarded_header_is_ignored(settings: object) -> None:
    settings.BEHIND_TLS_PROXY = False
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="192.0.2.1"
    )

    assert client_ip(request) == "192.0.2.1"


def test_logout_needs_a_post(staff_client: object) -> None:
    assert staff_client.get("/logout/").status_code == 405
    assert staff_client.post("/logout/").status_code == 302


def test_admin_only_views_refuse_staff(staff_user: object) -> None:
    view = admin_required(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/")
    request.user = staff_user

    with pytest.raises(Exception, match="Only admins"):
        view(request)


def test_admin_only_views_let_admins_in(admin_user: object) -> None:
    view = admin_required(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/")
    request.user = admin_user

    assert view(request).status_code == 200


def test_django_admin_is_for_superusers_only(staff_client: object) -> None:
    response = staff_client.get("/django-admin/")

    assert response.status_code == 302


def test_migrating_a_new_database_creates_the_admins_group() -> None:
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from miocrm.access import ADMIN_GROUP

    # Transactional tests flush the tables, so the migration is run again here.
    Group.objects.filter(name=ADMIN_GROUP).delete()
    migration = importlib.import_module("miocrm.migrations.0001_add_admins_group")
    migration.add_admins_group(apps, None)

    assert Group.objects.filter(name=ADMIN_GROUP).exists()
