"""Settings shared by every run mode; all configuration comes from the environment (SPEC §3)."""

import ipaddress
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from thisthat import multiproc
from thisthat.dotenv import load_dotenv
from thisthat.logging import JSON_FORMATTER
from thisthat.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
load_dotenv()

# Embedded-mode state: SQLite file, broker folders, dev secrets.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
# Embedded mode runs the whole system on a machine that has only Python (SPEC §3).
EMBEDDED = not DATABASE_URL and not REDIS_URL

DEBUG = env.bool("DEBUG", default=EMBEDDED)


def _dev_secret(name: str) -> str:
    """A random secret generated once per checkout, so every local process signs alike."""
    path = VAR_DIR / f"dev-{name.lower().replace('_', '-')}"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text("dev-" + secrets.token_urlsafe(48))
    return path.read_text().strip()


def secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    return _dev_secret(name)


SECRET_KEY = secret("SECRET_KEY")
JWT_SIGNING_KEY = secret("JWT_SIGNING_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "thisthat.apps.ThisthatAdminConfig",  # django.contrib.admin with a rate-limited login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "corsheaders",
    "idempotency",
    "activity",
    "accounts",
    "markets",
    "betting",
    "economy",
    "stocks",
    "leaderboard",
    "polymarket",
    "abuse",
    "demo",
    "observability",
]

MIDDLEWARE = [
    "thisthat.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # answers preflights before authentication sees them
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "thisthat.urls"
WSGI_APPLICATION = "thisthat.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "thisthat" / "templates"],  # before the apps': admin/base_site.html
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "thisthat.sqlite3",
            # IMMEDIATE makes every transaction take the write lock up front, so concurrent
            # writers queue instead of failing with "database is locked" mid-transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (locks, counters, rate limits) ---------------------------------------------------
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="thisthat")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_entries",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    # The filesystem transport has no event loop, so a prefork pool would share one queue lock among
    # its children: a child killed by a signal sent to the whole process group (a process manager
    # stopping `make run`) dies holding it, and the worker then hangs for ever at exit. Threads have
    # no children to lose, and SQLite takes one writer at a time anyway.
    CELERY_WORKER_POOL = "threads"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Auth ------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Every token carries a digest of the password hash: any password change (API, reset,
    # admin, CLI) makes every earlier access and refresh token fail at once.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "pwd",
}
# A refresh token presented again this soon after its rotation gets the same successor pair (tabs
# refreshing together, a retried request); later, it ends its whole sign-in (accounts.tokens).
JWT_REFRESH_GRACE_SECONDS = env.int("JWT_REFRESH_GRACE_SECONDS", default=30)

# --- HTTP clients: proxies and browsers ------------------------------------------------------
# Proxies in front of the app that append to X-Forwarded-For (thisthat.http.client_address): rate
# limits and the request log use the address the outermost one saw. 0 trusts REMOTE_ADDR only.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Browser origins allowed to call the API (e.g. the web app); none by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "x-request-id", "x-device-id"]
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]
CORS_PREFLIGHT_MAX_AGE = 60 * 60

# --- REST framework --------------------------------------------------------------------------
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMITS = {
    scope: env.str(f"RATE_LIMIT_{scope.upper()}", default=rate)
    for scope, rate in {
        "register": "5/hour",
        "login": "10/hour",
        "x_login": "30/hour",  # sign in with X: start, callback and exchange each count (10 sign-ins)
        "password_reset": "5/hour",
        "admin_login": "10/hour",  # per address and per submitted account, each
        "bets": "30/min",
        "stock_trades": "30/min",  # buys and sales of virtual stocks
        "daily_reward": "5/min",
        "purchases": "5/hour",
        "default": "100/min",
    }.items()
}
for _scope, _rate in RATE_LIMITS.items():
    try:
        parse_rate(_rate)
    except ValueError as exc:
        raise ImproperlyConfigured(f"RATE_LIMIT_{_scope.upper()}: {exc}") from exc

