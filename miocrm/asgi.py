from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from miocrm.apps import refuse_development_secret

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miocrm.settings")

application = get_asgi_application()
refuse_development_secret()
