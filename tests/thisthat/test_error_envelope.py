"""Every failure, from every layer, is rendered as the one error envelope of SPEC §4."""

import time

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client
from rest_framework.test import APIClient

from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

BOOM = "kaboom-secret-internal-detail"


def _boom(*args, **kwargs):
    raise RuntimeError(BOOM)


def _assert_no_internals(response) -> None:
    text = response.content.decode()
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert BOOM not in text
    assert 'File "' not in text


# --- 404 -----------------------------------------------------------------------------------------
def test_unknown_url_under_api_v1_is_a_json_404(api_client):
    response = api_client.get("/api/v1/no-such-endpoint")
    assert_error(response, 404, "NOT_FOUND")
    assert response["Content-Type"].startswith("application/json")


def test_unknown_nested_url_under_api_v1_is_a_json_404(api_client):
    assert_error(api_client.get("/api/v1/auth/no/such/thing"), 404, "NOT_FOUND")


def test_unknown_url_outside_api_is_a_json_404(api_client):
    response = api_client.get("/definitely-not-here")
    assert_error(response, 404, "NOT_FOUND")
    assert response["Content-Type"].startswith("application/json")


def test_post_to_unknown_url_is_a_json_404_not_a_csrf_failure():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nowhere", {"a": 1}, content_type="application/json")
    assert_error(response, 404, "NOT_FOUND")


def test_unknown_user_id_is_a_404_envelope_with_its_domain_code(api_client):
    assert_error(api_client.get("/api/v1/users/00000000-0000-0000-0000-000000000000"), 404, "USER_NOT_FOUND")


# --- 405 -----------------------------------------------------------------------------------------
def test_wrong_method_is_405_method_not_allowed(api_client):
    response = api_client.get("/api/v1/auth/register")
    body = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in body["error"]


def test_wrong_method_on_authenticated_endpoint_is_405(auth_client):
    assert_error(auth_client.delete("/api/v1/users/me"), 405, "METHOD_NOT_ALLOWED")


def test_wrong_method_on_health_is_405(api_client):
    assert_error(api_client.post("/health", {}, format="json"), 405, "METHOD_NOT_ALLOWED")