REST_FRAMEWORK = {
    # simplejwt's bearer authentication plus the check that the token's sign-in has not ended.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["thisthat.throttling.ScopedRateLimit"],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_RENDERER_CLASSES": ["thisthat.renderers.JSONRenderer"],  # camelCase keys, encoded by orjson
    "DEFAULT_PARSER_CLASSES": ["thisthat.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "thisthat.handlers.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "thisthat.openapi.TaggedAutoSchema",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
JSON_CAMEL_CASE = {
    "JSON_UNDERSCOREIZE": {"no_underscore_before_number": True},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "THISTHAT API",
    "DESCRIPTION": "Play-money prediction markets. Every error uses one envelope: "
    '{"error", "code", "statusCode", "details"}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI opens on the list of areas (TAGS below), like a table of contents.
    "SWAGGER_UI_SETTINGS": {"docExpansion": "none", "deepLinking": True},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "CAMELIZE_NAMES": False,
    # Swagger UI's sections, in this order; thisthat.openapi.TaggedAutoSchema puts each endpoint in one.
    "TAGS": [
        {
            "name": "Auth",
            "description": "Register, log in (with a password or with X), refresh and revoke tokens, your sign-in "
            "sessions, change or reset a password.",
        },
        {"name": "Users", "description": "Your profile (and adding a password to an X account), others' profiles."},
        {
            "name": "Markets",
            "description": "The catalogue: list, search, categories, a market, its live odds and its odds history.",
        },
        {"name": "Bets", "description": "Quote and place a bet, list yours, cash one out."},
        {
            "name": "Economy",
            "description": "Daily rewards, referrals, credit packs, your transactions and portfolio, virtual stocks.",
        },
        {"name": "Leaderboard", "description": "Rankings by realised PnL and by volume, and your own standing."},
        {
            "name": "Operations",
            "description": "Health and readiness probes; staff-only ingestion and monitoring (Polymarket, abuse).",
        },
    ],
    # Name shared enums once, so a `status` or `type` field elsewhere can't collide with them.
    "ENUM_NAME_OVERRIDES": {
        "LedgerKindEnum": "economy.models.LedgerKind",
        "PurchaseStatusEnum": "economy.models.PurchaseStatus",
        "TradeSideEnum": "stocks.models.TradeSide",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
    ],
}

# --- I18N, static, email ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "thisthat" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# e.g. smtp+tls://user:password@smtp.example.com:587; the console backend prints emails (development).
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
_email = env.email_url_config(EMAIL_URL)
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
globals().update(_email)  # EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER/PASSWORD, EMAIL_USE_TLS/SSL when given
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="THISTHAT <no-reply@thisthat.local>")
# The web app: password-reset links and the end of a sign-in with X point here.
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")

# --- Product rules ---------------------------------------------------------------------------
SIGNUP_BONUS = Decimal(env.str("SIGNUP_BONUS", default="1000"))
MAX_CREDIT_BALANCE = Decimal(env.str("MAX_CREDIT_BALANCE", default="1000000"))
REFERRAL_BONUS = Decimal(env.str("REFERRAL_BONUS", default="200"))
# The referrer's bonus is paid (at most this many times) when the referred user's first bet of at
# least REFERRAL_QUALIFYING_BET is placed; the new user's bonus is paid at sign-up.
REFERRAL_MAX_BONUSES = env.int("REFERRAL_MAX_BONUSES", default=100)
REFERRAL_QUALIFYING_BET = Decimal(env.str("REFERRAL_QUALIFYING_BET", default="100"))
# Inactivity expiry (off by default): credits above SIGNUP_BONUS expire after this many days without
# a login, bet, cash-out, claim or purchase; the profile shows what would expire and when.
CREDIT_EXPIRY_ENABLED = env.bool("CREDIT_EXPIRY_ENABLED", default=False)
CREDIT_EXPIRY_DAYS = env.int("CREDIT_EXPIRY_DAYS", default=90)
# Daily reward ladder (SPEC §6): day 1 pays BASE, each consecutive UTC day STEP more, at most MAX.
DAILY_REWARD_BASE = Decimal(env.str("DAILY_REWARD_BASE", default="1000"))
DAILY_REWARD_STEP = Decimal(env.str("DAILY_REWARD_STEP", default="500"))
DAILY_REWARD_MAX = Decimal(env.str("DAILY_REWARD_MAX", default="10000"))
# Name of the payment provider for credit packs (economy.payments); "manual" settles at once.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="manual")
# Idempotency-Key records are kept at least this long (SPEC §4 asks for 24 h), then purged daily.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)

# Credits markets are priced by a market maker (markets/maker.py, LMSR): the liquidity `b` a new
# market gets unless staff choose another (the house can lose at most b·ln(0.99 / the lower starting
# odds): 683.10 credits at 1,000 from 50/50), and the most one bet may move its side's odds.
MARKET_MAKER_DEFAULT_LIQUIDITY = Decimal(env.str("MARKET_MAKER_DEFAULT_LIQUIDITY", default="1000"))
MAX_PRICE_IMPACT = Decimal(env.str("MAX_PRICE_IMPACT", default="0.20"))

# Virtual stocks (stocks/curves.py): the share of each buy's and sale's curve price the house keeps as
# a fee (0 to 0.10, rounded up to the cent; 0 by default), shown in quotes and trades.
STOCK_FEE_RATE = Decimal(env.str("STOCK_FEE_RATE", default="0"))
if not Decimal(0) <= STOCK_FEE_RATE <= Decimal("0.10"):
    raise ImproperlyConfigured(f"STOCK_FEE_RATE must lie in [0, 0.10], got {STOCK_FEE_RATE}")

# --- Anti-abuse (abuse/rules.py) -------------------------------------------------------------
# Activity signals (client address and X-Device-Id of sign-ups, logins, claims, purchases, bets,
# cash-outs and stock trades) are kept this many days, then purged daily.
ACTIVITY_RETENTION_DAYS = env.int("ACTIVITY_RETENTION_DAYS", default=90)
# The scan (every 10 minutes) looks this far back.
ABUSE_SCAN_LOOKBACK_HOURS = env.int("ABUSE_SCAN_LOOKBACK_HOURS", default=72)
# Sign-ups from one address / one device within the window.
ABUSE_SIGNUP_WINDOW_HOURS = env.int("ABUSE_SIGNUP_WINDOW_HOURS", default=24)
ABUSE_SIGNUPS_PER_ADDRESS = env.int("ABUSE_SIGNUPS_PER_ADDRESS", default=10)
ABUSE_SIGNUPS_PER_DEVICE = env.int("ABUSE_SIGNUPS_PER_DEVICE", default=3)
# Accounts claiming daily rewards from one address / one device within the window.
ABUSE_CLAIM_WINDOW_HOURS = env.int("ABUSE_CLAIM_WINDOW_HOURS", default=24)
ABUSE_CLAIM_ACCOUNTS_PER_ADDRESS = env.int("ABUSE_CLAIM_ACCOUNTS_PER_ADDRESS", default=10)
ABUSE_CLAIM_ACCOUNTS_PER_DEVICE = env.int("ABUSE_CLAIM_ACCOUNTS_PER_DEVICE", default=3)
# Accounts on one device / one address tied by referrals (a chain, or one referrer).
ABUSE_CLUSTER_ACCOUNTS_PER_DEVICE = env.int("ABUSE_CLUSTER_ACCOUNTS_PER_DEVICE", default=3)
ABUSE_CLUSTER_ACCOUNTS_PER_ADDRESS = env.int("ABUSE_CLUSTER_ACCOUNTS_PER_ADDRESS", default=5)
# Purchases by one account within the window: this many, or this many credits.
ABUSE_PURCHASE_WINDOW_HOURS = env.int("ABUSE_PURCHASE_WINDOW_HOURS", default=24)
ABUSE_PURCHASES_PER_WINDOW = env.int("ABUSE_PURCHASES_PER_WINDOW", default=10)
ABUSE_PURCHASE_CREDITS_PER_WINDOW = Decimal(env.str("ABUSE_PURCHASE_CREDITS_PER_WINDOW", default="30000"))
# Bets placed just before the odds moved their way (by ODDS_MOVE at the next sync): at least this
# many, and this share of the bettor's bets.
ABUSE_ODDS_MOVE = Decimal(env.str("ABUSE_ODDS_MOVE", default="0.05"))
ABUSE_ODDS_MOVE_BETS = env.int("ABUSE_ODDS_MOVE_BETS", default=5)
ABUSE_ODDS_MOVE_SHARE = Decimal(env.str("ABUSE_ODDS_MOVE_SHARE", default="0.6"))
# A staff adjustment above this is flagged for a second look (other kinds have their own sizes).
ABUSE_LARGE_ADJUSTMENT = Decimal(env.str("ABUSE_LARGE_ADJUSTMENT", default="10000"))
# High-severity findings of these rules suspend their accounts at once (empty: staff decide all).
ABUSE_AUTO_SUSPEND_RULES = env.list("ABUSE_AUTO_SUSPEND_RULES", default=["referral_cluster"])

# Staff accounts (the demo admin, anyone trying markets out) are left off the public leaderboards.
LEADERBOARD_EXCLUDE_STAFF = env.bool("LEADERBOARD_EXCLUDE_STAFF", default=True)

# Bets and cash-outs on Polymarket markets are priced only from odds younger than this (0 = no limit).
# Embedded mode (`make run` on a laptop, maybe offline) has no limit unless asked, so the demo
# catalogue stays tradable without Polymarket.
ODDS_MAX_AGE_SECONDS = env.int("ODDS_MAX_AGE_SECONDS", default=0 if EMBEDDED else 60)

# --- Polymarket ------------------------------------------------------------------------------
POLYMARKET_GAMMA_URL = env.str("POLYMARKET_GAMMA_URL", default="https://gamma-api.polymarket.com")
POLYMARKET_CLOB_URL = env.str("POLYMARKET_CLOB_URL", default="https://clob.polymarket.com")
POLYMARKET_RATE_LIMIT_PER_MINUTE = env.int("POLYMARKET_RATE_LIMIT_PER_MINUTE", default=60)
POLYMARKET_INGEST_MAX_MARKETS = env.int("POLYMARKET_INGEST_MAX_MARKETS", default=2000)
POLYMARKET_INGEST_PAGE_SIZE = env.int("POLYMARKET_INGEST_PAGE_SIZE", default=100)
POLYMARKET_INGEST_MAX_PAGES = env.int("POLYMARKET_INGEST_MAX_PAGES", default=500)
POLYMARKET_ODDS_BATCH_SIZE = env.int("POLYMARKET_ODDS_BATCH_SIZE", default=200)  # markets per CLOB request
POLYMARKET_ODDS_SYNC_MAX_MARKETS = env.int("POLYMARKET_ODDS_SYNC_MAX_MARKETS", default=1000)
# Markets checked per resolution poll (every 60 s): Gamma is asked about them 100 at a time.
POLYMARKET_RESOLUTION_BATCH = env.int("POLYMARKET_RESOLUTION_BATCH", default=500)
# Markets resolved from Polymarket are asked about again for this many days (up to 100 per poll, each
# at most once an hour); a final result that differs from ours is flagged for staff, never applied.
POLYMARKET_RESULT_RECHECK_DAYS = env.int("POLYMARKET_RESULT_RECHECK_DAYS", default=7)
POLYMARKET_CONNECT_TIMEOUT = env.float("POLYMARKET_CONNECT_TIMEOUT", default=3.05)
POLYMARKET_READ_TIMEOUT = env.float("POLYMARKET_READ_TIMEOUT", default=10.0)
POLYMARKET_LIVE_TIMEOUT = env.float("POLYMARKET_LIVE_TIMEOUT", default=2.0)  # read timeout when a user waits
# Requests that user reads (`/live`) may make, with their own breaker: never the jobs' budget.
POLYMARKET_LIVE_RATE_LIMIT_PER_MINUTE = env.int("POLYMARKET_LIVE_RATE_LIMIT_PER_MINUTE", default=20)
POLYMARKET_MAX_RESPONSE_BYTES = env.int("POLYMARKET_MAX_RESPONSE_BYTES", default=8 * 1024 * 1024)
POLYMARKET_RETRY_ATTEMPTS = env.int("POLYMARKET_RETRY_ATTEMPTS", default=4)
POLYMARKET_BREAKER_FAILURES = env.int("POLYMARKET_BREAKER_FAILURES", default=5)
POLYMARKET_BREAKER_RESET_SECONDS = env.int("POLYMARKET_BREAKER_RESET_SECONDS", default=60)

# --- Sign in with X (OAuth 2.0 authorization code + PKCE) --------------------------------------
# No client id: every /auth/x endpoint answers 503 X_NOT_CONFIGURED. With a secret the app is a
# confidential client (HTTP Basic at the token endpoint), without one a public client.
X_CLIENT_ID = env.str("X_CLIENT_ID", default="")
X_CLIENT_SECRET = env.str("X_CLIENT_SECRET", default="")
# Must be registered with the X app exactly as written; X sends the browser back to it.
X_REDIRECT_URI = env.str("X_REDIRECT_URI", default="http://127.0.0.1:8000/api/v1/auth/x/callback")
X_AUTHORIZE_URL = env.str("X_AUTHORIZE_URL", default="https://x.com/i/oauth2/authorize")
X_TOKEN_URL = env.str("X_TOKEN_URL", default="https://api.x.com/2/oauth2/token")
X_USERINFO_URL = env.str("X_USERINFO_URL", default="https://api.x.com/2/users/me")
# A user's browser waits on these calls, so they are short; a slow X is X_UNAVAILABLE.
X_CONNECT_TIMEOUT = env.float("X_CONNECT_TIMEOUT", default=3.05)
X_READ_TIMEOUT = env.float("X_READ_TIMEOUT", default=5.0)

# --- Logging: one JSON object per line -------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "thisthat.logging.RequestContextFilter"}},
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request log line replaces Django's own; keep its 4xx/5xx noise out.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

CSRF_FAILURE_VIEW = "thisthat.handlers.csrf_failure"

# --- Operations: metrics and error tracking (README "Operations") -----------------------------
# METRICS_ENABLED (default on) and METRICS_DIR are read from the environment by thisthat.multiproc.
METRICS_ENABLED = multiproc.enabled()
# `/metrics` answers a request with this bearer token, or from these addresses or networks (as
# thisthat.http.client_address sees them); `make run` (DEBUG) allows loopback.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"] if DEBUG else [])
for _entry in METRICS_ALLOWED_IPS:  # a typo stops the start, not every scrape
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_entry!r} is not an address or a network") from _exc
# The worker and beat answer /metrics themselves on these ports when set (hosts that do not share
# the web's METRICS_DIR); same access rule.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=None)
METRICS_BEAT_PORT = env.int("METRICS_BEAT_PORT", default=None)
METRICS_EXPORTER_HOST = env.str("METRICS_EXPORTER_HOST", default="0.0.0.0")
if METRICS_ENABLED:
    MIDDLEWARE.insert(0, "observability.middleware.PrometheusMiddleware")
    _TIMED_CACHES = {
        "django_redis.cache.RedisCache": "observability.cache.RedisCache",
        "django.core.cache.backends.db.DatabaseCache": "observability.cache.DatabaseCache",
    }
    CACHES["default"]["BACKEND"] = _TIMED_CACHES.get(CACHES["default"]["BACKEND"], CACHES["default"]["BACKEND"])

# Sentry, only with a DSN: the request id and task are attached, no personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from thisthat.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
