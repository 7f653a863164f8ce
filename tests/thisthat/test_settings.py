"""Run modes and their safety rails (SPEC §3), each checked in a fresh interpreter.

Every subprocess runs with a clean environment (none of the variables the test settings export) and
without writing bytecode, so importing embedded-mode settings leaves nothing in the repository
outside var/ (where embedded mode keeps its state by design). Nothing here migrates or serves.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

REPO = Path(__file__).resolve().parents[2]
VAR_DIR = REPO / "var"
STRIPPED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/thisthat"
REDIS_URL = "redis://127.0.0.1:6379/0"

PRINT_SETTINGS = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = {module!r}
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({{
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"],
    "DB_NAME": str(db["NAME"]),
    "DB_OPTIONS": db.get("OPTIONS", {{}}),
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "BROKER_URL": settings.CELERY_BROKER_URL,
    "BROKER_OPTIONS": getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {{}}),
    "SECRET_KEY_LEN": len(settings.SECRET_KEY),
}}, default=str))
"""


def is_backend(configured: str, expected: str) -> bool:
    """The configured cache backend is `expected`, or its timed subclass (observability.cache, with
    METRICS_ENABLED)."""
    return issubclass(import_string(configured), import_string(expected))


def _strong_secret() -> str:
    return secrets.token_urlsafe(48)[:64]


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in STRIPPED}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def _run(args: list[str], **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=_env(**extra_env), capture_output=True, text=True, timeout=120
    )


def _load_settings(module: str, **extra_env: str) -> subprocess.CompletedProcess:
    return _run(["-c", PRINT_SETTINGS.format(module=module)], **extra_env)


