from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from contacts.models import Contact
from prospects.importing.models import ImportJob, JobStatus, SavedMapping

pytestmark = pytest.mark.django_db

FILE = (
    "Full Name,E-mail,Mobile,Comment\n"
    "Ana Silva,ana@example.com,(415) 555-0101,hi\n"
    "Lee Park,not-an-email,,\n"
    "Mo Bo,mo@example.com,,\n"
)


def _upload(client, content: bytes | str = FILE, name: str = "leads.csv"):
    data = content.encode() if isinstance(content, str) else content
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(reverse("prospects:import_upload"), {"file": upload})


def _map(client, job: ImportJob, **changes: str):
    data = {f"column_{i}": field for i, field in enumerate(job.mapping)}
    data |= {"on_duplicate": "update", "default_source": "import", **changes}
    # The test run is queued on commit; run it as the request's commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("prospects:import_map", args=[job.pk]), data)


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "name", ["import_upload", "import_sample", "import_map", "import_errors"]
)
def test_staff_without_admin_cannot_import(staff_client, name) -> None:
    job = ImportJob.objects.create(file_name="x.csv", headers=["Email"])
    args = [] if name in ("import_upload", "import_sample") else [job.pk]

    response = staff_client.get(reverse(f"prospects:{name}", args=args))

    assert response.status_code == 403


def test_staff_cannot_start_an_import(staff_client) -> None:
    job = ImportJob.objects.create(
        file_name="x.csv", headers=["Email"], status=JobStatus.TESTED
    )

    response = staff_client.post(reverse("prospects:import_result", args=[job.pk]))

    assert (response.status_code, ImportJob.objects.get().status) == (403, "tested")


def test_upload_guesses_the_mapping_and_says_the_encoding(admin_client) -> None:
    response = _upload(admin_client, FILE.replace("Ana", "Zoë").encode("cp1252"))

    job = ImportJob.objects.get()
    page = admin_client.get(response.url)
    assert job.mapping == ["full_name", "email", "phone", "notes"]
    assert "Windows-1252" in page.content.decode()


def test_upload_page_lists_recent_jobs_in_constant_queries(
    admin_client, django_assert_num_queries
) -> None:
    for n in range(3):
        ImportJob.objects.create(file_name=f"{n}.csv", headers=["Email"])

    # session, user, groups (admin check), the menu's unread count, jobs
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("prospects:import_upload"))

    assert response.content.decode().count(".csv</a>") == 3


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The submitted file is empty"),
        (b"PK\x03\x04zip", "leads.csv", "Excel workbook"),
        (b"a,b\n1,2\n", "leads.xlsx", "save the data as CSV"),
        (b"Name,Email\n", "leads.csv", "no rows"),
    ],
)
def test_bad_uploads_are_rejected_with_a_clear_message(
    admin_client, content, name, message
) -> None:
    response = _upload(admin_client, content, name)

    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_too_large_upload_is_rejected(admin_client, settings) -> None:
    settings.IMPORT_MAX_UPLOAD_MB = 0

    response = _upload(admin_client)

    assert "the limit is 0 MB" in response.content.decode()


def test_wizard_tests_then_imports_with_equal_counts(admin_client) -> None:
    _upload(admin_client)
    job = ImportJob.objects.get()

    _map(admin_client, job)
    tested = ImportJob.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(reverse("prospects:import_result", args=[job.pk]))
    imported = ImportJob.objects.get()

    assert tested.status == JobStatus.TESTED and imported.status == JobStatus.DONE
    assert tested.test_counts == imported.import_counts
    assert imported.import_counts["created"] == Contact.objects.count() == 2


def test_import_is_refused_before_a_test_run(admin_client) -> None:
    _upload(admin_client)
    job = ImportJob.objects.get()

    admin_client.post(reverse("prospects:import_result", args=[job.pk]))

    assert (ImportJob.objects.get().status, Contact.objects.count()) == ("uploaded", 0)


def test_mapping_is_remembered_for_the_same_headers(admin_client) -> None:
    _upload(admin_client)
    _map(admin_client, ImportJob.objects.get(), column_3="internal_info")

    _upload(admin_client, FILE.upper())

    assert SavedMapping.objects.count() == 1
    assert ImportJob.objects.order_by("pk").last().mapping[3] == "internal_info"


def test_mapping_without_identifier_or_name_is_refused(admin_client) -> None:
    _upload(admin_client)
    job = ImportJob.objects.get()

    response = _map(
        admin_client, job, column_0="ignore", column_1="ignore", column_2="city"
    )

    assert "at least one column" in response.content.decode()


def test_error_report_lists_line_column_and_reason(admin_client) -> None:
    _upload(admin_client)
    job = ImportJob.objects.get()
    _map(admin_client, job)

    url = reverse("prospects:import_errors", args=[job.pk])
    rows = _csv(admin_client.get(url, {"phase": "test"}))

    assert rows[0] == ["Line", "Column", "Value", "Reason"]
    assert rows[1][:3] == ["3", "E-mail", "not-an-email"]


def test_test_page_lists_the_rejected_rows_with_line_column_and_reason(
    admin_client,
) -> None:
    _upload(admin_client)
    job = ImportJob.objects.get()
    _map(admin_client, job)

    page = admin_client.get(reverse("prospects:import_test", args=[job.pk]))

    row = re.search(r'<tr data-error-line="3">(.*?)</tr>', page.content.decode())
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1])
    assert cells[:3] == ["3", "E-mail", "not-an-email"] and "email" in cells[3]


def test_a_long_error_list_shows_its_first_rows_and_the_report_has_all(
    admin_client,
) -> None:
    _upload(admin_client, "Email\n" + "bad\n" * 25)
    job = ImportJob.objects.get()
    _map(admin_client, job)

    text = admin_client.get(reverse("prospects:import_test", args=[job.pk]))
    text = text.content.decode()

    assert "the first 20 of 25" in text and text.count("data-error-line") == 20
    assert "Download the error report (25 rows)" in text


def test_error_report_neutralises_formulas(admin_client) -> None:
    _upload(admin_client, 'Email\n=HYPERLINK("x")\n')
    job = ImportJob.objects.get()
    _map(admin_client, job)

    rows = _csv(admin_client.get(reverse("prospects:import_errors", args=[job.pk])))

    assert rows[1][2].startswith("'=")


def test_progress_fragment_polls_while_running(admin_client) -> None:
    job = ImportJob.objects.create(
        file_name="x.csv",
        headers=["Email"],
        status=JobStatus.IMPORTING,
        phase="import",
        total_rows=10,
        rows_done=4,
    )

    response = admin_client.get(
        reverse("prospects:import_progress", args=[job.pk]), {"phase": "import"}
    )

    body = response.content.decode()
    assert 'hx-trigger="every 1s"' in body and "4 / 10" in body


def test_sample_csv_imports_cleanly(admin_client, tmp_path) -> None:
    from tests.imports.helpers import run

    path = tmp_path / "sample.csv"
    path.write_bytes(
        b"".join(admin_client.get(reverse("prospects:import_sample")).streaming_content)
    )

    assert run(path) == ({"created": 2}, [])


def test_import_button_arrives_with_the_polled_fragment_when_the_test_ends(
    admin_client,
) -> None:
    job = ImportJob.objects.create(
        file_name="x.csv",
        headers=["Email"],
        status=JobStatus.TESTED,
        phase="test",
        test_counts={"created": 3},
    )

    response = admin_client.get(reverse("prospects:import_progress", args=[job.pk]))

    body = response.content.decode()
    assert reverse("prospects:import_result", args=[job.pk]) in body
    assert "every 1s" not in body
