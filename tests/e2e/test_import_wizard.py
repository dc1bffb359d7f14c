from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from contacts.models import ActivityKind, Contact, Source
from miocrm.celery import app
from prospects.importing import engine
from tests.browser import login_in_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

LEADS = 40
FILE = (
    "Full Name,E-mail,Mobile,Remark\n"
    "José García,jose@example.com,(415) 555-0101,VIP since 2019\n"
    "Zoë Ng,zoe@example.com,'+15550102030,\n"
    "Bad Row,not-an-email,,\n"
    + "".join(f"Lead {n},lead{n}@example.com,,\n" for n in range(LEADS))
)
TOTAL = LEADS + 3


@pytest.fixture
def worker(monkeypatch):
    """A real Celery worker, with batches small and slow enough to watch."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 5)
    finish = engine.Engine.finish

    def slow_finish(self, prepared):
        time.sleep(0.3)
        return finish(self, prepared)

    monkeypatch.setattr(engine.Engine, "finish", slow_finish)
    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, pool="solo"):
        yield


def _rows_done(page) -> int:
    text = page.locator("[data-progress]").inner_text(timeout=2000)
    return int(re.match(r"(\d+) / ", text).group(1))


def test_admin_imports_a_file_through_the_wizard(
    page, live_server, admin_user, tmp_path, settings, worker
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

    expect(page.get_by_label("Field for Full Name")).to_have_value("full_name")
    page.get_by_label("Field for Remark").select_option("internal_info")
    page.get_by_role("button", name="Test the file").click()
    page.locator("[data-finished=test]").wait_for(timeout=30_000)
    expect(page.locator("[data-count=created]")).to_have_text(str(TOTAL - 1))
    assert Contact.objects.count() == 0

    # Import, watch the progress move without a reload, leave and come back.
    page.get_by_role("button", name="Import").click()
    page.evaluate("window.notReloaded = true")
    page.wait_for_function(
        "() => /^[1-9]\\d* \\//.test("
        "document.querySelector('[data-progress]')?.textContent || '')",
        timeout=15_000,
    )
    assert 0 < _rows_done(page) < TOTAL
    assert page.evaluate("window.notReloaded") is True
    result_url = page.url
    page.goto(f"{live_server.url}/prospects/")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("link", name="leads.csv").click()
    assert page.url == result_url
    page.locator("[data-finished=import]").wait_for(timeout=30_000)
    expect(page.locator("[data-count=rejected]")).to_have_text("1")
    expect(page.locator("[data-count=created]")).to_have_text(str(TOTAL - 1))

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert list(csv.reader(report.splitlines()))[1][:2] == ["4", "E-mail"]

    jose = Contact.objects.get(email="jose@example.com")
    assert (jose.source, jose.internal_info) == (Source.IMPORT, "VIP since 2019")
    assert jose.activities.filter(kind=ActivityKind.IMPORTED).exists()

    page.get_by_role("link", name="See the prospects from Import").click()
    expect(page).to_have_url(re.compile(r"source=import"))
    expect(page.get_by_label("Import", exact=True)).to_be_checked()
    expect(page.get_by_text("José García")).to_be_visible()
    expect(page.get_by_text("Zoë Ng")).to_be_visible()
