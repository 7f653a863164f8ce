"""Sentry: off without SENTRY_DSN; with one, an unhandled error reaches it tagged with the request id
the client was given, and with nothing that identifies a person. Sentry itself is a loopback
stand-in that keeps what it receives."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sentry_sdk

from thisthat import ops
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


@pytest.mark.django_db
def test_an_unhandled_error_reaches_sentry_with_the_request_id_and_no_personal_data(
    sentry_standin, auth_client, monkeypatch
):
    dsn, received = sentry_standin
    sentry_init(dsn=dsn, environment="test", traces_sample_rate=0.0)

    def broken(self, request):
        raise RuntimeError("the health check broke")

    monkeypatch.setattr(ops.HealthApi, "get", broken)
    response = auth_client.get("/health", HTTP_COOKIE="sessionid=secret-session", HTTP_X_DEVICE_ID="device-1")
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)

    [event] = events(received)
    assert event["exception"]["values"][-1]["value"] == "the health check broke"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert "user" not in event
    request = event["request"]
    assert "cookies" not in request and "data" not in request and "env" not in request
    assert not {name.lower() for name in request.get("headers", {})} & {"authorization", "cookie", "x-device-id"}


def test_task_context_is_attached():
    from thisthat.logging import task_var

    token = task_var.set(("task-1", "polymarket.tasks.sync_odds"))
    request_token = request_id_var.set(None)
    try:
        event = attach_context({"user": {"email": "someone@example.com"}})
    finally:
        task_var.reset(token)
        request_id_var.reset(request_token)
    assert event["tags"] == {"task_id": "task-1", "task": "polymarket.tasks.sync_odds"}
    assert "user" not in event
