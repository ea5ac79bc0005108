"""Drafts and private pages reach no public place; sitemap.xml and robots.txt list the rest."""

import feedparser
import pytest
from wagtail.models import PageViewRestriction

from articles.models import ArticlePageRelated, HomePageFeaturedArticle
from tests.articles.factories import ArticlePageFactory, AuthorFactory, SeriesFactory
from tests.reader import card_titles, parse_xml, read, section_headed

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
HIDDEN_TITLES = ("Secret draft", "Members only")


@pytest.fixture
def hidden(section, home):
    """A live article, and a draft and a private article that share its series, tags and
    author, each with an author and a tag of its own that nothing live uses."""
    series = SeriesFactory(name="Coffee vs. Tea", slug="coffee-vs-tea", label="CvT")
    shared_author = AuthorFactory(name="Li Wei", slug="li-wei")
    live = ArticlePageFactory(
        parent=section,
        title="Public piece",
        series=series,
        authors=[shared_author],
        tags=["trade"],
    )
    draft = ArticlePageFactory(
        parent=section,
        title="Secret draft",
        live=False,
        series=series,
        authors=[shared_author, AuthorFactory(name="Draft Only", slug="draft-only")],
        tags=["trade", "embargoed"],
    )
    private = ArticlePageFactory(
        parent=section,
        title="Members only",
        series=series,
        authors=[shared_author, AuthorFactory(name="Private Only", slug="private-only")],
        tags=["trade", "members"],
    )
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    HomePageFeaturedArticle.objects.create(page=home, article=draft, sort_order=0)
    HomePageFeaturedArticle.objects.create(page=home, article=private, sort_order=1)
    return {"live": live, "draft": draft, "private": private}


def assert_nothing_hidden_in(text: str, where: str):
    for title in HIDDEN_TITLES:
        assert title not in text, f"{title!r} leaked into {where}"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/analysis/",
        "/authors/li-wei/",
        "/series/coffee-vs-tea/",
        "/tags/trade/",
        "/search/?q=piece+draft+members+secret",
    ],
)
def test_hidden_articles_are_missing_from_public_listings(client, hidden, url):
    soup = read(client, url)

    assert_nothing_hidden_in(soup.get_text(), url)
    assert not soup.find("a", href=hidden["draft"].url)
    assert not soup.find("a", href=hidden["private"].url)


def test_live_article_is_listed_where_the_hidden_ones_are_not(client, hidden):
    assert card_titles(read(client, "/tags/trade/")) == ["CvT: Public piece"]
    assert card_titles(read(client, "/analysis/")) == ["CvT: Public piece"]


@pytest.mark.parametrize(
    "url", ["/feed/", "/analysis/feed/atom/", "/tags/trade/feed/", "/authors/li-wei/feed/"]
)
def test_hidden_articles_are_missing_from_feeds(client, hidden, url):
    parsed = feedparser.parse(client.get(url).content)

    assert [entry.title for entry in parsed.entries] == ["CvT: Public piece"]


def test_further_reading_never_offers_a_hidden_article(client, hidden, section):
    ArticlePageFactory(parent=section, title="Another public piece")
    live = hidden["live"]
    live.related_picks = [
        ArticlePageRelated(article=hidden["draft"]),
        ArticlePageRelated(article=hidden["private"]),
    ]
    live.save_revision().publish()
    assert live.related_picks.count() == 2

    further = section_headed(read(client, hidden["live"].url), "Further reading")

    assert card_titles(further) == ["Another public piece"]


@pytest.mark.parametrize("slug", ["embargoed", "members"])
def test_tag_used_only_by_hidden_articles_has_no_page(client, hidden, slug):
    read(client, f"/tags/{slug}/", status=404)


@pytest.mark.parametrize("slug", ["embargoed", "members"])
@pytest.mark.parametrize("suffix", ["feed/", "feed/atom/"])
def test_tag_used_only_by_hidden_articles_has_no_feed(client, hidden, slug, suffix):
    response = client.get(f"/tags/{slug}/{suffix}")

    assert response.status_code == 404, "the feed would reveal the tag of an unpublished article"


def test_draft_url_is_not_found(client, hidden):
    read(client, hidden["draft"].url, status=404)


def test_private_url_asks_for_the_password_and_shows_nothing(client, hidden):
    response = client.get(hidden["private"].url)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="password"' in html
    assert hidden["private"].dek not in html


def test_unpublished_edits_of_a_live_article_stay_private(client, hidden):
    live = hidden["live"]
    live.title = "Secret new headline"
    live.save_revision()  # saved as a draft, not published

    for url in [live.url, "/analysis/", "/feed/", "/search/?q=headline"]:
        assert "Secret new headline" not in client.get(url).content.decode(), url
    assert "Public piece" in client.get(live.url).content.decode()


def test_unpublishing_removes_an_article_from_listings_and_feeds(client, hidden):
    hidden["live"].unpublish()

    assert card_titles(read(client, "/analysis/")) == []
    assert feedparser.parse(client.get("/feed/").content).entries == []
    read(client, "/tags/trade/", status=404)


# sitemap.xml and robots.txt


def sitemap_locations(client) -> list[str]:
    response = client.get("/sitemap.xml", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = parse_xml(response.content)
    return [loc.text for loc in root.findall("sm:url/sm:loc", SITEMAP_NS)]


def test_sitemap_lists_live_public_pages_and_reader_pages(client, hidden):
    locations = sitemap_locations(client)

    assert sorted(locations) == sorted(
        [
            "http://localhost/",
            "http://localhost/analysis/",
            "http://localhost/analysis/public-piece/",
            "http://localhost/authors/li-wei/",
            "http://localhost/series/coffee-vs-tea/",
            "http://localhost/tags/trade/",
        ]
    )


def test_sitemap_has_no_duplicates_and_no_hidden_pages(client, hidden):
    locations = sitemap_locations(client)

    assert len(locations) == len(set(locations))
    for page in (hidden["draft"], hidden["private"]):
        assert page.get_full_url() not in locations
    for slug in ("draft-only", "private-only"):
        assert f"http://localhost/authors/{slug}/" not in locations


def test_sitemap_dates_articles_by_their_last_publication(client, hidden):
    hidden["live"].save_revision().publish()
    root = parse_xml(client.get("/sitemap.xml", HTTP_HOST="localhost").content)
    entries = {
        url.findtext("sm:loc", namespaces=SITEMAP_NS): url.findtext(
            "sm:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("sm:url", SITEMAP_NS)
    }

    hidden["live"].refresh_from_db()
    lastmod = entries[hidden["live"].get_full_url()]
    assert lastmod.startswith(hidden["live"].last_published_at.date().isoformat())


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_admin(client):
    response = client.get("/robots.txt", HTTP_HOST="localhost")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines
