"""Audotics settings, read from the environment (SPEC.md §3).

With no environment at all the service runs on the embedded default: SQLite in AUDOTICS_HOME,
the in-memory channel layer, the local-memory cache and eager Celery tasks. DATABASE_URL and
REDIS_URL switch on PostgreSQL and Redis; each may be set without the other.
"""
import base64
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from users.scopes import DEFAULT_SCOPES as OAUTH_DEFAULT_SCOPES
from users.scopes import SCOPES as OAUTH_SCOPES

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# PATHS: where the embedded default keeps its database, generated keys and model artifacts.
AUDOTICS_HOME = Path(env.str("AUDOTICS_HOME", default=str(BASE_DIR / "var"))).resolve()
AUDOTICS_HOME.mkdir(parents=True, exist_ok=True)
AUDOTICS_DATASETS = Path(
    env.str("AUDOTICS_DATASETS", default=str(BASE_DIR.parent / "shared" / "data"))
).resolve()
MODEL_DIR = AUDOTICS_HOME / "models"
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(AUDOTICS_HOME / "backups")))

# CORE: DEBUG is on only when asked for (DEBUG=1), the embedded default included. The embedded
# default (no DATABASE_URL) uses keys it generates once into AUDOTICS_HOME; a deployment
# (DATABASE_URL set) must bring its own unless DEBUG is on. PRODUCTION: a deployment served
# over HTTPS behind a proxy (secure cookies, HSTS, staff 2FA); the embedded default serves
# plain http://127.0.0.1.
DATABASE_URL = env.str("DATABASE_URL", default="")
EMBEDDED = not DATABASE_URL
DEBUG = env.bool("DEBUG", default=False)
PRODUCTION = not EMBEDDED and not DEBUG
GENERATED_KEYS = EMBEDDED or DEBUG


def _generated_secret(name: str, make) -> str:
    """Read a secret kept in AUDOTICS_HOME, creating it (mode 0600) on first use."""
    path = AUDOTICS_HOME / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not GENERATED_KEYS:
        raise ImproperlyConfigured(
            "SECRET_KEY is required with a DATABASE_URL and DEBUG off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _generated_secret("secret_key", lambda: secrets.token_urlsafe(50))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: it makes `runserver` serve ASGI (HTTP + WebSocket).
    "daphne",
    # The admin signs in through /signin (password, then the TOTP code) under the login limits.
    "users.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "channels",
    "rest_framework_simplejwt.token_blacklist",
    "django_otp",
    "oauth2_provider",
    "users",
    "playlists",
    "recommendations",
    "listening",
    "library",
    "collaboration",
    "ops",
    "web",
]

