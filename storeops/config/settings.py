"""Django settings, read from the environment with safe local defaults.

Environment:
  STOREOPS_ENV        "development" (default) or "production"
  SECRET_KEY          required and strong in production (the process refuses to start otherwise)
  SECRET_KEY_FALLBACKS  comma separated earlier keys while rotating SECRET_KEY
  DATABASE_URL        default: SQLite file under var/ (``sqlite:///var/storeops.sqlite3``)
  REDIS_URL           optional: huey queue and cache on Redis instead of SQLite / local memory
  STOREOPS_LANGUAGE   default console language, "zh-hans" (default) or "en"
  STOREOPS_VAR_DIR    where the SQLite database, huey queue and backups live (default ./var)
  ALLOWED_HOSTS       comma separated (default localhost names in development)
  EMAIL_URL-like settings: EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, DEFAULT_FROM_EMAIL
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # the storeops package
ENV = os.environ.get("STOREOPS_ENV", "development")
PRODUCTION = ENV == "production"
VAR_DIR = Path(os.environ.get("STOREOPS_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite database and huey queue live here

_DEV_SECRET = "storeops-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET)
# earlier keys while rotating SECRET_KEY (sessions, signed values, encrypted secrets stay readable)
SECRET_KEY_FALLBACKS = [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
if PRODUCTION and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "STOREOPS_ENV=production needs a strong SECRET_KEY (50+ random characters). "
        "生产模式需要设置足够强的 SECRET_KEY（至少 50 个随机字符）。"
    )
DEBUG = not PRODUCTION and os.environ.get("DEBUG", "1") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # serves Swagger UI from its own static files (no CDN at run time)
    "storeops.core",
    "storeops.accounts",
    "storeops.audit",
    "storeops.stores",
    "storeops.sop",
    "storeops.catalog",
    "storeops.pricing",
    "storeops.inventory",
    "storeops.fulfilment",
    "storeops.marketing",
    "storeops.promotions",
    "storeops.orders",
    "storeops.aftersales",
    "storeops.service",
    "storeops.analytics",
    "storeops.members",
    "storeops.behaviour",
    "storeops.recommend",
    "storeops.outreach",
    "storeops.privacy",
    "storeops.console",
    "storeops.demo",
    "storeops.backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "storeops.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "storeops.config.middleware.ApiErrorShapeMiddleware",
]

ROOT_URLCONF = "storeops.config.urls"
WSGI_APPLICATION = "storeops.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'storeops.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout: concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests on a file, not shared-cache memory: an in-memory shared cache answers concurrent
    # writers with "database table is locked" at once (no busy timeout), so the concurrency
    # tests (PROMO-02 coupon redemption) could not run real threads against it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_storeops.sqlite3")}
_POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if _POSTGRESQL and os.environ.get("DATABASE_PREPARE", "1") != "0":
    # Server-side parameter binding, and a statement run a few times on a connection is
    # prepared: PostgreSQL parses and plans each of the ORM's queries once per connection
    # instead of on every execution (Django's default sends every query as new text). Measured
    # by benchmarks/checkout.py: PostgreSQL's CPU per order fell by about 40 %. A connection
    # pooler in front must keep prepared statements (docs/deploy.md); DATABASE_PREPARE=0
    # turns this off.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = os.environ.get("STOREOPS_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic; whitenoise serves it
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

# Cache: Redis when configured, local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Flash sales take their units from a counter in Redis before the database (with REDIS_URL;
# FLASH_COUNTERS=0 leaves them to the database alone). See storeops.core.counters.
STOREOPS_FLASH_COUNTERS = os.environ.get("FLASH_COUNTERS", "1") != "0"

# Background work: huey on SQLite by default, Redis with REDIS_URL.
HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "0") == "1"
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "storeops",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # crontabs are in TIME_ZONE (06:00 Asia/Shanghai), not UTC
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "storeops",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # crontabs are in TIME_ZONE (06:00 Asia/Shanghai), not UTC
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "storeops@localhost")

# Notification channels for findings besides e-mail (dotted paths to NotificationChannel classes).
STOREOPS_NOTIFICATION_CHANNELS = [
    c
    for c in os.environ.get("STOREOPS_NOTIFICATION_CHANNELS", "storeops.sop.notify.LogChannel").split(",")
    if c
]
# Payments (orders app). The built-in test gateway signs its callbacks with this secret; in
# production configure real providers and a strong secret per provider.
STOREOPS_PAYMENT_PROVIDERS = {
    "test": "storeops.orders.payments.TestGateway",
    # imported marketplace orders: paid and refunded on the platform, recorded here
    "marketplace": "storeops.orders.payments.MarketplaceSettlement",
}
STOREOPS_PAYMENT_TEST_SECRET = os.environ.get("STOREOPS_PAYMENT_TEST_SECRET", "storeops-test-gateway-secret")
# The test gateway's "customer pays" page/route exists only where this is on (never in production).
STOREOPS_PAYMENT_TEST_GATEWAY = not PRODUCTION and os.environ.get("STOREOPS_PAYMENT_TEST_GATEWAY", "1") == "1"
# Fraud scorer for the automatic order review (ORD-01): a dotted path to a function taking
# ``storeops.orders.rules.FraudSignals`` and returning 0–100 (the signals carry the playbook's
# thresholds as ``limits``; a scorer may ignore them).
STOREOPS_FRAUD_SCORER = os.environ.get("STOREOPS_FRAUD_SCORER", "storeops.orders.rules.default_fraud_score")
# How customers are told about their orders (ORD-04): dotted paths of notifier classes.
STOREOPS_CUSTOMER_NOTIFIERS = [
    c.strip()
    for c in os.environ.get("STOREOPS_CUSTOMER_NOTIFIERS", "storeops.orders.notify.LogNotifier").split(",")
    if c.strip()
]
# Outreach gateways (MEM-06): dotted paths of sender classes (SMS / e-mail / push).
STOREOPS_OUTREACH_SENDERS = [
    c.strip()
    for c in os.environ.get("STOREOPS_OUTREACH_SENDERS", "storeops.outreach.gateway.LogSender").split(",")
    if c.strip()
]

STOREOPS_BACKUP_DIR = Path(os.environ.get("STOREOPS_BACKUP_DIR", VAR_DIR / "backups"))
# the number of daily backups kept: when unset, the stores' playbook (backup_keep_days, STORE-06)
# decides (the longest of them); set it to override every store's setting
STOREOPS_BACKUP_KEEP = (
    int(os.environ["STOREOPS_BACKUP_KEEP"]) if os.environ.get("STOREOPS_BACKUP_KEEP") else None
)
# An off-machine copy of every backup (SOP STORE-06): a mounted remote folder (NFS, rclone mount, ...).
STOREOPS_BACKUP_COPY_DIR = os.environ.get("STOREOPS_BACKUP_COPY_DIR", "")

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"storeops": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}},
}

UNFOLD = {
    "SITE_TITLE": _("StoreOps 运营后台"),
    "SITE_HEADER": "StoreOps",
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
}
