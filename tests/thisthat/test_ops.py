"""Operational probes and the API documentation (SPEC §5, Operations)."""

import pytest

from tests.factories import UserFactory
from tests.helpers.assertions import assert_error
from thisthat.ops import ReadyApi

pytestmark = pytest.mark.django_db


def _fail(message: str):
    def check() -> None:
        raise ConnectionError(message)

    return check


def _ok() -> None:
    return None


# --- /health -------------------------------------------------------------------------------------
def test_health_is_ok_without_auth(api_client):
    response = api_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_ignores_a_bad_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    response = api_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_touches_no_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/health")
    assert response.status_code == 200


def test_health_is_not_rate_limited(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": "2/min"}
    statuses = {api_client.get("/health").status_code for _ in range(5)}
    assert statuses == {200}


# --- /ready --------------------------------------------------------------------------------------
def test_ready_is_ok_when_database_cache_and_broker_answer(api_client):
    response = api_client.get("/ready")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_ready_needs_no_auth_even_with_a_bad_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert api_client.get("/ready").status_code == 200


@pytest.mark.parametrize("failing", ["database", "cache", "broker"])
def test_ready_is_503_naming_the_failed_dependency(api_client, monkeypatch, failing):
    checks = dict.fromkeys(("database", "cache", "broker"), _ok)
    checks[failing] = _fail(f"{failing} is down")
    monkeypatch.setattr(ReadyApi, "checks", checks)
    response = api_client.get("/ready")
    body = assert_error(response, 503, "NOT_READY")
    assert failing in body["error"]
    # Public endpoint: the failure is named, its internals (hosts, users) stay in the log.
    assert body["details"][failing] == "error"
    assert "is down" not in response.content.decode()
    healthy = {name for name in checks if name != failing}
    assert all(body["details"][name] == "ok" for name in healthy)
    assert not any(name in body["error"] for name in healthy)


def test_ready_names_every_failed_dependency(api_client, monkeypatch):
    monkeypatch.setattr(ReadyApi, "checks", {"database": _ok, "cache": _fail("no redis"), "broker": _fail("no mq")})
    body = assert_error(api_client.get("/ready"), 503, "NOT_READY")
    assert "cache" in body["error"]
    assert "broker" in body["error"]
    assert "database" not in body["error"]


def test_ready_runs_every_check_even_after_a_failure(api_client, monkeypatch):
    ran = []

    def recording(name, fail=False):
        def check():
            ran.append(name)
            if fail:
                raise RuntimeError(name)

        return check

    monkeypatch.setattr(
        ReadyApi,
        "checks",
        {"database": recording("database", fail=True), "cache": recording("cache"), "broker": recording("broker")},
    )
    assert api_client.get("/ready").status_code == 503
    assert ran == ["database", "cache", "broker"]


def test_ready_database_check_fails_when_the_database_is_unreachable(api_client, monkeypatch):
    from thisthat import ops

    class UnreachableDatabase:
        def cursor(self):
            raise ConnectionError("database unreachable")

    monkeypatch.setattr(ops, "connection", UnreachableDatabase())
    body = assert_error(api_client.get("/ready"), 503, "NOT_READY")
    assert body["error"] == "Not ready: database."
    assert body["details"]["database"] == "error"
    assert body["details"]["cache"] == "ok"
    assert body["details"]["broker"] == "ok"


def test_ready_cache_check_fails_when_the_cache_loses_writes(api_client, monkeypatch):
    from thisthat import ops

    class ForgetfulCache:
        def set(self, *args, **kwargs):
            return None

        def get(self, *args, **kwargs):
            return None

    monkeypatch.setattr(ops, "cache", ForgetfulCache())
    body = assert_error(api_client.get("/ready"), 503, "NOT_READY")
    assert body["error"] == "Not ready: cache."
    assert body["details"]["database"] == "ok"


# --- OpenAPI -------------------------------------------------------------------------------------
@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_an_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "THISTHAT API"


def test_schema_documents_the_auth_endpoints(schema):
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/password/change",
        "/api/v1/auth/password/reset",
        "/api/v1/auth/password/reset/confirm",
    ):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/auth/register"]


def test_schema_documents_request_fields_in_camel_case(schema):
    request_body = schema["paths"]["/api/v1/auth/password/change"]["post"]["requestBody"]
    ref = request_body["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {"currentPassword", "newPassword"}


def test_schema_documents_the_error_envelope(schema):
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["properties"]) == {"error", "code", "statusCode", "details"}


def test_schema_is_served_as_yaml_by_default(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_swagger_ui_is_served_as_html(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()
    assert b"/api/schema/" in response.content


def test_every_endpoint_is_in_one_of_the_areas_listed_with_a_description(schema):
    areas = ["Auth", "Users", "Markets", "Bets", "Economy", "Leaderboard", "Operations"]
    assert [tag["name"] for tag in schema["tags"]] == areas
    assert all(tag["description"] for tag in schema["tags"])
    used = {
        (method, path): operation["tags"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert all(len(tags) == 1 and tags[0] in areas for tags in used.values()), used
    assert {tags[0] for tags in used.values()} == set(areas)  # none is empty


@pytest.mark.parametrize(
    ("method", "path", "area"),
    [
        ("post", "/api/v1/auth/login", "Auth"),
        ("patch", "/api/v1/users/me", "Users"),
        ("get", "/api/v1/markets/{market_id}/live", "Markets"),
        ("post", "/api/v1/markets/ingest", "Operations"),
        ("post", "/api/v1/bets/{bet_id}/sell", "Bets"),
        ("get", "/api/v1/economy/portfolio", "Economy"),
        ("post", "/api/v1/purchases", "Economy"),
        ("get", "/api/v1/leaderboard/me", "Leaderboard"),
        ("get", "/api/v1/monitoring/external-apis", "Operations"),
        ("get", "/ready", "Operations"),
    ],
)
def test_endpoints_are_tagged_by_area(schema, method, path, area):
    assert schema["paths"][path][method]["tags"] == [area]


# --- the index and the admin's "View site" ---------------------------------------------------------
def test_the_root_url_points_to_the_docs_schema_admin_and_probes(api_client):
    response = api_client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    links = response.json()["links"]
    assert links == {
        "docs": "http://testserver/api/docs/",
        "schema": "http://testserver/api/schema/",
        "api": "http://testserver/api/v1/",
        "admin": "http://testserver/admin/",
        "health": "http://testserver/health",
        "ready": "http://testserver/ready",
    }
    for name in ("docs", "schema", "health"):
        assert api_client.get(links[name]).status_code == 200, name
    assert api_client.get(links["admin"]).status_code == 302  # to the login page


def test_the_index_is_not_part_of_the_api_schema(schema):
    assert "/" not in schema["paths"]


def test_the_admins_view_site_link_opens_the_api_docs(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/")

    assert page.status_code == 200
    assert page.context["site_url"] == "/api/docs/"
    assert b'<a href="/api/docs/">View site</a>' in page.content
