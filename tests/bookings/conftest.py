"""A small business to book with: hours Monday to Saturday, two services."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from bookings.models import BookingSettings, BusinessHours, Service


@pytest.fixture
def rules(db: Any, settings: Any) -> BookingSettings:
    settings.TIME_ZONE = "America/Chicago"
    rules = BookingSettings.load()
    rules.lead_time_minutes = 120
    rules.horizon_days = 30
    rules.slot_interval_minutes = 30
    rules.capacity = 1
    rules.save()
    for weekday in range(6):
        BusinessHours.objects.create(weekday=weekday, opens=time(8), closes=time(17))
    return rules


@pytest.fixture
def deep_clean(rules: BookingSettings) -> Service:
    return Service.objects.create(
        name="Deep clean", duration_minutes=120, price=Decimal("180")
    )


@pytest.fixture
def move_out(rules: BookingSettings) -> Service:
    return Service.objects.create(
        name="Move-out clean", duration_minutes=240, price=Decimal("320")
    )
