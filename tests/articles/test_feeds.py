"""RSS and Atom feeds, read back with feedparser as a feed reader would."""

import calendar
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from wagtail.models import PageViewRestriction

from tests.articles.factories import (
    ArticlePageFactory,
    AuthorFactory,
    SectionPageFactory,
    SeriesFactory,
)
from tests.reader import parse_xml

pytestmark = pytest.mark.django_db

HOST = "localhost"  # the site's hostname, so that absolute URLs match its canonical ones
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
MONDAY = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)


@pytest.fixture
def newsroom(home, section):
    """Three live articles across two sections, plus a draft and a private page that match
    every feed and must appear in none."""
    briefings = SectionPageFactory(parent=home, title="Briefings", slug="briefings")
    series = SeriesFactory(name="Coffee vs. Tea", slug="coffee-vs-tea", label="CvT")
    li = AuthorFactory(name="Li Wei", slug="li-wei")
    ana = AuthorFactory(name="Ana Costa", slug="ana-costa")
    first = ArticlePageFactory(
        parent=section,
        title="Beans and leaves",
        summary="Why the tea trade beat coffee.",
        date=MONDAY,
        updated=MONDAY + timedelta(days=2),
        series=series,
        authors=[li, ana],
        tags=["trade", "tea"],
    )
    second = ArticlePageFactory(
        parent=briefings,
        title="Chip rules, briefly",
        summary="",
        dek="Three changes in one page.",
        date=MONDAY + timedelta(days=1),
        authors=[li],
        tags=["chips"],
    )
    third = ArticlePageFactory(
        parent=section,
        title="Ports after the tariffs",
        date=MONDAY + timedelta(days=3),
        authors=[ana],
        tags=["trade"],
    )
    hidden = {"series": series, "authors": [li, ana], "tags": ["trade", "tea", "chips"]}
    ArticlePageFactory(parent=section, title="Draft: unpublished", live=False, **hidden)
    private = ArticlePageFactory(parent=section, title="Members only", **hidden)
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    return {"first": first, "second": second, "third": third, "li": li, "ana": ana}


FEEDS = {
    "site": ("/feed/", "Outlet", ["third", "second", "first"]),
    "section": ("/analysis/feed/", "Analysis — Outlet", ["third", "first"]),
    "tag": ("/tags/trade/feed/", "trade — Outlet", ["third", "first"]),
    "author": ("/authors/li-wei/feed/", "Li Wei — Outlet", ["second", "first"]),
    "series": ("/series/coffee-vs-tea/feed/", "Coffee vs. Tea — Outlet", ["first"]),
}
KINDS = {"rss": ("", "application/rss+xml"), "atom": ("atom/", "application/atom+xml")}


def fetch(client, url, content_type=None):
    response = client.get(url, HTTP_HOST=HOST)
    assert response.status_code == 200, f"GET {url} → {response.status_code}"
    if content_type:
        assert response["Content-Type"].startswith(content_type)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, f"{url} is not well-formed: {parsed.bozo_exception}"
    return parsed, response.content


def when(struct_time) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct_time), tz=UTC)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("feed", list(FEEDS))
def test_feed_lists_live_articles_newest_first(client, newsroom, feed, kind):
    path, title, expected = FEEDS[feed]
    suffix, content_type = KINDS[kind]
    parsed, _ = fetch(client, path + suffix, content_type)

    assert parsed.feed.title == title
    assert parsed.version.startswith(kind)
    assert [entry.link for entry in parsed.entries] == [
        newsroom[key].get_full_url() for key in expected
    ]


@pytest.mark.parametrize("kind", list(KINDS))
def test_feed_entries_carry_full_metadata(client, newsroom, kind):
    parsed, _ = fetch(client, "/feed/" + KINDS[kind][0])
    entry = next(entry for entry in parsed.entries if "Beans" in entry.title)

    assert entry.title == "CvT: Beans and leaves"
    assert entry.link == "http://localhost/analysis/beans-and-leaves/"
    assert entry.id == entry.link
    assert [author.name for author in entry.authors] == ["Li Wei", "Ana Costa"]
    assert [tag.term for tag in entry.tags] == ["trade", "tea"]
    assert entry.summary == "Why the tea trade beat coffee."
    assert when(entry.published_parsed) == MONDAY


def test_atom_entries_link_each_author_and_say_when_updated(client, newsroom):
    parsed, _ = fetch(client, "/feed/atom/")
    entry = next(entry for entry in parsed.entries if "Beans" in entry.title)

    assert [(author.name, author.href) for author in entry.authors] == [
        ("Li Wei", "http://localhost/authors/li-wei/"),
        ("Ana Costa", "http://localhost/authors/ana-costa/"),
    ]
    assert when(entry.updated_parsed) == MONDAY + timedelta(days=2)


def test_rss_has_one_dc_creator_per_author(client, newsroom):
    _, content = fetch(client, "/feed/")
    items = {item.findtext("title"): item for item in parse_xml(content).iter("item")}

    creators = [c.text for c in items["CvT: Beans and leaves"].findall(DC_CREATOR)]
    assert creators == ["Li Wei", "Ana Costa"]
    assert [c.text for c in items["Chip rules, briefly"].findall(DC_CREATOR)] == ["Li Wei"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_feed_summary_falls_back_to_the_dek(client, newsroom, kind):
    parsed, _ = fetch(client, "/feed/" + KINDS[kind][0])
    entry = next(entry for entry in parsed.entries if entry.title == "Chip rules, briefly")

    assert entry.summary == "Three changes in one page."


@pytest.mark.parametrize("kind", list(KINDS))
def test_feed_links_are_absolute(client, newsroom, kind):
    parsed, _ = fetch(client, "/analysis/feed/" + KINDS[kind][0])

    assert parsed.feed.link == "http://localhost/analysis/"
    for entry in parsed.entries:
        assert entry.link.startswith("http://localhost/")


def test_feed_stays_well_formed_with_markup_and_unicode_in_titles(client, section):
    ArticlePageFactory(
        parent=section, title="<Chips> & “Zhōngguó”", summary="Tariffs < quotas & more"
    )
    for suffix in ("", "atom/"):
        parsed, _ = fetch(client, "/feed/" + suffix)
        assert parsed.entries[0].title == "<Chips> & “Zhōngguó”"


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(
    "path", ["/authors/nobody/feed/", "/series/no-such-series/feed/", "/tags/no-such-tag/feed/"]
)
def test_feed_of_an_unknown_author_series_or_tag_is_a_404(client, newsroom, path, kind):
    response = client.get(path + KINDS[kind][0], HTTP_HOST=HOST)

    assert response.status_code == 404
