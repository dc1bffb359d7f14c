"""Signed Twilio SMS webhooks per second against gunicorn with 2 workers.

A local load generator (threads, a bounded number of requests in flight)
posts signed webhooks from new senders and from known senders, each on a
connection of its own as a provider's webhook arrives, and reports
requests per second with p50/p99 latency beside a same-run baseline: the same
server rejecting unsigned webhooks (routing, middleware and the signature
check, no database work). Rates follow whatever else runs on the machine, so
it also reports the CPU one webhook costs the web workers, their database
backends and the load generator, which moves less (a busy machine still
inflates it by a third or so): on 2 cores, 200 webhooks a second leave 10 ms
of CPU for each. Afterwards it checks that no
person was stored twice and that every message was stored once.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

from contacts.models import Contact, Identifier
from inbox.models import Message
from inbox.providers import twilio_signature
from tests.bench.report import Report

TOKEN = "bench-twilio-token"
PATH = "/webhooks/twilio/sms/"
WORKERS = 2
# Each worker serves requests on threads, so that one request's Python runs
# while another waits for PostgreSQL; run production the same way.
THREADS = 4
IN_FLIGHT = 8
NEW_SENDERS = 1500
KNOWN_MESSAGES = 1500
KNOWN_SENDERS = 150
PREFIX = "+1726"  # numbers no other benchmark uses
BASE_DIR = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """Return DATABASE_URL for the server: the benchmark's own database."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    if host.startswith("/"):
        # A socket directory (the embedded server): postgres://user@//dir/name
        return f"postgres://{db['USER']}{password}@/{host}/{db['NAME']}"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_server(port: int, log: Any) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "0",
        # The web entry point refuses the development key without DEBUG.
        "SECRET_KEY": "bench-only-" + "0123456789abcdef" * 4,
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "ERROR",
        # The baseline measures rejecting a request, not the limiter that
        # slows down an address sending many bad signatures.
        "RATELIMIT_ENABLE": "0",
    }
    command = [
        str(BASE_DIR / ".venv/bin/gunicorn"),
        "miocrm.wsgi:application",
        f"--workers={WORKERS}",
        f"--threads={THREADS}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=error",
    ]
    # The server's log (a warning per rejected webhook) goes to a file, shown
    # only when something fails.
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start; see its log above")


def _process_cpu(pid: int) -> float:
    """Return the CPU seconds a local process has used (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU used by the web workers, their database backends and this process."""

    server: subprocess.Popen
    # The database may be elsewhere, where local pids mean nothing; a socket
    # directory (the embedded server) is on this machine.
    local_database: bool = field(
        default_factory=lambda: (
            settings.DATABASES["default"]["HOST"] in ("", "127.0.0.1", "localhost")
            or settings.DATABASES["default"]["HOST"].startswith("/")
        )
    )

    def sample(self) -> dict[str, dict[int, float]]:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()]
        return {
            "web": {pid: _process_cpu(pid) for pid in workers},
            "database": {pid: _process_cpu(pid) for pid in self._backends()},
            "generator": {0: time.process_time()},
        }

    def _backends(self) -> list[int]:
        # Looked up at every sample: a worker thread may connect mid-run.
        if not self.local_database:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        """Return the CPU seconds used between two samples, per part."""
        return {
            part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in now.items())
            for part, now in after.items()
        }


def _payload(sender: str, n: int, tag: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}-{n}").hex
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15125550100",
        "Body": f"Bench message {n}: do you clean carpets?",
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def _requests(port: int, payloads: list[dict[str, str]], sign: bool) -> list[bytes]:
    """Return ready-to-send request bodies with their headers, built up front."""
    url = f"http://127.0.0.1:{port}{PATH}"
    built = []
    for payload in payloads:
        body = urlencode(payload)
        signature = twilio_signature(TOKEN, url, payload) if sign else "unsigned"
        built.append((body, signature))
    return built


