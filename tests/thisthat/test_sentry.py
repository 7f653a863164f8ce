"""Sentry: off without SENTRY_DSN; with one, an unhandled error reaches it tagged with the request id
the client was given, and with nothing that identifies a person. Sentry itself is a loopback
stand-in that keeps what it receives."""

import gzip
import io
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from accounts.api import MeApi
from accounts.tokens import token_pair_issue
from thisthat.logging import request_id_var
from thisthat.sentry import attach_context, sentry_init

ROOT = Path(__file__).resolve().parents[2]


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_standin():
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{server.server_address[1]}/1", _Collector.received
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: off again for the other tests
    server.shutdown()


def events(received: list[bytes]) -> list[dict]:
    found = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_sentry_is_off_without_a_dsn():
    assert sentry_sdk.get_client().dsn is None


@pytest.mark.parametrize(
    ("dsn", "expected"), [("", "None"), ("http://public@127.0.0.1:9/1", "http://public@127.0.0.1:9/1")]
)
def test_the_settings_turn_sentry_on_only_with_a_dsn(dsn, expected):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "thisthat.settings.test", "SENTRY_DSN": dsn}
    done = subprocess.run(
        [sys.executable, "-c", "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().dsn)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == expected


def wsgi_get(path: str, **headers: str) -> tuple[str, dict[str, str]]:
    """GET `path` through Django's WSGI handler, as gunicorn calls it (Sentry's Django integration
    wraps that handler: the test client's own handler would leave the event without its request)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80",
        "REMOTE_ADDR": "198.51.100.9", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        **headers,
    }  # fmt: skip
    answered: dict[str, Any] = {}

    def start_response(status: str, response_headers: list) -> None:
        answered.update(status=status, headers=dict(response_headers))

    # As Django's test client does: the test's transaction must outlive the request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(environ, start_response))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return answered["status"], answered["headers"]


@pytest.mark.django_db
def test_an_unhandled_error_reaches_sentry_with_the_request_id_and_no_personal_data(sentry_standin, user, monkeypatch):
    dsn, received = sentry_standin
    sentry_init(dsn=dsn, environment="test", traces_sample_rate=0.0)

    def broken(self, request):
        # The signed-in user's row is loaded, as by a view that fails after reading it.
        raise RuntimeError(f"the profile of {len(request.user.username)} characters broke")

    monkeypatch.setattr(MeApi, "get", broken)
    token = token_pair_issue(user=user).access_token
    status, headers = wsgi_get(
        "/api/v1/users/me",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_COOKIE="sessionid=secret-session",
        HTTP_X_DEVICE_ID="device-1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        HTTP_X_REAL_IP="203.0.113.7",
    )
    assert status.startswith("500")
    sentry_sdk.flush(timeout=10)

    [event] = events(received)
    assert event["exception"]["values"][-1]["value"] == f"the profile of {len(user.username)} characters broke"
    assert event["tags"]["request_id"] == headers["X-Request-ID"]
    assert "user" not in event
    request = event["request"]
    assert request["url"].endswith("/api/v1/users/me") and request["method"] == "GET"
    assert "cookies" not in request and "data" not in request
    assert "REMOTE_ADDR" not in request.get("env", {})
    sent = json.dumps(request)  # (not the whole event: its source context shows this test's own lines)
    for secret in ("secret-session", "device-1", "203.0.113.7", "198.51.100.9", token, user.email):
        assert secret not in sent
    sent_headers = {name.lower(): value for name, value in request["headers"].items()}
    assert sent_headers["x-device-id"] == sent_headers["x-forwarded-for"] == "[Filtered]"
    assert sent_headers["authorization"] == sent_headers["cookie"] == "[Filtered]"


def test_task_context_is_attached():
    from thisthat.logging import task_var

    token = task_var.set(("task-1", "polymarket.tasks.sync_odds"))
    request_token = request_id_var.set(None)
    try:
        event = attach_context({})
    finally:
        task_var.reset(token)
        request_id_var.reset(request_token)
    assert event["tags"] == {"task_id": "task-1", "task": "polymarket.tasks.sync_odds"}
