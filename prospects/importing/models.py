"""Import jobs: one uploaded file, its mapping, its test run and its import."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from contacts.models import Source

__all__ = ["ImportJob", "ImportRowError", "SavedMapping"]


class OnDuplicate(models.TextChoices):
    UPDATE = "update", "Fill in blanks only"
    SKIP = "skip", "Skip the row"
    OVERWRITE = "overwrite", "Overwrite with the file's values"


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    TESTING = "testing", "Testing"
    TESTED = "tested", "Tested"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class Phase(models.TextChoices):
    TEST = "test", "Test run"
    IMPORT = "import", "Import"


def stall_after() -> timedelta:
    return timedelta(minutes=settings.IMPORT_STALL_MINUTES)


def empty_counts() -> dict[str, int]:
    return {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "duplicates": 0,
        "rejected": 0,
    }


class ImportJob(models.Model):
    """A CSV file on its way in, from upload to the import's result."""

    file_path = models.CharField(max_length=500)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=32)
    delimiter = models.CharField(max_length=4)
    headers = models.JSONField(default=list)
    samples = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)

    # One field key per column, in column order ("ignore" for none).
    mapping = models.JSONField(default=list)
    on_duplicate = models.CharField(
        max_length=16, choices=OnDuplicate, default=OnDuplicate.UPDATE
    )
    default_source = models.CharField(
        max_length=32, choices=Source, default=Source.IMPORT
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    status = models.CharField(
        max_length=16, choices=JobStatus, default=JobStatus.UPLOADED
    )
    phase = models.CharField(max_length=8, choices=Phase, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    # When the running phase was started or last committed a batch.
    progressed_at = models.DateTimeField(null=True, blank=True)
    test_counts = models.JSONField(default=dict, blank=True)
    import_counts = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    tested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        """Return the wizard page the job is at."""
        if self.phase == Phase.IMPORT or self.status == JobStatus.DONE:
            name = "prospects:import_result"
        elif self.status == JobStatus.UPLOADED:
            name = "prospects:import_map"
        else:
            name = "prospects:import_test"
        return reverse(name, args=[self.pk])

    @property
    def path(self) -> Path:
        path = Path(self.file_path)
        return path if path.is_absolute() else Path(settings.MEDIA_ROOT) / path

    @property
    def encoding_label(self) -> str:
        from prospects.importing.reader import ENCODING_LABELS

        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_name(self) -> str:
        from prospects.importing.reader import DELIMITER_NAMES

        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    @property
    def is_running(self) -> bool:
        return self.status in (JobStatus.TESTING, JobStatus.IMPORTING)

    @property
    def is_stalled(self) -> bool:
        """Return True for a run that has not moved for a long while.

        A batch takes seconds; this long without one, the worker has most
        likely gone (its task is redelivered only once the broker notices).
        """
        if not self.is_running or self.progressed_at is None:
            return False
        return timezone.now() - self.progressed_at > stall_after()

    @property
    def can_resume(self) -> bool:
        failed = self.status == JobStatus.FAILED and bool(self.phase)
        return failed or self.is_stalled

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (JobStatus.TESTED, JobStatus.DONE) else 0
        return min(100, self.rows_done * 100 // self.total_rows)

    def counts(self, phase: str) -> dict[str, int]:
        stored = self.test_counts if phase == Phase.TEST else self.import_counts
        return {**empty_counts(), **(stored or {})}


class ImportRowError(models.Model):
    """A row the test run or the import rejected: where, which column, why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="errors")
    phase = models.CharField(max_length=8, choices=Phase)
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    reason = models.CharField(max_length=500)

    class Meta:
        indexes = [
            models.Index(fields=["job", "phase", "line"], name="import_error_job_line")
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def headers_key(headers: list[str]) -> str:
    """Return a key for a header row that ignores case, spacing and order."""
    names = sorted({" ".join(h.split()).casefold() for h in headers})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


class SavedMapping(models.Model):
    """The mapping last used for files with this header row."""

    headers_hash = models.CharField(max_length=64, unique=True)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.headers_hash[:12]
