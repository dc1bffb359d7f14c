"""The embedded services behind `make run` and `make test` without an environment.

With no DATABASE_URL, settings ask this module for a PostgreSQL server, which
the `pgserver` package runs from its own binaries in a project-local folder.
The server outlives the process that started it, so the web server, the
Celery worker and beat, and every management command share it; `make run`
stops it when it exits (`python -m miocrm.devservices run`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DATABASE_NAME = "miocrm"
BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".local" / "pgdata"


def _set_runtime_dir(pgdata: Path) -> None:
    # pgserver keeps sockets of too-long paths in the runtime folder, and
    # warns when none is set.
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def _start_server(pgdata: Path) -> Any:
    pgdata.mkdir(parents=True, exist_ok=True)
    _set_runtime_dir(pgdata)

    # Imported here: production images never load pgserver.
    import pgserver

    return pgserver.get_server(pgdata, cleanup_mode=None)


def _socket_dir(server: Any) -> str:
    info = server.get_postmaster_info()
    return str(info.socket_dir)


def _ensure_database(server: Any) -> None:
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
    )
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")


def embedded_database_settings(pgdata: Path = PGDATA) -> dict[str, Any]:
    """Start the embedded PostgreSQL if needed; return Django's DATABASES entry."""
    server = _start_server(pgdata)
    _ensure_database(server)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": _socket_dir(server),
        "PORT": "",
    }


def stop_embedded_database(pgdata: Path = PGDATA) -> None:
    """Stop the embedded PostgreSQL if it runs."""
    if not (pgdata / "postmaster.pid").exists():
        return
    _set_runtime_dir(pgdata)
    from pgserver._commands import pg_ctl

    # As root, pgserver runs PostgreSQL as a system user of its own.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)


def _start(name: str, argv: list[str]) -> subprocess.Popen:
    print(f"  starting {name}: {' '.join(argv)}", flush=True)
    # A process group of its own, so Ctrl-C reaches it only through us and we
    # can stop its children too.
    return subprocess.Popen(argv, cwd=BASE_DIR, start_new_session=True)


def run(address: str) -> int:
    """Run the web server, a Celery worker and beat until Ctrl-C; stop them all."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "miocrm"]
    processes = {
        "web": _start("web", [python, "manage.py", "runserver", address]),
        "worker": _start(
            "worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"]
        ),
        "beat": _start("beat", [*celery, "beat", "--loglevel=INFO"]),
    }
    exit_code = 0
    # A closed terminal or a `kill` stops everything as Ctrl-C does; the
    # servers lead process groups of their own and would outlive us.
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), _interrupt)
    try:
        _announce_when_ready(address, processes)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        exit_code = next(
            p.returncode for p in processes.values() if p.returncode is not None
        )
        print("A process stopped on its own; stopping the rest.", flush=True)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        _stop_all(processes)
        if not os.environ.get("DATABASE_URL"):
            stop_embedded_database()
            print("Embedded PostgreSQL stopped.", flush=True)
    return exit_code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _announce_when_ready(address: str, processes: dict[str, subprocess.Popen]) -> None:
    """Print the address and login once the web server answers.

    The worker's and beat's start-up banners push the login printed before
    start out of sight, so it is repeated here.
    """
    url = f"http://{address}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return
        try:
            urllib.request.urlopen(f"{url}healthz", timeout=2).close()
            break
        except urllib.error.HTTPError:
            break  # it answers; /healthz says what is down
        except OSError:
            time.sleep(0.5)
    else:
        return
    password_file = BASE_DIR / ".local" / "demo-admin-password"
    login = ""
    if password_file.exists():
        login = f"  Sign in as admin / {password_file.read_text().strip()}\n"
    print(f"\n  MioCRM is ready: {url}\n{login}  Ctrl-C stops it.\n", flush=True)


def _stop_all(processes: dict[str, subprocess.Popen]) -> None:
    # The leaders shut their own children down cleanly (Celery's warm
    # shutdown); the group is killed only if that takes too long.
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        sys.exit(run(sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:8000"))
    if command == "stop":
        stop_embedded_database()
        sys.exit(0)
    sys.exit("usage: python -m miocrm.devservices run [ADDRESS] | stop")
