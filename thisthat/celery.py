import logging.config
import os
import sys
from contextvars import Token

from celery import Celery, signals

from . import multiproc
from .logging import task_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thisthat.settings.local")
# The worker's and beat's metrics folders (thisthat.multiproc): chosen and emptied in the main
# process, before anything records a metric and before the pool forks.
_metrics_role = multiproc.celery_role(sys.argv)
if _metrics_role is not None:
    multiproc.use(_metrics_role)
    multiproc.wipe()

app = Celery("thisthat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect  # before the worker's first warnings (e.g. about running as root)
@signals.setup_logging.connect
def _log_like_the_web(**_) -> None:
    """Worker and beat log through settings.LOGGING (JSON lines, like the web) instead of Celery's
    own plain-text format, which drops every field passed in `extra`; Python warnings too."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


# Log lines written inside a task carry its id and name (thisthat.logging.RequestContextFilter).
_task_tokens: dict[str, Token] = {}


@signals.task_prerun.connect
def _task_context_enter(task_id: str, task, **_) -> None:
    _task_tokens[task_id] = task_var.set((task_id, task.name))


@signals.task_postrun.connect
def _task_context_leave(task_id: str, **_) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        task_var.reset(token)
