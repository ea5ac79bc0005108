"""Compiling an issue through the admin: the right live articles, newest first, never twice."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from wagtail.models import PageLogEntry, PageViewRestriction

from newsletters.models import IssuePage
from tests.articles.factories import ArticlePageFactory, SectionPageFactory, SeriesFactory
from tests.newsletters.editor import edit_url, logged, messages_of, press, publish
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.mail import html_part

pytestmark = pytest.mark.django_db

WANTED = ["Newest in section", "Tagged trade", "In the series", "Three days old"]


@pytest.fixture
def compiling(newsletter, section, home):
    """Rules: the Analysis section, a series, or the tag "trade"; a previous issue 5 days ago.

    Returns the articles by the part they play.
    """
    now = timezone.now()
    other = SectionPageFactory(parent=home, title="Briefings")
    series = SeriesFactory(name="Coffee vs. Tea", label="")

    def article(parent=section, days=0.0, **kwargs):
        return ArticlePageFactory(parent=parent, date=now - timedelta(days=days), **kwargs)

    featured = article(days=2, title="Featured last time")
    newsletter.refresh_from_db()  # an issue may have been added in the admin since
    IssuePageFactory(
        parent=newsletter, first_published_at=now - timedelta(days=5), items=[featured]
    )
    roles = {
        "newest": article(days=0.05, title="Newest in section"),
        "tagged": article(parent=other, days=0.8, title="Tagged trade", tags=["trade"]),
        "in series": article(parent=other, days=1.2, title="In the series", series=series),
        "oldest wanted": article(days=3, title="Three days old"),
        "before previous issue": article(days=6, title="Before the previous issue"),
        "draft": article(days=1, title="Still a draft", live=False),
        "elsewhere": article(parent=other, days=1, title="Another section, no rule"),
        "private": article(days=1, title="Members only"),
        "featured": featured,
    }
    PageViewRestriction.objects.create(
        page=roles["private"], restriction_type="password", password="members"
    )
    newsletter.lookback_days = 30
    newsletter.compile_sections.set([section])
    newsletter.compile_series.set([series])
    newsletter.compile_tags.set([roles["tagged"].tags.get(name="trade")])
    newsletter.save()
    return roles


@pytest.fixture
def blank_issue(newsletter, compiling):
    newsletter.refresh_from_db()
    return IssuePageFactory(parent=newsletter, live=False, first_published_at=None)


def compiled_titles(issue) -> list[str]:
    draft = IssuePage.objects.get(pk=issue.pk).get_latest_revision_as_object()
    return [item.article.title for item in draft.items.all()]


def test_compile_fills_the_draft_with_matching_live_articles_newest_first(
    editor_client, blank_issue
):
    response = press(editor_client, "compile", blank_issue, follow=True)

    assert response.redirect_chain[-1][0] == edit_url(blank_issue)
    assert compiled_titles(blank_issue) == WANTED
    assert "Saved your changes and added 4 articles to the draft" in " ".join(messages_of(response))
    assert not IssuePage.objects.get(pk=blank_issue.pk).live


def test_compile_leaves_out_drafts_private_old_unmatched_and_already_featured(
    editor_client, blank_issue, compiling
):
    press(editor_client, "compile", blank_issue)

    titles = compiled_titles(blank_issue)
    for left_out in ("draft", "private", "before previous issue", "elsewhere", "featured"):
        assert compiling[left_out].title not in titles, left_out


def test_compiling_twice_adds_nothing_twice(editor_client, blank_issue):
    press(editor_client, "compile", blank_issue)

    response = press(editor_client, "compile", blank_issue, follow=True)

    assert compiled_titles(blank_issue) == WANTED
    assert "No new articles" in " ".join(messages_of(response))
    assert logged(blank_issue, "newsletters.compile") == 1


def test_compile_appends_after_the_editors_own_choices_and_keeps_their_blurbs(
    editor_client, drafted, compiling, live_article
):
    press(editor_client, "compile", drafted)

    items = list(IssuePage.objects.get(pk=drafted.pk).get_latest_revision_as_object().items.all())
    assert (items[0].article_id, items[0].blurb) == (
        live_article.pk,
        "Why neither side can go first.",
    )
    assert [item.article.title for item in items[1:]] == WANTED


def test_the_compiled_order_is_the_order_readers_get(
    editor_client, blank_issue, newsletter, mailbox, committed
):
    reader = SubscriptionFactory(newsletter=newsletter).subscriber
    press(editor_client, "compile", blank_issue)

    with committed():
        publish(editor_client, blank_issue)

    (message,) = mailbox.sent_to(reader.email)
    soup = BeautifulSoup(html_part(message), "html.parser")
    assert [h2.get_text() for h2 in soup.find_all("h2")] == WANTED


def test_compile_is_in_the_audit_log(editor_client, blank_issue, editor):
    press(editor_client, "compile", blank_issue)

    entry = PageLogEntry.objects.get(page_id=blank_issue.pk, action="newsletters.compile")
    assert entry.user == editor
    assert entry.data == {"added": 4}


def test_the_first_issue_looks_back_as_far_as_the_newsletter_says(
    editor_client, newsletter, section
):
    now = timezone.now()
    ArticlePageFactory(parent=section, title="Last week", date=now - timedelta(days=6))
    ArticlePageFactory(parent=section, title="Last month", date=now - timedelta(days=8))
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None)

    press(editor_client, "compile", issue)

    assert compiled_titles(issue) == ["Last week"]  # lookback_days defaults to 7


def test_an_unpublished_earlier_issue_does_not_count_as_previous(
    editor_client, newsletter, section
):
    now = timezone.now()
    kept = ArticlePageFactory(parent=section, title="Two days old", date=now - timedelta(days=2))
    IssuePageFactory(
        parent=newsletter, live=False, first_published_at=now - timedelta(days=1), items=[kept]
    )
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None)

    press(editor_client, "compile", issue)

    assert compiled_titles(issue) == ["Two days old"]


def test_compile_stops_at_the_newsletters_maximum(editor_client, newsletter, section):
    now = timezone.now()
    for hours in range(5):
        ArticlePageFactory(
            parent=section, title=f"{hours} hours old", date=now - timedelta(hours=hours)
        )
    newsletter.max_items = 3
    newsletter.save()
    issue = IssuePageFactory(parent=newsletter, live=False, first_published_at=None)

    press(editor_client, "compile", issue)

    assert compiled_titles(issue) == ["0 hours old", "1 hours old", "2 hours old"]


def test_an_article_dated_before_the_previous_issue_but_published_since_is_compiled(
    editor_client, blank_issue, section
):
    now = timezone.now()
    late = ArticlePageFactory(
        parent=section,
        title="Started long ago, published yesterday",
        date=now - timedelta(days=6),
        first_published_at=now - timedelta(days=1),
    )

    press(editor_client, "compile", blank_issue)

    assert late.title in compiled_titles(blank_issue)
