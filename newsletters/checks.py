"""Deployment checks for what newsletters promise readers."""

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from wagtail.models import Site


@register(Tags.security, deploy=True)
def unsubscribe_links_are_https(app_configs, **kwargs):
    """Gmail and Yahoo expect one-click unsubscribe (RFC 8058) at an https URL; the links in
    every email are built from the site's root URL, which is https only on port 443."""
    try:
        insecure = [site for site in Site.objects.all() if not site.root_url.startswith("https:")]
    except DatabaseError:
        return []  # before the first migrate: nothing has been mailed yet
    return [
        Warning(
            f"Unsubscribe links in emails would be {site.root_url}/…, not https.",
            hint=f"Set the port of the site “{site}” to 443 in Settings → Sites.",
            obj=site,
            id="newsletters.W001",
        )
        for site in insecure
    ]
