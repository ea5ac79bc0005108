"""Production refuses to start without what it needs, naming what is missing, and passes
Django's deployment checklist once it has it."""

import json
import os
import subprocess
import sys

import pytest

from outlet.settings.base import BASE_DIR

REQUIRED = {
    "SECRET_KEY": "k3Jq9-vX2mWz7_Lp0aR5tYb8Nc4Hd6Fg1Se3Ui9Oo2Pq7Rw5Tx0Yz4Ab8Cd6Ef1Gh",
    "ALLOWED_HOSTS": "news.outlet.example",
    "SUPPRESSION_HASH_KEY": "Zp4Xq8Wm2Vn6Bl0Ck5Jh9Gf3Ds7Ae1Ry",
    "WAGTAILADMIN_BASE_URL": "https://news.outlet.example",
    "DEFAULT_FROM_EMAIL": "Outlet <newsroom@outlet.example>",
    "EMAIL_URL": "submission://outlet:secret@smtp.outlet.example:587",
}
# Whatever else the suite set for itself (the browser tests allow sync calls from async code).
SETTINGS = [*REQUIRED, "EMAIL_PROVIDER", "DATABASE_URL", "REDIS_URL", "TASKS_BACKEND", "CI"]
SETTINGS += ["DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"]
MEDIA = [
    "MEDIA_BUCKET",
    "MEDIA_ENDPOINT_URL",
    "MEDIA_REGION",
    "MEDIA_CUSTOM_DOMAIN",
    "MEDIA_PREFIX",
]
SETTINGS += MEDIA
PURGING = ["FRONTEND_CACHE_PURGE_URL", "CLOUDFLARE_ZONE_ID", "CLOUDFLARE_API_TOKEN"]
SETTINGS += [*PURGING, "CLOUDFRONT_DISTRIBUTION_ID"]


def start(environment: dict, *command: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    clean = {key: value for key, value in clean.items() if not key.startswith("ANYMAIL_")}
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *(command or ("check",))],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "outlet.settings.production", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", [name for name in REQUIRED if name != "EMAIL_URL"])
def test_a_missing_variable_stops_production_with_its_name(missing):
    environment = {key: value for key, value in REQUIRED.items() if key != missing}

    result = start(environment)

    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_without_an_email_transport_production_does_not_start():
    environment = {key: value for key, value in REQUIRED.items() if key != "EMAIL_URL"}

    result = start(environment)

    assert result.returncode != 0
    assert "EMAIL_URL (an SMTP server) or EMAIL_PROVIDER" in result.stderr


def test_a_provider_without_a_webhook_secret_does_not_start():
    environment = {**REQUIRED, "EMAIL_PROVIDER": "postmark"}
    del environment["EMAIL_URL"]

    result = start(environment)

    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET must be set" in result.stderr


def test_with_everything_set_production_passes_the_deployment_checklist(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}

    result = start({**REQUIRED, **database}, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


def test_unsubscribe_links_over_plain_http_are_flagged(db):
    from django.core.checks import run_checks

    from newsletters.checks import unsubscribe_links_are_https

    warnings = unsubscribe_links_are_https(None)

    assert [warning.id for warning in warnings] == ["newsletters.W001"]
    assert "http://localhost" in warnings[0].msg
    assert "newsletters.W001" in [m.id for m in run_checks(include_deployment_checks=True)]


def media_settings(environment: dict) -> dict:
    """The media storage and the CSP's image sources that production settles on."""
    script = (
        "import json; from django.conf import settings; print(json.dumps({"
        "'storage': settings.STORAGES['default'], "
        "'img_src': settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    result = start({**REQUIRED, **environment}, "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_bucket_media_stays_on_the_filesystem():
    media = media_settings({})

    assert media["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media["img_src"] == ["'self'", "data:"]


def test_with_a_bucket_media_goes_to_object_storage_behind_its_cdn():
    media = media_settings(
        {
            "MEDIA_BUCKET": "outlet-media",
            "MEDIA_ENDPOINT_URL": "https://abc123.r2.cloudflarestorage.com",
            "MEDIA_REGION": "auto",
            "MEDIA_CUSTOM_DOMAIN": "media.outlet.example",
        }
    )

    assert media["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = media["storage"]["OPTIONS"]
    assert options["bucket_name"] == "outlet-media"
    assert options["endpoint_url"] == "https://abc123.r2.cloudflarestorage.com"
    assert options["region_name"] == "auto"
    assert options["custom_domain"] == "media.outlet.example"
    assert options["querystring_auth"] is False
    assert options["file_overwrite"] is False
    assert "immutable" in options["object_parameters"]["CacheControl"]
    assert media["img_src"] == ["'self'", "data:", "https://media.outlet.example"]


def test_on_aws_the_buckets_own_hosts_may_serve_images():
    media = media_settings({"MEDIA_BUCKET": "outlet-media", "MEDIA_REGION": "eu-west-1"})

    assert media["storage"]["OPTIONS"]["endpoint_url"] is None
    assert media["img_src"][2:] == [
        "https://outlet-media.s3.amazonaws.com",
        "https://outlet-media.s3.eu-west-1.amazonaws.com",
    ]


def frontend_caches(environment: dict) -> dict:
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.WAGTAILFRONTENDCACHE))"
    )
    result = start({**REQUIRED, **environment}, "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_purge_address_or_cdn_nothing_is_purged():
    assert frontend_caches({}) == {}


def test_each_web_machines_cache_and_the_cdn_are_purged():
    caches = frontend_caches(
        {
            "FRONTEND_CACHE_PURGE_URL": "http://10.0.0.5:6081,http://10.0.0.6:6081",
            "CLOUDFLARE_ZONE_ID": "zone-123",
            "CLOUDFLARE_API_TOKEN": "token-456",
        }
    )

    http = "wagtail.contrib.frontend_cache.backends.HTTPBackend"
    assert caches == {
        "proxy-0": {"BACKEND": http, "LOCATION": "http://10.0.0.5:6081"},
        "proxy-1": {"BACKEND": http, "LOCATION": "http://10.0.0.6:6081"},
        "cloudflare": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
            "ZONEID": "zone-123",
            "BEARER_TOKEN": "token-456",
        },
    }
