"""Normalize the ways people write identifiers, so that one person matches."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class InvalidIdentifier(ValueError):
    """A value that cannot be an email address or a phone number."""


def normalize_email(raw: str | None) -> str:
    """Return the email trimmed and lower-cased, "" when blank.

    Raise InvalidIdentifier when it cannot be an address.
    """
    email = (raw or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as error:
        raise InvalidIdentifier(f"{raw!r} is not a valid email address") from error
    return email


def normalize_phone(raw: str | None, region: str | None = None) -> str:
    """Return the phone number in E.164 form, "" when blank.

    Numbers without a country code are read in `region`, by default the
    business's (PHONE_DEFAULT_REGION). Raise InvalidIdentifier when the text
    cannot be a phone number.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    region = (region or settings.PHONE_DEFAULT_REGION or "US").upper()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidIdentifier(f"{raw!r} is not a phone number") from error
    # is_possible_number, not is_valid_number: the latter rejects numbers
    # from ranges it does not know, such as the 555 numbers of demos and tests.
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier(f"{raw!r} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A North American number, as phonenumbers writes it nationally.
_NANP = re.compile(r"\+1([2-9]\d\d)([2-9]\d\d)(\d{4})")


def format_phone(e164: str) -> str:
    """Return an E.164 number as people read it (national form at home)."""
    if not e164:
        return ""
    # Lists show a phone on every row, and phonenumbers takes about 30 µs to
    # format one: the common case at home is written out directly.
    nanp = _NANP.fullmatch(e164)
    if nanp and (settings.PHONE_DEFAULT_REGION or "").upper() == "US":
        return "({}) {}-{}".format(*nanp.groups())
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_country_code(number.country_code)
    if home == (settings.PHONE_DEFAULT_REGION or "").upper():
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    else:
        style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def normalize_handle(raw: str | None) -> str:
    """Return a channel handle (PSID, Instagram id, ...) trimmed."""
    return (raw or "").strip()
