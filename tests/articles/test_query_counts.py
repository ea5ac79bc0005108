"""Pages cost a fixed number of SQL queries, however much content they show.

Each test renders both pages once to warm image renditions, then counts the queries of a second,
uncached render of a small and a large variant: the counts must be equal.
"""

import re
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import HomePageFeaturedArticle
from outlet.page_cache import clear_page_cache
from tests.articles.factories import (
    ArticlePageFactory,
    AuthorFactory,
    ImageFactory,
    SectionPageFactory,
    SeriesFactory,
)

pytestmark = pytest.mark.django_db

ARTICLE_QUERY_CEILING = 15


def queries_for(client, url) -> list[str]:
    """The SQL a GET of `url` runs when the page itself is not cached.

    A session cookie (of no session) makes the page cache step aside, as it does for every
    reader with a session; the site-wide chrome stays cached, as after any first request.
    """
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, headers={"cookie": f"{settings.SESSION_COOKIE_NAME}=none"})
    assert response.status_code == 200, f"GET {url} → {response.status_code}"
    return [query["sql"] for query in context.captured_queries]


def built_queries(client, url) -> list[str]:
    """The SQL that building the page at `url` runs, with nothing kept from earlier requests
    (the kept parts of pages and feeds, and the chrome, are forgotten first)."""
    clear_page_cache()
    return queries_for(client, url)


def compare(client, small_url: str, large_url: str) -> tuple[list[str], list[str]]:
    for url in (small_url, large_url):
        queries_for(client, url)  # warm renditions and per-process caches
    return built_queries(client, small_url), built_queries(client, large_url)


def shape(sql: str) -> str:
    """A query with its values blanked, so that the same query for another row compares equal."""
    sql = re.sub(r"SELECT .*? FROM", "SELECT … FROM", sql, count=1)
    return re.sub(r"IN \([^)]*\)", "IN (…)", re.sub(r"'[^']*'|\b\d+\b", "?", sql))


def growth(small: list[str], large: list[str]) -> str:
    """'' when both cost the same, else what the larger page runs on top."""
    if len(small) == len(large):
        return ""
    extra = Counter(map(shape, large)) - Counter(map(shape, small))
    return f"{len(small)} queries grow to {len(large)}; the extra ones:\n" + "\n".join(extra)


def assert_same_cost(small: list[str], large: list[str]):
    message = growth(small, large)
    assert not message, message


@pytest.fixture
def pool(db):
    """A few images and photographed authors that many articles share (fast to build)."""
    images = [ImageFactory() for _ in range(2)]
    authors = [AuthorFactory(photo=images[n % 2]) for n in range(3)]
    return {"images": images, "authors": authors}


def listing_articles(parent, count: int, pool, *, tag="trade", title="Article", **kwargs):
    """`count` articles each with a hero image, a series, three authors and two tags."""
    return [
        ArticlePageFactory(
            **{
                "parent": parent,
                "title": f"{title} {n}",
                "slug": f"{title.lower()}-{n}-{parent.slug}",
                "hero_image": pool["images"][n % 2],
                "series": SeriesFactory(),
                "authors": pool["authors"],
                "tags": [tag, f"topic-{n}"],
                **kwargs,
            }
        )
        for n in range(count)
    ]


# The article page


@pytest.fixture
def small_and_large_articles(section, pool):
    """Two articles alike but for their number of authors, tags, picks and image blocks."""

    def article(*, authors, tags, picks, images):
        return ArticlePageFactory(
            parent=section,
            series=SeriesFactory(),
            hero_image=ImageFactory(),
            authors=[AuthorFactory(photo=ImageFactory()) for _ in range(authors)],
            tags=tags,
            related=picks,
            body=[
                {"type": "heading", "value": {"text": "A heading", "level": "h2"}},
                *[
                    {"type": "image", "value": {"image": ImageFactory().pk, "caption": "Fig."}}
                    for _ in range(images)
                ],
            ],
        )

    picks = listing_articles(section, 3, pool, title="Pick")
    small = article(authors=1, tags=["one"], picks=[], images=1)
    large = article(authors=5, tags=[f"tag-{n}" for n in range(10)], picks=picks, images=6)
    return small, large


def test_article_page_query_count_does_not_grow_with_its_content(client, small_and_large_articles):
    small, large = small_and_large_articles

    assert_same_cost(*compare(client, small.url, large.url))


