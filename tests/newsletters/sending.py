"""An issue ready to go out, built with the plain ORM the way an editor's publish leaves it
(a live article with an author in a section under the home page, a newsletter, a draft issue
linking the article), readers in bulk, and the ledger's view of what happened."""

import itertools
import os
from collections import Counter

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
from tests.newsletters.smtp_sink import SmtpSink

Status = Delivery.Status

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_serial)}"


# Content


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


# The ledger


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
