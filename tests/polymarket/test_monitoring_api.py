import pytest
import responses
from django.test import override_settings

from polymarket.connection import circuit_breaker, rate_limiter
from polymarket.services import markets_ingest
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.polymarket import CLOB, GAMMA
from tests.polymarket.payloads import gamma_rows

pytestmark = pytest.mark.django_db
ENDPOINTS = [
    "/api/v1/monitoring/external-apis",
    "/api/v1/monitoring/polymarket-rate-limit",
    "/api/v1/monitoring/polymarket-circuit-breaker",
]


@pytest.fixture
def staff_client(client_for):
    return client_for(UserFactory(is_staff=True))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_monitoring_is_for_staff_only(url, api_client, auth_client):
    assert_error(api_client.get(url), 401, "NOT_AUTHENTICATED")
    assert_error(auth_client.get(url), 403, "PERMISSION_DENIED")


def test_external_apis_reports_breaker_rate_limit_and_last_successes(staff_client):
    body = staff_client.get("/api/v1/monitoring/external-apis").json()

    polymarket = body["polymarket"]
    assert polymarket["circuitBreaker"]["state"] == "closed"
    assert polymarket["circuitBreaker"]["failureThreshold"] == 5
    assert polymarket["rateLimit"]["limitPerMinute"] == 60
    assert polymarket["lastSuccess"] == {"ingestion": None, "oddsSync": None, "resolutionPoll": None}


def test_the_breaker_endpoint_shows_an_open_breaker(staff_client):
    for _ in range(5):
        circuit_breaker().record_failure()

    body = staff_client.get("/api/v1/monitoring/polymarket-circuit-breaker").json()

    assert body["state"] == "open"
    assert body["consecutiveFailures"] == 5
    assert body["openedAt"] is not None and body["halfOpenAt"] > body["openedAt"]


def test_the_rate_limit_endpoint_counts_requests_this_minute(staff_client):
    rate_limiter().acquire(max_wait=0)
    rate_limiter().acquire(max_wait=0)

    body = staff_client.get("/api/v1/monitoring/polymarket-rate-limit").json()

    assert (body["usedThisMinute"], body["remainingThisMinute"]) == (2, 58)
    assert body["windowResetsAt"].endswith(("Z", "+00:00"))


@responses.activate
@override_settings(POLYMARKET_GAMMA_URL=GAMMA, POLYMARKET_CLOB_URL=CLOB)
def test_a_successful_ingestion_is_reported(staff_client):
    responses.get(f"{GAMMA}/markets/keyset", json={"markets": gamma_rows(1)})
    markets_ingest()

    body = staff_client.get("/api/v1/monitoring/external-apis").json()

    assert body["polymarket"]["lastSuccess"]["ingestion"] is not None
    assert body["polymarket"]["rateLimit"]["usedThisMinute"] == 1