# --- 400 -----------------------------------------------------------------------------------------
def test_malformed_json_body_is_400_validation_error(api_client):
    response = api_client.post("/api/v1/auth/login", data='{"email": "a@b.c", ', content_type="application/json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_json_body_that_is_not_an_object_is_400_validation_error(api_client):
    response = api_client.post("/api/v1/auth/login", data="[1, 2, 3]", content_type="application/json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_validation_error_details_are_keyed_in_camel_case(auth_client):
    response = auth_client.post("/api/v1/auth/password/change", {}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {"currentPassword", "newPassword"}
    assert all(isinstance(messages, list) and messages for messages in body["details"].values())
    assert body["error"] in body["details"]["currentPassword"] + body["details"]["newPassword"]


def test_validation_error_details_name_only_the_bad_field_in_camel_case(auth_client):
    response = auth_client.post("/api/v1/auth/password/change", {"currentPassword": "x"}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {"newPassword"}


def test_camel_case_request_fields_are_accepted_and_details_use_them(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "ab", "email": "not-an-email", "password": "s3cure-Passw0rd!"},
        format="json",
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {"username", "email"}


def test_a_body_that_is_not_utf8_is_400_validation_error(api_client):
    response = api_client.post("/api/v1/auth/login", data=b'{"email": "\xff\xfe"}', content_type="application/json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_an_oversized_json_body_is_a_client_error_not_an_internal_error(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"email": "%s@example.com", "password": "x"}' % ("a" * 2048)
    response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
    payload = response.json()
    assert set(payload) == {"error", "code", "statusCode", "details"}
    assert payload["code"] != "INTERNAL_ERROR", payload
    assert response.status_code in {400, 413}, payload
    assert payload["statusCode"] == response.status_code


# --- 415 -----------------------------------------------------------------------------------------
def test_unsupported_media_type_is_415_in_the_envelope(api_client):
    response = api_client.post("/api/v1/auth/login", data="email=a@b.c", content_type="text/plain")
    body = response.json()
    assert response.status_code == 415, body
    assert set(body) == {"error", "code", "statusCode", "details"}
    assert body["statusCode"] == 415
    assert body["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert isinstance(body["details"], dict)


# --- 401 -----------------------------------------------------------------------------------------
def test_missing_token_is_401_not_authenticated_with_www_authenticate(api_client):
    response = api_client.get("/api/v1/users/me")
    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_is_401_token_invalid_with_www_authenticate(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.get("/api/v1/users/me")
    assert_error(response, 401, "TOKEN_INVALID")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer two parts"])
def test_a_header_that_is_not_a_bearer_token_is_401_not_authenticated(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/users/me")
    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- 403 / 429 / Django-level 400 ----------------------------------------------------------------
def test_a_csrf_failure_on_a_django_form_is_a_403_envelope():
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})
    assert_error(response, 403, "PERMISSION_DENIED")


def test_throttling_is_429_rate_limit_exceeded_with_retry_after(auth_client, settings, time_machine):
    time_machine.move_to(time.time(), tick=False)  # both requests fall in one rate-limit window
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": "1/hour"}
    assert auth_client.get("/api/v1/users/me").status_code == 200
    response = auth_client.get("/api/v1/users/me")
    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) > 0
    assert body["details"]["retryAfter"] == int(response["Retry-After"])


def test_a_disallowed_host_is_a_400_envelope(api_client):
    response = api_client.get("/health", HTTP_HOST="evil.example")
    assert_error(response, 400, "VALIDATION_ERROR")


# --- 500 -----------------------------------------------------------------------------------------
def test_unhandled_exception_in_api_view_is_500_internal_error_with_request_id(monkeypatch, user):
    monkeypatch.setattr("accounts.api.services.user_update_profile", _boom)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.patch("/api/v1/users/me", {"username": "new_name"}, format="json")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert body["details"] == {"requestId": response["X-Request-ID"]}
    assert response["X-Request-ID"]
    _assert_no_internals(response)


def test_unhandled_exception_in_api_view_echoes_the_callers_request_id(monkeypatch, user):
    monkeypatch.setattr("accounts.api.services.user_update_profile", _boom)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.patch("/api/v1/users/me", {"username": "x_name"}, format="json", HTTP_X_REQUEST_ID="trace-42")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert body["details"]["requestId"] == "trace-42" == response["X-Request-ID"]


def test_unhandled_exception_in_api_view_is_logged_with_the_request_id(monkeypatch, user, caplog):
    monkeypatch.setattr("accounts.api.services.user_update_profile", _boom)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.patch("/api/v1/users/me", {"username": "new_name"}, format="json")
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert errors, "the fault must be logged with its traceback server-side"
    assert any(isinstance(r.exc_info[1], RuntimeError) for r in errors)
    assert any(getattr(r, "request_id", None) == response["X-Request-ID"] for r in errors)


def test_unhandled_exception_in_a_django_view_is_500_internal_error_with_request_id(monkeypatch):
    monkeypatch.setattr(AdminSite, "each_context", _boom)
    response = Client(raise_request_exception=False).get("/admin/login/")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert body["details"] == {"requestId": response["X-Request-ID"]}
    assert response["Content-Type"].startswith("application/json")
    _assert_no_internals(response)


def test_unhandled_exception_in_django_middleware_is_500_internal_error_with_request_id(monkeypatch):
    monkeypatch.setattr(SessionMiddleware, "process_request", _boom)
    response = Client(raise_request_exception=False).get("/api/v1/users/me", HTTP_X_REQUEST_ID="mw-fault-1")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert body["details"] == {"requestId": "mw-fault-1"}
    assert response["X-Request-ID"] == "mw-fault-1"
    _assert_no_internals(response)


@pytest.mark.parametrize("value", [123, 1.5, True, ["alice"], {"name": "alice"}])
def test_text_fields_refuse_json_values_that_are_not_strings(auth_client, value):
    response = auth_client.patch("/api/v1/users/me", {"username": value}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "username" in body["details"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/nope", "/api/v1/users/me/extra"])
def test_unknown_urls_get_the_envelope_even_with_debug_on(api_client, settings, path):
    settings.DEBUG = True  # Django would otherwise render its HTML page listing every URL pattern
    response = api_client.post(path, {"a": 1}, format="json")
    assert_error(response, 404, "NOT_FOUND")
    assert "urlpatterns" not in response.content.decode()
