"""Fixtures and helpers for the delivery tests: an issue ready to go live, readers in bulk,
worker processes pointed at an SMTP sink, and the ledger's view of what happened.

Content is built with the plain ORM, the way an editor's publish would leave it: a live
article (with an author) in a section under the home page, the newsletter index, a newsletter,
and a draft issue that links the article.
"""

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from wagtail.models import Site

from articles.models import ArticlePage, ArticlePageAuthor, Author, SectionPage
from newsletters.models import (
    Delivery,
    IssueItem,
    IssuePage,
    IssueSend,
    NewsletterIndexPage,
    NewsletterPage,
    Subscriber,
    Subscription,
)
from newsletters.sweep import sweep
from tests.newsletters.smtp_sink import SmtpSink

BASE_DIR = Path(settings.BASE_DIR)
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
Status = Delivery.Status

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_serial)}"


# Content ---------------------------------------------------------------------------------


def home_page():
    return Site.objects.get(is_default_site=True).root_page.specific


def make_article() -> ArticlePage:
    home = home_page()
    section = SectionPage.objects.child_of(home).first()
    if section is None:
        section = home.add_child(instance=SectionPage(title="Analysis", slug="analysis"))
        section.save_revision().publish()
    slug = unique("tariffs")
    author = Author.objects.create(name=f"Li Wei {slug}", slug=slug, role="Correspondent")
    article = ArticlePage(
        title="What the new tariffs change",
        slug=slug,
        dek="Export controls tightened twice.",
        summary="Beijing's new procurement rules, and who pays for them.",
        body=[{"type": "paragraph", "value": "<p>The rules took effect in March.</p>"}],
    )
    article.article_authors = [ArticlePageAuthor(author=author)]
    section.add_child(instance=article)
    article.save_revision().publish()
    return article


def make_newsletter() -> NewsletterPage:
    home = home_page()
    index = NewsletterIndexPage.objects.child_of(home).first()
    if index is None:
        index = home.add_child(
            instance=NewsletterIndexPage(title="Newsletters", slug="newsletters")
        )
        index.save_revision().publish()
    slug = unique("weekly-steep")
    newsletter = index.add_child(
        instance=NewsletterPage(
            title="The Weekly Steep",
            slug=slug,
            description="The week in trade and technology.",
            sender_name="The Weekly Steep",
            sender_email="steep@outlet.example",
            reply_to="editors@outlet.example",
        )
    )
    newsletter.save_revision().publish()
    return newsletter


def make_issue(newsletter: NewsletterPage, article: ArticlePage | None = None) -> IssuePage:
    """A draft issue of `newsletter` linking a live article; publish() sends it."""
    article = article or make_article()
    issue = IssuePage(
        title="Issue one",
        slug=unique("issue"),
        subject="Tariffs, chips and tea",
        preheader="What changed this week",
        intro="<p>Three things to read.</p>",
        live=False,
    )
    issue.items = [IssueItem(article=article, blurb="Who pays the tariff.")]
    newsletter.add_child(instance=issue)
    return issue


def add_subscribers(
    newsletter: NewsletterPage,
    count: int,
    *,
    prefix: str = "reader",
    status: str = Subscription.Status.ACTIVE,
) -> list[str]:
    """`count` subscribers of `newsletter` (confirmed by default), inserted in bulk, a few
    thousand at a time."""
    now = timezone.now()
    tag = unique(prefix)
    emails = [f"{tag}-{n:06d}@inbox.example" for n in range(count)]
    for start in range(0, count, 5000):
        subscribers = Subscriber.objects.bulk_create(
            [
                Subscriber(email=address, consent_at=now, consent_source="test")
                for address in emails[start : start + 5000]
            ]
        )
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber=subscriber,
                    newsletter=newsletter,
                    status=status,
                    confirmed_at=now if status == Subscription.Status.ACTIVE else None,
                    source="test",
                )
                for subscriber in subscribers
            ]
        )
    return emails


