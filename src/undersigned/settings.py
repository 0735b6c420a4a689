"""Settings for every environment, read from the environment.

Production is selected with UNDERSIGNED_PRODUCTION=1: it then refuses to start
without its secrets instead of inventing them, as the demo and tests do.
"""

import base64
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


# Lets admin and form classes take type parameters at run time, as the stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("UNDERSIGNED_DATA_DIR", Path.cwd() / "var")).resolve()
PRODUCTION = env_flag("UNDERSIGNED_PRODUCTION")
DEBUG = env_flag("DEBUG")


def local_secret(filename: str, kind: str = "token") -> str:
    """A secret kept in the data directory, made on first use (demo and development only)."""
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{filename.upper()} must be set in the environment when UNDERSIGNED_PRODUCTION=1"
        )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / filename
    if not path.exists():
        # Written aside and linked into place, so that processes starting
        # together (test workers, web and worker) all read one complete key.
        tmp = path.with_name(f".{filename}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            # An AES-256 key is 32 random bytes, base64; other secrets are URL-safe text.
            f.write(
                base64.b64encode(secrets.token_bytes(32)).decode()
                if kind == "aes256"
                else secrets.token_urlsafe(48)
            )
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


# Words of the values left in place from examples and tutorials ("change-me",
# "example-secret"). Each is six letters or more, so that a random key, where
# any six given letters have a one in a billion chance per place, never trips it.
_PLACEHOLDER_WORDS = (
    "change",
    "example",
    "secret",
    "placeholder",
    "replace",
    "insecure",
    "default",
)
_MIN_SECRET_LENGTH = 32


def refuse_weak_secret(name: str, value: str, make: str) -> None:
    """Stop at start on a placeholder or guessable secret: name it, never show it."""
    folded = value.lower().replace("-", "").replace("_", "")
    if len(value) < _MIN_SECRET_LENGTH:
        why = f"is shorter than {_MIN_SECRET_LENGTH} characters"
    elif any(word in folded for word in _PLACEHOLDER_WORDS):
        why = "looks like a placeholder"
    elif len(set(value)) < 8:
        why = "repeats too few characters to be random"
    else:
        return
    raise ImproperlyConfigured(
        f"{name} {why}; with UNDERSIGNED_PRODUCTION=1 it must be a random value, made with: {make}"
    )


_MAKE_RANDOM_TEXT = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
_MAKE_AES_KEY = (
    "python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'"
)

if PRODUCTION and DEBUG:
    # A debug page shows settings, the request and local variables to any visitor.
    raise ImproperlyConfigured("DEBUG must be off (unset or 0) when UNDERSIGNED_PRODUCTION=1")

SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret("secret_key")
# Keyed hashes of emails and register contacts use their own key, so that a
# leaked SECRET_KEY (sessions) does not also unlock the deduplication index.
HASH_KEY = os.environ.get("UNDERSIGNED_HASH_KEY") or local_secret("hash_key")

# Keys that encrypt contact details at rest (see core/crypto.py for rotation).
UNDERSIGNED_DATA_KEYS = os.environ.get("UNDERSIGNED_DATA_KEYS") or (
    "" if PRODUCTION else local_secret("data_key", kind="aes256")
)
if PRODUCTION and not UNDERSIGNED_DATA_KEYS:
    raise ImproperlyConfigured("UNDERSIGNED_DATA_KEYS must be set when UNDERSIGNED_PRODUCTION=1")
if PRODUCTION:
    refuse_weak_secret("SECRET_KEY", SECRET_KEY, _MAKE_RANDOM_TEXT)
    refuse_weak_secret("UNDERSIGNED_HASH_KEY", HASH_KEY, _MAKE_RANDOM_TEXT)
    for _key in UNDERSIGNED_DATA_KEYS.split(","):
        refuse_weak_secret("UNDERSIGNED_DATA_KEYS", _key.strip(), _MAKE_AES_KEY)

# The public half of the site's custody key (age1…): what the server no longer
# needs is sealed to it, and only the moderators who hold the private half,
# off the server, can open it (docs/security.md). A petition may have its own.
CUSTODY_RECIPIENT = os.environ.get("UNDERSIGNED_CUSTODY_RECIPIENT", "").strip()
if CUSTODY_RECIPIENT:
    from undersigned.core.custody import CustodyError, check_recipient

    try:
        check_recipient(CUSTODY_RECIPIENT)
    except CustodyError as exc:
        raise ImproperlyConfigured(f"UNDERSIGNED_CUSTODY_RECIPIENT: {exc}") from None

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.environ.get("SITE_NAME", "Undersigned")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [SITE_URL] if SITE_URL.startswith("https://") else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "undersigned.core",
    "undersigned.accounts",
    "undersigned.registers",
    "undersigned.petitions",
    "undersigned.signing",
    "undersigned.audit",
    "undersigned.moderation",
    "undersigned.outbox",
    "undersigned.ledger",
    "undersigned.abuse",
    "undersigned.privacy",
    "undersigned.updates",
    "undersigned.api",
    "undersigned.ops",
    "undersigned.sharing",
]

