"""The import wizard: upload, map, test, import, with progress and reports."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from miocrm.access import admin_required
from prospects.importing import reports, services
from prospects.importing.forms import MappingForm, UploadForm
from prospects.importing.models import ImportJob, JobStatus, Phase
from prospects.importing.reader import FileRejected

RECENT_JOBS = 10


def _job(pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)


@admin_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.upload_job(
                upload=form.cleaned_data["file"], user=request.user
            )
        except FileRejected as error:
            form.add_error("file", str(error))
        else:
            return redirect("prospects:import_map", pk=job.pk)
    recent = ImportJob.objects.select_related("created_by")[:RECENT_JOBS]
    return render(
        request, "prospects/import/upload.html", {"form": form, "jobs": recent}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    if job.is_running or job.status == JobStatus.DONE:
        return redirect(job)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        services.save_mapping(
            job=job,
            mapping=form.mapping(),
            on_duplicate=form.cleaned_data["on_duplicate"],
            default_source=form.cleaned_data["default_source"],
            default_owner=form.cleaned_data["default_owner"],
        )
        services.start_run(job=job, phase=Phase.TEST)
        return redirect("prospects:import_test", pk=job.pk)
    return render(request, "prospects/import/map.html", {"job": job, "form": form})


@admin_required
@require_http_methods(["GET", "POST"])
def import_test(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    if request.method == "POST":
        if not services.start_run(job=job, phase=Phase.TEST):
            messages.warning(request, "A run of this file is already going.")
        return redirect("prospects:import_test", pk=job.pk)
    return render(request, "prospects/import/test.html", _context(job, Phase.TEST))


@admin_required
@require_http_methods(["GET", "POST"])
def import_result(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    if request.method == "POST":
        if services.start_run(job=job, phase=Phase.IMPORT):
            messages.info(request, "Importing: you can leave this page and come back.")
        else:
            messages.warning(request, "Test the file before importing it.")
            return redirect("prospects:import_test", pk=job.pk)
        return redirect("prospects:import_result", pk=job.pk)
    return render(request, "prospects/import/result.html", _context(job, Phase.IMPORT))


@admin_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    if services.resume_run(job=job):
        messages.info(request, "Carrying on after the last finished batch.")
    else:
        messages.warning(request, "This run is not stopped: nothing to resume.")
    return redirect(job)


@admin_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the progress fragment that htmx swaps in while a run goes on."""
    job = _job(pk)
    phase = Phase.IMPORT if request.GET.get("phase") == Phase.IMPORT else Phase.TEST
    return render(request, "prospects/import/_progress.html", _context(job, phase))


@admin_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job(pk)
    phase = Phase.IMPORT if request.GET.get("phase") == Phase.IMPORT else Phase.TEST
    name = f"{job.file_name.rsplit('.', 1)[0]}-{phase}-errors.csv"
    return reports.csv_response(reports.error_rows(job, phase), name)


@admin_required
@require_GET
def import_sample(request: HttpRequest) -> StreamingHttpResponse:
    return reports.csv_response(reports.sample_rows(), "prospects-sample.csv")


# Rejected rows listed on the page; the downloadable report has them all.
ERRORS_SHOWN = 20


def _context(job: ImportJob, phase: str) -> dict[str, object]:
    running = job.phase == phase and job.is_running
    finished = not running and (
        (phase == Phase.TEST and job.status in (JobStatus.TESTED, JobStatus.DONE))
        or (phase == Phase.IMPORT and job.status == JobStatus.DONE)
    )
    errors = job.errors.filter(phase=phase).order_by("line")
    return {
        "job": job,
        "phase": phase,
        "running": running,
        "counts": job.counts(phase),
        "error_count": errors.count(),
        "errors": list(errors[:ERRORS_SHOWN]) if finished else [],
        "finished": finished,
    }
