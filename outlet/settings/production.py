"""Production: everything from the environment, and no start at all without what it needs.

Each required variable that is missing stops the process with a message naming it, so that a
misconfigured server fails at deploy time instead of mailing readers links to localhost.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ANYMAIL, EMAIL_PROVIDER, REDIS_URL, TASKS_BACKEND, env


def required(name: str, why: str) -> str:
    value = env.str(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


SECRET_KEY = required("SECRET_KEY", "a random string of 50+ characters.")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of 50+ characters.")
ALLOWED_HOSTS = required("ALLOWED_HOSTS", "the host names the site answers to.").split(",")
SUPPRESSION_HASH_KEY = required(
    "SUPPRESSION_HASH_KEY",
    "a random string, set once and never changed; it keys the hashes that keep erased, "
    "bounced and unsubscribed addresses from being mailed or imported again.",
)
WAGTAILADMIN_BASE_URL = required(
    "WAGTAILADMIN_BASE_URL", "the site's public base URL (https://…), for links in emails."
)
DEFAULT_FROM_EMAIL = SERVER_EMAIL = required(
    "DEFAULT_FROM_EMAIL", "the sender of confirmation and admin emails, on a domain you send from."
)
if not EMAIL_PROVIDER and not env.str("EMAIL_URL", ""):
    raise ImproperlyConfigured(
        "EMAIL_URL (an SMTP server) or EMAIL_PROVIDER (a provider's API) must be set: "
        "nothing else can send email."
    )
if EMAIL_PROVIDER and not ANYMAIL.get("WEBHOOK_SECRET"):
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET must be set with EMAIL_PROVIDER: it protects the webhook "
        "through which the provider reports bounces and complaints."
    )
if TASKS_BACKEND == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set: TASKS_BACKEND=rq keeps its queue there.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
