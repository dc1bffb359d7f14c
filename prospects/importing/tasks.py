"""Background runs of an import job: the test run and the import itself."""

from __future__ import annotations

from celery import shared_task

from prospects.importing.engine import run_job
from prospects.importing.models import ImportJob, Phase
from prospects.importing.services import RUNNING, fail_job


@shared_task(acks_late=True, soft_time_limit=60 * 60, time_limit=65 * 60)
def run_import_job(job_id: int, phase: str) -> None:
    """Run a claimed job; a redelivered task resumes after the last batch."""
    if not ImportJob.objects.filter(pk=job_id, status=RUNNING[Phase(phase)]).exists():
        return
    try:
        run_job(job_id, phase)
    except Exception as error:
        fail_job(job_id, error)
        raise
