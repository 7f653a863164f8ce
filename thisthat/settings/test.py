"""Test settings: always the real PostgreSQL and Redis of this machine (never SQLite or a fake cache)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thisthat")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 30)
os.environ.setdefault("JWT_SIGNING_KEY", "test-jwt-signing-key-not-for-production-" + "y" * 30)
os.environ.setdefault("CACHE_KEY_PREFIX", "thisthat-test")

from .base import *  # noqa: F403

# Argon2 stays the production hasher (tested in tests/accounts); tests hash with MD5 for speed.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
