from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from contacts.models import Contact
from miocrm.celery import app
from prospects.importing import services
from prospects.importing.models import ImportJob, JobStatus, Phase

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _wait_for(job: ImportJob, status: str, seconds: float = 30) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status} ({job.failure})")


def test_a_real_worker_tests_and_imports_a_file(tmp_path) -> None:
    rows = "".join(
        f"Lead {n},lead{n}@example.com,+1415555{n:04d}\n" for n in range(300)
    )
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email,Phone\n" + rows + "Bad,nope,\n")
    job = services.create_job(path=path, file_name="leads.csv")
    app.conf.task_always_eager = False

    with start_worker(app, perform_ping_check=False, pool="solo"):
        with transaction.atomic():
            services.start_run(job=job, phase=Phase.TEST)
        tested = _wait_for(job, JobStatus.TESTED)
        test_counts = dict(tested.test_counts)
        with transaction.atomic():
            services.start_run(job=job, phase=Phase.IMPORT)
        done = _wait_for(job, JobStatus.DONE)

    assert done.import_counts == test_counts
    assert (done.import_counts["created"], Contact.objects.count()) == (300, 300)
    assert done.rows_done == 301
