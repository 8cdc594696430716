"""TrialsNest settings, configured entirely by environment variables.

A value that cannot be parsed stops the process with a message naming the variable: a typo in
production must never silently fall back to a default.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from environs import Env, EnvError
from limits import parse as parse_limit
from marshmallow import ValidationError
from marshmallow.validate import Range

from trialsnest.beat import BEAT_SCHEDULE
from trialsnest.db_router import with_replica
from trialsnest.mail import anymail_backend, anymail_provider, anymail_settings, mailer

# Lets ModelForm[...] and QuerySet[...] be subscripted at run time, as the type hints use them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = Env()
_positive = Range(min=1, error="must be a positive number")


def _rate_limit(value: str) -> None:
    try:
        parse_limit(value)
    except ValueError:
        raise ValidationError("must be a rate such as 10/hour") from None


try:
    DEBUG = env.bool("DEBUG", False)
    SECRET_KEY = env.str("SECRET_KEY", "insecure-dev-key" if DEBUG else "")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
    CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", [])
    _DATABASE_URL = env.str("DATABASE_URL", "")
    REDIS_URL = env.str("REDIS_URL", "")
    # Without DEBUG there is no default: the console backend would print password-reset and
    # invitation links into the web log.
    # anymail://ESP sends through that provider's django-anymail backend (trialsnest.mail).
    EMAIL_PROVIDER = anymail_provider(env.str("EMAIL_URL", ""))
    if EMAIL_PROVIDER:
        _EMAIL = anymail_backend(EMAIL_PROVIDER)
    else:
        _EMAIL = env.dj_email_url("EMAIL_URL", "console://" if DEBUG else None)
    DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "TrialsNest <noreply@localhost>")
    _SECURE_COOKIES = env.bool("SECURE_COOKIES", not DEBUG)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
    # A TLS-terminating proxy in front: it sets X-Forwarded-Proto and appends the visitor's
    # address to X-Forwarded-For (trialsnest.lib.client_ip).
    BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", False)
    _SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", 30, validate=_positive)
    _SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", 12, validate=_positive)
    _LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, validate=_positive)
    _LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", 30, validate=_positive)
    # How long a sign-in lets sensitive actions go without the password (accounts.recent).
    REAUTH_MINUTES = env.int("REAUTH_MINUTES", 10, validate=_positive)
    _LOG_LEVEL = env.log_level("LOG_LEVEL", logging.INFO)
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
    # Public interest form submissions per client IP, e.g. "10/hour" or "3/minute".
    INTEREST_RATE_LIMIT = env.str("INTEREST_RATE_LIMIT", "10/hour", validate=_rate_limit)
    API_RATE_LIMIT = env.str("API_RATE_LIMIT", "120/minute", validate=_rate_limit)
    # How long a merge of two people can be undone from the duplicates page.
    MERGE_UNDO_DAYS = env.int("MERGE_UNDO_DAYS", 30, validate=_positive)
    # The benchmark harness (generate_data fills the database with made-up people): off
    # unless asked for, so a production deployment does not even have the commands.
    _BENCHMARKS = env.bool("BENCHMARKS", False)
    # CSV imports are written in chunks of this many rows, one transaction each: a worker that
    # dies loses at most one chunk's work. The worker's lease on an import lasts this long,
    # renewed with every chunk: when it runs out, the beat task gives the import to another
    # worker, up to CSV_IMPORT_MAX_ATTEMPTS times before it fails with the reason.
    CSV_IMPORT_CHUNK_ROWS = env.int("CSV_IMPORT_CHUNK_ROWS", 5_000, validate=_positive)
    CSV_IMPORT_LEASE_SECONDS = env.int("CSV_IMPORT_LEASE_SECONDS", 120, validate=_positive)
    CSV_IMPORT_MAX_ATTEMPTS = env.int("CSV_IMPORT_MAX_ATTEMPTS", 5, validate=_positive)
    # A message claimed for sending this long ago lost its worker: it goes again, same key.
    OUTREACH_SENDING_LEASE_SECONDS = env.int(
        "OUTREACH_SENDING_LEASE_SECONDS", 120, validate=_positive
    )
    # SMS: console:// (the log), file:///path or twilio:// (leads.outreach.backends); unset,
    # a text fails saying so. Twilio's delivery reports go to TWILIO_STATUS_CALLBACK_URL.
    SMS_URL = env.str("SMS_URL", "console://" if DEBUG else "")
    TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", "")
    TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", "")
    # Where the app is reached, for links in e-mails sent outside a request (the digest).
    SITE_URL = env.str("SITE_URL", "")
except EnvError as exc:
    if "EMAIL_URL" in str(exc) and not env.str("EMAIL_URL", ""):
        raise ImproperlyConfigured(
            "EMAIL_URL must be set when DEBUG is false: smtp://user:password@host:587/?tls=True "
            "for your mail server (console:// prints every message, with its links, to the log)."
        ) from exc
    raise ImproperlyConfigured(f"Bad environment variable: {exc}") from exc
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
# django-anymail's settings: ANYMAIL_* variables without the prefix (trialsnest.mail).
ANYMAIL = anymail_settings(os.environ)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # array fields and full-text search: core PostgreSQL only
    "django_htmx",
    "anymail",
    "guardian",
    "axes",
    *("django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"),
    "django_otp_webauthn",  # passkeys: trialsnest.accounts.passkeys
    "trialsnest.accounts",
    "trialsnest.tenancy",
    "trialsnest.studies",
    "trialsnest.audit",
    "trialsnest.ops",
    "trialsnest.notifications",
    "leads",
    "prescreen",
    "records",
    "scheduling",
    "reporting",
]
if _BENCHMARKS:
    INSTALLED_APPS.append("trialsnest.bench")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Public pages are English at /studies/ and Spanish at /es/studies/ (i18n_patterns);
    # every other path stays in LANGUAGE_CODE whatever the browser asks for.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "trialsnest.tenancy.principal.PrincipalOTPMiddleware",
    # Cache-Control: no-store on every answer that may carry personal data (signed in, API, POST).
    "trialsnest.lib.caching.NoStoreMiddleware",
    # Before the tenancy middleware: a sign-out there tells the user why, as a message.
    "django.contrib.messages.middleware.MessageMiddleware",
    "trialsnest.tenancy.middleware.SessionTimeoutMiddleware",
    "trialsnest.tenancy.middleware.ActiveMembershipMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "trialsnest.accounts.middleware.TwoFactorMiddleware",  # after the membership and htmx
    "trialsnest.audit.middleware.RefusalAuditMiddleware",
    # Axes must be last: it answers lockouts raised by the authentication backend.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trialsnest.urls"
WSGI_APPLICATION = "trialsnest.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trialsnest.tenancy.context_processors.shell",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    if not _DATABASE_URL:
        # The embedded default (DESIGN.md): our own PostgreSQL, which its backend starts when
        # the first connection needs it (trialsnest/lib/embedded).
        from trialsnest.lib.embedded import DATABASE_NAME

        return {
            "ENGINE": "trialsnest.lib.embedded",
            "NAME": DATABASE_NAME,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    import dj_database_url

    try:
        config: dict[str, object] = dict(dj_database_url.parse(_DATABASE_URL, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"Bad environment variable DATABASE_URL: {exc}") from exc
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES, DATABASE_ROUTERS = with_replica(_database(), env.str("REPORTING_DATABASE_URL", ""))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is an accelerator, never a dependency of the web: an unreachable Redis answers cache
# misses within half a second, and the breaker (trialsnest.lib.breaker) skips it for a while.
REDIS_TIMEOUT_SECONDS = 0.5
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "trialsnest.lib.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Authentication
AUTH_USER_MODEL = "accounts.User"
OTP_WEBAUTHN_HELPER_CLASS = "trialsnest.accounts.passkeys.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a second factor only, after the password
# The relying party and its origin are those of each request (PasskeyHelper), not settings.
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E010", "otp_webauthn.E011", "otp_webauthn.E030"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "trialsnest.tenancy.principal.PrincipalBackend",  # the model backend, in one query
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
OTP_TOTP_ISSUER = "TrialsNest"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # invitations use the same tokens

# Guardian grants sponsor viewers their StudySites; it needs no anonymous user here.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
AXES_FAILURE_LIMIT = _LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = _LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The sign-in form posts `username` although USERNAME_FIELD is `email`; without these, axes
# counts every failure against no account and never refuses the right password.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "trialsnest.accounts.lockout.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Never write the submitted username (an e-mail address) into logs.
AXES_SENSITIVE_PARAMETERS = ["username", "password"]
# The visitor's address behind the proxy too (without this, every visitor is the proxy).
AXES_CLIENT_IP_CALLABLE = "trialsnest.lib.client_ip.client_ip"

# Sessions: idle and absolute timeouts are enforced by SessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT = _SESSION_IDLE_MINUTES * 60
SESSION_ABSOLUTE_TIMEOUT = _SESSION_ABSOLUTE_HOURS * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# Read sessions from the cache (Redis in production), written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True

# Transport security
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: scripts only from us or with the per-request nonce, no inline styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Internationalization: the public study pages come in these languages; staff pages are English.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
# The compiled catalog (django.mo) is committed, so running the app needs no gettext tools.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# Uploaded files (CSV imports keep their original file here).
MEDIA_URL = "/media/"  # never served publicly: files are reached through views that check access
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(DATA_DIR / "media")))

# E-mail: EMAIL_URL such as smtp://user:password@host:587/?tls=true, console:// or file:///path
MAILERS = {"default": mailer(_EMAIL)}
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set, else a broker that needs no server.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # An unacknowledged message (its worker died) is delivered again after this long: longer
        # than the longest task. Long jobs are chunked and resumable (a CSV import renews a lease
        # per chunk), so no task runs near this.
        "visibility_timeout": 60 * 60,
        # Publishing gives up fast: the outbox (trialsnest.ops.outbox) keeps what was not sent.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    # Folders made when the Celery app is finalized (trialsnest/celery.py), not on import.
    _broker = Path(env.str("BROKER_DIR", str(DATA_DIR / "broker")))
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_broker / 'results'}"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Results are read by nobody but the round-trip check (trialsnest.ops.tasks.ping).
CELERY_TASK_IGNORE_RESULT = True
# What beat runs, and how often: its own module (trialsnest/beat.py), one line a task.
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Logging: request data never reaches the logs, only the path and the status.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_phi": {"()": "trialsnest.logging.RedactPatientData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_phi"],
        }
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