MIDDLEWARE = [
    # First: load balancers probe by IP over HTTP, before host checks and the HTTPS redirect.
    "undersigned.ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a session it ends says so on the log-in page.
    "undersigned.accounts.sessions.PrivilegedSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "undersigned.core.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "undersigned.api.middleware.PublicDataMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "undersigned.urls"
CSRF_FAILURE_VIEW = "undersigned.core.views.csrf_failure"
WSGI_APPLICATION = "undersigned.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "undersigned.core.context_processors.site",
            ],
        },
    },
]


def database_settings() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'undersigned.sqlite3'}"
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Django's backend, with one writer per process at a time (core/sqlite/base.py).
        db["ENGINE"] = "undersigned.core.sqlite"
        # Tests in memory, as Django does for its own SQLite backend (said
        # explicitly because test runners only recognise that backend's name).
        db["TEST"] = {"NAME": ":memory:"}
        db["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
            # the busy timeout instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # WAL lets readers run beside the writer; synchronous=FULL makes a
            # committed signature survive power loss, not only a process crash.
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
                # What a decision seals away is overwritten in the file, not left in
                # free space for a forensic copy (docs/security.md); FAST adds no I/O.
                "PRAGMA secure_delete=FAST;"
            ),
        }
    elif db["ENGINE"] == "django.db.backends.postgresql":
        if env_flag("DATABASE_POOL", default=False):
            db["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env_int("DATABASE_POOL_SIZE", 8)}}
        else:
            db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
            db["CONN_HEALTH_CHECKS"] = True
    db["ATOMIC_REQUESTS"] = False
    return db


DATABASES = {"default": database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Several app servers share one cache (rate limits, cached counts): Redis via
# REDIS_URL, e.g. redis://127.0.0.1:6379/0. Without it each process keeps its own.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "undersigned"),
            # A dead Redis must fail a request fast, not hang it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "undersigned",
        }
    ),
    # Counters that must hold across processes even on one box without Redis:
    # failed log-ins (rare, so a table is cheap). The table is made on `migrate`.
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "undersigned") + ":shared",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "undersigned_shared_cache",
        }
    ),
}

# /readyz fails when mail has waited, or log events have gone unsigned, this long.
READY_MAIL_LAG_SECONDS = env_int("READY_MAIL_LAG_SECONDS", 900)
READY_LOG_LAG_SECONDS = env_int("READY_LOG_LAG_SECONDS", 300)
# ... and, on SQLite, when the database's disk has less than this free.
READY_DISK_FREE_MB = env_int("READY_DISK_FREE_MB", 100)
# How long the latest checkpoint may lack its witness quorum before /readyz fails.
READY_WITNESS_LAG_SECONDS = env_int("READY_WITNESS_LAG_SECONDS", 600)
# Anyone sees whether /readyz passes; its detail (queued mail, unsigned log
# events) moves as people sign, so only monitoring holding this token sees it
# (`Authorization: Bearer <token>`). Unset: nobody does.
READYZ_TOKEN = os.environ.get("READYZ_TOKEN", "")
if PRODUCTION and READYZ_TOKEN:
    refuse_weak_secret("READYZ_TOKEN", READYZ_TOKEN, _MAKE_RANDOM_TEXT)
