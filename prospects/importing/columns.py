"""The fields a column can fill, and guesses from the headers of common exports."""

from __future__ import annotations

import re

from prospects.exporting import COLUMNS

IGNORE = "ignore"

# Key, label, in the order the mapping select lists them.
FIELDS: list[tuple[str, str]] = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("full_name", "Full name (split)"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("phone_country", "Phone country"),
    ("street", "Street"),
    ("city", "City"),
    ("region", "Region"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("source", "Source"),
    ("status", "Status"),
    ("owner_email", "Owner email"),
    ("follow_up_on", "Follow-up date"),
    ("notes", "Notes"),
    ("internal_info", "Internal information"),
    ("email_permission", "Email permission"),
    ("sms_permission", "SMS permission"),
    ("email_opt_out", "Email opt-out (yes means no emails)"),
    ("sms_opt_out", "SMS opt-out (yes means no texts)"),
    ("created_at", "Created date"),
    ("tags", "Tags"),
    (IGNORE, "Ignore this column"),
]
FIELD_KEYS = {key for key, _ in FIELDS}
LABELS = dict(FIELDS)

# The header row of MioCRM's own export, which must re-import as it is.
EXPORT_HEADERS = COLUMNS

# Fields that take several columns (or several values in one cell).
MULTI_FIELDS = {"email", "phone", "tags", "notes", "internal_info", "street"}


def normal_header(header: str) -> str:
    """Return a header lower-cased, its punctuation and spacing collapsed."""
    text = header.replace("\ufeff", "").casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _aliases(field: str, *headers: str) -> dict[str, str]:
    return {normal_header(h): field for h in headers}


# Headers as HubSpot, Salesforce, Zoho, Google Contacts, Outlook, Jobber,
# Odoo, plain files and our own export write them; matched after
# normal_header(), so letter case and punctuation do not matter.
ALIASES: dict[str, str] = {
    **_aliases(
        "first_name", "First name", "FirstName", "Given Name", "Forename", "Prénom"
    ),
    **_aliases("last_name", "Last name", "LastName", "Surname", "Family Name", "Nom"),
    **_aliases(
        "full_name", "Name", "Full name", "Contact name", "Display Name", "Client"
    ),
    **_aliases(
        "email",
        "Email",
        "E-mail",
        "Email address",
        "E-mail Address",
        "E-mail 2 Address",
        "E-mail 3 Address",
        "Emails",
        "E-mails",
        "Secondary Email",
        "Work email",
        "Personal email",
    ),
    **_aliases(
        "phone",
        "Phone",
        "Phone number",
        "Phones",
        "Mobile",
        "MobilePhone",
        "Mobile phone",
        "Mobile phone number",
        "Mobile Phone #s",
        "Main Phone #s",
        "Main phone",
        "Work Phone #s",
        "Home Phone",
        "Home Phone 2",
        "HomePhone",
        "Business Phone",
        "Business Phone 2",
        "Other Phone",
        "Cell",
        "Cell phone",
        "Telephone",
        "Tel",
    ),
    **_aliases("phone_country", "Phone country", "Country code"),
    **_aliases(
        "street",
        "Street",
        "Street address",
        "Address",
        "Street 2",
        "MailingStreet",
        "Mailing Street",
        "Billing Street 1",
        "Billing Street 2",
        "Home Street",
        "Business Street",
        "Address line 1",
        "Address line 2",
    ),
    **_aliases(
        "city",
        "City",
        "Town",
        "MailingCity",
        "Mailing City",
        "Billing City",
        "Home City",
        "Business City",
    ),
    **_aliases(
        "region",
        "Region",
        "State",
        "State/Region",
        "State/Province",
        "Province",
        "County",
        "MailingState",
        "Mailing State",
        "Billing State",
        "Billing Province",
        "Home State",
        "Business State",
    ),
    **_aliases(
        "postal_code",
        "Postal code",
        "Postcode",
        "Zip",
        "ZIP",
        "Zip code",
        "Postal Code/ZIP",
        "MailingPostalCode",
        "Mailing Zip",
        "Billing Zip code",
        "Billing Postal code",
        "Home Postal Code",
        "Business Postal Code",
    ),
    **_aliases(
        "country",
        "Country",
        "Country/Region",
        "MailingCountry",
        "Mailing Country",
        "Billing Country",
        "Home Country/Region",
        "Business Country/Region",
    ),
    **_aliases(
        "source",
        "Source",
        "Lead source",
        "LeadSource",
        "Original Source",
        "Contact source",
    ),
    **_aliases("status", "Status", "Lead status", "Contact status"),
    **_aliases(
        "owner_email",
        "Owner email",
        "Owner",
        "Contact owner",
        "Lead owner",
        # Not Salesforce's OwnerId: a record id that names no user here.
        "Salesperson",
        "Assigned to",
    ),
    **_aliases("follow_up_on", "Follow-up date", "Follow up date", "Next follow-up"),
    **_aliases(
        "notes",
        "Notes",
        "Note",
        "Description",
        "Comments",
        "Comment",
        "Message",
        "Remarks",
    ),
    **_aliases(
        "internal_info", "Internal information", "Internal info", "Internal notes"
    ),
    **_aliases(
        "email_permission",
        "Email permission",
        "Email consent",
        "Email opt-in",
        "Marketing emails",
        "Accepts marketing",
    ),
    **_aliases("sms_permission", "SMS permission", "SMS consent", "SMS opt-in"),
    **_aliases(
        "email_opt_out",
        "Email opt-out",
        "Email Opt Out",
        "HasOptedOutOfEmail",
        "Opted out of email",
        "Unsubscribed from all email",
        "Unsubscribed",
        "Do not email",
    ),
    **_aliases("sms_opt_out", "SMS opt-out", "SMS Opt Out", "Opted out of SMS"),
    **_aliases(
        "created_at",
        "Created date",
        "Create date",
        "CreatedDate",
        "Created",
        "Created at",
        "Created time",
        "Date created",
        "Creation date",
    ),
    **_aliases("tags", "Tags", "Tag", "Labels", "Categories", "Group Membership"),
}

# Google Contacts numbers repeated columns: "E-mail 2 - Value", "Phone 1 -
# Label". Values are data; labels ("Mobile", "* myContacts") are not.
_NUMBERED = [
    # Outlook's and others' "Business Street 2", "Home Street 3"
    (re.compile(r"^(?:[a-z]+ )?street(?: \d+)?$"), "street"),
    (re.compile(r"^e ?mail \d+ value$"), "email"),
    (re.compile(r"^phone \d+ value$"), "phone"),
    (re.compile(r"^address \d+ street$"), "street"),
    (re.compile(r"^address \d+ city$"), "city"),
    (re.compile(r"^address \d+ region$"), "region"),
    (re.compile(r"^address \d+ postal code$"), "postal_code"),
    (re.compile(r"^address \d+ country$"), "country"),
]


def guess_field(header: str) -> str:
    """Return the field a header most likely fills, or "ignore"."""
    name = normal_header(header)
    if name in ALIASES:
        return ALIASES[name]
    for pattern, field in _NUMBERED:
        if pattern.match(name):
            return field
    return IGNORE


def address_family(header: str) -> str:
    """Return which address a street column belongs to ("" for a plain one).

    "Business Street 2" continues "Business Street"; "Home Street" and
    Google's "Address 2 - Street" are other addresses of the same person.
    """
    name = normal_header(header)
    if numbered := re.fullmatch(r"address (\d+) street", name):
        return f"address {numbered[1]}"
    name = re.sub(r"\s*\d+$", "", name)
    return re.sub(r"\s+", "", re.sub(r"street|address|line", "", name))


def guess_mapping(headers: list[str], saved: dict[str, str] | None = None) -> list[str]:
    """Return one field per column: the saved choice, else a guess.

    Single-valued fields take their first column only, and street columns
    only those of the first address (a home and a business street are not
    one address).
    """
    saved = saved or {}
    mapping = [saved.get(normal_header(h)) or guess_field(h) for h in headers]
    if saved:
        return [field if field in FIELD_KEYS else IGNORE for field in mapping]
    taken: set[str] = set()
    family: str | None = None
    result = []
    for header, field in zip(headers, mapping, strict=True):
        if field == "street":
            family = address_family(header) if family is None else family
            if address_family(header) != family:
                field = IGNORE
        elif field in taken and field not in MULTI_FIELDS:
            field = IGNORE
        taken.add(field)
        result.append(field)
    return result
