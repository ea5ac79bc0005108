"""Settings shared by every environment: secure by default, configured from the environment.

dev.py and test.py relax what they must; production.py insists on what it needs.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env()

# No default secret and no debug here: an environment has to opt in to either.
SECRET_KEY = env.str("SECRET_KEY", "")
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", [])
DEBUG = False
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "articles",
    "newsletters",
    "demo",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "anymail",
]

MIDDLEWARE = [
    "outlet.page_cache.UpdatePageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "outlet.page_cache.FetchPageCacheMiddleware",
    "outlet.page_cache.KnownSiteMiddleware",
]

ROOT_URLCONF = "outlet.urls"
WSGI_APPLICATION = "outlet.wsgi.application"

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
                "wagtail.contrib.settings.context_processors.settings",
                "articles.context_processors.navigation_context",
            ],
        },
    },
]

# SQLite in the project folder unless DATABASE_URL names another database.
DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a web server and task workers at once: WAL lets readers go on
    # while one writes, IMMEDIATE makes writers queue (up to `timeout` seconds) rather than fail
    # with "database is locked", and synchronous=NORMAL is WAL's safe, fast setting.
    # secure_delete zeroes deleted rows, so an erased subscriber's address is not left readable
    # in the file's free pages (see newsletters.gdpr for the write-ahead log).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Pages are cached in their own alias because publishing empties it, and the site's structure
# in another that fewer changes empty (see outlet.page_cache). On one machine the file cache is
# shared by every worker process. With REDIS_URL set, all three live in Redis and are shared by
# every machine; the page and structure caches take Redis databases of their own
# (REDIS_PAGE_CACHE_DB, REDIS_SITE_STRUCTURE_CACHE_DB), so emptying them never touches
# sessions, counters or queues.
REDIS_URL = env.str("REDIS_URL", "")
REDIS_PAGE_CACHE_DB = env.int("REDIS_PAGE_CACHE_DB", 1)
REDIS_SITE_STRUCTURE_CACHE_DB = env.int("REDIS_SITE_STRUCTURE_CACHE_DB", 2)


def redis_database(url: str, db: int) -> str:
    """The same Redis server as `url`, database `db`."""
    return urlsplit(url)._replace(path=f"/{db}").geturl()


CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "outlet",
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_database(REDIS_URL, REDIS_PAGE_CACHE_DB),
        },
        "structure": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_database(REDIS_URL, REDIS_SITE_STRUCTURE_CACHE_DB),
        },
    }
else:
    # The cache belongs with its database: a second database needs a CACHE_DIR of its own.
    CACHE_DIR = env.path("CACHE_DIR", VAR_DIR / "cache")
    CACHES = {
        "default": {
            "BACKEND": "outlet.file_cache.UncompressedFileCache",
            "LOCATION": CACHE_DIR / "default",
        },
        "pages": {
            "BACKEND": "outlet.file_cache.UncompressedFileCache",
            "LOCATION": CACHE_DIR / "pages",
        },
        "structure": {
            "BACKEND": "outlet.file_cache.UncompressedFileCache",
            "LOCATION": CACHE_DIR / "structure",
        },
    }
# Wagtail looks rendition URLs up here on every image it shows: keep that in process memory.
CACHES["renditions"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "renditions",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}
CACHE_MIDDLEWARE_ALIAS = "pages"
# What describes the site around its content, kept across articles' and issues' publication.
SITE_STRUCTURE_CACHE_ALIAS = "structure"
CACHE_MIDDLEWARE_KEY_PREFIX = ""
CACHE_MIDDLEWARE_SECONDS = env.int("PAGE_CACHE_SECONDS", 600)
# Browsers and shared proxies keep a page only briefly: the server-side cache is the one
# that publishing clears.
PAGE_CACHE_BROWSER_SECONDS = env.int("PAGE_CACHE_BROWSER_SECONDS", 60)

# Caches in front of the site, which publishing purges (outlet.frontend_cache): the nginx or
# Varnish cache of each web machine, by PURGE request to each address in
# FRONTEND_CACHE_PURGE_URL (comma-separated, e.g. http://10.0.0.5:6081), and/or a CDN:
# Cloudflare (CLOUDFLARE_ZONE_ID with CLOUDFLARE_API_TOKEN, allowed to purge that zone) or
# CloudFront (CLOUDFRONT_DISTRIBUTION_ID; credentials as boto3 finds them). Unset: no purging.
FRONTEND_CACHE_PURGE_URLS: list[str] = env.list("FRONTEND_CACHE_PURGE_URL", [])
WAGTAILFRONTENDCACHE: dict[str, dict[str, Any]] = {
    f"proxy-{number}": {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": location,
    }
    for number, location in enumerate(FRONTEND_CACHE_PURGE_URLS)
}
if env.str("CLOUDFLARE_ZONE_ID", ""):
    WAGTAILFRONTENDCACHE["cloudflare"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
        "ZONEID": env.str("CLOUDFLARE_ZONE_ID"),
        "BEARER_TOKEN": env.str("CLOUDFLARE_API_TOKEN"),
    }
if env.str("CLOUDFRONT_DISTRIBUTION_ID", ""):
    WAGTAILFRONTENDCACHE["cloudfront"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudfrontBackend",
        "DISTRIBUTION_ID": env.str("CLOUDFRONT_DISTRIBUTION_ID"),
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", BASE_DIR / "media")

# Uploaded media (images, their renditions, documents) live under MEDIA_ROOT on one machine.
# Several web machines must all see the same files, so with MEDIA_BUCKET set they go to that
# S3-compatible bucket instead (AWS S3, or MinIO, R2… at MEDIA_ENDPOINT_URL), through
# django-storages. Credentials come the way boto3 finds them (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or the machine's role).
MEDIA_BUCKET = env.str("MEDIA_BUCKET", "")
# Stored names never change meaning: an upload never replaces an object (Wagtail needs this of
# S3, whose default is to overwrite) and a rendition's name says its filter, so readers' browsers
# and the CDN may keep every object for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"


def object_storage_options(
    bucket: str,
    *,
    endpoint_url: str = "",
    region: str = "",
    custom_domain: str = "",
    prefix: str = "",
) -> dict[str, Any]:
    """django-storages' S3Storage options for public media in `bucket`."""
    return {
        "bucket_name": bucket,
        # A service other than AWS is usually reached by path (host/bucket/key), which any
        # S3-compatible server understands; AWS itself by the bucket's own host name.
        "endpoint_url": endpoint_url or None,
        "addressing_style": "path" if endpoint_url else None,
        "region_name": region or None,
        # A CDN or the bucket's public domain, e.g. media.outlet.example: URLs are built on it.
        "custom_domain": custom_domain or None,
        "location": prefix,
        # Media is public: plain URLs that every reader and cache can share, never signed ones
        # that expire inside a cached page.
        "querystring_auth": False,
        "file_overwrite": False,
        "object_parameters": {"CacheControl": MEDIA_CACHE_CONTROL},
    }


