"""Development settings: `make run`, `manage.py`, the Celery worker and beat started locally."""

from .base import *  # noqa: F403
