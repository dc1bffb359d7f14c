"""Fixtures of the inbox tests: channel settings, signed webhooks, a fake API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from inbox.providers import google_signature, hmac_hex, twilio_signature

TWILIO_TOKEN = "twilio-test-token"
META_SECRET = "meta-app-secret"
GOOGLE_KEY = "google-partner-key"


@pytest.fixture(autouse=True)
def _channels(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM_NUMBER = "+15125550100"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.META_APP_SECRET = META_SECRET
    settings.META_VERIFY_TOKEN = "meta-verify"
    settings.META_PAGE_ACCESS_TOKEN = "meta-page-token"
    settings.GOOGLE_BUSINESS_PARTNER_KEY = GOOGLE_KEY
    settings.GOOGLE_BUSINESS_ACCESS_TOKEN = "google-access-token"
    settings.INBOUND_EMAIL_ADDRESS = "hello@sparkle.example"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "mailhook:s3cret"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def sms_payload(**overrides: str) -> dict[str, str]:
    """Return Twilio's documented inbound SMS fields."""
    payload = {
        "ToCountry": "US",
        "ToState": "TX",
        "SmsMessageSid": "SM" + "a" * 32,
        "NumMedia": "0",
        "ToCity": "AUSTIN",
        "FromZip": "78701",
        "SmsSid": "SM" + "a" * 32,
        "FromState": "TX",
        "SmsStatus": "received",
        "FromCity": "AUSTIN",
        "Body": "Do you clean carpets?",
        "FromCountry": "US",
        "To": "+15125550100",
        "MessagingServiceSid": "MG" + "b" * 32,
        "ToZip": "78701",
        "NumSegments": "1",
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": "+15125550123",
        "ApiVersion": "2010-04-01",
    }
    payload.update(overrides)
    return payload


def post_twilio(
    client: Any,
    path: str,
    payload: dict[str, str],
    *,
    token: str = TWILIO_TOKEN,
    url: str | None = None,
    **extra: Any,
) -> Any:
    signature = twilio_signature(token, url or f"http://testserver{path}", payload)
    return client.post(path, payload, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def post_meta(client: Any, payload: object, *, secret: str = META_SECRET) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/meta/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_hex(secret, body),
    )


def post_google(client: Any, payload: object, *, key: str = GOOGLE_KEY) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/google-business/",
        body,
        content_type="application/json",
        HTTP_X_GOOG_SIGNATURE=google_signature(key, body),
    )


@dataclass
class FakeApi:
    """A provider API on 127.0.0.1 that records requests and plays answers."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    default: tuple[int, dict[str, Any]] = (200, {})

    def answer(self, status: int, body: dict[str, Any]) -> None:
        self.answers.append((status, body))


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            kind = self.headers.get("Content-Type", "")
            body = json.loads(raw) if "json" in kind else parse_qs(raw)
            api.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body}
            )
            status, answer = api.answers.pop(0) if api.answers else api.default
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            api.requests.append({"path": self.path, "headers": dict(self.headers)})
            if "fields=" in self.path:
                status, answer = api.answers.pop(0) if api.answers else api.default
                data, kind = json.dumps(answer).encode(), "application/json"
            else:
                status, data, kind = 200, b"\x89PNG fake image bytes", "image/png"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()
