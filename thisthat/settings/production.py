"""Production settings: refuse to start with DEBUG on or with development secrets."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASE_URL,
    DATABASES,
    DEBUG,
    EMAIL_BACKEND,
    FRONTEND_URL,
    JWT_SIGNING_KEY,
    REDIS_URL,
    SECRET_KEY,
    X_CLIENT_ID,
    X_REDIRECT_URI,
    env,
)

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not DATABASE_URL or not REDIS_URL:
    raise ImproperlyConfigured(
        "Production needs DATABASE_URL (PostgreSQL) and REDIS_URL (shared limits, locks, broker)."
    )
if EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend")):
    # Reset emails carry one-time login tokens: they must reach users, not the logs.
    raise ImproperlyConfigured("Set EMAIL_URL to a real mail server (e.g. smtp+tls://user:pass@host:587).")
for _name, _value in (("SECRET_KEY", SECRET_KEY), ("JWT_SIGNING_KEY", JWT_SIGNING_KEY)):
    if _value.startswith(("dev-", "test-", "django-insecure")) or len(_value) < 50:
        raise ImproperlyConfigured(f"{_name} looks like a development value; set a random 50+ character secret.")
if X_CLIENT_ID and not all(url.startswith("https://") for url in (X_REDIRECT_URI, FRONTEND_URL)):
    # The callback carries X's code and the redirect our one-time exchange code: https only.
    raise ImproperlyConfigured("With X_CLIENT_ID set, X_REDIRECT_URI and FRONTEND_URL must be https:// URLs.")

# PostgreSQL through Django's psycopg pool: each process keeps DB_POOL_MIN_SIZE..DB_POOL_MAX_SIZE
# connections (the PRD allows 20 per process) and lends one to a request for its duration, waiting up
# to DB_POOL_TIMEOUT s when all are lent. A lent connection is not checked with a query first
# (DB_CONN_HEALTH_CHECKS=true does that: a round trip per request, 13-19 % of a profiled read); one
# the server dropped fails its request and is discarded. DB_POOL=false keeps a connection per thread
# instead (DB_CONN_MAX_AGE), at most WEB_THREADS per process.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
if env.bool("DB_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
