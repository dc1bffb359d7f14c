from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-for-the-deploy-check-7a9f2c1e8b4d6a0f3e5c7b9d1f2a4c6e8",
    "ALLOWED_HOSTS": "crm.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_COOKIES": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    # The test run's own conveniences are not part of a production setup.
    test_only = {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, **PRODUCTION, **overrides},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = check_deploy()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_missing_secret_key() -> None:
    result = check_deploy(SECRET_KEY="")

    assert "security.W009" in result.stderr + result.stdout


def _start_web_app(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    return subprocess.run(
        [sys.executable, "-c", "import miocrm.wsgi"],
        cwd=ROOT,
        env={**env, "DEBUG": "0", **overrides},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_web_server_refuses_to_start_without_a_secret_key() -> None:
    result = _start_web_app()

    assert "SECRET_KEY is not set" in result.stderr


def test_the_web_server_starts_with_a_secret_key() -> None:
    result = _start_web_app(SECRET_KEY=PRODUCTION["SECRET_KEY"])

    assert result.returncode == 0, result.stderr
