"""Load the demo newsroom: sections, authors, series, articles, images, newsletters with past
issues and sample subscribers, and (optionally) logins."""

import logging
import secrets
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.models import Site

from articles.models import PublicationSettings
from demo.images import palette_for, share_card, store_image
from demo.loader import DemoLoader, assign_fields, read_content
from demo.newsletters import NewsletterDemoLoader, read_newsletters
from outlet.page_cache import clear_page_cache

SITE_NAME = "Outlet"
TAGLINE = "Independent analysis of business, technology and trade between the US and China."
X_HANDLE = "outlet_demo"
PUBLISH_HOUR = 8  # UTC; every demo article is dated a whole number of days before today's
# Demo users for trying the two roles, beside the superuser.
ROLE_USERS = (("writer", "Writers"), ("editor", "Editors"))


def publication_day(now: datetime) -> datetime:
    """Today at the demo's publication hour, or yesterday's if that hour is still to come."""
    day = (now - timedelta(hours=PUBLISH_HOUR)).date()
    return datetime(day.year, day.month, day.day, PUBLISH_HOUR, tzinfo=UTC)


def configure_site(hostname: str, port: int) -> Site:
    """Point the default site at the host and port the demo server runs on."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        raise CommandError("No default site: run `manage.py migrate` first.")
    site.hostname, site.port, site.site_name = hostname, port, SITE_NAME
    site.save()
    return site


def configure_identity(site: Site, report: Counter) -> None:
    """Tagline, X handle and a branded fallback share image for the site."""
    share_image, created = store_image(
        f"{SITE_NAME} share card",
        f"{SITE_NAME}: {TAGLINE}",
        lambda: share_card(SITE_NAME, TAGLINE, palette_for(3)),
        "outlet-share-card.png",
    )
    report[("images", "created" if created else "unchanged")] += 1
    settings = PublicationSettings.for_site(site)
    fields = {"tagline": TAGLINE, "x_handle": X_HANDLE, "default_share_image": share_image}
    outcome = assign_fields(settings, fields)
    if outcome != "unchanged":
        settings.save()
    report[("publication settings", outcome)] += 1


def load_newsletters(loader: DemoLoader, site: Site, today: datetime) -> None:
    """Newsletters, past issues, a draft issue and subscribers, after the articles they list."""
    NewsletterDemoLoader(read_newsletters(), today, loader.report).load(
        site.root_page.specific, loader.articles, loader.series
    )


def outbox() -> str | None:
    """Where email goes when it is written to files (as in development), else None."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return None
    # Only settings that choose the file backend name a path for it.
    return str(getattr(settings, "EMAIL_FILE_PATH", ""))


@contextmanager
def quiet_logger(name: str, quiet: bool):
    """Hide a logger's INFO lines (Wagtail logs every page it creates and publishes)."""
    logger = logging.getLogger(name)
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Load the demo content from demo/content.json and newsletters.json. Safe to "
        "run again: existing pages and snippets are updated in place, unchanged ones are left "
        "alone, subscribers are never changed once added, and past issues are never emailed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hostname",
            default="127.0.0.1",
            help="Host name of the default site, used in canonical URLs (default: 127.0.0.1).",
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="Port of the default site (default: 8000)."
        )
        parser.add_argument(
            "--create-admin",
            action="store_true",
            help='Create or reset the superuser "admin" and the demo users "writer" and '
            '"editor" with a new random password, printed once.',
        )

    def handle(self, *args, hostname, port, create_admin, verbosity, **options):
        started = time.monotonic()
        content = read_content()
        with quiet_logger("wagtail", verbosity < 2), transaction.atomic():
            site = configure_site(hostname, port)
            today = publication_day(timezone.now())
            loader = DemoLoader(content, today)
            report = loader.load(site)
            load_newsletters(loader, site, today)
            configure_identity(site, report)
            password = self.create_logins() if create_admin else None
        # Saving clears these caches too, but a server may have refilled them before the commit.
        Site.clear_site_root_paths_cache()
        clear_page_cache()
        self.write_report(report, time.monotonic() - started)
        self.stdout.write(f"Site: {site.root_url}/")
        if folder := outbox():
            self.stdout.write(f"Outbox: email is written to files in {folder}/")
        if password:
            self.write_logins(site.root_url, password)

    def create_logins(self) -> str:
        """The superuser and one user per role, all with one new random password."""
        password = secrets.token_urlsafe(12)
        self.save_user("admin", password, is_superuser=True)
        for username, group_name in ROLE_USERS:
            group = Group.objects.filter(name=group_name).first()
            if group is None:
                raise CommandError(f'Group "{group_name}" is missing: run `manage.py migrate`.')
            self.save_user(username, password).groups.set([group])
        return password

    @staticmethod
    def save_user(username: str, password: str, *, is_superuser: bool = False):
        """Create or reset one login."""
        user = get_user_model().objects.filter(username=username).first()
        user = user or get_user_model()(username=username)
        user.email = f"{username}@example.org"
        user.first_name = "Demo"
        user.last_name = username.capitalize()
        user.is_active = True
        user.is_staff = user.is_superuser = is_superuser
        user.set_password(password)
        user.save()
        return user

    def write_report(self, report: Counter, seconds: float) -> None:
        """One line per kind of thing loaded: how many were created, updated, unchanged."""
        kinds = dict.fromkeys(kind for kind, _ in report)
        for kind in kinds:
            outcomes = ", ".join(
                f"{count} {outcome}" for (name, outcome), count in report.items() if name == kind
            )
            self.stdout.write(f"{kind.capitalize()}: {outcomes}")
        self.stdout.write(self.style.SUCCESS(f"Demo content loaded in {seconds:.1f} s."))

    def write_logins(self, root_url: str, password: str) -> None:
        """The only place the new password is ever shown."""
        self.stdout.write(
            self.style.WARNING(f"Admin login: {root_url}/admin/  user: admin  password: {password}")
        )
        roles = ", ".join(f'"{username}" ({group})' for username, group in ROLE_USERS)
        self.stdout.write(f"Role logins with the same password: {roles}.")
