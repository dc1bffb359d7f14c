from __future__ import annotations

from django.apps import AppConfig


class ProspectsConfig(AppConfig):
    name = "prospects"
