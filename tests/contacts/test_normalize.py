from __future__ import annotations

import pytest

from contacts.normalize import (
    InvalidIdentifier,
    format_phone,
    normalize_email,
    normalize_phone,
)


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  John.Doe@Example.COM ") == "john.doe@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(555) 010-2030", "+15550102030"),
        ("555.010.2030", "+15550102030"),
        ("+1 555 010 2030", "+15550102030"),
        ("+44 20 7946 0958", "+442079460958"),
        ("011 44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_becomes_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_phone_without_country_code_uses_the_given_region() -> None:
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["not a phone", "12", "call me maybe"])
def test_garbage_phone_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_phone(raw)


def test_garbage_email_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_email("ana@")


def test_blank_values_normalize_to_empty() -> None:
    assert (normalize_email("  "), normalize_phone(None)) == ("", "")


def test_home_numbers_are_shown_in_national_form() -> None:
    assert format_phone("+15550102030") == "(555) 010-2030"


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+15125550101", "(512) 555-0101"),
        ("+14165550199", "(416) 555-0199"),
        ("+442079460958", "+44 20 7946 0958"),
    ],
)
def test_numbers_read_as_people_write_them(e164: str, shown: str) -> None:
    assert format_phone(e164) == shown
