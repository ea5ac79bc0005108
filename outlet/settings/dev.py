"""Local development: plain HTTP, email written to files under var/outbox, debug on unless
DEBUG=false (as `make demo` runs it, so that a newcomer sees the site's own error pages)."""

from .base import *  # noqa: F403
from .base import MEDIA_STORAGE, REDIS_URL, VAR_DIR, env

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.str("SECRET_KEY", "dev-only-secret-key-not-for-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "outbox"
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Outlet <newsroom@localhost>")
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
SUPPRESSION_HASH_KEY = env.str("SUPPRESSION_HASH_KEY", "dev-only-suppression-key")
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}}

# Static files straight from static/ without collectstatic; media where base.py says.
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Uploaded images and documents, served by Django itself even with debug off (see outlet.urls).
SERVE_MEDIA = True