def object_storage_origins(options: dict[str, Any]) -> list[str]:
    """Where readers' browsers fetch media from with these options, for the CSP's img-src."""
    if options["custom_domain"]:
        return [f"https://{options['custom_domain']}"]
    if options["endpoint_url"]:
        endpoint = urlsplit(options["endpoint_url"])
        return [f"{endpoint.scheme}://{endpoint.netloc}"]
    # AWS names the bucket's host with or without its region, depending on the region.
    bucket, region = options["bucket_name"], options["region_name"]
    origins = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return origins


MEDIA_STORAGE: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
MEDIA_ORIGINS: list[str] = []
if MEDIA_BUCKET:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": object_storage_options(
            MEDIA_BUCKET,
            endpoint_url=env.str("MEDIA_ENDPOINT_URL", ""),
            region=env.str("MEDIA_REGION", ""),
            custom_domain=env.str("MEDIA_CUSTOM_DOMAIN", ""),
            prefix=env.str("MEDIA_PREFIX", ""),
        ),
    }
    MEDIA_ORIGINS = object_storage_origins(MEDIA_STORAGE["OPTIONS"])
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security: the safe choice everywhere; dev.py loosens what plain HTTP needs.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Public pages carry no inline script and load nothing from elsewhere. The admin is exempt
# because Wagtail's editor relies on inline configuration.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["https:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Wagtail
WAGTAIL_SITE_NAME = env.str("OUTLET_SITE_NAME", "Outlet")
# The site's public base URL, for links in emails sent from the admin and by the workers.
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", "")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_FORMAT_CONVERSIONS = {"avif": "avif", "webp": "webp"}
WAGTAILDOCS_EXTENSIONS = [
    "csv",
    "docx",
    "odt",
    "pdf",
    "pptx",
    "rtf",
    "txt",
    "xlsx",
    "zip",
]
WAGTAIL_MODERATION_ENABLED = True
# The admin loads nothing from other hosts, like the public site: no Gravatar (it would tell
# a third party who works here, and breaks behind filtering networks; Wagtail shows initials
# instead) and no release check against wagtail.org from the dashboard.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
TAGGIT_CASE_INSENSITIVE = True

# Background work (delivery, confirmation emails, Wagtail's own indexing) runs as Django
# Tasks. The embedded default keeps the queue in the database (`manage.py db_worker`); with
# TASKS_BACKEND=rq it goes to Redis (`manage.py rqworker --job-class django_tasks_rq.Job`), for
# workers on many machines.
TASKS_BACKEND = env.str("TASKS_BACKEND", "database")
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND]}}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}

