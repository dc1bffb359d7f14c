from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone

from contacts.models import Contact
from prospects.importing import engine, services
from prospects.importing.models import ImportJob, JobStatus, Phase

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = "Name,Email\n" + "".join(f"P{n},p{n}@example.com\n" for n in range(10))


def _job(write_csv) -> ImportJob:
    job = services.create_job(path=write_csv(ROWS), file_name="leads.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.TESTED)
    return job


def _crash_import_at_batch(monkeypatch, job: ImportJob, number: int) -> None:
    """Run the job's import until its worker is lost at batch `number`."""
    real_finish = engine.Engine.finish
    calls = []

    def crash(self, prepared):
        calls.append(1)
        if len(calls) == number:
            raise RuntimeError("worker lost")
        return real_finish(self, prepared)

    monkeypatch.setattr(engine.Engine, "finish", crash)
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.IMPORTING, phase="import"
    )
    with pytest.raises(RuntimeError):
        engine.run_job(job.pk, Phase.IMPORT)
    monkeypatch.setattr(engine.Engine, "finish", real_finish)


def test_a_crashed_import_resumes_after_its_last_committed_batch(
    write_csv, monkeypatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    job = _job(write_csv)
    _crash_import_at_batch(monkeypatch, job, 2)
    assert (ImportJob.objects.get().rows_done, Contact.objects.count()) == (4, 4)

    engine.run_job(job.pk, Phase.IMPORT)

    job.refresh_from_db()
    assert (job.status, job.import_counts["created"], Contact.objects.count()) == (
        JobStatus.DONE,
        10,
        10,
    )


def test_an_import_resumes_where_it_stopped_whatever_batches_it_was_cut_in(
    write_csv, monkeypatch
) -> None:
    # Six rows committed in batches of three (say, by an older release),
    # resumed in batches of four: the next batch starts at row seven.
    monkeypatch.setattr(engine, "FIRST_BATCH_SIZE", 3)
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    job = _job(write_csv)
    _crash_import_at_batch(monkeypatch, job, 3)
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    monkeypatch.setattr(engine, "FIRST_BATCH_SIZE", 4)

    engine.run_job(job.pk, Phase.IMPORT)

    job.refresh_from_db()
    assert (job.status, job.rows_done, Contact.objects.count()) == (
        JobStatus.DONE,
        10,
        10,
    )
    assert job.import_counts["created"] == 10


def test_starting_the_same_run_twice_starts_it_once(write_csv) -> None:
    job = _job(write_csv)

    with TestCase.captureOnCommitCallbacks(execute=False):
        first = services.start_run(job=job, phase=Phase.IMPORT)
        second = services.start_run(job=job, phase=Phase.IMPORT)

    assert (first, second) == (True, False)


def test_a_failing_run_is_marked_failed_with_the_reason(write_csv, monkeypatch) -> None:
    job = _job(write_csv)

    def broken(*args, **kwargs):
        raise ValueError("disk gone")

    monkeypatch.setattr("prospects.importing.tasks.run_job", broken)
    with pytest.raises(ValueError):
        services.start_run(job=job, phase=Phase.IMPORT)

    job.refresh_from_db()
    assert (job.status, job.failure) == (JobStatus.FAILED, "ValueError: disk gone")


def _crash_after_first_batch(job: ImportJob, monkeypatch) -> None:
    """Run the import until the worker dies during its second batch."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    real_finish = engine.Engine.finish
    calls = []

    def crash_on_second_batch(self, prepared):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")  # not an error the task records
        return real_finish(self, prepared)

    monkeypatch.setattr(engine.Engine, "finish", crash_on_second_batch)
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.IMPORTING, phase="import", progressed_at=timezone.now()
    )
    with pytest.raises(SystemExit):
        engine.run_job(job.pk, Phase.IMPORT)
    monkeypatch.setattr(engine.Engine, "finish", real_finish)


def test_a_stalled_import_resumes_after_its_last_committed_batch(
    write_csv, monkeypatch
) -> None:
    job = _job(write_csv)
    _crash_after_first_batch(job, monkeypatch)
    job.refresh_from_db()
    assert (job.status, job.is_stalled, job.can_resume) == (
        JobStatus.IMPORTING,
        False,
        False,
    )

    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        job.refresh_from_db()
        assert job.can_resume
        with TestCase.captureOnCommitCallbacks(execute=True):
            resumed = services.resume_run(job=job)

    job.refresh_from_db()
    assert (resumed, job.status, job.import_counts["created"]) == (
        True,
        JobStatus.DONE,
        10,
    )
    assert Contact.objects.count() == 10


def test_a_run_that_moves_cannot_be_resumed_twice(write_csv, monkeypatch) -> None:
    job = _job(write_csv)
    _crash_after_first_batch(job, monkeypatch)
    job.refresh_from_db()

    with TestCase.captureOnCommitCallbacks(execute=False):
        assert services.resume_run(job=job) is False


def test_a_failed_import_resumes_keeping_what_it_counted(
    write_csv, monkeypatch
) -> None:
    job = _job(write_csv)
    _crash_after_first_batch(job, monkeypatch)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, failure="x")
    job.refresh_from_db()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.resume_run(job=job)

    job.refresh_from_db()
    assert (job.status, job.import_counts["created"], job.failure) == (
        JobStatus.DONE,
        10,
        "",
    )
