"""Writes of the import wizard: store an upload, save a mapping, start runs."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from prospects.importing.columns import guess_mapping, normal_header
from prospects.importing.models import (
    ImportJob,
    JobStatus,
    Phase,
    SavedMapping,
    headers_key,
    stall_after,
)
from prospects.importing.reader import FileRejected, inspect_file

logger = logging.getLogger(__name__)

UPLOAD_DIR = "imports"
TEXT_EXTENSIONS = {".csv", ".txt", ".tsv", ""}


def max_upload_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_UPLOAD_MB", 50) * 1024 * 1024


def _check_upload(upload: UploadedFile) -> None:
    limit = getattr(settings, "IMPORT_MAX_UPLOAD_MB", 50)
    if not upload.size:
        raise FileRejected("The file is empty.")
    if upload.size > max_upload_bytes():
        raise FileRejected(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
            f"{limit} MB. Split it into smaller files."
        )
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in TEXT_EXTENSIONS:
        raise FileRejected(
            f"{suffix} files cannot be imported: export or save the data as CSV."
        )


def store_file(source: Path | UploadedFile, name: str) -> Path:
    """Copy an upload to MEDIA_ROOT in chunks; return where it is."""
    folder = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}-{get_valid_filename(name)[-80:]}"
    with target.open("wb") as out:
        for chunk in source.chunks():
            out.write(chunk)
    return target


def saved_mapping(headers: list[str]) -> dict[str, str]:
    row = SavedMapping.objects.filter(headers_hash=headers_key(headers)).first()
    return row.mapping if row else {}


def create_job(*, path: Path, file_name: str, user: Any = None) -> ImportJob:
    """Inspect a stored file and open a job for it, mapping guessed.

    Raise FileRejected (and delete the file) when it cannot be imported.
    """
    try:
        info = inspect_file(path)
    except FileRejected:
        path.unlink(missing_ok=True)
        raise
    media = Path(settings.MEDIA_ROOT)
    stored = path.relative_to(media) if path.is_relative_to(media) else path
    return ImportJob.objects.create(
        file_path=str(stored),
        file_name=file_name[:255],
        file_size=path.stat().st_size,
        encoding=info.encoding,
        delimiter=info.delimiter,
        headers=info.headers,
        samples=info.samples,
        total_rows=info.total_rows,
        mapping=guess_mapping(info.headers, saved_mapping(info.headers)),
        created_by=user if user and user.is_authenticated else None,
    )


def upload_job(*, upload: UploadedFile, user: Any) -> ImportJob:
    """Check an uploaded file, store it on disk and open a job for it."""
    _check_upload(upload)
    path = store_file(upload, upload.name or "import.csv")
    return create_job(path=path, file_name=upload.name or "import.csv", user=user)


@transaction.atomic
def save_mapping(
    *,
    job: ImportJob,
    mapping: list[str],
    on_duplicate: str,
    default_source: str,
    default_owner: Any = None,
) -> ImportJob:
    """Store the job's choices and remember the mapping for this header row."""
    job.mapping = mapping
    job.on_duplicate = on_duplicate
    job.default_source = default_source
    job.default_owner = default_owner
    job.status = JobStatus.UPLOADED
    job.test_counts = {}
    job.save()
    SavedMapping.objects.update_or_create(
        headers_hash=headers_key(job.headers),
        defaults={
            "mapping": {
                normal_header(h): f for h, f in zip(job.headers, mapping, strict=True)
            }
        },
    )
    return job


RUNNING = {Phase.TEST: JobStatus.TESTING, Phase.IMPORT: JobStatus.IMPORTING}
_START_FROM = {
    Phase.TEST: (JobStatus.UPLOADED, JobStatus.TESTED, JobStatus.FAILED),
    Phase.IMPORT: (JobStatus.TESTED,),
}


@transaction.atomic
def start_run(*, job: ImportJob, phase: str) -> bool:
    """Claim the job for a test run or the import and queue it.

    Return False when it is already running or not ready: the conditional
    update makes a double click (or two admins) start one run.
    """
    from prospects.importing.tasks import run_import_job

    changes: dict[str, Any] = {
        "status": RUNNING[Phase(phase)],
        "phase": phase,
        "rows_done": 0,
        "progressed_at": timezone.now(),
    }
    if phase == Phase.TEST:
        changes["test_counts"] = {}
    else:
        changes["import_counts"] = {}
        changes["started_at"] = timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=_START_FROM[Phase(phase)]
    ).update(**changes, failure="")
    if not claimed:
        return False
    job.errors.filter(phase=phase).delete()
    transaction.on_commit(lambda: run_import_job.delay(job.pk, phase))
    return True


@transaction.atomic
def resume_run(*, job: ImportJob) -> bool:
    """Carry on a failed or stalled run after its last committed batch.

    Return False when there is nothing to resume. Should the stalled worker
    be alive after all, the one of the two that commits the next batch first
    carries on and the other stops: each batch checks the job's progress.
    """
    from prospects.importing.tasks import run_import_job

    if not job.phase:
        return False
    phase = job.phase
    cutoff = timezone.now() - stall_after()
    claimed = (
        ImportJob.objects.filter(pk=job.pk, phase=phase)
        .filter(
            Q(status=JobStatus.FAILED)
            | Q(status=RUNNING[Phase(phase)], progressed_at__lt=cutoff)
        )
        .update(
            status=RUNNING[Phase(phase)],
            failure="",
            finished_at=None,
            progressed_at=timezone.now(),
        )
    )
    if claimed:
        transaction.on_commit(lambda: run_import_job.delay(job.pk, phase))
    return bool(claimed)


def fail_job(job_id: int, error: BaseException) -> None:
    """Mark a run as failed, keeping what its committed batches did."""
    logger.exception("Import job %s failed", job_id, exc_info=error)
    ImportJob.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        failure=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now(),
    )
