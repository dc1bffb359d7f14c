"""MioCRM settings, read from the environment.

Every value comes from an environment variable through django-environ, which
fails loudly on a malformed value. With DATABASE_URL unset, the project runs
on an embedded PostgreSQL kept in .local/ (see miocrm/devservices.py); with
REDIS_URL unset, Celery uses a filesystem broker in .local/ so background and
periodic work still happens without a Redis server.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()


def _secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=False)

# The "django-insecure-" prefix makes check --deploy flag a forgotten key.
_DEVELOPMENT_SECRET_KEY = "django-insecure-dev-key-only-for-debug-and-tests-0123456789"
SECRET_KEY = _secret("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    # Running without DEBUG and without a key is a deployment mistake, but
    # tests and management commands run that way too: they get the dev key,
    # and the web entry points (miocrm/wsgi.py, asgi.py) refuse to serve it.
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY
SECRET_KEY_IS_FOR_DEVELOPMENT = SECRET_KEY == _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
BUSINESS_NAME = env.str("BUSINESS_NAME", default="Sparkle Cleaning")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "django_htmx",
    "import_export",
    "anymail",
    "django_ratelimit",
    "miocrm",
    "contacts",
    "prospects",
    "inbox",
    "bookings",
    "quotes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "miocrm.urls"
WSGI_APPLICATION = "miocrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "miocrm.context_processors.navigation",
                "inbox.context_processors.unread",
            ],
        },
    },
]

# Database: DATABASE_URL, else the embedded PostgreSQL (started on demand).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from miocrm.devservices import embedded_database_settings

    DATABASES = {"default": embedded_database_settings(LOCAL_DIR / "pgdata")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis serves as cache, rate-limit store and Celery broker when configured.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://localhost//"
    _queue_dir = LOCAL_DIR / "celery-queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (LOCAL_DIR / "celery-control").mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(LOCAL_DIR / "celery-control"),
    }

SILENCED_SYSTEM_CHECKS = [
    # django-ratelimit predates Django's own Redis cache, which does support
    # the atomic increments it needs.
    "django_ratelimit.W001",
]
if not REDIS_URL:
    # Without Redis (make run, tests) the web process is a single dev server,
    # so a per-process cache counts requests correctly.
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")
RATELIMIT_VIEW = "miocrm.views.rate_limited"
# Behind the proxy every request comes from the proxy's address: limits
# count the client address it forwards instead.
RATELIMIT_IP_META_KEY = "miocrm.access.client_ip"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "capture-abandoned-bookings": {
        "task": "bookings.tasks.capture_abandoned_bookings",
        "schedule": 60.0,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files from collectstatic where the image builds them
# (STATIC_MANIFEST=1 in the Dockerfile); plain files from the app folders
# while developing and testing.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=False)
if STATIC_MANIFEST:
    _static_backend = "whitenoise.storage.CompressedManifestStaticFilesStorage"
else:
    _static_backend = "django.contrib.staticfiles.storage.StaticFilesStorage"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
MEDIA_ROOT = env.path("MEDIA_ROOT", default=LOCAL_DIR / "media")
MEDIA_URL = "media/"

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hello@example.com")
ANYMAIL = {"WEBHOOK_SECRET": _secret("ANYMAIL_WEBHOOK_SECRET", default="") or None}
# Every other ANYMAIL_<NAME> (or ANYMAIL_<NAME>_FILE) variable becomes
# ANYMAIL["<NAME>"]: the email provider's own keys, such as
# ANYMAIL_MAILGUN_API_KEY or ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY.
for _variable in sorted(os.environ):
    _name = _variable.removeprefix("ANYMAIL_").removesuffix("_FILE")
    if _variable.startswith("ANYMAIL_") and _name != "WEBHOOK_SECRET":
        ANYMAIL[_name] = _secret(f"ANYMAIL_{_name}")

# Behind a TLS-terminating proxy, trust its scheme header so that webhook
# signatures are checked against the URL the provider really called.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

# Prospects import (CSV wizard).
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=50)
# A run without progress for this long may be resumed from the wizard.
IMPORT_STALL_MINUTES = env.int("IMPORT_STALL_MINUTES", default=5)

# Booking page: drafts idle this long with an email or phone become prospects.
BOOKING_ABANDON_MINUTES = env.int("BOOKING_ABANDON_MINUTES", default=30)

# Channels. A channel without credentials shows as not connected, and
# sending on it is refused. The *_API_BASE values exist so tests can point
# adapters at a local fake server; production keeps the defaults.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = _secret("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
META_APP_SECRET = _secret("META_APP_SECRET", default="")
META_VERIFY_TOKEN = _secret("META_VERIFY_TOKEN", default="")
META_PAGE_ACCESS_TOKEN = _secret("META_PAGE_ACCESS_TOKEN", default="")
META_GRAPH_API_BASE = env.str(
    "META_GRAPH_API_BASE", default="https://graph.facebook.com/v21.0"
)
GOOGLE_BUSINESS_PARTNER_KEY = _secret("GOOGLE_BUSINESS_PARTNER_KEY", default="")
GOOGLE_BUSINESS_ACCESS_TOKEN = _secret("GOOGLE_BUSINESS_ACCESS_TOKEN", default="")
GOOGLE_BUSINESS_API_BASE = env.str(
    "GOOGLE_BUSINESS_API_BASE", default="https://businessmessages.googleapis.com/v1"
)
INBOUND_EMAIL_ADDRESS = env.str("INBOUND_EMAIL_ADDRESS", default="")
# Google checks a new webhook URL by posting {"clientToken", "secret"}: we
# echo the secret when the client token is the one configured with Google.
GOOGLE_BUSINESS_CLIENT_TOKEN = _secret("GOOGLE_BUSINESS_CLIENT_TOKEN", default="")
# Deliveries whose task was lost (the broker was down when a reply was sent)
# are queued again.
CELERY_BEAT_SCHEDULE["inbox-requeue-stalled"] = {
    "task": "inbox.tasks.requeue_stalled",
    "schedule": 120.0,
}
