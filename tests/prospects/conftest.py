from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import Contact, Source
from contacts.services import capture_contact


def make_person(
    *,
    first: str = "Ana",
    last: str = "García",
    email: str = "",
    phone: str = "",
    source: str = Source.SMS,
    days_ago: float = 0,
    **details: Any,
) -> Contact:
    """Create a prospect through the capture engine, as the channels do."""
    created = timezone.now() - timedelta(days=days_ago)
    return capture_contact(
        source=source,
        email=email,
        phone=phone,
        details={
            "first_name": first,
            "last_name": last,
            "created_at": created,
            **details,
        },
    ).contact


@pytest.fixture
def ana(db: Any) -> Contact:
    return make_person(
        email="ana@example.com", phone="+15125550101", city="Austin", days_ago=1
    )
