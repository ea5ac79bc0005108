"""The test suite: fast hashing, in-memory caches, SQLite unless DATABASE_URL says otherwise."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, VAR_DIR, env, redis_database

SECRET_KEY = "test-secret-key"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

if REDIS_URL:
    # Each pytest-xdist worker gets Redis databases of its own, so that emptying a cache
    # between tests never reaches into another worker's test.
    _worker = int(env.str("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_database(REDIS_URL, 2 + 3 * _worker),
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_database(REDIS_URL, 3 + 3 * _worker),
        },
        "structure": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_database(REDIS_URL, 4 + 3 * _worker),
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
        },
        "structure": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "structure",
        },
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the worker processes the delivery tests start can open it;
    # one per test run (pytest-django adds the xdist worker to the name).
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    # No fsync per commit: a killed process loses nothing it committed, only a power cut would.
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA secure_delete=ON;"
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Likewise: commits return before the WAL is flushed (a server crash could lose the last).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"

# Mail stays in memory, unless a test points a worker process at its SMTP sink (EMAIL_URL).
if not env.str("EMAIL_URL", ""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WAGTAILADMIN_BASE_URL = "http://localhost"
DEFAULT_FROM_EMAIL = SERVER_EMAIL = "Outlet <newsroom@outlet.example>"
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}}
# Providers' webhooks are posted to by the tests, with these secrets.
ANYMAIL = {
    "WEBHOOK_SECRET": "webhook-user:webhook-password",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "key-test-mailgun-signing",
    "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
}
# Serve static files from the finders, as in development: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tasks run where they are enqueued, unless a test starts real workers (tests/newsletters):
# those run with TASKS_BACKEND=database or rq.
if env.str("TASKS_BACKEND", "") not in ("database", "rq"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SUPPRESSION_HASH_KEY = "test-suppression-key"

# Never the internet from a test, whatever the environment says.
CONTENT_CHECK_EXTERNAL_LINKS = False
