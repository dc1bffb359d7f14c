"""`make bench`: every benchmark module in tests/bench, or those named.

Each module `bench_<name>.py` defines `run(report)`; figures go through the
report so that each is printed beside the baseline measured in the same run.
Benchmarks build their data in a database of their own (bench_<database>,
bench_miocrm by default), never in the development database.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

import django

from tests.bench.report import Report


def _bench_database() -> None:
    # Settings read DATABASE_URL or start the embedded server: point both at a
    # throwaway database beside the real one.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miocrm.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    name = f"bench_{settings.DATABASES['default']['NAME']}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(names: list[str]) -> int:
    _bench_database()
    package = importlib.import_module("tests.bench")
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(package.__path__)
        if m.name.startswith("bench_")
    )
    chosen = names or available
    report = Report()
    for name in chosen:
        module = importlib.import_module(f"tests.bench.bench_{name}")
        started = time.monotonic()
        print(f"\n== {name} ==", flush=True)
        module.run(report)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    report.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