def publish(issue: IssuePage):
    """Publish the latest revision (the first publish opens the send), as an editor does."""
    issue = IssuePage.objects.get(pk=issue.pk)
    return issue.save_revision().publish()


# The ledger ------------------------------------------------------------------------------


def ledger(issue) -> Counter:
    return Counter(Delivery.objects.filter(issue=issue).values_list("status", flat=True))


def unfinished(issue) -> int:
    return Delivery.objects.filter(issue=issue, status__in=[Status.PENDING, Status.SENDING]).count()


def send_state(issue) -> str | None:
    send = IssueSend.objects.filter(issue=issue).first()
    return send.state if send else None


def assert_counts_add_up(issue) -> None:
    """recipients = sent + failed + bounced + skipped, and nothing is left in between."""
    send = IssueSend.objects.get(issue=issue)
    counts = ledger(issue)
    assert counts[Status.PENDING] == counts[Status.SENDING] == 0, counts
    assert send.recipients == (
        counts[Status.SENT]
        + counts[Status.FAILED]
        + counts[Status.BOUNCED]
        + counts[Status.SKIPPED]
    ), (send.recipients, counts)


def assert_each_mailed_once(sink: SmtpSink, emails) -> None:
    counts = sink.counts()
    missing = [address for address in emails if not counts[address]]
    twice = {address: n for address, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} never mailed, e.g. {missing[:3]}"
    assert not twice, f"mailed more than once: {twice}"


# Processes -------------------------------------------------------------------------------


def database_url() -> str:
    """The test database, as a URL a worker process can open."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        assert str(db["NAME"]) != ":memory:" and "mode=memory" not in str(db["NAME"])
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def worker_env(sink: SmtpSink | None, **extra) -> dict[str, str]:
    """The environment of a worker process: the test database, the sink, short leases."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outlet.settings.test",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "DELIVERY_LEASE_SECONDS": "2",
        "DELIVERY_RETRY_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    if sink is not None:
        env["EMAIL_URL"] = sink.url
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Processes:
    """Processes a test starts; each is killed (by its own id) when the test ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, env: dict, *args: str, name: str = "worker") -> subprocess.Popen:
        log = open(self.log_dir / f"{name}-{len(self.started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(BASE_DIR / "manage.py"), *args],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: RQ's work horses go with it
        )
        log.close()
        process.log_path = log.name
        self.started.append(process)
        return process

    def db_worker(self, env: dict, *extra: str) -> subprocess.Popen:
        return self.start(
            env, "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload", *extra
        )

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        return Path(process.log_path).read_text(errors="replace")[-4000:]

    def outputs(self) -> str:
        return "\n".join(
            f"--- {p.args[2:]} (rc {p.returncode}):\n{self.output(p)}" for p in self.started
        )

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


def finish_with_sweeps(issue, processes, timeout: float = 40, tasks=DATABASE_TASKS) -> None:
    """Act as the scheduler until the issue is sent: sweep every half second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not unfinished(issue) and send_state(issue) == IssueSend.State.SENT:
            return
        with override_settings(TASKS=tasks):
            sweep()
        time.sleep(0.5)
    raise AssertionError(
        f"not finished after {timeout}s: {unfinished(issue)} rows left, "
        f"state {send_state(issue)}\n{processes.outputs()}"
    )


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.kill_all()


@pytest.fixture
def redis_url():
    """A Redis database of this test run's own (13 + the xdist worker), emptied before and
    after; skipped (a failure under CI) without a Redis server."""
    server = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    url = server._replace(path=f"/{13 + worker}").geturl()
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {url}: {error}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def newsletter(db):
    return make_newsletter()


@pytest.fixture
def mail_to_sink(sink):
    """This process's email goes to the sink; tasks run where they are enqueued."""
    with override_settings(**sink.django_settings):
        yield sink


@pytest.fixture
def database_tasks():
    """Tasks enqueued by this process go to the database queue, for db_worker processes."""
    with override_settings(TASKS=DATABASE_TASKS):
        yield