# Delivery of newsletter issues: see newsletters/delivery.py for what each one governs.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", 50)
DELIVERY_CONCURRENCY = env.int("DELIVERY_CONCURRENCY", 2)
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", 300)
DELIVERY_RETRY_SECONDS = env.int("DELIVERY_RETRY_SECONDS", 60)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_MAX_LATENESS_SECONDS = env.int("DELIVERY_MAX_LATENESS_SECONDS", 24 * 3600)
# Send-rate limits shared by every worker (0: none); see newsletters/throttle.py.
DELIVERY_RATE_PER_SECOND = env.int("DELIVERY_RATE_PER_SECOND", 0)
DELIVERY_RATE_PER_HOUR = env.int("DELIVERY_RATE_PER_HOUR", 0)
# A run pauses itself, for an editor to resume, past these shares of hard bounces or spam
# complaints among its first (or next) DELIVERY_PAUSE_MIN_SAMPLE messages; newsletters/pausing.py.
DELIVERY_PAUSE_BOUNCE_RATE = env.float("DELIVERY_PAUSE_BOUNCE_RATE", 0.05)
DELIVERY_PAUSE_COMPLAINT_RATE = env.float("DELIVERY_PAUSE_COMPLAINT_RATE", 0.003)
DELIVERY_PAUSE_MIN_SAMPLE = env.int("DELIVERY_PAUSE_MIN_SAMPLE", 100)
# Soft bounces (the receiving side gave up after temporary failures) suppress an address once
# there are this many within this many days.
BOUNCE_SOFT_LIMIT = env.int("BOUNCE_SOFT_LIMIT", 3)
BOUNCE_SOFT_DAYS = env.int("BOUNCE_SOFT_DAYS", 30)

# The public subscribe form: per-IP rate limit, and one confirmation email per address per
# cooldown whoever asks. Both are kept in the database, so they hold on the embedded default.
SIGNUP_RATE_LIMIT = env.int("SIGNUP_RATE_LIMIT", 10)
SIGNUP_RATE_WINDOW_SECONDS = env.int("SIGNUP_RATE_WINDOW_SECONDS", 600)
CONFIRMATION_COOLDOWN_SECONDS = env.int("CONFIRMATION_COOLDOWN_SECONDS", 900)
# Behind reverse proxies, the reader's address is taken from X-Forwarded-For, but only for
# requests that come from one of these proxies (addresses or networks), counting back as many
# hops as there are proxies; see outlet/client_address.py. Empty: the peer's own address.
TRUSTED_PROXY_IPS: list[str] = env.list("TRUSTED_PROXY_IPS", [])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 1)
# Keys the hashes of suppressed addresses. Unlike SECRET_KEY it must never change, or erased
# and unsubscribed addresses could be imported again: set it once in production.
SUPPRESSION_HASH_KEY = env.str("SUPPRESSION_HASH_KEY", "")

# Email goes out through an SMTP server (EMAIL_URL, e.g. submission://user:pass@host:587) or
# a provider's API through django-anymail (EMAIL_PROVIDER, with the provider's settings as
# ANYMAIL_* variables: ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_WEBHOOK_SECRET…).
EMAIL_PROVIDERS = {
    "amazon_ses": "anymail.backends.amazon_ses.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "postmark": "anymail.backends.postmark.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "sparkpost": "anymail.backends.sparkpost.EmailBackend",
}
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", "")
if EMAIL_PROVIDER:
    if EMAIL_PROVIDER not in EMAIL_PROVIDERS:
        raise ImproperlyConfigured(
            f"EMAIL_PROVIDER={EMAIL_PROVIDER!r} is not one of {', '.join(EMAIL_PROVIDERS)}."
        )
    EMAIL_BACKEND = EMAIL_PROVIDERS[EMAIL_PROVIDER]
elif env.str("EMAIL_URL", ""):
    vars().update(env.dj_email_url("EMAIL_URL"))
ANYMAIL: dict[str, Any] = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
# Without a timeout a server that accepts the connection and then goes silent would hold a
# worker forever; keep it well inside DELIVERY_LEASE_SECONDS.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Over SMTP, each message's Return-Path is this address with the delivery in it
# (bounces+123-…@outlet.example), so that bounce reports find their delivery; see
# newsletters/bounces.py and `manage.py process_bounces`. Empty: the sender's own address.
BOUNCE_ADDRESS = env.str("BOUNCE_ADDRESS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    # One line per background task is noise at INFO; failures still show.
    "loggers": {
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        "rq.worker": {"level": "WARNING"},
    },
}

# Pre-send and review checks (articles.content_checks): links to other sites are tried only
# when asked for, with a HEAD request that gives up after this many seconds.
CONTENT_CHECK_EXTERNAL_LINKS = env.bool("CONTENT_CHECK_EXTERNAL_LINKS", False)
CONTENT_CHECK_LINK_TIMEOUT = env.float("CONTENT_CHECK_LINK_TIMEOUT", 3.0)
