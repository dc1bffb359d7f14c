from __future__ import annotations

from django.apps import AppConfig


class MiocrmConfig(AppConfig):
    name = "miocrm"
    verbose_name = "MioCRM"
