"""Fixtures the newsletter tests share: newsletters, subscribers, clients per role, a mailbox,
an issue in the editor; and for delivery, an SMTP sink, worker processes and a Redis database.

Helpers the tests call are plain modules beside this one (editor, forms, mail, sending,
workers); only fixtures live here, so that no test imports from a conftest.
"""

import os
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis
from django.test import override_settings
from django.utils import timezone
from wagtail.test.utils.form_data import rich_text

from newsletters.models import IssuePage, Subscription
from tests.articles.factories import ArticlePageFactory, UserFactory
from tests.newsletters.editor import add_url, form_errors, issue_form, logged_in
from tests.newsletters.factories import (
    NewsletterIndexPageFactory,
    NewsletterPageFactory,
    SubscriptionFactory,
)
from tests.newsletters.forms import form_data, subscribe_forms
from tests.newsletters.mail import Mailbox
from tests.newsletters.smtp_sink import SmtpSink
from tests.newsletters.workers import DATABASE_TASKS, Processes


@pytest.fixture
def newsletter_index(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def newsletter(newsletter_index):
    """The outlet's default newsletter: promoted on articles whose series has none."""
    return NewsletterPageFactory(
        parent=newsletter_index,
        title="The Weekly Steep",
        slug="weekly-steep",
        description="The week's analysis in one email.",
        sender_name="The Weekly Steep",
        sender_email="steep@outlet.example",
        reply_to="letters@outlet.example",
        promote_by_default=True,
    )


@pytest.fixture
def series_newsletter(newsletter_index):
    return NewsletterPageFactory(
        parent=newsletter_index,
        title="Coffee vs. Tea",
        slug="coffee-vs-tea",
        description="Two economies, two drinks, one rivalry.",
        sender_name="Coffee vs. Tea",
        sender_email="cvt@outlet.example",
        cadence="fortnightly",
    )


@pytest.fixture
def subscriber(newsletter):
    """A reader who confirmed their subscription to `newsletter`."""
    return SubscriptionFactory(
        newsletter=newsletter, subscriber__email="ada@example.com", subscriber__name="Ada"
    ).subscriber


@pytest.fixture
def superuser(db):
    return UserFactory(username="sam-superuser", is_superuser=True)


@pytest.fixture
def editor_client(editor):
    return logged_in(editor)


@pytest.fixture
def writer_client(writer):
    return logged_in(writer)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the code deferred to the commit (emails, delivery tasks).

    Tests run inside a transaction that never commits, so without this nothing is sent.
    """

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return run


@pytest.fixture
def mailbox(mailoutbox):
    return Mailbox(mailoutbox)


@pytest.fixture
def signup(client, newsletter, committed):
    """Submit the newsletter page's own subscribe form, as a browser at `ip` would."""
    response = client.get(newsletter.url)
    (form,) = subscribe_forms(response.content.decode())
    fields = form_data(form)

    def submit(address: str, ip: str = "198.51.100.7", forwarded_for: str = "", **overrides):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
        with committed():
            return client.post(
                form["action"],
                {**fields, "email": address, **overrides},
                REMOTE_ADDR=ip,
                **headers,
            )

    return submit


@pytest.fixture
def live_article(section):
    return ArticlePageFactory(parent=section, title="Why tariffs stick", date=timezone.now())


@pytest.fixture
def draft_article(section):
    return ArticlePageFactory(parent=section, title="Unfinished draft", live=False)


@pytest.fixture
def audience(newsletter, series_newsletter):
    """Two confirmed readers of `newsletter`, and three who must not get its issues."""
    confirmed = [SubscriptionFactory(newsletter=newsletter).subscriber for _ in range(2)]
    SubscriptionFactory(
        newsletter=newsletter, status=Subscription.Status.PENDING, confirmed_at=None
    )
    SubscriptionFactory(newsletter=newsletter, status=Subscription.Status.UNSUBSCRIBED)
    SubscriptionFactory(newsletter=series_newsletter)
    return confirmed


@pytest.fixture
def drafted(editor_client, newsletter, live_article):
    """An issue an editor created under the newsletter and saved as a draft."""
    form = issue_form(
        editor_client,
        add_url(newsletter),
        articles=[(live_article, "Why neither side can go first.")],
        title="Issue 12",
        slug="issue-12",
        subject="Tariffs, and why they stick",
        preheader="One story this week.",
        intro=rich_text("<p>Good morning.</p>"),
    )
    response = editor_client.post(add_url(newsletter), form)
    assert response.status_code == 302, form_errors(response)
    return IssuePage.objects.get(slug="issue-12")


# Delivery


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
def mail_to_sink(sink):
    """This process's email goes to the sink; tasks run where they are enqueued."""
    with override_settings(**sink.django_settings):
        yield sink


@pytest.fixture
def database_tasks():
    """Tasks enqueued by this process go to the database queue, for db_worker processes."""
    with override_settings(TASKS=DATABASE_TASKS):
        yield
