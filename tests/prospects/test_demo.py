from __future__ import annotations

import random
from typing import Any

import pytest

from contacts import demo as contacts_demo
from contacts.models import ActivityKind, Contact
from prospects import demo
from prospects.selectors import name_duplicates

pytestmark = pytest.mark.django_db


def test_demo_fills_the_prospect_screens(db: Any) -> None:
    rng = random.Random(7)
    contacts_demo.seed(rng, people=40)

    demo.seed(rng)

    assert name_duplicates()
    assert Contact.objects.filter(first_name="Rosa", source="referral").exists()
    assert Contact.objects.filter(activities__kind=ActivityKind.STATUS_CHANGED).exists()
