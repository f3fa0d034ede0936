"""Verkkoapu settings: one module, every value from the environment, defaults that run.

With no environment at all this runs on SQLite and the in-memory channel layer (one process).
DATABASE_URL switches to PostgreSQL, REDIS_URL to channels-redis. `.env.example` lists every
variable.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(DEBUG=(bool, False))
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")  # real environment variables win

DEBUG = env("DEBUG")
INSECURE_DEV_KEY = "django-insecure-dev-only-never-in-production"
SECRET_KEY = env("SECRET_KEY", default=INSECURE_DEV_KEY if DEBUG else "")
# A production deployment (DEBUG off) that serves real people must set its own key; the
# embedded default (no environment) is for development, so it runs with DEBUG off only when
# PRODUCTION is not set.
PRODUCTION = env.bool("PRODUCTION", default=False)
MAKE_A_KEY = "make one with python -c 'import secrets; print(secrets.token_urlsafe(50))'"
if PRODUCTION and not SECRET_KEY:
    # One line on stderr and exit status 1: a traceback would bury the reason.
    raise SystemExit(f"SECRET_KEY must be set when PRODUCTION is on: {MAKE_A_KEY}")
if PRODUCTION and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    # The key signs sessions and keys every address hash: a guessable one unmasks addresses.
    raise SystemExit(
        "SECRET_KEY is too weak for PRODUCTION (under 50 characters or under 5 different"
        f" ones): {MAKE_A_KEY}"
    )
SECRET_KEY = SECRET_KEY or INSECURE_DEV_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
# Sites that may embed the asker widget (frame-ancestors, WebSocket origins), e.g.
# "https://nettiturvakoti.fi".
EMBEDDING_ORIGINS = env.list("EMBEDDING_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "verkkoapu.apps.VerkkoapuConfig",
    "chats",
    "scheduling",
    "stats",
    "feedback",
    "letters",
]

MIDDLEWARE = [
    # /healthz, /readyz, /metrics: before any host check, redirect or cookie (docs/operations.md).
    "verkkoapu.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Per-page framing and referrer rules (asker pages); docs/security.md.
    "verkkoapu.security.SecurityHeadersMiddleware",
    # Django's, saving only sessions that hold a login (no row for a made-up cookie).
    "verkkoapu.security.LoginSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "verkkoapu.security.RequireOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Coordinators' admin changes and downloads go to the audit log (docs/workflow.md).
    "chats.audit.AuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "verkkoapu.urls"
ASGI_APPLICATION = "verkkoapu.asgi.application"

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
                # `demo_mode`: the banner while `manage.py demo` is on (verkkoapu/demo.py).
                "verkkoapu.demo.context",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Consumers reach the DB from worker threads; an on-disk test DB behaves like production.
    # TEST_DB_NAME lets parallel runs on one checkout keep apart.
    DATABASES["default"]["TEST"] = {
        "NAME": env("TEST_DB_NAME", default=str(BASE_DIR / "test-db.sqlite3"))
    }
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if not DATABASES["default"].get("CONN_MAX_AGE"):
        # Consumers reach the database through worker threads, one call at a time: a new
        # connection per call cost more than the queries and made chats lag by seconds under
        # load (bench/, docs/performance.md). A pool keeps a few open; tests close it.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "pool", {"min_size": 2, "max_size": 20}
        )
    if env("TEST_DB_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Per-address rate limits (feedback, security) must hold across processes: Redis when there is
# one, else the local memory of the only process.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # redis-py waits forever by default: a Redis that stops answering would hold the
            # calling thread (and whatever it holds) instead of failing the request.
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# The Redis channel layer: "pubsub" (Redis PUBLISH/SUBSCRIBE; one round trip per nudge, groups
# held by each process) or "core" (channels-redis' lists and sorted sets). bench/ measured both:
# docs/performance.md.
REDIS_LAYER = env("REDIS_LAYER", default="pubsub")
_redis_host = {
    "address": REDIS_URL,
    # The layer's pool must exceed the consumers one process holds, or they fail once it is
    # exhausted (redis-py 8 caps at 100).
    "max_connections": 1000,
    # After a Redis restart every pooled socket is dead: without retries each one fails a
    # consumer once before the pool heals.
    "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 6),
    "health_check_interval": 15,
    # Above channels-redis' 5 s BZPOPMIN: at redis-py 8's default (also 5 s) an idle receive
    # timed out now and then and closed a socket (1011).
    "socket_timeout": 10,
}
if not REDIS_URL:
    _layer = {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1500}}
elif REDIS_LAYER == "pubsub":
    _layer = {
        "BACKEND": "verkkoapu.channel_layer.PubSubChannelLayer",
        "CONFIG": {"hosts": [_redis_host]},
    }
elif REDIS_LAYER == "core":
    _layer = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [_redis_host],
            # All sockets of a process share one inbox: at 1500 a process a few seconds behind
            # dropped nudges without a word; the default 100 drops them in any burst.
            "capacity": 20000,
            "expiry": 30,
            "group_expiry": 3600,
        },
    }
else:
    raise ImproperlyConfigured(f"REDIS_LAYER must be pubsub or core, not {REDIS_LAYER!r}")
CHANNEL_LAYERS = {"default": _layer}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic puts the files (a systemd host: e.g. /var/lib/verkkoapu/static).
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # WhiteNoise's, with `import … from "./common.js"` rewritten to the hashed names.
        "BACKEND": "verkkoapu.storage.StaticStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collectstatic (the README's one command), WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # STATIC_ROOT exists only after collectstatic; the finders serve without it.
    warnings.filterwarnings("ignore", message="No directory at")

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: inactivity expiry
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # a shared computer forgets the login with the browser
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere; only the demo page "/" may be framed, and only by
# EMBEDDING_ORIGINS (verkkoapu/security.py). 'self' covers the ws(s):// of the same host.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Bodies past this are refused with 400 before any form sees them (nginx stops at 64k first).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)


def _static_headers(headers, path, url):
    # The widget's own files are loaded by asker pages: they send no referrer either.
    if url.startswith(f"{STATIC_URL}chats/widget"):
        headers["Referrer-Policy"] = "no-referrer"


WHITENOISE_ADD_HEADERS_FUNCTION = _static_headers

# --- Helper and coordinator logins (docs/security.md) ------------------------------------------
# TOTP two-factor authentication: with OTP_REQUIRED, /console/, /admin/ and the helper socket
# need a session verified with a code. On with PRODUCTION unless OTP_REQUIRED=false says
# otherwise (then a warning at start and in check --deploy, verkkoapu/apps.py); off for
# development.
# An empty OTP_REQUIRED= (a .env line left blank) counts as unset, not as "off".
OTP_REQUIRED = env.bool("OTP_REQUIRED") if env("OTP_REQUIRED", default="") else PRODUCTION
OTP_TOTP_ISSUER = "Verkkoapu"
# A first or replacement authenticator needs a one-time enrolment code (createhelper,
# createcoordinator, resetotp, the admin's action on users); it expires after this many hours.
OTP_ENROLMENT_HOURS = env.int("OTP_ENROLMENT_HOURS", default=72)
AUTHENTICATION_BACKENDS = [
    "verkkoapu.security.LoginAttemptsBackend",  # django-axes: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force: LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock
# that pair for LOGIN_COOLOFF_MINUTES (a username alone would let anyone lock helpers out).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
# Wrong passwords from one address (an IPv6 /64) for any usernames in a lock window.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "verkkoapu.security.request_ip"
AXES_LOCKOUT_CALLABLE = "verkkoapu.security.lockout_response"

if PRODUCTION:
    # Off only for a local trial of the compose stack over plain http (.env.example).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the whole domain and its subdomains to HTTPS for good: the
        # operator's decision (docs/security.md), so check --deploy does not ask for it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # Behind the compose nginx, which terminates TLS and sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- The asker's address --------------------------------------------------------------------
# The header a trusted reverse proxy sets with the client's address ("" = trust none, use the
# socket peer). Only honoured when the peer itself is one of TRUSTED_PROXIES.
PROXY_IP_HEADER = env("PROXY_IP_HEADER", default="")
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# The address rule of every per-address measure (limits, bars, kicks, guesses, feedback;
# verkkoapu.security.limit_key): an IPv6 client counts as its network of this many bits, since
# one home connection gets a whole /64. IPv4 addresses count as they are.
ADDRESS_IPV6_PREFIX = env.int("ADDRESS_IPV6_PREFIX", default=64)
if not 1 <= ADDRESS_IPV6_PREFIX <= 128:
    raise ImproperlyConfigured("ADDRESS_IPV6_PREFIX must be between 1 and 128.")
# Wrong group invitations per running session and hour, from all addresses together (each
# address also counts with its wrong follow-up codes, FOLLOW_UP_GUESS_LIMIT).
GROUP_INVITE_GUESS_LIMIT = env.int("GROUP_INVITE_GUESS_LIMIT", default=50)

# --- Health and metrics (verkkoapu/health.py, docs/operations.md) -----------------------------
# /metrics answers these networks (the client as the chat sockets see it), or a request with
# `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets 403.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Chat behaviour ---------------------------------------------------------------------------
# Per address, across every server process (docs/security.md): at most this many queued or
# live chats at once, this many chats started per hour, and this many unknown tokens per hour
# (and per socket) before `resume` answers `rate_limited`. The group chat: the same per session.
CHAT_MAX_OPEN_PER_ADDRESS = env.int("CHAT_MAX_OPEN_PER_ADDRESS", default=2)
CHAT_MAX_STARTS_PER_HOUR = env.int("CHAT_MAX_STARTS_PER_HOUR", default=10)
CHAT_MAX_TOKEN_MISSES_PER_HOUR = env.int("CHAT_MAX_TOKEN_MISSES_PER_HOUR", default=30)
CHAT_MAX_TOKEN_MISSES_PER_SOCKET = env.int("CHAT_MAX_TOKEN_MISSES_PER_SOCKET", default=5)
CHAT_MAX_MESSAGE_CHARS = 4000
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=64 * 1024)
# Flood control: at most RATE_MESSAGES frames per RATE_WINDOW seconds per socket.
CHAT_RATE_MESSAGES = env.int("CHAT_RATE_MESSAGES", default=20)
CHAT_RATE_WINDOW = env.float("CHAT_RATE_WINDOW", default=10.0)
# A socket refreshes its presence this often; a side unseen for longer than its grace is gone.
CHAT_HEARTBEAT_SECONDS = env.float("CHAT_HEARTBEAT_SECONDS", default=15.0)
CHAT_ASKER_GRACE_SECONDS = env.float("CHAT_ASKER_GRACE_SECONDS", default=120.0)
CHAT_HELPER_GRACE_SECONDS = env.float("CHAT_HELPER_GRACE_SECONDS", default=60.0)
# A console reads its peer-support state (support person on duty, debriefs due) at most this
# often, at its heartbeat (issue 21; chats/peer_support.py).
CHAT_SUPPORT_CHECK_SECONDS = env.float("CHAT_SUPPORT_CHECK_SECONDS", default=60.0)
CHAT_SWEEP_SECONDS = env.float("CHAT_SWEEP_SECONDS", default=5.0)
# A full garbage collection of each server process this often (chats/runtime.py).
CHAT_GC_SECONDS = env.float("CHAT_GC_SECONDS", default=60.0)
# Threads per process for database work; below the PostgreSQL pool's max_size (20).
CHAT_DB_THREADS = env.int("CHAT_DB_THREADS", default=4)
# On PostgreSQL a message and an asker's heartbeat run on asyncio connections in the event loop,
# not on those threads (chats/loopdb.py); this many connections per process for them.
CHAT_LOOP_DB = env.bool("CHAT_LOOP_DB", default=True)
CHAT_LOOP_DB_CONNECTIONS = env.int("CHAT_LOOP_DB_CONNECTIONS", default=4)
CHAT_DEFAULT_BAR_HOURS = env.int("CHAT_DEFAULT_BAR_HOURS", default=24)
# A chat that has lived this long is ended by the system (purge_ip_addresses): its address goes.
CHAT_MAX_AGE_HOURS = env.int("CHAT_MAX_AGE_HOURS", default=24)

# --- The helper's workflow (docs/workflow.md) ---------------------------------------------------
# How many chats a helper holds at once, by role; a helper's own max_chats (admin) overrides it.
CHAT_MAX_CHATS_PEER = env.int("CHAT_MAX_CHATS_PEER", default=1)
CHAT_MAX_CHATS_PROFESSIONAL = env.int("CHAT_MAX_CHATS_PROFESSIONAL", default=2)
# A trained volunteer takes one chat at a time, like a peer, unless a coordinator sets more.
CHAT_MAX_CHATS_VOLUNTEER = env.int("CHAT_MAX_CHATS_VOLUNTEER", default=1)
# A transfer offer nobody answers goes back to the offering helper after this long.
CHAT_TRANSFER_OFFER_SECONDS = env.int("CHAT_TRANSFER_OFFER_SECONDS", default=120)
# A length limit warns the asker this many minutes before the chat ends.
CHAT_LIMIT_WARNING_MINUTES = env.int("CHAT_LIMIT_WARNING_MINUTES", default=5)
# Until a line has answered chats to learn from, a chat is assumed to last this long.
CHAT_DEFAULT_HANDLE_MINUTES = env.int("CHAT_DEFAULT_HANDLE_MINUTES", default=20)
# The audit log of helpers' and coordinators' actions is kept this long, then purged.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)

# --- Statistics, feedback, retention (docs/statistics.md, docs/privacy.md) -------------------
# Exports show counts from 1 to this minus one as "<N" (0 or 1: show every count).
STATS_SUPPRESS_BELOW = env.int("STATS_SUPPRESS_BELOW", default=5)

# Anonymous letters (docs/letters.md): letters (new or in a thread) per address and hour, the
# longest letter, and how long a helper's claim holds before another helper may take it.
LETTERS_MAX_PER_HOUR = env.int("LETTERS_MAX_PER_HOUR", default=5)
LETTER_MAX_CHARS = env.int("LETTER_MAX_CHARS", default=8000)
LETTER_CLAIM_HOURS = env.int("LETTER_CLAIM_HOURS", default=24)
FEEDBACK_MAX_CHARS = env.int("FEEDBACK_MAX_CHARS", default=2000)
# Per address (as a keyed hash, in the cache only, for the window): at most this many sends.
FEEDBACK_RATE_LIMIT = env.int("FEEDBACK_RATE_LIMIT", default=5)
FEEDBACK_RATE_WINDOW = env.int("FEEDBACK_RATE_WINDOW", default=600)
# Login records (django-axes) hold helpers' addresses: purged after this many days.
LOGIN_RECORD_RETENTION_DAYS = env.int("LOGIN_RECORD_RETENTION_DAYS", default=30)

# --- Scheduling (docs/scheduling.md) ------------------------------------------------------------
# Peers are expected to do at least this many shifts a month; the admin report flags fewer.
SCHEDULING_PEER_MIN_SHIFTS_PER_MONTH = env.int("SCHEDULING_PEER_MIN_SHIFTS_PER_MONTH", default=1)
# The helper console's calendar shows this many weeks from the current one.
SCHEDULING_CALENDAR_WEEKS = env.int("SCHEDULING_CALENDAR_WEEKS", default=4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every handler redacts IP addresses from what it writes (verkkoapu/logfilters.py).
    "filters": {"no_addresses": {"()": "verkkoapu.logfilters.RedactAddresses"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_addresses"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Daphne's access log names the client address: off, so the logs never hold an IP.
        "daphne.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.request": {"level": "ERROR"},
        # Lockouts (warnings) stay; every failed login and start-up banner would be noise.
        "axes": {"level": "WARNING"},
        # Django's default handlers for "django" would write past the filter: use root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
