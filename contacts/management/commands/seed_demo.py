from __future__ import annotations

import importlib
import random
import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser

from contacts import demo
from contacts.bulk import bulk_prospects
from contacts.models import Contact


class Command(BaseCommand):
    help = "Fill the database with a believable demo business."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if people exist."
        )
        parser.add_argument(
            "--people", type=int, default=300, help="Demo people made through services."
        )
        parser.add_argument(
            "--prospects",
            type=int,
            default=0,
            help="Only add N more prospects in bulk (fast; for large databases).",
        )
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["prospects"]:
            added = bulk_prospects(options["prospects"], seed=options["seed"])
            elapsed = time.monotonic() - started
            self.stdout.write(f"Added {added:,} prospects in {elapsed:.1f} s.")
            return
        if options["if_empty"] and Contact.objects.exists():
            self.stdout.write("Demo data already loaded.")
            return
        rng = random.Random(options["seed"])
        demo.seed(rng, people=options["people"])
        # Every other app may add its own demo rows in a `demo.seed(rng)`.
        for config in apps.get_app_configs():
            if config.name == "contacts":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            module.seed(rng)
        self.stdout.write(f"Demo data loaded in {time.monotonic() - started:.1f} s.")
