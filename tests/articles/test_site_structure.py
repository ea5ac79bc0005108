"""What describes the site around its content (menu, promoted newsletters, settings, the site of a
host, private parts of the tree) is kept across the publication of articles and issues, and
forgotten by every change that could alter it.

The reader has a session, so the page cache never serves them: every request renders its page
and reads the site's structure from where it is kept.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from articles.models import PublicationSettings
from tests.articles.factories import ArticlePageFactory, SectionPageFactory
from tests.newsletters.factories import (
    IssuePageFactory,
    NewsletterIndexPageFactory,
    NewsletterPageFactory,
)

pytestmark = pytest.mark.django_db

# What only reading the site's structure asks the database, on an article's page: the site of
# the host, the publication's settings, every private part of the tree, the menu, the way to the
# newsletters, the promoted newsletter.
STRUCTURE_QUERIES = (
    'FROM "wagtailcore_site"',
    'FROM "articles_publicationsettings"',
    'AND "wagtailcore_page"."show_in_menus" AND',
    'FROM "newsletters_newsletterindexpage"',
    'AND "newsletters_newsletterpage"."promote_by_default")',
    'INNER JOIN "newsletters_newsletterpage_promoted_on"',
)
# Every private part of the tree (a publication may read it again before the reader does).
PRIVATE_SECTIONS_QUERY = 'FROM "wagtailcore_pageviewrestriction" INNER JOIN'


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def menu(page_html: str) -> str:
    start = page_html.index('class="site-nav"')
    return page_html[start : page_html.index("</nav>", start)]


def structure_queries(reader, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        html(reader.get(url))
    return [
        query["sql"]
        for query in captured.captured_queries
        if any(part in query["sql"] for part in (*STRUCTURE_QUERIES, PRIVATE_SECTIONS_QUERY))
    ]


@pytest.fixture
def newsletter(home):
    index = NewsletterIndexPageFactory(parent=home)
    return NewsletterPageFactory(parent=index, title="The Weekly Steep", promote_by_default=True)


def test_publishing_an_article_keeps_the_site_structure(reader, section, story, newsletter):
    # Written earlier (its authors and tags were saved then).
    fresh = ArticlePageFactory(parent=section, title="Tea exports double", live=False)
    html(reader.get(story.url))
    fresh.save_revision().publish()

    assert structure_queries(reader, story.url) == []
    assert "Tea exports double" in html(reader.get(section.url))  # the content is not kept


def test_publishing_an_issue_keeps_the_site_structure(reader, story, newsletter):
    issue = IssuePageFactory(parent=newsletter, live=False, items=[story])
    html(reader.get(story.url))
    issue.save_revision().publish()

    assert structure_queries(reader, story.url) == []


def test_publishing_any_other_page_recomputes_it(reader, section, story, newsletter):
    html(reader.get(story.url))
    section.intro = "Long reads on trade."
    section.save_revision().publish()

    recomputed = "\n".join(structure_queries(reader, story.url))
    for part in STRUCTURE_QUERIES:
        assert part in recomputed


def test_a_new_section_joins_the_menu(reader, home, section, story):
    assert "Briefings" not in menu(html(reader.get(story.url)))
    briefings = SectionPageFactory(parent=home, title="Briefings", live=False)
    briefings.save_revision().publish()

    assert "Briefings" in menu(html(reader.get(story.url)))


def test_a_renamed_section_is_renamed_in_the_menu(reader, section, story):
    assert "Analysis" in menu(html(reader.get(story.url)))
    section.title = "Deep dives"
    section.save_revision().publish()

    assert "Deep dives" in menu(html(reader.get(story.url)))


def test_an_unpublished_section_leaves_the_menu(reader, home, story):
    briefings = SectionPageFactory(parent=home, title="Briefings")
    assert "Briefings" in menu(html(reader.get(story.url)))
    briefings.unpublish()

    assert "Briefings" not in menu(html(reader.get(story.url)))


def test_a_private_section_leaves_the_menu(reader, home, story):
    briefings = SectionPageFactory(parent=home, title="Briefings")
    assert "Briefings" in menu(html(reader.get(story.url)))
    PageViewRestriction.objects.create(
        page=briefings, restriction_type=PageViewRestriction.PASSWORD, password="members"
    )

    assert "Briefings" not in menu(html(reader.get(story.url)))


def test_a_private_article_moved_elsewhere_stays_private(reader, home, section, story):
    secret = ArticlePageFactory(parent=section, title="Members: the chip fund")
    PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.PASSWORD, password="members"
    )
    briefings = SectionPageFactory(parent=home, title="Briefings")
    assert "Members: the chip fund" not in html(reader.get(home.url))

    secret.move(briefings, pos="last-child")

    assert "Members: the chip fund" not in html(reader.get(home.url))
    assert "Members: the chip fund" not in html(reader.get(briefings.url))


def test_a_newly_promoted_newsletter_is_promoted_at_once(reader, home, story, newsletter):
    assert "The Weekly Steep" in html(reader.get(story.url))
    other = NewsletterPageFactory(
        parent=newsletter.get_parent(), title="China Chips Daily", live=False
    )
    newsletter.promote_by_default = False
    newsletter.save_revision().publish()
    other.promote_by_default = True
    other.save_revision().publish()

    page = html(reader.get(story.url))
    assert "China Chips Daily" in page
    assert "The Weekly Steep" not in page


def test_changed_publication_settings_show_at_once(reader, site, story):
    html(reader.get(story.url))
    settings = PublicationSettings.for_site(site)
    settings.x_handle = "outletreview"
    settings.save()

    assert '<meta name="twitter:site" content="@outletreview">' in html(reader.get(story.url))


def test_a_site_that_moves_host_is_found_again(reader, site, story):
    html(reader.get(story.url))
    site.hostname = "testserver"
    site.save()

    assert reader.get(story.url).status_code == 200
    assert structure_queries(reader, story.url) == []  # found once, then kept again
