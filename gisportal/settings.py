"""Settings for gisportal, read from the environment and checked at start-up.

Every setting that matters in production comes from an environment variable; see README.md.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from gisportal.plan_kinds import dxf_layers_setting

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Return the environment variable NAME read as a boolean, refusing anything unclear."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return the environment variable NAME read as an integer."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("GISPORTAL_DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set; set it in the environment (make run generates one in var/secret_key)"
        )
    SECRET_KEY = "dev-" + secrets.token_urlsafe(40)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Demo accounts and the demo city exist only where this is on (make run / make test set it).
DEMO = env_bool("GISPORTAL_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "gisportal.accounts",
    "parcels",
    "subdivision",
    "layers",
    "gisserver",  # WFS 2.0 at /wfs (layers/wfs): its capabilities templates and tags
    "gisportal.web",  # the web pages: map, plans, dashboard, log-in (after the apps whose templates it may override)
]

MIDDLEWARE = [
    "gisportal.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the web pages: the cookie set by set_language, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gisportal.middleware.ResponseHeadersMiddleware",
    "gisportal.middleware.RejectNulBytesMiddleware",
    "gisportal.middleware.HeadAsGetMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gisportal.urls"
WSGI_APPLICATION = "gisportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gisportal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gisportal.web.context_processors.navigation",
            ],
        },
    },
]

# ---- database ---------------------------------------------------------------------------
# DATABASE_URL (postgis://user:pass@host:port/name) points at an existing PostGIS; without it,
# the project-local cluster that scripts/pg.sh runs under var/ (Unix socket only).
DB_CONNECT_TIMEOUT_S = env_int("GISPORTAL_DB_CONNECT_TIMEOUT", 3)
if os.environ.get("DATABASE_URL"):
    _db = dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
    _db["ENGINE"] = "django.contrib.gis.db.backends.postgis"
else:
    _db = {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": os.environ.get("GISPORTAL_DB_NAME", "gisportal"),
        "USER": "gisportal",
        "HOST": str(BASE_DIR / "var" / "run"),
        "PORT": os.environ.get("GISPORTAL_PGPORT", "5432"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
_db.setdefault("OPTIONS", {})["connect_timeout"] = DB_CONNECT_TIMEOUT_S
# Several test runs against one cluster (parallel checkouts, helpers) each name their own test database.
if os.environ.get("GISPORTAL_TEST_DB"):
    _db["TEST"] = {"NAME": os.environ["GISPORTAL_TEST_DB"]}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---- shared cache and throttle counters: Redis ------------------------------------------
# REDIS_URL (redis://, rediss:// or unix://) points at an existing Redis; without it, the
# project-local one that scripts/redis.sh runs on the Unix socket var/run/redis.sock. An
# unreachable Redis is a cache miss (gisportal.cache.FailSoftRedisCache) and lets requests
# through unthrottled (layers.throttle), each logged; /healthz answers a degraded 200.
REDIS_URL = os.environ.get("REDIS_URL") or f"unix://{BASE_DIR / 'var' / 'run' / 'redis.sock'}"
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, not {REDIS_URL!r}")
REDIS_TIMEOUT_MS = env_int("GISPORTAL_REDIS_TIMEOUT_MS", 500)
if REDIS_TIMEOUT_MS < 1:
    raise ImproperlyConfigured("GISPORTAL_REDIS_TIMEOUT_MS must be a positive number of milliseconds")
CACHES = {
    "default": {
        # Django's RedisCache, answering a miss instead of an error while Redis is unreachable.
        "BACKEND": "gisportal.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        # Tests give each run its own prefix (tests/conftest.py `redis_cache`), so runs sharing
        # one Redis never see each other's keys.
        "KEY_PREFIX": os.environ.get("GISPORTAL_CACHE_PREFIX", "gisportal"),
        "TIMEOUT": 3600,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT_MS / 1000,
            "socket_timeout": REDIS_TIMEOUT_MS / 1000,
            "health_check_interval": 30,
        },
    },
}

# Layer-service throttling (layers/throttle.py): requests per minute, counted in Redis for all
# workers together; past it 429 Throttled with Retry-After.
THROTTLE_PARTNER_PER_MIN = env_int("GISPORTAL_PARTNER_RATE", 6000)
THROTTLE_USER_PER_MIN = env_int("GISPORTAL_USER_RATE", 6000)
THROTTLE_ANON_PER_MIN = env_int("GISPORTAL_ANON_RATE", 3000)
THROTTLE_WINDOW_S = 60  # counting window; a rate R allows R * window / 60 requests in it
if min(THROTTLE_PARTNER_PER_MIN, THROTTLE_USER_PER_MIN, THROTTLE_ANON_PER_MIN) < 0:
    raise ImproperlyConfigured(
        "GISPORTAL_PARTNER_RATE, GISPORTAL_USER_RATE and GISPORTAL_ANON_RATE must be >= 0 (0: no limit)")

# ---- geometry ---------------------------------------------------------------------------
# One storage SRID for every geometry column (README: "Storage SRID"). Web Mercator, so that
# vector tiles need no per-query transform; measurements always use the municipality's metric
# CRS, never this one.
STORAGE_SRID = 3857
if os.environ.get("GISPORTAL_STORAGE_SRID") and int(os.environ["GISPORTAL_STORAGE_SRID"]) != STORAGE_SRID:
    raise ImproperlyConfigured("GISPORTAL_STORAGE_SRID cannot be changed after the first migration (3857)")

# Django's own GDAL (system GDAL 3.6 on Debian 12) is only given integer EPSG codes, never
# user-supplied SRS text; uploaded files are read with pyogrio's GDAL 3.10 (see README).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# ---- WFS 2.0 (django-gisserver, layers/wfs) ------------------------------------------
# At most this many features per GetFeature answer, in every output format; a larger COUNT is
# capped (numberReturned says how many came, and a `next` link gives the rest).
GISSERVER_DEFAULT_MAX_PAGE_SIZE = env_int("GISPORTAL_WFS_MAX_FEATURES", 20000)
GISSERVER_GEOJSON_MAX_PAGE_SIZE = None  # None: the same cap (gisserver's default is unbounded)
GISSERVER_CSV_MAX_PAGE_SIZE = None
# Coordinates rendered by PostGIS with 8 decimals: 1 mm in degrees, far below that in metres.
GISSERVER_DB_PRECISION = 8
# Only the CRSs each feature type advertises (EPSG:4326, CRS84, 3857, the municipalities' UTM zones).
GISSERVER_SUPPORTED_CRS_ONLY = True
if GISSERVER_DEFAULT_MAX_PAGE_SIZE < 1:
    raise ImproperlyConfigured("GISPORTAL_WFS_MAX_FEATURES must be a positive integer")

# ---- uploads ----------------------------------------------------------------------------
PLAN_UPLOAD_MAX_BYTES = env_int("GISPORTAL_PLAN_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
PLAN_UNCOMPRESSED_MAX_BYTES = env_int("GISPORTAL_PLAN_UNCOMPRESSED_MAX_BYTES", 200 * 1024 * 1024)
# Wall-clock seconds one validation may take before it stops with 422 (the server timeout is 120 s).
PLAN_VALIDATION_BUDGET_S = env_int("GISPORTAL_PLAN_VALIDATION_BUDGET_S", 30)
# DXF layer name → plan feature kind (the kinds the upload form's dxf_layers takes, gisportal.plan_kinds);
# default LOTS, ROADS, OPEN_SPACE, UTILITY.
try:
    PLAN_DXF_LAYERS = dxf_layers_setting(os.environ.get("GISPORTAL_DXF_LAYERS"))
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = os.environ.get("GISPORTAL_UPLOAD_TMP") or None

# ---- auth and API -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The web pages' log-in; the admin keeps its own (/admin/login/).
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:map"
LOGOUT_REDIRECT_URL = None

# Log-in throttling (django-axes): after GISPORTAL_LOGIN_FAILURE_LIMIT failed log-ins for one
# username from one IP address, that pair is locked out for GISPORTAL_LOGIN_COOLOFF_MINUTES (429),
# even with the right password; each further failure during the lock-out starts it again.
AUTHENTICATION_BACKENDS = [
    "gisportal.accounts.authentication.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("GISPORTAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("GISPORTAL_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= timedelta(0):
    raise ImproperlyConfigured("GISPORTAL_LOGIN_FAILURE_LIMIT and GISPORTAL_LOGIN_COOLOFF_MINUTES must be positive")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gisportal.accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "gisportal.exception_handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "gisportal API",
    "DESCRIPTION": "Parcel registry and subdivision-plan validation of the municipal GIS portal.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# ---- i18n, static -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية")]
# The web pages' catalogue first: its words win over the admin's for the same English ("Log in").
LOCALE_PATHS = [BASE_DIR / "gisportal" / "web" / "locale"]
TIME_ZONE = os.environ.get("GISPORTAL_TIME_ZONE", "Asia/Riyadh")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# ---- e-mail (plan notifications): the console in development, SMTP when EMAIL_HOST is set ---
PUBLIC_URL = os.environ.get("GISPORTAL_PUBLIC_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("GISPORTAL_FROM_EMAIL", "gisportal@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# ---- security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("GISPORTAL_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---- logging: one structured (JSON) line per request -----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "gisportal.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("GISPORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "pyogrio": {"level": "WARNING"},
    },
}
