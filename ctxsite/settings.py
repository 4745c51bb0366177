"""Settings for the ctx| Confluence connector.

Every value comes from the environment (django-environ), optionally from a `.env` file in the project root.
`.env.example` lists every variable. With nothing set and DEBUG on, the site runs on SQLite, the django-q2 ORM
broker and the sandbox, so a newcomer can try the whole flow offline.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)


# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)


def _dev_secret_key() -> str:
    """A secret key generated once for local development and kept under var/."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

if DEBUG:
    SECRET_KEY = SECRET_KEY or _dev_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
else:
    # Secure by default: a production site never runs on a guessable key or answers for any host.
    if len(SECRET_KEY) < 40 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 10:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a long random value when DEBUG is off (see .env.example)."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (see .env.example).")

PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # The providers' own apps are installed so allauth registers them; SOCIALACCOUNT_PROVIDERS swaps in our
    # subclasses, whose URLs follow the ATLASSIAN_* and GITHUB_* settings.
    "allauth.socialaccount.providers.atlassian",
    "allauth.socialaccount.providers.github",
    "django_q",
    "connectors",
    "github_sync",
    "confluence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "ctxsite.urls"
WSGI_APPLICATION = "ctxsite.wsgi.application"

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
                "connectors.context_processors.site",
            ],
        },
    },
]

# URL form fields assume https:// when a scheme is missing (Django 6's default, adopted now).
FORMS_URLFIELD_ASSUME_HTTPS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files straight from the apps, so a self-hosted site needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)


# DATABASE
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file: wait for the lock instead of failing, and take
    # the write lock at the start of a transaction so two writers never deadlock on an upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

# The MCP server's per-key request counts live here. Local memory counts in each process: when several web processes
# serve /mcp, point them all at one Redis (redis://…) so a key's limit holds across them.
CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or "locmemcache://")}


# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Harmless on a subdomain (only an apex domain can be submitted to the preload list), required by check --deploy.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # Behind a TLS-terminating proxy the original scheme arrives in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL] if PUBLIC_BASE_URL else [])


# AUTH / ALLAUTH
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False  # Grants we use are stored encrypted in our own models, never in SocialToken.
# Atlassian and GitHub accounts are linked to connections, never used to sign in: the adapter captures the grant
# and returns to the setup step before allauth would log anyone in or create a SocialAccount.
SOCIALACCOUNT_ADAPTER = "connectors.socialaccount.LinkingAdapter"
SOCIALACCOUNT_LOGIN_ON_GET = False

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ctx| <noreply@localhost>")


# DJANGO-Q2
# ------------------------------------------------------------------------------
Q_REDIS_URL = env("Q_REDIS_URL", default="")
Q_CLUSTER = {
    "name": "ctxsite",
    "workers": env.int("Q_WORKERS", default=2),
    # A full sync of a 10,000-page site takes minutes; 30 minutes is far beyond any healthy run, so a task
    # still running then is stuck and is killed. Runs record their own progress, so a killed run is resumed.
    "timeout": 1800,
    # retry must exceed timeout: otherwise a broker with receipts hands a still-running task to a second worker.
    "retry": 2100,
    # Our tasks are idempotent and record failures on their own rows (SyncRun, IngestRun); a few broker-level
    # attempts cover a worker dying mid-task, and the bound stops a poisoned task from looping forever.
    "max_attempts": 3,
    # Missed schedules (worker down overnight) run once when the worker returns, not once per missed slot.
    "catch_up": False,
    "save_limit": 1000,
    "label": "Background tasks",
}
if Q_REDIS_URL:
    Q_CLUSTER["redis"] = Q_REDIS_URL
else:
    # The embedded default: the database is the broker, so one machine needs nothing else running.
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5


# ENCRYPTION
# ------------------------------------------------------------------------------
# Comma-separated Fernet keys: the first encrypts, every key decrypts (rotation). In DEBUG a key is derived
# from SECRET_KEY so `make run` needs nothing; production must set its own.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
if not FIELD_ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off (see .env.example).")


