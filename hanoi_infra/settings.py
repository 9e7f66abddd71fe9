"""Settings for hanoi_infra, read from the environment (django-environ).

Every value has a safe default: DEBUG is off unless set, and the database, Redis and secret key
fall back to the local development services described in README.md and .env.example.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY",
    default="insecure-development-key-set-SECRET_KEY-in-production",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.forms",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "leaflet",
    "csp",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "sync",
    "sharing",
    "stations",
    "cables",
    "spam_reports",
    "agreements",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below), Permissions-Policy and
    # Cache-Control (core.middleware.SecurityHeadersMiddleware): outside ConditionalGetMiddleware so
    # that its ETags and 304 answers are made first.
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages in Vietnamese unless English was chosen, whatever the browser sends (core.middleware).
    "core.middleware.VietnameseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # NUL / lone surrogates in the path or query: 400 before any view (core.api.middleware).
    "core.api.middleware.QueryGuardMiddleware",
    "sync.middleware.ApiRequestMiddleware",
    # Every API write in one transaction, rolled back on any error answer (core.api.middleware).
    "core.api.middleware.AtomicApiWritesMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    # A signed-in account without a portal role sees only the no-role page (core.access).
    "core.access.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages (the expiry leaves one) and django-otp's OTPMiddleware.
    "core.middleware.SessionPolicyMiddleware",
    "core.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, as django-axes asks: turns a lock-out raised during authenticate() into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hanoi_infra.urls"
WSGI_APPLICATION = "hanoi_infra.wsgi.application"
ASGI_APPLICATION = "hanoi_infra.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.portal",
            ],
        },
    },
]

# Database: PostGIS. Connections are kept (each new one costs ~20 ms with PostGIS loading) and
# checked before reuse; PostgreSQL's JIT is off for our connections because it adds ~150 ms to dense
# spatial queries and helps nothing here (measurements in ../shared/ARCHITECTURE.md).
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgis://postgres@127.0.0.1:5432/hanoi_infra"),
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Parallel workers are off too: for the app's small indexed queries (a bbox or distance page) their
# start-up cost was measured at 25-30 ms against ~5 ms without them.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c jit=off -c max_parallel_workers_per_gather=0"
)
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_hanoi_infra")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Degrades open: a Redis that is down or frozen is a cache miss after at most one short
        # timeout every few seconds (core.cache), not a 500 or a 5 s wait per call.
        "BACKEND": "core.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "hanoi_infra",
        "OPTIONS": {
            "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.3),
            "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
        },
    }
}

AUTH_USER_MODEL = "core.User"
# Sign-in (README "Production settings"). django-axes counts failed log-ins per username and address
# in the database (not the cache: a Redis outage must not break log-ins) and locks that pair out for
# AXES_COOLOFF_TIME after AXES_FAILURE_LIMIT failures; an administrator unlocks in the admin (Access
# attempts) or with `manage.py axes_reset_username USERNAME`. API tokens are not affected.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.auth_views.lockout_response"
AXES_COOLOFF_MESSAGE = _(
    "Too many failed log-ins for this account from this address. Try again later, or ask an "
    "administrator to unlock the account."
)
AXES_IPWARE_PROXY_COUNT = env.int("SYNC_TRUSTED_PROXY_COUNT", default=0) or None
# Two-factor sign-in (TOTP, django-otp) for officials and administrators; operators may opt in.
# Off only for the local demo (.env.example) and in tests unless a test turns it on.
REQUIRE_2FA_FOR_OFFICIALS = env.bool("REQUIRE_2FA_FOR_OFFICIALS", default=True)
OTP_TOTP_ISSUER = "hanoi_infra"
# Sessions: officials and administrators are signed out after 30 idle minutes, at most 8 hours after
# signing in, and when the browser closes; everyone else after 12 hours (core.middleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_OFFICIAL_AGE = env.int("SESSION_OFFICIAL_AGE", default=8 * 3600)
SESSION_OFFICIAL_IDLE = env.int("SESSION_OFFICIAL_IDLE", default=30 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: Vietnamese first, English second.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["hanoi_infra.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Debian 12's GDAL is 3.6; Django asks for 3.9 to block file and network access from malicious
# spatial references (gis.W001). We only open spatial references we define ourselves (SRID 4326 and
# Vietnam's VN-2000 zones), never user-supplied ones, so the warning is silenced deliberately.
SILENCED_SYSTEM_CHECKS = ["gis.W001", "security.W021"]  # W021: HSTS preload, see below

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a machine client with a bad token gets 401 with WWW-Authenticate.
        "sync.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "core.permissions.HasPortalRole",
        "sync.auth.HasScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["sync.auth.ApiClientThrottle"],
    # Hostile JSON (lone surrogates, NUL, deep nesting, oversized bodies) is a 400 at the door.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.SafeJSONParser",
        "core.api.parsers.SafeFormParser",
        "core.api.parsers.SafeMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.KeysetPagination",
    "PAGE_SIZE": 100,
    # Decimals as JSON numbers, the same as the GeoJSON PostgreSQL builds for lists and maps.
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hanoi_infra API",
    "DESCRIPTION": "Hanoi telecom infrastructure portal: records for agencies and operators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["core.permissions.HasPortalRole"],
    # Status and kind enums shared by several components get one stable name each.
    "ENUM_NAME_OVERRIDES": {
        "TimelineEventKindEnum": "core.models.TimelineEvent.Kind",
        "PermitApplicationStatusEnum": "stations.models.PermitApplication.Status",
        "AssetStatusEnum": "sharing.models.InfrastructureAsset.Status",
        "TenancyStatusEnum": "sharing.models.Tenancy.Status",
        "SharingRequestStatusEnum": "sharing.models.SharingRequest.Status",
        "CableProjectStatusEnum": "cables.models.CableProject.Status",
        "WebhookDeliveryStatusEnum": "sync.models.WebhookDelivery.Status",
    },
}

# Celery: Redis broker and result backend, tasks acknowledged after they run (so a worker that dies
# mid-task leaves it for another), hard and soft time limits, schedules kept in the database.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "core-heartbeat": {"task": "core.tasks.heartbeat", "schedule": 60.0},
    "cables-close-notices": {
        "task": "cables.tasks.close_expired_notices",
        "schedule": crontab(hour=0, minute=25),
    },
    "sharing-overdue": {
        "task": "sharing.tasks.mark_overdue",
        "schedule": crontab(hour=0, minute=20),
    },
    "stations-deadlines": {
        "task": "stations.tasks.process_deadlines",
        "schedule": crontab(hour=0, minute=15),
    },
    "spam-overdue": {"task": "spam_reports.tasks.flag_overdue", "schedule": 300.0},
    "reports-queue-due-runs": {
        "task": "reports.tasks.queue_due_runs",
        "schedule": crontab(hour=1, minute=0),
    },
    # The sync app's tasks (sync.tasks) keep the names and entries they had in core.
    "core-sync-dispatch-webhooks": {"task": "core.tasks.dispatch_webhooks", "schedule": 30.0},
    "core-sync-prune": {"task": "core.tasks.prune_sync", "schedule": crontab(hour=3, minute=0)},
    "core-sync-downloads": {
        "task": "core.tasks.build_downloads",
        "schedule": crontab(hour=2, minute=0),
    },
    "agreements-reminders": {
        "task": "agreements.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues work must not wait on a broker that is down or frozen: short socket
# timeouts and no publish retries (the work is kept in the outbox, core.outbox, and sent later).
# A task taken by a worker that dies whole is delivered again after the visibility timeout: sized
# to the longest task (its hard time limit) plus a margin, not Redis's default hour, so a copy is
# never sent while the first one may still run. Workers look for such messages about every minute
# (interval x throttle). A worker child killed alone is re-queued at once (reject_on_worker_lost).
CELERY_VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 300
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
    "max_retries": 0,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=6),
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY = False
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1.0
CELERY_REDIS_SOCKET_TIMEOUT = 2.0
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 0}}
# Outbox drain and stuck-work sweeper (core.outbox), every minute.
CELERY_BEAT_SCHEDULE["core-outbox-drain"] = {"task": "core.tasks.drain_outbox", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["core-sweep-stuck"] = {"task": "core.tasks.sweep_stuck", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["reports-sweep-stuck"] = {
    "task": "reports.tasks.sweep_stuck_runs",
    "schedule": 60.0,
}

# Maps: base tiles are the only thing a page may fetch from the internet. Setting
# LEAFLET_TILES_URL to an empty string gives maps without base tiles (tests, offline use).
_TILES_URL = env("LEAFLET_TILES_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (21.0285, 105.8542),
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 5,
    "MAX_ZOOM": 19,
    "TILES": [("OpenStreetMap", _TILES_URL, {"attribution": "© OpenStreetMap contributors"})]
    if _TILES_URL
    else [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# Reference data shipped beside the project (tests and demo set-up read it; the product imports
# boundaries from any file a user gives it).
SHARED_DATA_DIR = env.path("SHARED_DATA_DIR", default=BASE_DIR.parent / "shared" / "data")

# Machine-to-machine sync (the sync app, docs/sync.md).
SYNC_CHANGE_RETENTION_DAYS = env.int("SYNC_CHANGE_RETENTION_DAYS", default=400)
SYNC_CLIENT_RATE = env("SYNC_CLIENT_RATE", default="6000/minute")
SYNC_TRUSTED_PROXY_COUNT = env.int("SYNC_TRUSTED_PROXY_COUNT", default=0)
SYNC_MAX_BODY_BYTES = env.int("SYNC_MAX_BODY_BYTES", default=5 * 1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SYNC_IDEMPOTENCY_HOURS = env.int("SYNC_IDEMPOTENCY_HOURS", default=48)
SYNC_BULK_MAX = 1000
SYNC_WEBHOOK_MAX_ATTEMPTS = env.int("SYNC_WEBHOOK_MAX_ATTEMPTS", default=8)
SYNC_WEBHOOK_TIMEOUT = env.float("SYNC_WEBHOOK_TIMEOUT", default=10.0)
# Seconds before the first retry of a webhook delivery; doubled each attempt (sync.webhooks).
SYNC_WEBHOOK_BACKOFF = env.float("SYNC_WEBHOOK_BACKOFF", default=30.0)
# Days the delivery log keeps delivered deliveries (failed ones: three times as long).
SYNC_WEBHOOK_LOG_DAYS = env.int("SYNC_WEBHOOK_LOG_DAYS", default=30)
# Webhook URLs must resolve to public addresses only (sync.webhooks.check_target); these
# networks (CIDRs, comma-separated in the environment) are allowed too, e.g. an intranet's
# "10.20.0.0/16". Empty by default: no private, loopback or link-local target.
WEBHOOK_ALLOWED_PRIVATE_NETWORKS = env.list("WEBHOOK_ALLOWED_PRIVATE_NETWORKS", default=[])
SYNC_DOWNLOADS_KEEP = env.int("SYNC_DOWNLOADS_KEEP", default=7)
# Records per query when the nightly downloads are written (sync.downloads).
SYNC_DOWNLOADS_BATCH = env.int("SYNC_DOWNLOADS_BATCH", default=5000)

PGHISTORY_DEFAULT_TRACKERS = None  # set in core.history: insert, update and delete

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

# Production (README "Production settings"): with PRODUCTION=true and DEBUG off, HTTPS is required
# (redirect, secure cookies, HSTS) and `manage.py check --deploy` is clean. The local `make run`
# leaves PRODUCTION unset and serves plain http on 127.0.0.1. Each switch can be set on its own.
PRODUCTION = env.bool("PRODUCTION", default=False)
_HTTPS = PRODUCTION and not DEBUG
if PRODUCTION and SECRET_KEY.startswith("insecure-development-key"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY to a long random string when PRODUCTION is on.")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
# Preloading is the domain owner's irrevocable choice, not the application's: off unless set, and
# its check (security.W021) is silenced in SILENCED_SYSTEM_CHECKS for that reason.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind the TLS-terminating reverse proxy (which must set X-Forwarded-Proto itself).
if env.bool("SECURE_PROXY_SSL_HEADER", default=_HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Form widgets render with the project's templates (TEMPLATES above), so templates/leaflet/ overrides
# django-leaflet's widget (no inline script) in every form and in the admin.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Content-Security-Policy (django-csp): scripts only from our own static files, no inline script
# and no eval (templates hand data to scripts with json_script or data- attributes; django-leaflet's
# inline map scripts are replaced by templates/leaflet/ and static/js/leaflet_boot.js). Styles
# from our files; inline style attributes (colour swatches, Leaflet's markers, SVG charts) are
# allowed, <style> elements are not. Images from us, data: URIs and the map's tile host; fetches to
# us only; no framing, plugins or foreign form targets.
_TILES_HOST = None
if _TILES_URL:
    from urllib.parse import urlsplit

    _tiles = urlsplit(_TILES_URL.replace("{s}.", "*.").replace("{s}", "*"))
    _TILES_HOST = f"{_tiles.scheme}://{_tiles.netloc}" if _tiles.netloc else None
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([_TILES_HOST] if _TILES_HOST else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
# Powerful browser features no page uses (core.middleware.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), xr-spatial-tracking=()"
)
# Paths whose responses keep their own Cache-Control even for a signed-in user (the rest get
# "private, no-store" when signed in, and every /api/ response does).
CACHE_PUBLIC_PREFIXES = ("/static/", "/healthz")

# Uploads: checked by content (core.files), at most this size.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# An XLSX export is built in the request: above this many rows the page asks to filter first
# (CSV streams and is not capped by it); sized to finish well inside the worker's timeout.
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=50_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Co-location check: other operators' structures within this radius (metres) of a new station.
COLOCATION_RADIUS_M = env.int("COLOCATION_RADIUS_M", default=200)
# Sharing requests: the owner answers within this many working days (about one month).
SHARING_RESPONSE_WORKING_DAYS = env.int("SHARING_RESPONSE_WORKING_DAYS", default=22)

# Spam complaints: hours an operator has to handle an assigned case (an official may set others);
# the public complaint form for citizens (off unless enabled) and its limit per address per hour;
# the largest import file.
SPAM_HANDLING_SLA_HOURS = env.int("SPAM_HANDLING_SLA_HOURS", default=24)
SPAM_PUBLIC_FORM = env.bool("SPAM_PUBLIC_FORM", default=False)
SPAM_PUBLIC_RATE_PER_HOUR = env.int("SPAM_PUBLIC_RATE_PER_HOUR", default=5)
SPAM_IMPORT_MAX_BYTES = env.int("SPAM_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# Any import's file (core.imports): larger ones are refused by their size before being read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
