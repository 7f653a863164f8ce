"""Every process logs the same structured JSON (issue 13): the worker and beat take settings.LOGGING
(Celery's setup_logging signal) instead of Celery's plain format that dropped the `extra` fields; a
line logged inside a task carries the task's id and name; an error is rendered as its type and
message, with the upstream URL and status where there is one."""

import io
import json
import logging

import pytest
import responses
from celery import signals

from polymarket import tasks
from tests.helpers.polymarket import GAMMA, KEYSET
from thisthat.celery import app


@pytest.fixture
def worker_log():
    """The log lines the worker would print: the logging set up as Celery sets it up in a worker
    (its setup_logging signal), written to a buffer instead of stderr."""
    root = logging.getLogger()
    saved = root.handlers[:]
    signals.setup_logging.send(sender=None, loglevel=logging.INFO, logfile=None, format="", colorize=False)
    buffer = io.StringIO()
    for handler in root.handlers:
        handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    root.handlers[:] = saved


def by_message(lines: list[dict], message: str) -> list[dict]:
    return [line for line in lines if line["message"] == message]


@pytest.mark.django_db
@responses.activate
def test_a_failing_ingestion_logs_json_lines_with_the_task_the_error_and_the_upstream_url_and_status(
    settings, worker_log
):
    settings.POLYMARKET_GAMMA_URL = GAMMA
    settings.POLYMARKET_RETRY_ATTEMPTS = 1
    responses.get(KEYSET, status=503)

    result = tasks.ingest_markets.apply()

    [failed] = by_message(worker_log(), "polymarket request failed")
    assert failed["level"] == "WARNING"
    assert failed["logger"] == "polymarket.client"
    assert failed["time"]
    assert (failed["task_id"], failed["task"]) == (result.id, "polymarket.tasks.ingest_markets")
    assert (failed["error_type"], failed["error"]) == ("UpstreamUnavailable", "HTTP 503")
    assert (failed["upstream_url"], failed["upstream_status"]) == (KEYSET, 503)
    assert failed["attempt"] == 1
    [stopped] = by_message(worker_log(), "ingestion stopped paging")
    assert stopped["logger"] == "polymarket.services"
    assert stopped["task_id"] == result.id
    assert stopped["error_type"] == "UpstreamUnavailable"
    assert stopped["error"] == f"{KEYSET}: HTTP 503 after 1 attempts"
    assert (stopped["upstream_url"], stopped["upstream_status"]) == (KEYSET, 503)
    assert stopped["page"] == 1


@pytest.mark.django_db
@responses.activate
def test_a_connection_failure_names_the_exception_and_the_url_with_no_status(settings, worker_log):
    settings.POLYMARKET_GAMMA_URL = GAMMA
    settings.POLYMARKET_RETRY_ATTEMPTS = 1  # `responses` refuses the unregistered URL: a ConnectionError

    tasks.ingest_markets.apply()

    [failed] = by_message(worker_log(), "polymarket request failed")
    assert failed["error_type"] == "UpstreamUnavailable"
    assert failed["error"].startswith("ConnectionError: ")
    assert failed["upstream_url"] == KEYSET
    assert "upstream_status" not in failed


def test_an_exception_logged_with_its_traceback_has_its_type_and_message_too(worker_log):
    try:
        raise KeyError("missing")
    except KeyError:
        logging.getLogger("thisthat.test").exception("something broke")

    [line] = by_message(worker_log(), "something broke")
    assert (line["level"], line["error_type"], line["error"]) == ("ERROR", "KeyError", "'missing'")
    assert "Traceback" in line["exc_info"]


def test_lines_outside_a_task_carry_no_task(worker_log):
    logging.getLogger("thisthat.test").info("between tasks")

    [line] = by_message(worker_log(), "between tasks")
    assert "task_id" not in line
    assert "task" not in line


def test_the_worker_and_beat_use_the_same_logging_as_the_web(settings):
    """The app the worker and beat run (thisthat.celery) sets up logging from settings.LOGGING."""
    assert app.main == "thisthat"
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        root.handlers[:] = []
        signals.setup_logging.send(sender=None, loglevel=logging.INFO, logfile=None, format="", colorize=False)
        [handler] = root.handlers
        assert type(handler.formatter).__name__ == "JsonFormatter"
        assert type(handler.formatter).__module__ == "thisthat.logging"
        assert [type(f).__name__ for f in handler.filters] == ["RequestContextFilter"]
    finally:
        root.handlers[:] = saved
