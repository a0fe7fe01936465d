"""Project wiring: every setting comes from the environment (``HDH_*``, ``DATABASE_URL``).

Two modes:

* ``embedded`` (default): one machine, SQLite in ``var/``, a secret generated on
  first start and kept in ``var/secret_key`` (mode 0600). For the demo and for
  development.
* ``production``: ``HDH_SECRET_KEY`` and ``HDH_ALLOWED_HOSTS`` are required, TLS is
  assumed (secure cookies, HSTS, SSL redirect) and ``manage.py check --deploy``
  is clean.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


HDH_MODE = env("HDH_MODE", "embedded")
if HDH_MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured(f"HDH_MODE must be 'embedded' or 'production', got {HDH_MODE!r}")
PRODUCTION = HDH_MODE == "production"

# Where the platform keeps its state on this machine (database file, lake, keys).
HDH_HOME = Path(env("HDH_HOME", str(Path.cwd() / "var"))).resolve()  # type: ignore[arg-type]
HDH_LAKE = Path(env("HDH_LAKE", str(HDH_HOME / "lake"))).resolve()  # type: ignore[arg-type]
# Seals of the audit log are also appended here, outside the database, so that a
# truncated or rewritten log can be told from an intact one.
HDH_AUDIT_ANCHOR = Path(
    env("HDH_AUDIT_ANCHOR", str(HDH_HOME / "audit-anchor.jsonl"))  # type: ignore[arg-type]
).resolve()
# Pseudonymisation secrets (docs/adr/0009): outside the lake and the database.
HDH_KEY_STORE = Path(
    env("HDH_KEY_STORE", str(HDH_HOME / "keys"))  # type: ignore[arg-type]
).resolve()
# DuckDB memory limit of a preparation run (beyond it, work spills to disk).
HDH_PREPARATION_MEMORY_LIMIT = env("HDH_PREPARATION_MEMORY_LIMIT", "1GB")
# Identity tables (<base>/IR_IDENTITE: names, birth dates, NIR), outside the lake,
# read only by level-1 pseudonymisation and cohort linkage (docs/adr/0010).
HDH_IDENTITIES = Path(
    env("HDH_IDENTITIES", str(HDH_HOME / "identite"))  # type: ignore[arg-type]
).resolve()
# Largest external cohort file a data engineer may upload for linkage.
HDH_LINKAGE_UPLOAD_MAX_BYTES = env_int("HDH_LINKAGE_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
# Project workspaces: job folders, logs and outputs (never inside the lake).
HDH_WORKSPACES = Path(
    env("HDH_WORKSPACES", str(HDH_HOME / "workspaces"))  # type: ignore[arg-type]
).resolve()
# Days a workspace stays read-only after its permit ends before it is archived.
HDH_WORKSPACE_ARCHIVE_DAYS = int(env("HDH_WORKSPACE_ARCHIVE_DAYS", "90") or "90")
# The airlock's own copies of files under review, and the store of released files.
HDH_AIRLOCK = Path(
    env("HDH_AIRLOCK", str(HDH_HOME / "airlock"))  # type: ignore[arg-type]
).resolve()
# Disclosure-check thresholds: a JSON object of hdh.airlock.check.Policy fields
# (e.g. {"min_count": 11, "nk_k": 0.9}); empty for the defaults (CASD rule).
HDH_AIRLOCK_POLICY = env("HDH_AIRLOCK_POLICY", "") or ""
# Limits of one batch job in the sandbox (seconds, bytes, processes).
HDH_JOB_WALL_SECONDS = env_int("HDH_JOB_WALL_SECONDS", 900)
HDH_JOB_CPU_SECONDS = env_int("HDH_JOB_CPU_SECONDS", 900)
HDH_JOB_MEMORY = env_int("HDH_JOB_MEMORY", 4 * 1024**3)
HDH_JOB_PROCESSES = env_int("HDH_JOB_PROCESSES", 64)
HDH_JOB_FILE_BYTES = env_int("HDH_JOB_FILE_BYTES", 1024**3)
HDH_JOB_LOG_BYTES = env_int("HDH_JOB_LOG_BYTES", 1024**2)

DEBUG = env_bool("HDH_DEBUG", False)

# Values that must never be accepted as a production secret.
INSECURE_SECRET_PREFIXES = ("django-insecure", "change-me", "changeme", "secret", "dev")


def _secret_key() -> str:
    configured = env("HDH_SECRET_KEY")
    if PRODUCTION:
        if configured is None:
            raise ImproperlyConfigured("HDH_SECRET_KEY is required in production mode")
        if len(configured) < 50 or configured.lower().startswith(INSECURE_SECRET_PREFIXES):
            raise ImproperlyConfigured(
                "HDH_SECRET_KEY is too weak for production: use at least 50 random characters"
            )
        return configured
    if configured is not None:
        return configured
    # Embedded mode: generate once, keep it beside the data, readable by the owner only.
    key_file = HDH_HOME / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    HDH_HOME.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [
    h.strip() for h in (env("HDH_ALLOWED_HOSTS", "") or "").split(",") if h.strip()
] or (["localhost", "127.0.0.1", "[::1]", "testserver"] if not PRODUCTION else [])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("HDH_ALLOWED_HOSTS is required in production mode")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("HDH_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "dsfr",
    "widget_tweaks",
    "django_tasks",
    "django_tasks_db",
    "hdh",
    "hdh.core",
    "hdh.audit",
    "hdh.accounts",
    "hdh.catalog",
    "hdh.engines",
    "hdh.synth",
    "hdh.lake",
    "hdh.access",
    "hdh.keys",
    "hdh.preparation",
    "hdh.citizens",
    "hdh.workspace",
    "hdh.airlock",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hdh.core.middleware.RequestIdMiddleware",
    "hdh.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hdh.accounts.middleware.SessionExpiryMiddleware",
    "hdh.accounts.middleware.SecondFactorMiddleware",
    "hdh.accounts.tokens.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hdh.urls"
WSGI_APPLICATION = "hdh.wsgi.application"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hdh.core.context_processors.platform",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{HDH_HOME / 'hdh.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", DEFAULT_SQLITE),  # type: ignore[arg-type]
        conn_max_age=env_int("HDH_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL: readers never block the writer; IMMEDIATE: a transaction takes the
            # write lock when it starts, so the audit chain head cannot be read stale.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DATABASES["default"]["TEST"] = {"NAME": env("HDH_TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sessions ------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lock-out: this many failures within the window lock the account for the duration.
HDH_LOCKOUT_THRESHOLD = env_int("HDH_LOCKOUT_THRESHOLD", 5)
HDH_LOCKOUT_WINDOW_MINUTES = env_int("HDH_LOCKOUT_WINDOW_MINUTES", 15)
HDH_LOCKOUT_MINUTES = env_int("HDH_LOCKOUT_MINUTES", 15)
# Sessions end after this much inactivity, and in any case this long after login.
HDH_SESSION_IDLE_MINUTES = env_int("HDH_SESSION_IDLE_MINUTES", 30)
HDH_SESSION_MAX_HOURS = env_int("HDH_SESSION_MAX_HOURS", 12)
HDH_TOTP_ISSUER = env("HDH_TOTP_ISSUER", "hdh")
SESSION_COOKIE_AGE = HDH_SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Security headers (production assumes TLS in front) -------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("HDH_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("HDH_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = HDH_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (embedded mode), whitenoise serves from the app folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = HDH_HOME / "media"

# --- E-mail (notifications) ------------------------------------------------------
# Embedded mode writes each message as a file under $HDH_HOME/mail; production
# sends through SMTP (EMAIL_HOST etc. from HDH_EMAIL_HOST, HDH_EMAIL_PORT).
EMAIL_BACKEND = env(
    "HDH_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = HDH_HOME / "mail"
EMAIL_HOST = env("HDH_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("HDH_EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("HDH_EMAIL_USE_TLS", PRODUCTION)
DEFAULT_FROM_EMAIL = env("HDH_DEFAULT_FROM_EMAIL", "hdh <ne-pas-repondre@hdh.localhost>")

# --- Lake ----------------------------------------------------------------------
# CASD rule for SNDS outputs: no published cell may count fewer than this many.
HDH_SMALL_COUNT_THRESHOLD = env_int("HDH_SMALL_COUNT_THRESHOLD", 11)
# Largest deposit (all files together) through the web form or the API.
HDH_LAKE_UPLOAD_MAX_BYTES = env_int("HDH_LAKE_UPLOAD_MAX_BYTES", 2 * 1024**3)
# Synthetic SNDS beneficiaries ``hdh demo`` deposits in the lake.
HDH_DEMO_BENEFICIARIES = env_int("HDH_DEMO_BENEFICIARIES", 100_000)

# Citizens' portal: who the data protection officer is, shown on the public pages.
HDH_DPO_NAME = env("HDH_DPO_NAME", "Délégué à la protection des données") or ""
HDH_DPO_EMAIL = env("HDH_DPO_EMAIL", "dpo@hdh.localhost") or ""
HDH_DPO_ADDRESS = env("HDH_DPO_ADDRESS", "") or ""
# Citizens' sign-in through an OpenID Connect provider (FranceConnect-like); off when empty.
HDH_OIDC_ISSUER = env("HDH_OIDC_ISSUER", "") or ""
HDH_OIDC_CLIENT_ID = env("HDH_OIDC_CLIENT_ID", "") or ""
HDH_OIDC_CLIENT_SECRET = env("HDH_OIDC_CLIENT_SECRET", "") or ""
HDH_OIDC_SCOPES = env("HDH_OIDC_SCOPES", "openid given_name family_name birthdate gender") or ""

# --- Background work (Django Tasks API, database backend) -----------------------
TASKS = {
    "default": {
        "BACKEND": env("HDH_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Enqueued by ``hdh worker`` every ``--periodic-every`` seconds (default hourly);
# each is idempotent, so a late or repeated run is harmless.
HDH_PERIODIC_TASKS = [
    "hdh.audit.tasks.seal_pending_days",
    "hdh.access.tasks.close_expired_permits",
    "hdh.workspace.tasks.maintain_workspaces",
    "hdh.preparation.tasks.sweep_interrupted_runs",
]
HDH_ACCESS_PROTOCOL_MAX_BYTES = env_int("HDH_ACCESS_PROTOCOL_MAX_BYTES", 20 * 1024 * 1024)


# --- Guichet (access) -------------------------------------------------------------
# The site's public address, for the absolute links of e-mails.
HDH_BASE_URL = (env("HDH_BASE_URL", "http://localhost:8000") or "").rstrip("/")
if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", HDH_BASE_URL):
    raise ImproperlyConfigured(
        f"HDH_BASE_URL must be an http(s) address like https://hdh.example.org, "
        f"got {HDH_BASE_URL!r}"
    )


def env_deadlines(name: str) -> dict[str, str]:
    """JSON ``{"opinion": "30d"}`` or a list ``opinion=30,decision=2m`` (bare number: days).
    Stage names and delays are checked when the guichet starts (hdh.access.apps)."""
    raw = (env(name, "") or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ImproperlyConfigured(f"{name} must be a JSON object")
        return {str(key): str(value) for key, value in parsed.items()}
    pairs = [item.split("=", 1) for item in raw.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ImproperlyConfigured(f"{name} must be a list like 'opinion=30d,decision=2m'")
    return {key.strip(): value.strip() for key, value in pairs}


# Overrides of the stage deadlines (defaults: hdh.access.deadlines.DEFAULTS).
HDH_ACCESS_DEADLINES = env_deadlines("HDH_ACCESS_DEADLINES")
# Votes needed before the committee's opinion is recorded: "all" (every assigned
# member without a conflict of interest) or a number of votes.
HDH_COMMITTEE_QUORUM = (env("HDH_COMMITTEE_QUORUM", "all") or "all").strip().lower()
if HDH_COMMITTEE_QUORUM != "all" and not (
    HDH_COMMITTEE_QUORUM.isdigit() and 1 <= int(HDH_COMMITTEE_QUORUM) <= 99
):
    raise ImproperlyConfigured(
        f"HDH_COMMITTEE_QUORUM must be 'all' or a number from 1 to 99, got {HDH_COMMITTEE_QUORUM!r}"
    )
# Antivirus for uploaded protocols: "none", or the path of clamd's Unix socket.
HDH_UPLOAD_SCANNER = (env("HDH_UPLOAD_SCANNER", "none") or "none").strip()
if HDH_UPLOAD_SCANNER != "none" and not HDH_UPLOAD_SCANNER.startswith("/"):
    raise ImproperlyConfigured(
        f"HDH_UPLOAD_SCANNER must be 'none' or the absolute path of clamd's socket, "
        f"got {HDH_UPLOAD_SCANNER!r}"
    )

# --- Logging: structured, never any health data or direct identifier ------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact": {"()": "hdh.core.redaction.RedactingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env("HDH_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG it would write whole template contexts (queries typed by people).
        "django.template": {"level": "INFO"},
    },
}

# --- django-dsfr ----------------------------------------------------------------
DSFR_USE_INTEGRITY_CHECKSUMS = True
# django-dsfr's tags would otherwise mark what they are given as safe HTML.
DSFR_CONTENT_IS_SAFE = False
