from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class MiocrmConfig(AppConfig):
    name = "miocrm"
    verbose_name = "MioCRM"


def refuse_development_secret() -> None:
    """Refuse to serve requests without DEBUG on the published dev key."""
    # Anyone can read the development key in this repository and forge
    # sessions with it, so a server started without SECRET_KEY stops here.
    if settings.SECRET_KEY_IS_FOR_DEVELOPMENT and not settings.DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a long"
            " random value, or DEBUG=1 for development."
        )
