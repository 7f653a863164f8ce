"""CORS (SPEC §4 [hardening]): browsers may call the API from the origins in CORS_ALLOWED_ORIGINS
(none by default); a preflight is answered before authentication."""

import pytest

pytestmark = pytest.mark.django_db

WEB_APP = "https://app.thisthat.example"


@pytest.fixture
def web_app_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [WEB_APP]


def preflight(client, origin: str, headers: str = "authorization, content-type, idempotency-key"):
    return client.options(
        "/api/v1/bets",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_no_origin_is_allowed_by_default(settings):
    assert settings.CORS_ALLOWED_ORIGINS == []


def test_a_preflight_from_an_allowed_origin_is_answered_with_the_cors_headers(api_client, web_app_allowed):
    response = preflight(api_client, WEB_APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == WEB_APP
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id", "x-device-id"} <= allowed


def test_an_allowed_origin_can_read_the_headers_the_api_documents(auth_client, web_app_allowed):
    response = auth_client.get("/api/v1/users/me", HTTP_ORIGIN=WEB_APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == WEB_APP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"x-request-id", "retry-after", "idempotent-replayed"}


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.thisthat.example.evil.example", "null"])
def test_other_origins_get_no_cors_headers(api_client, web_app_allowed, origin):
    preflight_response = preflight(api_client, origin)
    response = api_client.get("/api/v1/markets", HTTP_ORIGIN=origin)

    assert "Access-Control-Allow-Origin" not in preflight_response
    assert "Access-Control-Allow-Origin" not in response
