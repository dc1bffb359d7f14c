"""The parser's fast paths for emails and phones give what contacts.normalize gives.

They accept only what the full check accepts, so they are compared on many
generated values, valid and not, in the forms files carry.
"""

from __future__ import annotations

import random

import pytest

from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone
from prospects.importing.rows import fast_email, fast_phone

SEPARATORS = ["", " ", "-", ".", "  ", "--", "/", "(", ")"]


def _outcome(function, *args):
    try:
        return function(*args)
    except InvalidIdentifier:
        return InvalidIdentifier


def _phone(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 12)))
    if rng.random() < 0.7:
        digits = rng.choice("0123456789") + digits[1:10].ljust(9, "5")
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    sep = rng.choice(SEPARATORS)
    forms = [
        digits,
        f"+1{digits}",
        f"1{digits}",
        f"+1 {area} {exchange} {line}",
        f"({area}) {exchange}-{line}",
        f"({area}){exchange}{sep}{line}",
        f"{area}{sep}{exchange}{sep}{line}",
        f"1{sep}{area}{sep}{exchange}{sep}{line}",
        f"+1{sep}({area}){sep}{exchange}{sep}{line}",
        f"+{rng.randint(2, 99)}{digits}",
        f"{area}-{exchange}-{line} x{rng.randint(1, 999)}",
        f" {digits} ",
    ]
    return rng.choice(forms)


def _email(rng: random.Random) -> str:
    alphabet = "abcXYZ019._+-'!#~\"@ é"
    user = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    labels = [
        "".join(rng.choice("abz09-_.É") for _ in range(rng.randint(0, 8)))
        for _ in range(rng.randint(1, 3))
    ]
    tld = rng.choice(["com", "org", "c", "co-", "xn--p1ai", "123", "ORG", ""])
    domain = ".".join([*labels, tld]) if rng.random() < 0.9 else "localhost"
    if rng.random() < 0.05:
        domain = "[127.0.0.1]"
    if rng.random() < 0.05:
        user = "x" * 300
    text = f"{user}@{domain}" if rng.random() < 0.95 else user
    return rng.choice([text, text.upper(), f"  {text} "])


@pytest.mark.parametrize("region", ["US", "GB", "CA", "DE"])
def test_fast_phone_gives_what_normalize_phone_gives(region):
    rng = random.Random(f"phones-{region}")
    for _ in range(20_000):
        text = _phone(rng)
        expected = _outcome(normalize_phone, text, region)
        assert _outcome(fast_phone, text, region) == expected, text


def test_fast_phone_takes_the_usual_forms_without_the_full_parse():
    assert fast_phone("+15125550123", "US") == "+15125550123"
    assert fast_phone("(512) 555-0123", "US") == "+15125550123"
    assert fast_phone("1 512 555 0123", "US") == "+15125550123"
    assert fast_phone("020 7946 0018", "GB") == "+442079460018"
    with pytest.raises(InvalidIdentifier):
        fast_phone("12", "US")


def test_fast_email_gives_what_normalize_email_gives():
    rng = random.Random("emails")
    for _ in range(20_000):
        text = _email(rng)
        expected = _outcome(normalize_email, text)
        assert _outcome(fast_email, text) == expected, text
    assert fast_email(" Ana@Example.ORG ") == "ana@example.org"
    assert fast_email("") == ""
