from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from miocrm.apps import refuse_development_secret

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miocrm.settings")

application = get_wsgi_application()
refuse_development_secret()
