from __future__ import annotations

from django.apps import AppConfig


class ProspectsConfig(AppConfig):
    name = "prospects"

    def ready(self) -> None:
        from prospects import receivers  # noqa: F401 - connects the receivers
