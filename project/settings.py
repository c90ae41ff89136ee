"""Settings of the dbgov demo project.

Connection strings come from the environment so that the same project runs on a
laptop, in CI and against private service instances started by scripts/services.sh:

- DATABASE_URL          the database dbgov governs (default: local dbgov_demo)
- STAGING_DATABASE_URL  the staging database rehearsals copy (default: local dbgov_staging)
- REDIS_URL             the Celery broker (default: local Redis, db 0)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dbgov-demo-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pgtrigger",
    "dbgov",
    "project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

_LOCAL_PG = "postgres://postgres@127.0.0.1:5432"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"{_LOCAL_PG}/dbgov_demo"), conn_max_age=0
    ),
    "staging": dj_database_url.parse(
        os.environ.get("STAGING_DATABASE_URL", f"{_LOCAL_PG}/dbgov_staging"), conn_max_age=0
    ),
}
# Only the default alias holds dbgov's own tables and the demo app; staging is
# reached by the rehearsal worker, never migrated by `manage.py migrate`.
DATABASE_ROUTERS = ["project.routers.StagingRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "build" / "static"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

DBGOV = {
    # dbgov itself lives in this repository; its own migrations are not the team's.
    "CONVENTION_APPS": ["shop"],
    "STAGING_DATABASE": "staging",
    "ENVIRONMENT": os.environ.get("DBGOV_ENVIRONMENT", "dev"),
    # the gated migrate (docs/governance.md); off unless the environment turns it on
    "ENFORCE_ON_MIGRATE": os.environ.get("DBGOV_ENFORCE_ON_MIGRATE", "0") == "1",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"dbgov": {"handlers": ["stderr"], "level": "WARNING"}},
}
