from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _anymail_settings(**environment: str) -> dict[str, object]:
    code = (
        "import django; django.setup(); from django.conf import settings;"
        " import json; print(json.dumps(settings.ANYMAIL))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYMAIL_")}
    env.update(DJANGO_SETTINGS_MODULE="miocrm.settings", **environment)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_email_providers_keys_come_from_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key"
    key_file.write_text("from-a-file\n")

    anymail = _anymail_settings(
        ANYMAIL_MAILGUN_API_KEY="key-123",
        ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY_FILE=str(key_file),
        ANYMAIL_WEBHOOK_SECRET="user:pass",
    )

    assert anymail == {
        "WEBHOOK_SECRET": "user:pass",
        "MAILGUN_API_KEY": "key-123",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "from-a-file",
    }
