"""/metrics answers only a bearer token or an allowed address, and is not in the public schema."""

import pytest
import requests
from django.test import Client

from observability.exporter import serve

from .conftest import METRICS_TOKEN


@pytest.mark.django_db
def test_anonymous_caller_is_refused_with_the_envelope(metrics_settings):
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response.json() == {
        "error": "The metrics need a bearer token (METRICS_TOKEN) or an allowed address.",
        "code": "NOT_AUTHENTICATED",
        "statusCode": 401,
        "details": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_wrong_token_is_refused(metrics_settings):
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"


@pytest.mark.django_db
def test_a_user_access_token_is_not_a_metrics_token(metrics_settings, auth_client):
    assert auth_client.get("/metrics").status_code == 403


@pytest.mark.django_db
def test_the_configured_token_reads_the_metrics(metrics_settings):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    assert b"# TYPE thisthat_http_requests_total counter" in response.content


@pytest.mark.django_db
def test_without_a_configured_token_no_token_is_accepted(metrics_settings):
    metrics_settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_allowed_networks_read_without_a_token_as_the_proxy_reports_them(metrics_settings):
    metrics_settings.NUM_PROXIES = 1
    metrics_settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    client = Client()
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 401
    # Without the proxy hop counted, a forged header is not believed.
    metrics_settings.NUM_PROXIES = 0
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 401


@pytest.mark.django_db
def test_metrics_off_is_not_found(metrics_settings):
    metrics_settings.METRICS_ENABLED = False
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_metrics_are_not_in_the_public_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert not [path for path in schema["paths"] if "metrics" in path]


@pytest.mark.django_db(transaction=True)
def test_the_worker_exporter_answers_like_the_web(metrics_settings):
    """METRICS_WORKER_PORT: the worker's own /metrics, same report, same access rule."""
    server = serve(host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        metrics_settings.METRICS_ALLOWED_IPS = []
        refused = requests.get(f"{base}/metrics", timeout=10)
        assert refused.status_code == 401
        assert refused.json()["code"] == "NOT_AUTHENTICATED"
        assert requests.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 403
        scraped = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert scraped.status_code == 200
        assert "# TYPE thisthat_celery_tasks_total counter" in scraped.text
        assert "thisthat_users " in scraped.text
        assert requests.get(f"{base}/other", timeout=10).status_code == 404
    finally:
        server.shutdown()
