from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from contacts.models import ActivityKind, Contact, Source
from tests.browser import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "Full Name,E-mail,Mobile,Remark\n"
    "José García,jose@example.com,(415) 555-0101,VIP since 2019\n"
    "Zoë Ng,zoe@example.com,'+15550102030,\n"
    "Bad Row,not-an-email,,\n"
)


def test_admin_imports_a_file_through_the_wizard(
    page, live_server, admin_user, tmp_path, settings
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = tmp_path / "leads.csv"
    upload.write_bytes(FILE.encode("utf-8"))
    page.on("dialog", lambda dialog: dialog.accept())
    login_in_browser(page, live_server, "ada", "s3cret-pass!")

    page.locator("summary", has_text="Ada").click()
    page.get_by_role("menuitem", name="Import prospects").click()
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and map fields").click()

    page.get_by_label("Field for Remark").select_option("internal_info")
    page.get_by_role("button", name="Test the file").click()
    page.locator("[data-finished=test]").wait_for()
    assert page.locator("[data-count=created]").inner_text() == "2"
    assert Contact.objects.count() == 0

    page.get_by_role("button", name="Import").click()
    page.locator("[data-finished=import]").wait_for()
    assert page.locator("[data-count=rejected]").inner_text() == "1"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert list(csv.reader(report.splitlines()))[1][:2] == ["4", "E-mail"]

    jose = Contact.objects.get(email="jose@example.com")
    assert (jose.source, jose.internal_info) == (Source.IMPORT, "VIP since 2019")
    assert jose.activities.filter(kind=ActivityKind.IMPORTED).exists()
    assert Contact.objects.filter(source=Source.IMPORT).count() == 2

    page.goto(f"{live_server.url}{reverse('prospects:list')}?source=import")
    expect(page.get_by_text("José García")).to_be_visible()
    expect(page.get_by_text("Zoë Ng")).to_be_visible()