def _load(port: int, requests: list, expect: int) -> tuple[float, list[float]]:
    """Send every request with IN_FLIGHT threads; return seconds and latencies."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    queue = iter(requests)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            body, signature = item
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "Host": f"127.0.0.1:{port}",
                "Connection": "close",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = repr(error)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != expect:
                    failures.append(str(status))

    threads = [threading.Thread(target=worker) for _ in range(IN_FLIGHT)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} unexpected answers, e.g. {failures[:3]}")
    return seconds, latencies


def _metered(
    meter: CpuMeter, port: int, requests: list, expect: int
) -> tuple[float, list[float], dict[str, float]]:
    """Run _load; also return the CPU milliseconds each request cost."""
    before = meter.sample()
    seconds, latencies = _load(port, requests, expect)
    used = meter.used(before, meter.sample())
    if not meter.local_database:
        del used["database"]
    return seconds, latencies, {k: v * 1000 / len(requests) for k, v in used.items()}


def _figures(
    report: Report, label: str, count: int, result: tuple, base: float
) -> None:
    seconds, latencies, cpu = result
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rate = count / seconds
    report.figure(label, rate, "/s", baseline=base, target="≥ 200/s")
    report.figure(f"  p50 latency, {label}", p50, "ms", higher_is_better=False)
    report.figure(f"  p99 latency, {label}", p99, "ms", higher_is_better=False)
    _cpu_note(report, cpu)


def _cpu_note(report: Report, cpu: dict[str, float]) -> None:
    parts = ", ".join(f"{part} {ms:.1f}" for part, ms in cpu.items())
    report.note(f"  CPU ms per webhook: {parts} (total {sum(cpu.values()):.1f})")


def _clean() -> None:
    people = Contact.objects.filter(identifiers__value__startswith=PREFIX)
    Contact.objects.filter(pk__in=people.values("pk")).delete()


def run(report: Report) -> None:
    # Other work on this machine moves every figure; say how busy it was.
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    report.note(f"load average before the run: {load} ({os.cpu_count()} cores)")
    _clean()
    port = _free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        server = _start_server(port, log)
        try:
            _measure(report, port, CpuMeter(server))
        except Exception:
            log.seek(0)
            print(log.read()[-5000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
    _check(report)


def _measure(report: Report, port: int, meter: CpuMeter) -> None:
    tag = uuid.uuid4().hex[:8]
    new = [_payload(f"{PREFIX}{n:07d}", n, tag) for n in range(NEW_SENDERS)]
    known = [
        _payload(f"{PREFIX}{n % KNOWN_SENDERS:07d}", NEW_SENDERS + n, tag)
        for n in range(KNOWN_MESSAGES)
    ]
    unsigned = _requests(port, new, sign=False)
    _load(port, unsigned[:200], expect=403)  # warm both workers up
    warm = [_payload(f"{PREFIX}9{n:06d}", n, f"warm-{tag}") for n in range(50)]
    _load(port, _requests(port, warm, sign=True), expect=200)  # and connected
    rejected = _metered(meter, port, unsigned, expect=403)
    base = len(unsigned) / rejected[0]
    report.figure("unsigned webhook rejected with 403 (baseline)", base, "/s")
    _cpu_note(report, rejected[2])

    new_result = _metered(meter, port, _requests(port, new, sign=True), expect=200)
    _figures(report, "signed SMS from new senders", NEW_SENDERS, new_result, base)
    known_requests = _requests(port, known, sign=True)
    known_result = _metered(meter, port, known_requests, expect=200)
    _figures(
        report, "signed SMS from known senders", KNOWN_MESSAGES, known_result, base
    )


def _check(report: Report) -> None:
    connection.close()
    phones = Identifier.objects.filter(kind="phone", value__startswith=PREFIX)
    people = phones.exclude(value__startswith=f"{PREFIX}9").values("contact")
    people = people.distinct().count()
    messages = Message.objects.filter(handle__startswith=PREFIX)
    messages = messages.exclude(handle__startswith=f"{PREFIX}9").count()
    report.note(
        f"senders {NEW_SENDERS}, contacts stored {people}, "
        f"messages {messages} of {NEW_SENDERS + KNOWN_MESSAGES}"
    )
    if people != NEW_SENDERS or messages != NEW_SENDERS + KNOWN_MESSAGES:
        raise RuntimeError("duplicate or missing contacts or messages")
