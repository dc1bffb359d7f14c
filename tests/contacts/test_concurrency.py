from __future__ import annotations

import threading

import pytest
from django.db import connection

from contacts.models import Contact, Identifier, Source
from contacts.services import capture_contact

THREADS = 20


def run_concurrently(target: object, count: int = THREADS) -> list[BaseException]:
    """Run target in `count` threads, each with its own connection, at once."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            target()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_simultaneous_captures_of_one_new_person_make_one_contact() -> None:
    def capture() -> None:
        capture_contact(
            source=Source.SMS, email="new@example.com", phone="+1 555 010 2030"
        )

    errors = run_concurrently(capture)

    assert errors == []
    assert Contact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_captures_with_overlapping_identifiers_converge() -> None:
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def capture() -> None:
        with lock:
            n = next(counter)
        # Half name the phone with an email, half the phone alone.
        email = "ana@example.com" if n % 2 else ""
        capture_contact(source=Source.SMS, email=email, phone="555-010-2030")

    errors = run_concurrently(capture)

    assert errors == []
    assert Contact.objects.live().count() == 1
    assert Identifier.objects.count() == 2
