from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact

pytestmark = pytest.mark.django_db

FILE = "Name,Email,Phone,Notes\nAna Silva,ana@example.com,+1 415 555 0101,hi\nBad,x,,\n"


def _call(*args: str) -> str:
    out = StringIO()
    call_command("import_prospects", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_counts_and_errors_and_writes_nothing(write_csv) -> None:
    output = _call(str(write_csv(FILE)), "--dry-run")

    assert "Would import: 1 created" in output and "line 3 [Email]" in output
    assert not Contact.objects.exists()


def test_import_with_a_mapping_override(write_csv) -> None:
    output = _call(str(write_csv(FILE)), "--map", "notes=internal_info")

    assert "Imported: 1 created" in output
    assert Contact.objects.get().internal_info == "hi"


def test_unknown_column_in_map_is_an_error(write_csv) -> None:
    with pytest.raises(CommandError, match="no column named"):
        _call(str(write_csv(FILE)), "--map", "Fax=phone")


def test_skip_policy_from_the_command_line(write_csv) -> None:
    path = write_csv(FILE)
    _call(str(path))

    output = _call(str(path), "--on-duplicate", "skip")

    assert "0 created, 0 updated, 0 unchanged, 1 skipped" in output


def test_errors_file_holds_every_rejected_row(write_csv, tmp_path) -> None:
    rows = "".join(f"Bad {n},not-an-email-{n},,\n" for n in range(60))
    report = tmp_path / "errors.csv"

    output = _call(str(write_csv(FILE + rows)), "--errors", str(report))

    lines = list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines()))
    assert (len(lines), lines[1][:2]) == (62, ["3", "Email"])
    assert "... and 11 more" in output


def test_source_and_owner_of_new_prospects(write_csv, admin_user) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()

    _call(str(write_csv(FILE)), "--source", "referral", "--owner", "ADA@example.com")

    ana = Contact.objects.get()
    assert (ana.source, ana.owner) == ("referral", admin_user)


def test_unknown_owner_is_an_error(write_csv) -> None:
    with pytest.raises(CommandError, match="no active user"):
        _call(str(write_csv(FILE)), "--owner", "nobody@example.com")