MIDDLEWARE = [
    # First: every later middleware, view and log line sees the request id; metrics time the
    # whole stack (ops/middleware.py).
    "ops.middleware.request_id_middleware",
    "ops.middleware.metrics_middleware",
    # Work a write causes but its client need not wait for runs after the response is sent.
    "audotics.after_response.after_response_middleware",
    # Bodies too large or not UTF-8 are refused here, before a view trips on them.
    "audotics.middleware.request_body_guard_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns django-ratelimit's Ratelimited (outside DRF) into RATELIMIT_VIEW's 429.
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "audotics.urls"
WSGI_APPLICATION = "audotics.wsgi.application"
ASGI_APPLICATION = "audotics.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# DATABASE: PostgreSQL (psycopg 3) from DATABASE_URL, else SQLite in AUDOTICS_HOME.
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Fail fast when the server is down instead of hanging a worker.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": AUDOTICS_HOME / "audotics.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A pool of PostgreSQL connections per process (psycopg_pool, Django's own `pool` option): under
# ASGI every request runs in a thread of its own, so a connection kept per thread
# (DB_CONN_MAX_AGE) is never reused and a new one cost each request ~2-5 ms. DB_POOL_MAX
# connections at most per process (0: no pool, a connection per request or DB_CONN_MAX_AGE).
DB_POOL_MAX = env.int("DB_POOL_MAX", default=8)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_MAX > 0:
    # A request waits at most 4 s for a pooled connection (also while PostgreSQL is down: then
    # it answers 503 fast, as `connect_timeout` does without a pool).
    DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX,
                                               "timeout": 4}
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pooled connection goes back after each request
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# STATIC: served by whitenoise; hashed names in production, plain files in development.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = AUDOTICS_HOME / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at startup when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "audotics.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (tests, first boot) fall back to unhashed names instead of failing.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_USE_FINDERS = DEBUG

# REDIS: channel layer, cache and Celery broker when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "audotics",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    from channels_redis.core import RedisChannelLayer  # noqa: E402

    # The layer waits for messages with BZPOPMIN for `brpop_timeout` (5 s); redis-py's default
    # socket timeout is also 5 s, so every quiet wait timed out and closed the socket with 1011.
    # The read timeout must outlast the blocking wait; 10 s more still notices a dead Redis.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{
                    "address": REDIS_URL,
                    "socket_timeout": RedisChannelLayer.brpop_timeout + 10,
                    "socket_connect_timeout": 2,
                }],
                "prefix": "audotics",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# CELERY: Redis broker and results; without Redis, tasks run eagerly in the caller.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3 * 3600)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 600
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["users-encryption-keys-rotate"] = {
    # Every 30 days (counted from beat start; cron cannot say "every 30 days" exactly).
    "task": "users.encryption_keys_rotate",
    "schedule": 30 * 24 * 3600,
}
# RECOMMENDATIONS beat: train nightly, precompute lists hourly.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["recommendations-model-train"] = {
    # Every night at 03:00 UTC.
    "task": "recommendations.model_train",
    "schedule": crontab(hour=3, minute=0),
}
CELERY_BEAT_SCHEDULE["recommendations-recommend-batch"] = {
    # Every hour, at minute 15 (clear of the nightly training start).
    "task": "recommendations.recommend_batch",
    "schedule": crontab(minute=15),
}
CELERY_BEAT_SCHEDULE["library-analysis-resume"] = {
    # Every hour at minute 45: analyses lost with a stopped worker are sent again.
    "task": "library.analysis_resume",
    "schedule": crontab(minute=45),
}
CELERY_BEAT_SCHEDULE["ops-backup-db"] = {
    # Every 6 hours at minute 30: 00:30, 06:30, 12:30, 18:30 UTC (clear of training at 03:00).
    "task": "ops.backup_db",
    "schedule": crontab(minute=30, hour="*/6"),
}

# BACKUPS: backup_db/restore_db and the 6-hourly task (ops/services/backups.py). Retention keeps
# the newest BACKUP_KEEP_LAST backups (8 = two days at 6-hourly) plus the newest backup of each
# UTC day for BACKUP_KEEP_DAILY_DAYS days. Keep old FIELD_ENCRYPTION_KEYS as long as these.
BACKUP_KEEP_LAST = env.int("BACKUP_KEEP_LAST", default=8)
BACKUP_KEEP_DAILY_DAYS = env.int("BACKUP_KEEP_DAILY_DAYS", default=14)