def _check_fernet_keys(keys: list[str]) -> None:
    """Refuse a key that is not a Fernet key now, rather than inside the first OAuth callback that encrypts."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except ValueError:
            # The key itself is a secret: name its position, never its value.
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                'base64-encoded bytes). Generate one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            ) from None


_check_fernet_keys(FIELD_ENCRYPTION_KEY)


# ATLASSIAN / CONFLUENCE
# ------------------------------------------------------------------------------
ATLASSIAN_CLIENT_ID = env("ATLASSIAN_CLIENT_ID", default="")
ATLASSIAN_CLIENT_SECRET = env("ATLASSIAN_CLIENT_SECRET", default="")
ATLASSIAN_AUTH_URL = env("ATLASSIAN_AUTH_URL", default="https://auth.atlassian.com").rstrip("/")
ATLASSIAN_API_URL = env("ATLASSIAN_API_URL", default="https://api.atlassian.com").rstrip("/")
FORGE_APP_ID = env("FORGE_APP_ID", default="")
FORGE_JWKS_URL = env("FORGE_JWKS_URL", default="https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json")
CONFLUENCE_FORGE_INSTALL_URL = env("CONFLUENCE_FORGE_INSTALL_URL", default="")
# Hours between reconciliation syncs of each connection (a cheap version listing that catches missed events).
CONFLUENCE_RECONCILE_HOURS = env.float("CONFLUENCE_RECONCILE_HOURS", default=6)
# A sync reads its repository from GitHub (renamed, made public, archived?) on every run over the whole scope, and
# on a targeted run when the last read is older than this: a webhook we missed is caught within these minutes.
SYNC_REPOSITORY_CHECK_MINUTES = env.int("SYNC_REPOSITORY_CHECK_MINUTES", default=15)
# The sweeper's clocks. A running sync silent for SYNC_STALE_AFTER_SECONDS lost its worker: it is marked failed and
# a recovery run queued (the stalled run, should it wake, stops at its next heartbeat without writing). An ingestion
# holds a lease of INGEST_LEASE_SECONDS (default: past the worker's task timeout). A queued sync or ingestion that
# nobody started for TASK_LOST_AFTER_SECONDS (the broker lost it, or was down) is sent again.
SYNC_STALE_AFTER_SECONDS = env.int("SYNC_STALE_AFTER_SECONDS", default=600)
INGEST_LEASE_SECONDS = env.int("INGEST_LEASE_SECONDS", default=Q_CLUSTER["timeout"] + 300)
TASK_LOST_AFTER_SECONDS = env.int("TASK_LOST_AFTER_SECONDS", default=300)
# A sync or ingestion whose worker stopped this many times in a row (work that kills its worker) is failed, with
# the reason on the connection's or repository's status, instead of being redone forever at the APIs' expense.
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)
# The most one Confluence or GitHub request sleeps in all between its retries. A service asking for longer (a 429
# with a long Retry-After, GitHub's rate limit resetting in the hour) gets its run handed back to the queue instead,
# not before that long, and a page of the wizard answers "try again" instead of hanging.
HTTP_MAX_INLINE_WAIT_SECONDS = env.float("HTTP_MAX_INLINE_WAIT_SECONDS", default=30)
# Days processed Forge events and finished sync runs are kept (the latest run of each connection always is).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
SYNC_RUN_RETENTION_DAYS = env.int("SYNC_RUN_RETENTION_DAYS", default=90)
# Days processed or ignored GitHub deliveries (full push payloads included) and finished ingestions are kept (each
# repository's latest ingestion, and the one its documents come from, always are).
GITHUB_WEBHOOK_RETENTION_DAYS = env.int("GITHUB_WEBHOOK_RETENTION_DAYS", default=30)
INGEST_RUN_RETENTION_DAYS = env.int("INGEST_RUN_RETENTION_DAYS", default=90)


# LIMITS ON WHAT OUTSIDERS SEND
# ------------------------------------------------------------------------------
# Search: distinct words per query and the query's length (beyond either: 400), and on PostgreSQL the longest a
# search statement may run before it is cancelled (503) instead of holding a worker.
SEARCH_MAX_TERMS = env.int("SEARCH_MAX_TERMS", default=32)
SEARCH_MAX_QUERY_CHARS = env.int("SEARCH_MAX_QUERY_CHARS", default=512)
SEARCH_STATEMENT_TIMEOUT_MS = env.int("SEARCH_STATEMENT_TIMEOUT_MS", default=3000)
# Ingestion: a document's YAML front matter beyond this size is not parsed, and parsed front matter whose JSON
# exceeds the metadata cap is not stored (the document is still ingested and searchable; the run records a warning).
FRONT_MATTER_MAX_BYTES = env.int("FRONT_MATTER_MAX_BYTES", default=64 * 1024)
DOCUMENT_METADATA_MAX_BYTES = env.int("DOCUMENT_METADATA_MAX_BYTES", default=64 * 1024)
# Sync: a page whose Markdown is larger is not written (the run records a warning and the repository keeps its
# previous version); at most 100 MiB, GitHub's file size limit.
SYNC_MAX_PAGE_BYTES = env.int("SYNC_MAX_PAGE_BYTES", default=5 * 1024 * 1024)
# Webhook bodies: GitHub sends deliveries of up to 25 MB and never retries a 4xx; Forge events are small.
GITHUB_WEBHOOK_MAX_BYTES = env.int("GITHUB_WEBHOOK_MAX_BYTES", default=25 * 1024 * 1024)
FORGE_EVENT_MAX_BYTES = env.int("FORGE_EVENT_MAX_BYTES", default=256 * 1024)
# MCP (/mcp): requests one API key may make in a minute; more are answered 429 with Retry-After (0: no limit).
MCP_RATE_LIMIT_PER_MINUTE = env.int("MCP_RATE_LIMIT_PER_MINUTE", default=120)

# Classic and granular read scopes: v2 endpoints are documented with granular scopes, the v1 calls we still make
# (CQL search for labels in bulk, attachment download) with classic ones. offline_access gives a refresh token.
ATLASSIAN_SCOPES = [
    "offline_access",
    "read:me",
    "read:space:confluence",
    "read:page:confluence",
    "read:hierarchical-content:confluence",
    "read:content.metadata:confluence",
    "read:attachment:confluence",
    "read:label:confluence",
    "read:folder:confluence",
    # Where a whiteboard, database or embed sits (its Forge event names only the item itself).
    "read:whiteboard:confluence",
    "read:database:confluence",
    "read:embed:confluence",
    "search:confluence",
    "read:confluence-content.all",
    "read:confluence-space.summary",
    "readonly:content.attachment:confluence",
    # The bulk user lookup (v2 POST /users-bulk), so mentions show people's display names.
    "read:user:confluence",
    # The personal data reporting API (confluence.privacy): which Atlassian accounts ctx| stores data of.
    "report:personal-data",
]


# GITHUB APP
# ------------------------------------------------------------------------------
GITHUB_APP_ID = env("GITHUB_APP_ID", default="")
GITHUB_APP_SLUG = env("GITHUB_APP_SLUG", default="")
GITHUB_APP_CLIENT_ID = env("GITHUB_APP_CLIENT_ID", default="")
GITHUB_APP_CLIENT_SECRET = env("GITHUB_APP_CLIENT_SECRET", default="")
# The PEM itself, or a path to it (read when first needed, so a key mounted as a file can be rotated).
GITHUB_APP_PRIVATE_KEY = env("GITHUB_APP_PRIVATE_KEY", default="").replace("\\n", "\n")
GITHUB_APP_PRIVATE_KEY_FILE = env("GITHUB_APP_PRIVATE_KEY_FILE", default="")
GITHUB_WEBHOOK_SECRET = env("GITHUB_WEBHOOK_SECRET", default="")
GITHUB_API_URL = env("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
GITHUB_WEB_URL = env("GITHUB_WEB_URL", default="https://github.com").rstrip("/")


# SANDBOX
# ------------------------------------------------------------------------------
# The simulators stand in for Atlassian and GitHub. On by default only in development with no real
# credentials configured; never on otherwise unless SANDBOX is set explicitly.
_real_credentials = bool(ATLASSIAN_CLIENT_ID or GITHUB_APP_ID)
# An empty SANDBOX= (as in .env.example) means "decide for me", like an unset one.
SANDBOX = env.bool("SANDBOX") if env.str("SANDBOX", default="") else (DEBUG and not _real_credentials)
if SANDBOX and not DEBUG:
    # The sandbox replaces the operator's GITHUB_WEBHOOK_SECRET with a public value, trusts Forge tokens signed by
    # its own JWKS and serves /sandbox/manage/ to anyone: a development mode, never a production one.
    raise ImproperlyConfigured(
        "SANDBOX is on while DEBUG is off. The sandbox simulates Atlassian and GitHub with public secrets and an "
        "open management page, so it only runs in development: set DEBUG=1 on a development machine, or unset "
        "SANDBOX (or set SANDBOX=0) on a site people use."
    )
SANDBOX_DIR = Path(env("SANDBOX_DIR", default=str(VAR_DIR / "sandbox")))
# Where the simulators answer: mounted on this site, or a separate `python -m sandbox.serving.server` (bench/faults.py).
SANDBOX_URL = (env("SANDBOX_URL", default="") or f"{PUBLIC_BASE_URL}/sandbox").rstrip("/")


# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # PyGithub logs response bodies at DEBUG (an installation token's, for one) and urllib3 full URLs (an archive's
    # signed link): never below INFO, whatever LOG_LEVEL says.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "github": {"level": "INFO"},
        "urllib3": {"level": "INFO"},
    },
}

SOCIALACCOUNT_PROVIDERS = {
    "atlassian": {
        "provider_class": "confluence.oauth.provider.CtxAtlassianProvider",
        "SCOPE": ATLASSIAN_SCOPES,
        "APPS": [{"client_id": ATLASSIAN_CLIENT_ID, "secret": ATLASSIAN_CLIENT_SECRET, "key": ""}],
    },
    "github": {
        "provider_class": "github_sync.oauth.provider.CtxGitHubProvider",
        # A GitHub App's user token carries the App's permissions; no OAuth scopes are needed.
        "SCOPE": [],
        "APPS": [{"client_id": GITHUB_APP_CLIENT_ID, "secret": GITHUB_APP_CLIENT_SECRET, "key": ""}],
    },
}

if SANDBOX:
    # Every client reaches the simulators through the same base-URL settings that point at the real services in
    # production. Explicit settings still win.
    _sandbox = SANDBOX_URL
    ATLASSIAN_AUTH_URL = env("ATLASSIAN_AUTH_URL", default=f"{_sandbox}/atlassian/auth").rstrip("/")
    ATLASSIAN_API_URL = env("ATLASSIAN_API_URL", default=f"{_sandbox}/atlassian/api").rstrip("/")
    FORGE_JWKS_URL = env("FORGE_JWKS_URL", default=f"{_sandbox}/atlassian/forge/jwks.json")
    GITHUB_API_URL = env("GITHUB_API_URL", default=f"{_sandbox}/github/api").rstrip("/")
    GITHUB_WEB_URL = env("GITHUB_WEB_URL", default=f"{_sandbox}/github/web").rstrip("/")
    from sandbox import credentials as _sandbox_credentials

    ATLASSIAN_CLIENT_ID = _sandbox_credentials.ATLASSIAN_CLIENT_ID
    ATLASSIAN_CLIENT_SECRET = _sandbox_credentials.ATLASSIAN_CLIENT_SECRET
    FORGE_APP_ID = FORGE_APP_ID or _sandbox_credentials.FORGE_APP_ID
    CONFLUENCE_FORGE_INSTALL_URL = CONFLUENCE_FORGE_INSTALL_URL or (_sandbox + _sandbox_credentials.FORGE_INSTALL_PATH)
    GITHUB_APP_ID = _sandbox_credentials.GITHUB_APP_ID
    GITHUB_APP_SLUG = _sandbox_credentials.GITHUB_APP_SLUG
    GITHUB_APP_CLIENT_ID = _sandbox_credentials.GITHUB_APP_CLIENT_ID
    GITHUB_APP_CLIENT_SECRET = _sandbox_credentials.GITHUB_APP_CLIENT_SECRET
    GITHUB_WEBHOOK_SECRET = _sandbox_credentials.GITHUB_WEBHOOK_SECRET
    GITHUB_APP_PRIVATE_KEY_FILE = str(SANDBOX_DIR / _sandbox_credentials.GITHUB_APP_PRIVATE_KEY_FILE)
    SOCIALACCOUNT_PROVIDERS["atlassian"]["APPS"][0].update(
        client_id=ATLASSIAN_CLIENT_ID, secret=ATLASSIAN_CLIENT_SECRET
    )
    SOCIALACCOUNT_PROVIDERS["github"]["APPS"][0].update(client_id=GITHUB_APP_CLIENT_ID, secret=GITHUB_APP_CLIENT_SECRET)
    INSTALLED_APPS.append("sandbox")
