from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bookings.services import capture_abandoned_drafts


class Command(BaseCommand):
    help = "Turn booking-page drafts idle past BOOKING_ABANDON_MINUTES into prospects."

    def handle(self, *args: Any, **options: Any) -> None:
        captured = capture_abandoned_drafts()
        self.stdout.write(f"Captured {captured} abandoned booking draft(s).")
