"""Corrections and updates: an editor adds a dated notice in the admin without touching the
body; readers see it under the byline, and the feeds, JSON-LD and sitemap date it."""

from datetime import UTC, datetime

import feedparser
import pytest
from django.test import Client

from articles.models import ArticleNotice, ArticlePage
from tests.articles.factories import ArticlePageFactory
from tests.articles.test_admin import article_form, assert_no_form_errors, edit_url
from tests.articles.test_seo import json_ld, moment, of_type
from tests.reader import parse_xml, read, text_of

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CORRECTED = datetime(2026, 3, 5, 16, 45, tzinfo=UTC)
CORRECTION = "An earlier version gave the tariff as 25%. It is 20%."
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def corrected(editor, story, time_machine):
    """The story, published on PUBLISHED, then corrected by an editor in the admin."""
    ArticlePage.objects.filter(pk=story.pk).update(
        date=PUBLISHED, first_published_at=PUBLISHED, last_published_at=PUBLISHED
    )
    time_machine.move_to(CORRECTED, tick=False)
    client = Client()
    client.force_login(editor)
    form = article_form(
        client,
        edit_url(story),
        **{
            "notices-TOTAL_FORMS": "1",
            "notices-0-kind": "correction",
            "notices-0-date": "2026-03-05 16:45",
            "notices-0-text": CORRECTION,
            "notices-0-ORDER": "1",
            "action-publish": "Publish",
        },
    )
    response = client.post(edit_url(story), form)
    assert_no_form_errors(response)
    assert response.status_code == 302
    story.refresh_from_db()
    return story


def test_the_correction_shows_under_the_byline_with_its_date(corrected):
    soup = read(Client(), corrected.url)

    notice = soup.select_one(".article__header .byline + .notices .notice--correction")
    assert notice is not None, "the notice sits right under the byline, in the header"
    assert " ".join(notice.get_text(" ").split()) == f"Correction 5 March 2026 {CORRECTION}"
    assert notice.find("time")["datetime"] == CORRECTED.isoformat()
    assert "Updated 5 March 2026" in text_of(soup, ".byline__meta")
    assert soup.select_one(".byline__meta time + time")["datetime"] == CORRECTED.isoformat()


def test_json_ld_dates_the_modification_and_carries_the_correction(corrected):
    article = of_type(json_ld(read(Client(), corrected.url)), "NewsArticle")

    assert moment(article["datePublished"]) == PUBLISHED
    assert moment(article["dateModified"]) == CORRECTED
    [comment] = article["correction"]
    assert comment["@type"] == "CorrectionComment"
    assert comment["text"] == CORRECTION
    assert moment(comment["datePublished"]) == CORRECTED
    assert comment["url"].endswith(f"{corrected.url}#notice-{corrected.notices.get().pk}")


def test_an_article_without_corrections_says_none(story):
    article = of_type(json_ld(read(Client(), story.url)), "NewsArticle")

    assert "correction" not in article


def test_atom_entries_are_updated_at_the_correction(corrected):
    parsed = feedparser.parse(Client().get("/feed/atom/").content)

    [entry] = [entry for entry in parsed.entries if entry.title == corrected.display_title]
    assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == CORRECTED
    assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == PUBLISHED


def test_the_sitemap_dates_the_article_by_its_correction(corrected):
    root = parse_xml(Client().get("/sitemap.xml").content)

    lastmod = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }
    assert lastmod[corrected.get_full_url()] == "2026-03-05"


def test_the_corrections_page_lists_live_articles_notices_newest_first(corrected, section):
    older = ArticlePageFactory(parent=section, title="Chip rules", date=PUBLISHED)
    ArticleNotice.objects.create(
        page=older, kind="update", date=PUBLISHED, text="Adds the ministry's reply."
    )
    draft = ArticlePageFactory(parent=section, title="Unpublished draft", live=False)
    ArticleNotice.objects.create(
        page=draft, kind="correction", date=CORRECTED, text="Not for readers."
    )

    soup = read(Client(), "/corrections/")

    items = [" ".join(li.get_text(" ").split()) for li in soup.select(".correction-list__item")]
    assert items == [
        f"Correction 5 March 2026 CvT: Why tariffs stick {CORRECTION}",
        "Update 2 March 2026 Chip rules Adds the ministry's reply.",
    ]
    link = soup.select_one(".correction-list__title a")["href"]
    assert link == f"{corrected.url}#notice-{corrected.notices.get().pk}"
    assert read(Client(), link.split("#")[0]).find(id=link.split("#")[1]) is not None


def test_the_corrections_feeds_carry_each_notice_with_its_date(corrected, section):
    draft = ArticlePageFactory(parent=section, title="Unpublished draft", live=False)
    ArticleNotice.objects.create(
        page=draft, kind="correction", date=CORRECTED, text="Not for readers."
    )

    for url in ("/corrections/feed/", "/corrections/feed/atom/"):
        parsed = feedparser.parse(Client().get(url).content)
        assert not parsed.bozo, f"{url}: {parsed.bozo_exception}"
        [entry] = parsed.entries
        assert entry.title == "Correction: CvT: Why tariffs stick"
        assert entry.summary == CORRECTION
        assert entry.link.endswith(f"{corrected.url}#notice-{corrected.notices.get().pk}")
        assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == CORRECTED


def test_the_corrections_page_is_linked_from_every_page(story):
    soup = read(Client(), story.url)

    assert soup.select_one(".site-footer a[href='/corrections/']").get_text() == "Corrections"
