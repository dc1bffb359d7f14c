from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from contacts.models import Source
from contacts.services import capture_contact
from quotes.models import Quote
from quotes.services import create_quote

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_quotes_get_consecutive_unique_numbers() -> None:
    contact = capture_contact(source=Source.SMS, email="ana@example.com").contact
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait()
            create_quote(
                contact=contact,
                lines=[{"description": "Clean", "unit_price": Decimal("10")}],
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    numbers = sorted(Quote.objects.values_list("number", flat=True))
    assert not errors and numbers == list(range(numbers[0], numbers[0] + 8))