def _loaded(module: str, **extra_env: str) -> dict:
    result = _load_settings(module, **extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _production_env(**overrides: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "thisthat.settings.production",
        "DATABASE_URL": POSTGRES_URL,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": _strong_secret(),
        "JWT_SIGNING_KEY": _strong_secret(),
        "EMAIL_URL": "smtp+tls://mailer:secret@mail.example.com:587",
        **overrides,
    }


# --- embedded mode -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def embedded() -> dict:
    return _loaded("thisthat.settings.local")


def test_embedded_mode_uses_sqlite_in_var(embedded):
    assert embedded["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(embedded["DB_NAME"]).parent == VAR_DIR


def test_embedded_mode_sqlite_takes_the_write_lock_up_front(embedded):
    assert embedded["DB_OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_embedded_mode_uses_the_database_cache(embedded):
    assert is_backend(embedded["CACHE_BACKEND"], "django.core.cache.backends.db.DatabaseCache")


def test_embedded_mode_uses_a_filesystem_broker(embedded):
    assert embedded["BROKER_URL"].startswith("filesystem://")


def test_embedded_mode_keeps_every_broker_folder_under_var(embedded):
    # kombu's filesystem transport writes its exchange tables to `control_folder`, which defaults
    # to ./control — the repository root when a worker is started from it.
    options = embedded["BROKER_OPTIONS"]
    folders = {key: value for key, value in options.items() if key.endswith("_folder") or "folder_" in key}
    assert {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"} <= set(folders)
    for key, folder in folders.items():
        assert Path(folder).is_relative_to(VAR_DIR), (key, folder)


def test_embedded_mode_has_debug_on_and_a_generated_secret(embedded):
    assert embedded["DEBUG"] is True
    assert embedded["SECRET_KEY_LEN"] >= 50


def test_debug_can_be_switched_off_in_embedded_mode_if_secrets_are_given():
    values = _loaded(
        "thisthat.settings.local", DEBUG="false", SECRET_KEY=_strong_secret(), JWT_SIGNING_KEY=_strong_secret()
    )
    assert values["DEBUG"] is False
    assert values["ENGINE"] == "django.db.backends.sqlite3"


def test_embedded_mode_without_debug_refuses_to_start_without_secret_key():
    _refused(_load_settings("thisthat.settings.local", DEBUG="false"), "SECRET_KEY")


# --- server mode (PostgreSQL + Redis) ------------------------------------------------------------
def test_with_database_and_redis_urls_settings_use_postgresql_and_redis_with_debug_off():
    values = _loaded(
        "thisthat.settings.local",
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=_strong_secret(),
        JWT_SIGNING_KEY=_strong_secret(),
    )
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["DB_NAME"] == "thisthat"
    assert is_backend(values["CACHE_BACKEND"], "django_redis.cache.RedisCache")
    assert values["BROKER_URL"] == REDIS_URL
    assert values["DEBUG"] is False


def test_server_mode_refuses_to_start_without_secret_key():
    result = _load_settings(
        "thisthat.settings.local", DATABASE_URL=POSTGRES_URL, REDIS_URL=REDIS_URL, JWT_SIGNING_KEY=_strong_secret()
    )
    _refused(result, "SECRET_KEY")


def test_server_mode_refuses_to_start_without_jwt_signing_key():
    result = _load_settings(
        "thisthat.settings.local", DATABASE_URL=POSTGRES_URL, REDIS_URL=REDIS_URL, SECRET_KEY=_strong_secret()
    )
    _refused(result, "JWT_SIGNING_KEY")


def test_database_url_alone_leaves_embedded_mode_and_debug_off():
    result = _load_settings("thisthat.settings.local", DATABASE_URL=POSTGRES_URL)
    _refused(result, "SECRET_KEY")


# --- production ----------------------------------------------------------------------------------
def test_production_loads_with_strong_secrets():
    values = _loaded("thisthat.settings.production", **_production_env())
    assert values["DEBUG"] is False
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert is_backend(values["CACHE_BACKEND"], "django_redis.cache.RedisCache")


def test_production_refuses_debug_on():
    _refused(_load_settings("thisthat.settings.production", **_production_env(DEBUG="true")), "DEBUG")


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize(
    "weak",
    [
        "short-secret",
        "x" * 49,
        "dev-" + "a" * 60,
        "test-" + "b" * 60,
        "django-insecure-" + "c" * 60,
    ],
)
def test_production_refuses_a_weak_or_development_secret(name, weak):
    _refused(_load_settings("thisthat.settings.production", **_production_env(**{name: weak})), name)


@pytest.mark.parametrize("email_url", ["consolemail://", "memorymail://"])
def test_production_refuses_an_email_backend_that_never_delivers(email_url):
    _refused(_load_settings("thisthat.settings.production", **_production_env(EMAIL_URL=email_url)), "EMAIL_URL")


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_run_without_postgres_and_redis(missing):
    env = _production_env()
    env.pop(missing)
    _refused(_load_settings("thisthat.settings.production", **env), missing)


@pytest.mark.parametrize("rate", ["10/hr", "ten/min", "30"])
def test_a_malformed_rate_limit_setting_stops_startup(rate):
    _refused(_load_settings("thisthat.settings.local", RATE_LIMIT_LOGIN=rate), "RATE_LIMIT_LOGIN")


def test_production_refuses_to_start_without_secrets():
    env = _production_env()
    del env["SECRET_KEY"]
    _refused(_load_settings("thisthat.settings.production", **env), "SECRET_KEY")


def test_production_passes_the_django_deploy_checks():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_deploy_checks_flag_a_missing_https_redirect():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env(SECURE_SSL_REDIRECT="false")
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
for path in ("/health", "/api/v1/users/me"):
    response = client.get(path, HTTP_HOST="localhost", HTTP_X_REQUEST_ID="probe-" + path.strip("/").replace("/", "-"))
    print(json.dumps([path, response.status_code, response.get("Location"), response.get("X-Request-ID")]))
"""


@pytest.fixture(scope="module")
def production_probe() -> subprocess.CompletedProcess:
    result = _run(["-c", PRODUCTION_PROBE], **_production_env())
    assert result.returncode == 0, result.stderr
    return result


def test_production_redirects_plain_http_api_calls_to_https(production_probe):
    answers = {
        path: (status, location) for path, status, location, _ in map(json.loads, production_probe.stdout.splitlines())
    }
    assert answers["/api/v1/users/me"] == (301, "https://localhost/api/v1/users/me")


def test_production_serves_health_over_plain_http_for_probes(production_probe):
    answers = {path: status for path, status, _, _ in map(json.loads, production_probe.stdout.splitlines())}
    assert answers["/health"] == 200


def test_production_writes_one_json_log_line_per_request(production_probe):
    lines = [json.loads(line) for line in production_probe.stderr.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "thisthat.request"]
    assert [(r["path"], r["status"], r["request_id"]) for r in requests] == [
        ("/health", 200, "probe-health"),
        ("/api/v1/users/me", 301, "probe-api-v1-users-me"),
    ]
    for record in requests:
        assert record["level"] == "INFO"
        assert record["method"] == "GET"
        assert record["user_id"] is None
        assert isinstance(record["duration_ms"], int | float)
        assert "time" in record


def test_a_metrics_allowlist_entry_that_is_no_address_stops_the_start():
    result = _load_settings("thisthat.settings.production", **_production_env(METRICS_ALLOWED_IPS="10.0.0.0/8,nope"))

    _refused(result, "METRICS_ALLOWED_IPS", "'nope'")