# METRICS: /metrics (Prometheus) answers staff sessions, or scrapers sending
# "Authorization: Bearer <METRICS_TOKEN>". Multi-process web workers also need the
# PROMETHEUS_MULTIPROC_DIR environment variable (read by prometheus_client, see ops/metrics.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# REST FRAMEWORK: camelCase on the wire, one exception handler for the error envelope.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "audotics.parsers.StrictJSONParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # OAuth tokens of other applications, within their scopes (users/oauth.py); JWT-shaped
        # bearer values pass straight on to the next class.
        "users.oauth.ScopedOAuth2Authentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # 1,000 requests per hour per user (per IP when anonymous); fails open without Redis.
    "DEFAULT_THROTTLE_CLASSES": ["users.ratelimit.ApiQuotaThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "audotics.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "audotics.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# OAUTH 2.0 for other applications (django-oauth-toolkit): authorization code with PKCE for
# every client, rotating refresh tokens (a reused one revokes its family), hashed client
# secrets, the scopes of users/scopes.py.
OAUTH2_PROVIDER = {
    "SCOPES": OAUTH_SCOPES,
    "DEFAULT_SCOPES": OAUTH_DEFAULT_SCOPES,
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    # Plain-http redirects (a native app's loopback callback) only off production.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["https", "http"],
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 PKCE only, tokens
    # only in the Authorization header, `iss` in authorization responses, tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# Nested JSON (features, metadata, context) is camelCased too: snake_case in the database,
# camelCase on the wire, so `time_signature` reaches clients as `timeSignature` (SPEC.md §4).
JSON_CAMEL_CASE = {"JSON_UNDERSCOREIZE": {"no_underscore_before_number": True}}

SPECTACULAR_SETTINGS = {
    "TITLE": "Audotics API",
    "DESCRIPTION": "Music discovery and collaborative playlists. Contract: SPEC.md §4.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "CAMELIZE_NAMES": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        # Error envelope responses on every operation (audotics/schema.py).
        "audotics.schema.add_error_responses",
    ],
}

# AUTH: Argon2 passwords, JWT (simplejwt) with rotation, rate limits, field encryption, TOTP.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
# Rate-limit counters live in the shared cache (Redis in production). The library's own
# fail-open switch stays off: login fails closed (503), the API quota fails open in code.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = False
RATELIMIT_VIEW = "audotics.exceptions.rate_limited"
# Number of reverse proxies that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "users.ratelimit.client_ip"
# EMAIL from EMAIL_URL (smtp+tls://user:password@host:587 in production; the console on the
# embedded default; filemail:///path for tests that read what was sent).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Audotics <no-reply@localhost>")
# Password-reset links work for an hour, once (the token is bound to the password hash).
PASSWORD_RESET_TIMEOUT = 3600
# Scrobble submissions per listen token (POST /1/submit-listens), e.g. "60/m".
LISTEN_SUBMIT_RATE = env.str("LISTEN_SUBMIT_RATE", default="60/m")
# The account and API limits (users/ratelimit.py), each "count/period" with period s, m, h or d.
RATE_LIMITS = {
    "login_per_account": env.str("RATE_LOGIN_PER_ACCOUNT", default="5/m"),
    "login_per_ip": env.str("RATE_LOGIN_PER_IP", default="20/m"),
    "login_failures_per_account": env.str("RATE_LOGIN_FAILURES_PER_ACCOUNT", default="100/h"),
    "otp_per_user": env.str("RATE_OTP_PER_USER", default="5/m"),
    "signup_per_ip": env.str("RATE_SIGNUP_PER_IP", default="10/h"),
    "password_reset_per_ip": env.str("RATE_PASSWORD_RESET_PER_IP", default="10/h"),
    "api_per_user": env.str("RATE_API_PER_USER", default="1000/h"),
    "user_search_per_user": env.str("RATE_USER_SEARCH_PER_USER", default="30/m"),
}
# AES-256-GCM keys for encrypted fields: "kid:base64key,..." newest first (users/crypto.py).
FIELD_ENCRYPTION_KEYS = env.str("FIELD_ENCRYPTION_KEYS", default="")
if not FIELD_ENCRYPTION_KEYS:
    if not GENERATED_KEYS:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is required with a DATABASE_URL and DEBUG off. "
            "Generate one with: "
            "python -c \"import base64,secrets;"
            "print('k1:'+base64.b64encode(secrets.token_bytes(32)).decode())\""
        )
    FIELD_ENCRYPTION_KEYS = _generated_secret(
        "field_encryption_keys",
        lambda: "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    )
# Key of the email blind index; unset in production it is derived from SECRET_KEY.
FIELD_HMAC_KEY = env.str("FIELD_HMAC_KEY", default="")
if not FIELD_HMAC_KEY and GENERATED_KEYS:
    FIELD_HMAC_KEY = _generated_secret("field_hmac_key", lambda: secrets.token_urlsafe(32))
OTP_TOTP_ISSUER = "Audotics"
# Staff must turn on two-factor authentication before the admin, the model page and /metrics
# open to them. On by default in production; STAFF_REQUIRE_TWO_FACTOR=false relaxes it for a
# first install (the first staff account signs in, then sets up its authenticator).
STAFF_REQUIRE_TWO_FACTOR = env.bool("STAFF_REQUIRE_TWO_FACTOR", default=PRODUCTION)

# SECURITY: production hardening; SSL redirect is opt-in because a proxy usually terminates TLS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
TRUST_X_FORWARDED_PROTO = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_PROTO else None
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: the pages, the admin and the API docs
# load scripts and styles from this origin only and have no inline script, style or handler.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
# A refused CSRF check answers with the error envelope on API paths (audotics/exceptions.py).
CSRF_FAILURE_VIEW = "audotics.exceptions.csrf_failure"
# Request bodies above this are refused before parsing (413/400), protecting workers.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Uploaded files (multipart) may be larger: a Spotify history file is 10-15 MB. They spill to
# disk above FILE_UPLOAD_MAX_MEMORY_SIZE. Scrobblers may send ListenBrainz's own maximum.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=100 * 1024 * 1024)
LISTEN_PAYLOAD_MAX_BYTES = 1000 * 10240

# LIBRARY: uploaded audio and cover thumbnails live under MEDIA_ROOT (never served as static
# media: streams and covers go through access-checked views). With AUDIO_ACCEL_PREFIX set, the
# stream view answers with X-Accel-Redirect and nginx sends the bytes (deploy/nginx.conf).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(AUDOTICS_HOME / "media"))).resolve()
AUDIO_ACCEL_PREFIX = env.str("AUDIO_ACCEL_PREFIX", default="")
# Files a library scan refuses (a 2 h FLAC is ~1 GB); uploads are capped by UPLOAD_MAX_BYTES.
LIBRARY_FILE_MAX_BYTES = env.int("LIBRARY_FILE_MAX_BYTES", default=2 * 1024 * 1024 * 1024)

# LOGGING: one JSON object per line on stderr, each with the request id (ops/logging.py); values
# of password/token/otp/secret/... keys and bearer tokens are redacted before output. Nothing
# here ever logs request bodies. LOG_FORMAT=plain gives human-readable lines for development.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "ops.logging.RequestIdFilter"},
        "redact": {"()": "ops.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="json"),
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Replace Django's own console handler so records are not printed twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Celery workers log through LOGGING too (JSON, redaction; request_id is "task-<id>" there)
# instead of replacing the root logger's handlers with their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# WEB UI: pages needing a login send the browser to the sign-in page.
LOGIN_URL = "web:signin"
LOGIN_REDIRECT_URL = "web:playlists"

# AUDOTICS: catalog and search limits.
CATALOG_SEARCH_MAX_LENGTH = 200

# RECOMMENDATIONS: serving, caching and training knobs (recommendations/services).
# Seconds a process trusts its copy of the active model version id before asking the cache.
RECO_ACTIVE_CHECK_SECONDS = env.float("RECO_ACTIVE_CHECK_SECONDS", default=2.0)
# Per-user result cache lifetime; new interactions invalidate it at once.
RECO_CACHE_SECONDS = env.int("RECO_CACHE_SECONDS", default=3600)
# Popularity/genre candidate pools of the fallback are recomputed this often.
RECO_POOL_SECONDS = env.int("RECO_POOL_SECONDS", default=600)
# Seconds a web process reuses its copy of the fallback's candidate pools.
RECO_POOL_LOCAL_SECONDS = env.int("RECO_POOL_LOCAL_SECONDS", default=30)
# The towers' training epochs: small, so the demo catalog trains in seconds (the re-ranking
# heads stop early on their own validation users).
RECO_TRAIN_EPOCHS = env.int("RECO_TRAIN_EPOCHS", default=3)
# Re-ranking heads, their logits averaged: 3 lead tuned EASE by 1.10x on Last.fm (one: ~1.09x,
# and it swings more with its seed) for 10-20% of the batch's throughput (bench/README.md).
RECO_TRAIN_HEADS = env.int("RECO_TRAIN_HEADS", default=3)
# Refit on all data after evaluating (a second fit); off: fold the hold-out into the model.
RECO_TRAIN_REFIT = env.bool("RECO_TRAIN_REFIT", default=False)
# Users whose held-out interactions evaluate a new version (all users when there are fewer).
RECO_EVAL_USERS = env.int("RECO_EVAL_USERS", default=10_000)
# A new version is activated only if its NDCG@10 >= active's x (1 - tolerance).
RECO_ACTIVATION_TOLERANCE = env.float("RECO_ACTIVATION_TOLERANCE", default=0.05)
# recommend_batch precomputes users with interactions in the last N days.
RECO_BATCH_ACTIVE_DAYS = env.int("RECO_BATCH_ACTIVE_DAYS", default=7)
# Search breadth of recommend_batch for an HNSW index (the API uses the index's own, 256):
# lower is faster. An IVF index (the default for large catalogs) scans its own nprobe lists in
# both; bench/README.md gives recall against exact search for each.
RECO_BATCH_EF_SEARCH = env.int("RECO_BATCH_EF_SEARCH", default=32)
# Chunks recommend_batch works on at once (threads; one per core is the sweet spot).
RECO_BATCH_THREADS = env.int("RECO_BATCH_THREADS", default=2)
# Users per chunk task of the hourly batch (each chunk goes to whichever worker is free).
RECO_BATCH_CHUNK_USERS = env.int("RECO_BATCH_CHUNK_USERS", default=5000)
# BLAS/OpenMP threads a chunk task computes with (0: the libraries' default, every core). Set 1
# when a machine runs one worker process per core, so that they do not oversubscribe it.
RECO_BATCH_TASK_THREADS = env.int("RECO_BATCH_TASK_THREADS", default=0)
# Seconds a web process reuses a track's rendered JSON before reading the row again.
RECO_FRAGMENT_SECONDS = env.int("RECO_FRAGMENT_SECONDS", default=300)
