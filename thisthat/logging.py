"""Structured logs: every process (web, worker, beat) writes one JSON object per line through the
same formatter and filter (settings.LOGGING; `thisthat.celery` makes Celery use it too).

A line logged while serving a request carries its `request_id`; one logged inside a Celery task its
`task_id` and `task`. An exception passed as `extra={"error": exc}` (or logged with `exc_info`)
becomes `error_type` and `error` (its message), plus `upstream_url` and `upstream_status` when it or
an exception it was raised from names them (`url`, `status` attributes, e.g. Polymarket's)."""

import logging
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The one line format of every process (settings.LOGGING, and gunicorn.conf.py for gunicorn's own lines).
JSON_FORMATTER = {
    "()": "thisthat.logging.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": "time",
}

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("task", default=None)  # (task id, task name)


def error_fields(exc: BaseException) -> dict[str, Any]:
    """The log fields that describe `exc`: its type and message, and the upstream URL and HTTP status
    found on it or on the exceptions it was raised from."""
    fields: dict[str, Any] = {"error_type": type(exc).__name__, "error": str(exc)}
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        for attribute, field in (("url", "upstream_url"), ("status", "upstream_status")):
            value = getattr(cause, attribute, None)
            if value is not None and field not in fields:
                fields[field] = value
        cause = cause.__cause__ or cause.__context__
    return fields


class RequestContextFilter(logging.Filter):
    """Adds the request id (web) or the task id and name (worker) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id and not hasattr(record, "request_id"):
            record.request_id = request_id
        task = task_var.get()
        if task is not None and not hasattr(record, "task_id"):
            record.task_id, record.task = task
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, with exceptions rendered as fields (see the module docstring)."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        error = log_data.get("error")
        if isinstance(error, BaseException):
            log_data.update(error_fields(error))
        elif record.exc_info and record.exc_info[1] is not None:
            for name, value in error_fields(record.exc_info[1]).items():
                log_data.setdefault(name, value)
