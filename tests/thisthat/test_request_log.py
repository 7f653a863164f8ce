"""X-Request-ID on every response and one structured log line per request."""

import json
import logging
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def _request_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "thisthat.request"]


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.INFO, logger="thisthat.request")
    return caplog


# --- X-Request-ID --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/health", "/api/v1/users/me", "/api/v1/no-such-endpoint", "/not-an-api-path", "/admin/login/"],
)
def test_every_response_carries_a_generated_request_id(api_client, path):
    response = api_client.get(path)
    assert GENERATED_ID.match(response["X-Request-ID"])


def test_each_request_gets_a_different_request_id(api_client):
    first = api_client.get("/health")["X-Request-ID"]
    second = api_client.get("/health")["X-Request-ID"]
    assert first != second


def test_error_responses_carry_a_request_id(api_client):
    response = api_client.post("/api/v1/auth/login", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert GENERATED_ID.match(response["X-Request-ID"])


@pytest.mark.parametrize("supplied", ["abc-123", "trace.id_42", "A" * 64, "550e8400-e29b-41d4-a716-446655440000"])
def test_a_safe_caller_supplied_request_id_is_echoed(api_client, supplied):
    response = api_client.get("/health", HTTP_X_REQUEST_ID=supplied)
    assert response["X-Request-ID"] == supplied


@pytest.mark.parametrize(
    "supplied",
    [
        "has spaces in it",
        "A" * 200,
        "A" * 65,
        "semi;colon",
        'quote"d',
        "<script>alert(1)</script>",
        "new\\nline",
        "real\nnewline",
        "",
    ],
)
def test_an_unsafe_caller_supplied_request_id_is_replaced(api_client, supplied):
    response = api_client.get("/health", HTTP_X_REQUEST_ID=supplied)
    assert response["X-Request-ID"] != supplied
    assert GENERATED_ID.match(response["X-Request-ID"])


def test_a_request_id_with_a_trailing_newline_is_replaced_not_echoed():
    # `$` in a regex also matches just before a final "\n"; echoing that id breaks the header.
    response = Client(raise_request_exception=False).get("/health", HTTP_X_REQUEST_ID="trace-1\n")
    assert response.status_code == 200, response.content
    assert GENERATED_ID.match(response["X-Request-ID"])


# --- the request log line ------------------------------------------------------------------------
def test_one_request_log_line_per_request(api_client, request_log):
    api_client.get("/health")
    api_client.get("/api/v1/no-such-endpoint")
    records = _request_records(request_log)
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/health", 200),
        ("GET", "/api/v1/no-such-endpoint", 404),
    ]


def test_request_log_line_has_method_path_status_duration_and_request_id(api_client, request_log):
    response = api_client.get("/health", HTTP_X_REQUEST_ID="log-me-1")
    [record] = _request_records(request_log)
    assert record.levelno == logging.INFO
    assert record.method == "GET"
    assert record.path == "/health"
    assert record.status == 200
    assert isinstance(record.duration_ms, float | int)
    assert record.duration_ms >= 0
    assert record.request_id == "log-me-1" == response["X-Request-ID"]
    assert record.user_id is None


def test_request_log_line_carries_the_generated_request_id(api_client, request_log):
    response = api_client.get("/health")
    [record] = _request_records(request_log)
    assert record.request_id == response["X-Request-ID"]


def test_request_log_line_names_the_authenticated_user(auth_client, user, request_log):
    response = auth_client.get("/api/v1/users/me")
    assert response.status_code == 200
    [record] = _request_records(request_log)
    assert record.user_id == str(user.pk)
    assert record.path == "/api/v1/users/me"
    assert record.status == 200


def test_request_log_line_names_the_session_user_on_django_views(user, request_log):
    client = Client()
    client.force_login(user)
    client.get("/admin/")
    [record] = _request_records(request_log)
    assert record.user_id == str(user.pk)


def test_request_log_line_has_no_user_for_a_rejected_token(api_client, request_log):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.get("/api/v1/users/me")
    assert response.status_code == 401
    [record] = _request_records(request_log)
    assert record.user_id is None
    assert record.status == 401


def test_request_log_line_records_server_errors(monkeypatch, user, request_log):
    from rest_framework.test import APIClient

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("accounts.api.services.user_update_profile", boom)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.patch("/api/v1/users/me", {"username": "whatever"}, format="json")
    [record] = _request_records(request_log)
    assert record.status == 500
    assert record.method == "PATCH"
    assert record.request_id == response["X-Request-ID"]


def test_request_log_line_renders_as_one_json_object(api_client, user, request_log):
    api_client.get("/health", HTTP_X_REQUEST_ID="json-line-1")
    [record] = _request_records(request_log)
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    line = console.format(record)
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["logger"] == "thisthat.request"
    assert payload["level"] == "INFO"
    assert payload["method"] == "GET"
    assert payload["path"] == "/health"
    assert payload["status"] == 200
    assert payload["request_id"] == "json-line-1"
    assert "duration_ms" in payload
    assert "user_id" in payload
    assert "time" in payload


def test_log_lines_written_while_serving_carry_the_request_id(monkeypatch, api_client, caplog):
    caplog.set_level(logging.INFO)
    view_logger = logging.getLogger("thisthat.test_view")

    from thisthat.ops import HealthApi

    original = HealthApi.get

    def logging_get(self, request):
        view_logger.info("inside the view")
        return original(self, request)

    monkeypatch.setattr(HealthApi, "get", logging_get)
    response = api_client.get("/health")
    [inner] = [r for r in caplog.records if r.name == "thisthat.test_view"]
    assert inner.request_id == response["X-Request-ID"]
