"""A reader subscribes from an article, confirms from the email, then unsubscribes from an issue."""

import email
import re
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from playwright.sync_api import expect
from wagtail.models import Site

from articles.models import ArticlePage, ArticlePageAuthor, Author, HomePage, SectionPage
from newsletters.models import (
    IssueItem,
    IssuePage,
    NewsletterIndexPage,
    NewsletterPage,
    Subscription,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def outbox(tmp_path, live_server, django_db_serialized_rollback):
    """Mail goes to files, as in development; links in it point at the live server."""
    host = urlsplit(live_server.url)
    Site.objects.filter(is_default_site=True).update(hostname=host.hostname, port=host.port)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path),
    ):
        yield tmp_path


@pytest.fixture
def article(outbox):
    home = HomePage.objects.get()
    section = publish(home, SectionPage(title="Analysis", slug="analysis"))
    index = publish(home, NewsletterIndexPage(title="Newsletters", slug="newsletters"))
    publish(
        index,
        NewsletterPage(
            title="The Weekly Steep",
            slug="weekly-steep",
            description="The week in one email.",
            sender_name="The Weekly Steep",
            sender_email="steep@outlet.example",
            promote_by_default=True,
        ),
    )
    article = ArticlePage(title="Port fees, explained", slug="port-fees", body=[])
    article.article_authors.add(ArticlePageAuthor(author=Author.objects.create(name="A", slug="a")))
    return publish(section, article)


def messages_in(folder: Path) -> list:
    """Every message the file backend wrote (it appends them to one file per connection)."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk, policy=policy.default))
    return found


def the_message(folder: Path, subject: str):
    """The one message with that subject: file names do not order messages sent in one second."""
    found = [message for message in messages_in(folder) if message["Subject"].startswith(subject)]
    assert len(found) == 1, [message["Subject"] for message in messages_in(folder)]
    return found[0]


def link_in(message, pattern: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(pattern, text).group(0)


def test_reader_subscribes_confirms_and_unsubscribes(page, outbox, article):
    page.goto(article.url)
    promo = page.locator(".article__promo .newsletter-promo")
    promo.get_by_label("Email address").fill("reader@example.org")
    promo.get_by_role("button", name="Subscribe").click()
    expect(page.locator("h1")).to_have_text("Check your inbox")

    confirmation = the_message(outbox, "Confirm your subscription")
    assert confirmation["To"] == "reader@example.org"
    page.goto(link_in(confirmation, r"https?://\S+/subscriptions/confirm/\S+/"))
    subscription = Subscription.objects.get(subscriber__email="reader@example.org")
    assert subscription.status == Subscription.Status.PENDING, "opening the link confirms nothing"
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.locator("h1")).to_have_text("You are subscribed")
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE

    newsletter = NewsletterPage.objects.get()
    issue = IssuePage(title="No. 1", slug="no-1", subject="Ports and tariffs")
    issue.items.add(IssueItem(article=article))
    publish(newsletter, issue)
    issue_email = the_message(outbox, "Ports and tariffs")
    assert issue_email["To"] == "reader@example.org"

    page.goto(link_in(issue_email, r"Unsubscribe: (\S+)").removeprefix("Unsubscribe: "))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
