"""Fixtures shared by every app's tests.

Tests marked `redis` need REDIS_URL and tests marked `browser` need Debian's
chromium. They are skipped where those are missing, except when
MIOCRM_REQUIRE_SERVICES=1 (CI), where a missing service fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group

from miocrm.access import ADMIN_GROUP

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# that tests make beside it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_SERVICES = os.environ.get("MIOCRM_REQUIRE_SERVICES") == "1"


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        return "needs a Redis server: set REDIS_URL"
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        return f"needs Debian chromium at {CHROMIUM}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service(item)
    if reason and REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MIOCRM_REQUIRE_SERVICES=1)", pytrace=False)
    if reason:
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any) -> Iterator[None]:
    # A cache of this process's own per test, so rate-limit counters never
    # leak between tests or between parallel workers sharing one Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{os.getpid()}",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _own_celery_queue() -> Iterator[None]:
    # Parallel test processes (and other checkouts) share one Redis: each
    # process sends to and consumes from a queue of its own, or one worker
    # could run another's task against the wrong test database.
    from miocrm.celery import app

    queue = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    yield
    if os.environ.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        client.delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )
        client.close()


@pytest.fixture(autouse=True)
def _eager_celery(settings: Any) -> None:
    # Tasks run inline unless a test starts a real worker (tests marked redis).
    from miocrm.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="sam", password="s3cret-pass!", first_name="Sam", last_name="Rivera"
    )


@pytest.fixture
def admin_user(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(
        username="ada", password="s3cret-pass!", first_name="Ada"
    )
    group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    user.groups.add(group)
    return user


@pytest.fixture
def staff_client(client: Any, staff_user: Any) -> Any:
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright; never a downloaded browser."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs Debian chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