def test_article_page_stays_under_the_query_ceiling(client, small_and_large_articles):
    _, large = small_and_large_articles
    queries_for(client, large.url)

    assert len(queries_for(client, large.url)) <= ARTICLE_QUERY_CEILING


# Listings


def test_section_listing_query_count_does_not_grow_with_its_articles(client, home, pool):
    small = SectionPageFactory(parent=home, slug="briefings")
    large = SectionPageFactory(parent=home, slug="analysis")
    listing_articles(small, 3, pool)
    listing_articles(large, 12, pool)

    assert_same_cost(*compare(client, small.url, large.url))


def test_home_query_count_does_not_grow_with_featured_and_latest(client, home, section, pool):
    articles = listing_articles(section, 2, pool)
    HomePageFeaturedArticle.objects.create(page=home, article=articles[0], sort_order=0)
    queries_for(client, "/")
    small = built_queries(client, "/")

    articles += listing_articles(section, 12, pool, title="More")
    for position, pick in enumerate(articles[1:3], start=1):
        HomePageFeaturedArticle.objects.create(page=home, article=pick, sort_order=position)
    queries_for(client, "/")

    assert_same_cost(small, built_queries(client, "/"))


def test_author_page_query_count_does_not_grow_with_their_articles(client, section, pool):
    for slug, count in (("occasional", 3), ("prolific", 12)):
        author = AuthorFactory(slug=slug)
        listing_articles(section, count, pool, title=slug, authors=[author, *pool["authors"]])

    assert_same_cost(*compare(client, "/authors/occasional/", "/authors/prolific/"))


def test_tag_page_query_count_does_not_grow_with_its_articles(client, section, pool):
    listing_articles(section, 3, pool, tag="rare", title="Rare")
    listing_articles(section, 12, pool, tag="common", title="Common")

    assert_same_cost(*compare(client, "/tags/rare/", "/tags/common/"))


def test_search_query_count_does_not_grow_with_its_results(client, section, pool):
    listing_articles(section, 3, pool, title="Rare")
    listing_articles(section, 10, pool, title="Common")
    assert "10 results" in client.get("/search/?q=common").content.decode()

    assert_same_cost(*compare(client, "/search/?q=rare", "/search/?q=common"))


# Feeds


def test_site_feed_query_count_does_not_grow_with_its_entries(client, section, pool):
    listing_articles(section, 3, pool)
    for suffix in ("", "atom/"):
        queries_for(client, "/feed/" + suffix)  # warm renditions and per-process caches
    few = {suffix: built_queries(client, "/feed/" + suffix) for suffix in ("", "atom/")}
    listing_articles(section, 9, pool, title="More")

    for suffix in ("", "atom/"):
        assert_same_cost(few[suffix], built_queries(client, "/feed/" + suffix))


def test_section_author_series_and_tag_feeds_do_not_grow_with_their_entries(client, home, pool):
    for slug, count in (("few", 3), ("many", 12)):
        section = SectionPageFactory(parent=home, slug=slug)
        author = AuthorFactory(slug=slug)
        listing_articles(
            section,
            count,
            pool,
            tag=slug,
            title=slug,
            series=SeriesFactory(slug=slug),
            authors=[author, *pool["authors"]],
        )

    grown = {}
    for feed in ("/{}/feed/", "/authors/{}/feed/", "/series/{}/feed/", "/tags/{}/feed/"):
        for suffix in ("", "atom/"):
            few, many = feed.format("few") + suffix, feed.format("many") + suffix
            compare(client, few, many)  # warm renditions and per-process caches
            built = built_queries(client, few), built_queries(client, many)
            if message := growth(*built):
                grown[many] = message

    assert not grown, "\n\n".join(f"{url}: {message}" for url, message in grown.items())


def test_an_article_routed_from_its_section_knows_its_parent_and_authors(rf, section, pool):
    """Routing hands the article its section and its authors with their photos: asking for
    them costs nothing more (this leans on Wagtail's own `_cached_parent_obj`)."""
    from tests.articles.factories import ArticlePageFactory

    article = ArticlePageFactory(parent=section, slug="routed")
    request = rf.get(article.url)

    routed = section.route(request, ["routed"]).page
    with CaptureQueriesContext(connection) as queries:
        parent = routed.get_parent()
        photos = [author.photo for author in routed.authors]

    assert parent.pk == section.pk
    assert len(photos) == len(article.authors)
    assert len(queries) == 0, [query["sql"] for query in queries]
