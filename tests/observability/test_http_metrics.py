"""Requests are counted and timed by route (the URL pattern, never the path with its ids), method and
status; database and cache calls are timed."""

import re
import uuid

import pytest

from tests.factories import MarketFactory

UUID_OR_NUMBER = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}|\d{3,}")


@pytest.mark.django_db
def test_requests_are_counted_by_route_method_and_status(scrape, api_client):
    market = MarketFactory()
    before = scrape()
    for _ in range(3):
        assert api_client.get(f"/api/v1/markets/{market.pk}").status_code == 200
    assert api_client.get(f"/api/v1/markets/{uuid.uuid4()}").status_code == 404
    after = scrape()

    route = "api/v1/markets/<str:market_id>"
    counted = after.value("thisthat_http_requests_total", route=route, method="GET", status="200")
    assert counted - before.value("thisthat_http_requests_total", route=route, method="GET", status="200") == 3
    missing = after.value("thisthat_http_requests_total", route=route, method="GET", status="404")
    assert missing - before.value("thisthat_http_requests_total", route=route, method="GET", status="404") == 1
    timed = after.value("thisthat_http_request_duration_seconds_count", route=route, method="GET")
    assert timed - before.value("thisthat_http_request_duration_seconds_count", route=route, method="GET") == 4
    # p95 > 1 s needs a bucket edge at 1 s.
    assert (
        "thisthat_http_request_duration_seconds_bucket",
        (("le", "1.0"), ("method", "GET"), ("route", route)),
    ) in after


@pytest.mark.django_db
def test_route_labels_never_carry_ids(scrape, api_client, auth_client, user):
    market = MarketFactory()
    api_client.get(f"/api/v1/markets/{market.pk}/history")
    api_client.get(f"/api/v1/users/{user.pk}")
    auth_client.get(f"/api/v1/bets/{uuid.uuid4()}")
    api_client.get(f"/api/v1/no/such/{uuid.uuid4()}/1234567")
    api_client.get("/static/thisthat/admin.css?v=123456")
    routes = {labels["route"] for labels in scrape().labels_of("thisthat_http_requests_total")}
    assert "api/v1/markets/<str:market_id>/history" in routes
    assert "<unmatched>" in routes
    assert not [route for route in routes if UUID_OR_NUMBER.search(route)]


@pytest.mark.django_db
def test_invented_methods_share_one_label(scrape, api_client):
    api_client.generic("BREW", "/health")
    methods = {labels["method"] for labels in scrape().labels_of("thisthat_http_requests_total")}
    assert "BREW" not in methods
    assert "other" in methods


@pytest.mark.django_db
def test_server_errors_are_counted_as_5xx(scrape, api_client, monkeypatch):
    from thisthat import ops

    def broken(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(ops.HealthApi, "get", broken)
    before = scrape().value("thisthat_http_requests_total", route="health", method="GET", status="500")
    assert api_client.get("/health").status_code == 500
    after = scrape().value("thisthat_http_requests_total", route="health", method="GET", status="500")
    assert after - before == 1


@pytest.mark.django_db
def test_database_and_cache_calls_are_timed(scrape, api_client):
    before = scrape()
    api_client.get("/api/v1/markets")
    after = scrape()
    selects = "thisthat_db_query_duration_seconds_count"
    assert after.value(selects, alias="default", statement="select") > before.value(
        selects, alias="default", statement="select"
    )
    gets = "thisthat_cache_call_duration_seconds_count"
    assert after.value(gets, call="get") > before.value(gets, call="get")
