"""Read by gunicorn from the working directory (`make run`, the Procfile, the Docker image): its own
lines (start-up, workers booting, timeouts) in the JSON format of every other log line. Requests are
logged once, by the app (thisthat.middleware.RequestLogMiddleware, with the request id and user):
gunicorn's access line would repeat it, and building it cost 4 % of a cached listing's CPU."""

import logging

from gunicorn.glogging import Logger

from thisthat import multiproc
from thisthat.logging import JSON_FORMATTER


class AppRequestLogLogger(Logger):
    """gunicorn's logger, without the access line unless `gunicorn.access` is set to INFO."""

    def access(self, resp, req, environ, request_time) -> None:
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)


logger_class = AppRequestLogLogger
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Metrics (thisthat.multiproc): the workers record into the web's folder, emptied at start; a dead
# worker's in-flight gauge goes with it.
multiproc.use("web")


def on_starting(server) -> None:
    multiproc.wipe()


def child_exit(server, worker) -> None:
    multiproc.process_dead(worker.pid)
