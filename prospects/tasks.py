"""Celery finds `<app>.tasks`: the import wizard's tasks live in its package."""

from __future__ import annotations

from prospects.importing.tasks import run_import_job

__all__ = ["run_import_job"]
