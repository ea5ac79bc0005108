"""An issue's web copy is kept between publishes, and a published edit shows at once."""

import pytest
from django.test import Client

from tests.articles.factories import ArticlePageFactory
from tests.newsletters.factories import IssuePageFactory

pytestmark = pytest.mark.django_db


def test_an_issue_is_rendered_once_and_a_published_edit_shows(
    newsletter, section, django_assert_max_num_queries
):
    reader = Client()
    reader.cookies["sessionid"] = "a-reader-with-a-session"  # never served by the page cache
    lead = ArticlePageFactory(parent=section, title="Why tariffs stick")
    issue = IssuePageFactory(parent=newsletter, subject="Tariffs", items=[lead])
    first = reader.get(issue.url)
    assert first.status_code == 200 and "Why tariffs stick" in first.content.decode()

    # Routing, the site, privacy and the metadata: the items and their articles are kept.
    with django_assert_max_num_queries(10):
        assert reader.get(issue.url).content == first.content

    issue.subject = "Tariffs, corrected"
    issue.save_revision().publish()

    assert (
        '<h1 class="issue__title">Tariffs, corrected</h1>' in reader.get(issue.url).content.decode()
    )


@pytest.mark.parametrize("suffix", ["", "atom/"], ids=["rss", "atom"])
def test_a_newsletters_feed_lists_an_issue_as_soon_as_it_is_published(newsletter, suffix):
    IssuePageFactory(parent=newsletter, subject="Tariffs")
    feed = f"{newsletter.url}feed/{suffix}"
    first = Client().get(feed)
    assert first.status_code == 200 and b"Tariffs" in first.content
    assert Client().get(feed).content == first.content

    later = IssuePageFactory(parent=newsletter, subject="Chips, year two", live=False)
    later.save_revision().publish()

    assert b"Chips, year two" in Client().get(feed).content
