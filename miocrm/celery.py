"""The Celery application: tasks of every app, configured from Django settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miocrm.settings")

app = Celery("miocrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