# How long a worker holds a mail it is sending before another may retry it
# (after a crash mid-send). Longer than EMAIL_TIMEOUT, or a slow send is doubled.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 300)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock an account after repeated wrong passwords, wherever they come from.
# Counted in the cache, and with a hashed client: no address is ever stored.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30) / 60
AXES_CACHE = "shared"
# Each account, and each client (hashed), is locked on its own.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "undersigned.accounts.twofactor.hashed_client"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_RESET_ON_SUCCESS = True
# Everyone who logs in confirms a TOTP code after their password. REQUIRE_2FA=0
# lets ordinary organisers in on a password, never staff, superusers or
# moderators of every petition (accounts/twofactor.py).
REQUIRE_2FA = env_flag("REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = os.environ.get("SITE_NAME", "Undersigned")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
ALLOW_SIGNUP = env_flag("ALLOW_SIGNUP", default=True)
# Every account runs petitions, reviews them or administers the site (signers
# never log in), so every signed-in session ends this long after its log-in,
# however busy (accounts/sessions.py), and the cookie does too.
PRIVILEGED_SESSION_HOURS = env_int("PRIVILEGED_SESSION_HOURS", 8)
if PRIVILEGED_SESSION_HOURS < 1:
    raise ImproperlyConfigured("PRIVILEGED_SESSION_HOURS must be at least 1")
SESSION_COOKIE_AGE = PRIVILEGED_SESSION_HOURS * 3600
# Founder invitations mail a person text an organiser typed: at most this many
# founders per petition, invitations per organiser per day and per recipient
# address per day, from all organisers together (0 turns one off).
FOUNDERS_PER_PETITION = env_int("FOUNDERS_PER_PETITION", 100)
FOUNDER_INVITATIONS_PER_DAY = env_int("FOUNDER_INVITATIONS_PER_DAY", 100)
FOUNDER_INVITATIONS_PER_RECIPIENT = env_int("FOUNDER_INVITATIONS_PER_RECIPIENT", 3)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
# The project's one catalogue (English source, Russian translation). Its .mo is
# compiled by `make` from the committed .po, never committed itself.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our date formats per language, over Django's (undersigned/formats/).
FORMAT_MODULE_PATH = ["undersigned.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
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
WHITENOISE_USE_FINDERS = not PRODUCTION

# Bodies are small forms; a register CSV is the largest thing anyone uploads.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Mail: SMTP when EMAIL_HOST is named, otherwise a readable outbox folder.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_flag("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Undersigned <noreply@localhost>")
EMAIL_FILE_PATH = DATA_DIR / "outbox"
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)

# The public log's signing key: a C2SP signed-note private key
# (PRIVATE+KEY+<name>+<id>+<data>, made by `undersigned keygen`), from the
# environment or a file. The demo and development make their own.
LEDGER_SIGNER_KEY = os.environ.get("LEDGER_SIGNER_KEY", "")
LEDGER_SIGNER_KEY_FILE = Path(os.environ.get("LEDGER_SIGNER_KEY_FILE", DATA_DIR / "ledger.key"))
# The last checkpoint this server signed, kept outside the database so that a
# restored database cannot make it sign a fork.
LEDGER_STATE_FILE = Path(os.environ.get("LEDGER_STATE_FILE", DATA_DIR / "ledger-state.json"))

# Witnesses that cosign each checkpoint (c2sp.org/tlog-witness), and how many of
# them a reader must see (docs/operating.md, "Witnesses"). One witness per line
# or ';'-separated: "<name> <verifier key> <submission URL>". Outside
# production, with LEDGER_WITNESSES unset, the demo's witness is read from
# DATA_DIR/demo-witnesses, which `undersigned demo` writes.
from undersigned.ledger.witness_config import parse_quorum, parse_witnesses  # noqa: E402

DEMO_WITNESSES_FILE = DATA_DIR / "demo-witnesses"
# The demo witness's key and state (started by `serve --with-worker` outside production).
DEMO_WITNESS_DIR = DATA_DIR / "demo-witness"
_witnesses = os.environ.get("LEDGER_WITNESSES")
_witnesses_setting = "LEDGER_WITNESSES"
if _witnesses is None and not PRODUCTION and DEMO_WITNESSES_FILE.exists():
    _witnesses = DEMO_WITNESSES_FILE.read_text(encoding="utf-8")
    _witnesses_setting = str(DEMO_WITNESSES_FILE)
LEDGER_WITNESSES = parse_witnesses(_witnesses or "", _witnesses_setting)
LEDGER_WITNESS_QUORUM = parse_quorum(
    os.environ.get("LEDGER_WITNESS_QUORUM", ""), len(LEDGER_WITNESSES)
)
# Seconds a witness may take to answer one request; a slower one is retried later.
try:
    LEDGER_WITNESS_TIMEOUT = float(os.environ.get("LEDGER_WITNESS_TIMEOUT", "") or 5)
except ValueError:
    LEDGER_WITNESS_TIMEOUT = 0.0
if not 0 < LEDGER_WITNESS_TIMEOUT <= 120:
    raise ImproperlyConfigured(
        "LEDGER_WITNESS_TIMEOUT must be a number of seconds, above 0 and at most 120"
    )

# Abuse handling (see docs/security.md). Limits are "count/seconds"; 0/… disables one.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
RATE_LIMIT_CLIENT = os.environ.get("RATE_LIMIT_CLIENT", "10/600")
# A surge is the normal case: most genuine signers share a few big mail
# providers, and a shared link can bring a thousand a second. These guard
# against floods; trending detection and bulk invalidation handle waves.
RATE_LIMIT_DOMAIN = os.environ.get("RATE_LIMIT_DOMAIN", "5000/600")
RATE_LIMIT_PETITION = os.environ.get("RATE_LIMIT_PETITION", "90000/60")
TRENDING_NETWORK_THRESHOLD = env_int("TRENDING_NETWORK_THRESHOLD", 30)
TRENDING_DOMAIN_THRESHOLD = env_int("TRENDING_DOMAIN_THRESHOLD", 200)
ABUSE_RETENTION_DAYS = env_int("ABUSE_RETENTION_DAYS", 30)
# Mail domains of signatures stay readable this long (trending detection reads
# the last hour), then only as a keyed hash (abuse.services.hash_old_domains).
SOURCE_DOMAIN_CLEAR_HOURS = env_int("SOURCE_DOMAIN_CLEAR_HOURS", 48)
# A name search opens every shown signatory's sealed name it reads (up to
# 20,000 a request): searches per client. Links to /my-data/ per address: the
# link goes out whether or not the address signed, so that the form tells no
# one, and this keeps the site from mailing one address over and over.
RATE_LIMIT_SEARCH = os.environ.get("RATE_LIMIT_SEARCH", "30/60")
RATE_LIMIT_MY_DATA = os.environ.get("RATE_LIMIT_MY_DATA", "3/86400")
# Requests per client address to the open data and the API's listings
# (api/throttle.py; docs/operating.md, "Open data"): enough to poll every
# file of a few dozen petitions each minute. One petition's count is not limited.
RATE_LIMIT_API = os.environ.get("RATE_LIMIT_API", "120/60")
for _name in (
    "RATE_LIMIT_CLIENT",
    "RATE_LIMIT_DOMAIN",
    "RATE_LIMIT_PETITION",
    "RATE_LIMIT_SEARCH",
    "RATE_LIMIT_MY_DATA",
    "RATE_LIMIT_API",
):
    _count, _, _seconds = globals()[_name].partition("/")
    if not (_count.isdigit() and _seconds.isdigit() and int(_seconds) > 0):
        raise ImproperlyConfigured(f"{_name} must look like 10/600 (count/seconds)")

# How long a CDN or browser may keep the public API's answers (seconds).
API_CACHE_SECONDS = env_int("API_CACHE_SECONDS", 1)
# Daily dumps of every public petition with its counts kept for download (/data/).
OPEN_DATA_DUMP_DAYS = env_int("OPEN_DATA_DUMP_DAYS", 30)

# Public counts by place include the signers counted without their name only
# where at least this many of them are (docs/security.md, "Small cells"): a
# place's named signers are listed, so its count would tell how many hidden
# ones it has. 0 shows every count whole.
SMALL_CELL_THRESHOLD = env_int("SMALL_CELL_THRESHOLD", 5)

# Who may publish (petitions/submissions.py). "reviewed": only organisers
# the operator trusts (the permission "Can publish petitions without
# moderation", or staff) publish at once; everyone else submits, gathers
# SUPPORTERS_NEEDED supporters by emailed links, and a moderator checks the
# submission against the published standards (/standards/) before anyone may
# sign. "anyone": every organiser publishes at once.
PUBLISHING = os.environ.get("PUBLISHING", "reviewed") or "reviewed"
if PUBLISHING not in ("reviewed", "anyone"):
    raise ImproperlyConfigured(f"PUBLISHING must be reviewed or anyone, not {PUBLISHING!r}")
SUPPORTERS_NEEDED = env_int("SUPPORTERS_NEEDED", 5)
if not 0 <= SUPPORTERS_NEEDED <= 1000:
    raise ImproperlyConfigured("SUPPORTERS_NEEDED must be between 0 and 1000")
# A submission that has not found its supporters this many days after it was
# submitted goes back to its creator, and its supporters' data with the
# signatures is sealed away (moderation/submissions.py expire_unsupported):
# an abandoned submission keeps nobody's name and address on the server.
SUBMISSION_DAYS = env_int("SUBMISSION_DAYS", 30)
if not 1 <= SUBMISSION_DAYS <= 365:
    raise ImproperlyConfigured("SUBMISSION_DAYS must be between 1 and 365")

# The steps of every petition (petitions/steps.py), in verified signatures:
# at the first the addressee is asked to respond, at the second the petition
# is considered for a debate. A petition may set its own; 0 means no such step.
RESPONSE_THRESHOLD = env_int("RESPONSE_THRESHOLD", 10_000)
DEBATE_THRESHOLD = env_int("DEBATE_THRESHOLD", 100_000)
# Where addressees send their responses (a moderator publishes them): named in
# the mail that asks them, and its Reply-To. Empty: the mail says to reply to
# the petition's organisers through the site's operator.
PETITIONS_OFFICE_EMAIL = os.environ.get("PETITIONS_OFFICE_EMAIL", "")
# Updates to signers who asked for them (updates/services.py): how many mails
# a minute the worker hands the mail server, across all petitions, and how
# many updates (a response, a debate scheduled, a debate held) one petition
# may send at most.
UPDATE_MAILS_PER_MINUTE = env_int("UPDATE_MAILS_PER_MINUTE", 120)
UPDATES_PER_PETITION = env_int("UPDATES_PER_PETITION", 3)
if UPDATE_MAILS_PER_MINUTE < 1:
    raise ImproperlyConfigured("UPDATE_MAILS_PER_MINUTE must be at least 1")

# How long a confirmation link works.
CONFIRMATION_TTL_HOURS = env_int("CONFIRMATION_TTL_HOURS", 72)
# Mails that signing again sends one address (its confirmation link again, or
# "already signed"), per address across petitions, "count/seconds"; past it
# nothing is sent. Anyone can type anyone's address, so this keeps the site
# from flooding an inbox; the owner still has the links mailed before.
RATE_LIMIT_RESEND = os.environ.get("RATE_LIMIT_RESEND", "3/3600")
_count, _, _seconds = RATE_LIMIT_RESEND.partition("/")
if not (_count.isdigit() and _seconds.isdigit() and int(_seconds) > 0):
    raise ImproperlyConfigured("RATE_LIMIT_RESEND must look like 3/3600 (count/seconds)")

# Pages load nothing from elsewhere and run no inline code; a script injected
# despite escaping would not run. The API docs page needs inline styles only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "undersigned.ops.logs.JsonFormatter"},
    },
    # Secret-bearing paths (confirmation links, receipts) are redacted from every record.
    "filters": {"redact": {"()": "undersigned.ops.logs.RedactSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-axes reports every log-in at INFO, masked but noisy.
        "axes": {"level": "WARNING"},
        # Request logs name URLs, and confirmation URLs carry tokens.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
