"""Small but real-looking files from each tool people move from."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from tests.imports.helpers import run

pytestmark = pytest.mark.django_db

ANA = ("Ana", "García", "ana@example.com", "+14155550101", "Austin")

FILES = {
    "hubspot": (
        "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,"
        "Lead Status,Create Date,City\n"
        "1051,Ana,García,Ana@Example.com,(415) 555-0101,,Open,2024-03-01 09:30,Austin\n"
    ),
    "salesforce": (
        "FirstName,LastName,Email,Phone,MobilePhone,MailingStreet,MailingCity,"
        "LeadSource,HasOptedOutOfEmail,OwnerId,CreatedDate\n"
        "Ana,García,ana@example.com,415-555-0101,,1 Main St,Austin,Web,0,"
        "0055g00000AbCdE,2024-03-01T09:30:00.000Z\n"
    ),
    "zoho": (
        "First Name,Last Name,Email,Mobile,Mailing Street,Mailing City,"
        "Mailing State,Mailing Zip,Lead Source,Email Opt Out\n"
        "Ana,García,ana@example.com,+1 415 555 0101,1 Main St,Austin,TX,78701,"
        "Cold Call,false\n"
    ),
    "google": (
        "First Name,Middle Name,Last Name,Labels,E-mail 1 - Label,"
        "E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Address 1 - City\n"
        "Ana,,García,* myContacts ::: Clients,* Home,"
        "ana@example.com ::: ana@work.example,Mobile,+1 415-555-0101,Austin\n"
    ),
    "outlook": (
        "First Name,Last Name,E-mail Address,E-mail 2 Address,Mobile Phone,"
        "Home Phone,Business City\n"
        "Ana,García,ana@example.com,,(415) 555-0101,,Austin\n"
    ),
    "jobber": (
        "J-ID,Created Date,Is Company?,Display Name,First Name,Last Name,"
        "Main Phone #s,Mobile Phone #s,E-mails,Tags,Lead Source,Billing City\n"
        '17,03/01/2024,false,Ana García,Ana,García,"415-555-0101, 415-555-0199",'
        ',"ana@example.com, billing@example.com","vip, carpet",Google,Austin\n'
    ),
    "odoo": (
        "Name,Email,Phone,Street,ZIP,City,State,Country\n"
        "Ana García,ana@example.com,+1 (415) 555-0101,1 Main St,78701,Austin,"
        "Texas,United States\n"
    ),
    "plain, semicolons, any case": (
        "NAME;EMAIL;PHONE;CITY\nAna García;ANA@EXAMPLE.COM;4155550101;Austin\n"
    ),
}


@pytest.mark.parametrize("name", FILES)
def test_a_file_from_each_tool_creates_the_prospect(write_csv, name) -> None:
    counts, errors = run(write_csv(FILES[name]))

    ana = Contact.objects.get()
    found = (ana.first_name, ana.last_name, ana.email, ana.phone, ana.city)
    assert (counts, errors, found) == ({"created": 1}, [], ANA)


def test_several_values_of_a_cell_all_become_identifiers(write_csv) -> None:
    run(write_csv(FILES["jobber"]))

    ana = Contact.objects.get()
    assert sorted(ana.identifiers.values_list("value", flat=True)) == [
        "+14155550101",
        "+14155550199",
        "ana@example.com",
        "billing@example.com",
    ]
    assert ana.tags == ["vip", "carpet"]
