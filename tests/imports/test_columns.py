from __future__ import annotations

import pytest

from prospects.importing.columns import EXPORT_HEADERS, IGNORE, guess_mapping

FORMATS = {
    "hubspot": (
        [
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Contact owner",
            "Lead Status",
            "Create Date",
            "City",
        ],
        [
            IGNORE,
            "first_name",
            "last_name",
            "email",
            "phone",
            "owner_email",
            "status",
            "created_at",
            "city",
        ],
    ),
    "salesforce": (
        [
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "MobilePhone",
            "MailingStreet",
            "MailingCity",
            "MailingState",
            "MailingPostalCode",
            "MailingCountry",
            "LeadSource",
            "HasOptedOutOfEmail",
            "OwnerId",
            "CreatedDate",
            "Description",
        ],
        [
            "first_name",
            "last_name",
            "email",
            "phone",
            "phone",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "source",
            "email_opt_out",
            IGNORE,  # a Salesforce record id, not a user here
            "created_at",
            "notes",
        ],
    ),
    "zoho": (
        [
            "First Name",
            "Last Name",
            "Email",
            "Mobile",
            "Mailing Street",
            "Mailing City",
            "Mailing State",
            "Mailing Zip",
            "Lead Source",
            "Contact Owner",
            "Email Opt Out",
        ],
        [
            "first_name",
            "last_name",
            "email",
            "phone",
            "street",
            "city",
            "region",
            "postal_code",
            "source",
            "owner_email",
            "email_opt_out",
        ],
    ),
    "google": (
        [
            "First Name",
            "Middle Name",
            "Last Name",
            "E-mail 1 - Label",
            "E-mail 1 - Value",
            "Phone 1 - Label",
            "Phone 1 - Value",
            "Address 1 - Street",
            "Address 1 - City",
            "Address 2 - Street",
            "Address 2 - City",
            "Labels",
        ],
        [
            "first_name",
            IGNORE,
            "last_name",
            IGNORE,
            "email",
            IGNORE,
            "phone",
            "street",
            "city",
            IGNORE,  # another address
            IGNORE,
            "tags",
        ],
    ),
    "outlook": (
        [
            "First Name",
            "Last Name",
            "E-mail Address",
            "E-mail 2 Address",
            "Mobile Phone",
            "Home Phone",
            "Business Phone",
            "Business Street",
            "Business Street 2",
            "Business City",
            "Home Street",
            "Home City",
        ],
        [
            "first_name",
            "last_name",
            "email",
            "email",
            "phone",
            "phone",
            "phone",
            "street",
            "street",  # the same address's second line
            "city",
            IGNORE,  # the home address
            IGNORE,
        ],
    ),
    "jobber": (
        [
            "J-ID",
            "Created Date",
            "Is Company?",
            "Display Name",
            "First Name",
            "Last Name",
            "Main Phone #s",
            "Mobile Phone #s",
            "E-mails",
            "Tags",
            "Lead Source",
            "Billing Street 1",
            "Billing City",
            "Billing State",
            "Billing Zip code",
        ],
        [
            IGNORE,
            "created_at",
            IGNORE,
            "full_name",  # fills in what first and last name leave blank
            "first_name",
            "last_name",
            "phone",
            "phone",
            "email",
            "tags",
            "source",
            "street",
            "city",
            "region",
            "postal_code",
        ],
    ),
    "odoo": (
        ["Name", "Email", "Phone", "Street", "ZIP", "City", "State", "Country"],
        [
            "full_name",
            "email",
            "phone",
            "street",
            "postal_code",
            "city",
            "region",
            "country",
        ],
    ),
    "plain upper case": (["NAME", "EMAIL", "PHONE"], ["full_name", "email", "phone"]),
}


@pytest.mark.parametrize("name", FORMATS)
def test_headers_of_common_exports_are_guessed(name: str) -> None:
    headers, expected = FORMATS[name]

    assert guess_mapping(headers) == expected


def test_every_column_of_our_own_export_is_mapped() -> None:
    assert IGNORE not in guess_mapping(list(EXPORT_HEADERS))


def test_saved_mapping_wins_over_the_guess() -> None:
    saved = {"email": "ignore", "mobile": "phone"}

    assert guess_mapping(["EMAIL", "Mobile"], saved) == [IGNORE, "phone"]
