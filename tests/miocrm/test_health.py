from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_public_and_reports_ok(client: object) -> None:
    response = client.get("/healthz")

    assert (response.status_code, response.json()["down"]) == (200, [])


def test_healthz_names_the_broker_when_it_is_down(
    client: object, settings: object
) -> None:
    from miocrm.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original

    assert (response.status_code, response.json()["down"]) == (503, ["broker"])


@pytest.mark.redis
def test_healthz_checks_the_real_redis_broker(client: object) -> None:
    from miocrm.celery import app

    assert app.conf.broker_url.startswith("redis://")
    assert client.get("/healthz").status_code == 200
