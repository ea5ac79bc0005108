"""What pages tell search engines and social networks: <head> tags and JSON-LD, parsed."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from articles.models import PublicationSettings
from tests.articles.factories import ArticlePageFactory, ImageFactory
from tests.reader import read

pytestmark = pytest.mark.django_db


def json_ld(soup) -> list[dict]:
    """Every JSON-LD document on the page, each script parsed with json.loads."""
    documents = []
    for script in soup.find_all("script", type="application/ld+json"):
        data = json.loads(script.string)
        documents.extend(data if isinstance(data, list) else [data])
    return documents


def of_type(documents, schema_type: str) -> dict:
    matches = [doc for doc in documents if doc.get("@type") == schema_type]
    assert len(matches) == 1, f"expected one {schema_type}, found {len(matches)}"
    return matches[0]


def meta(soup, key: str) -> str | None:
    tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
    return tag["content"] if tag else None


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# JSON-LD


def test_news_article_json_ld_describes_the_article(client, story):
    article = of_type(json_ld(read(client, story.url)), "NewsArticle")

    assert article["@context"] == "https://schema.org"
    assert article["headline"] == "CvT: Why tariffs stick"
    assert article["description"] == story.dek
    assert article["url"] == article["mainEntityOfPage"] == story.get_full_url()
    assert moment(article["datePublished"]) == story.date
    assert moment(article["dateModified"]) == story.date, "never updated nor republished"
    assert article["keywords"] == ["trade", "tariffs"]
    assert article["isPartOf"]["name"] == "Coffee vs. Tea"


def test_news_article_lists_every_author_as_a_person_with_a_url(client, story):
    article = of_type(json_ld(read(client, story.url)), "NewsArticle")

    assert article["author"] == [
        {"@type": "Person", "name": "Li Wei", "url": "http://localhost/authors/li-wei/"},
        {"@type": "Person", "name": "Ana Costa", "url": "http://localhost/authors/ana-costa/"},
    ]


def test_news_article_names_the_publisher(client, story):
    publisher = of_type(json_ld(read(client, story.url)), "NewsArticle")["publisher"]

    assert publisher == {"@type": "Organization", "name": "Outlet", "url": "http://localhost/"}


def test_news_article_date_modified_is_the_update_when_there_is_one(client, story):
    story.updated = story.date + timedelta(days=3)
    story.save_revision().publish()

    article = of_type(json_ld(read(client, story.url)), "NewsArticle")

    assert moment(article["dateModified"]) == story.date + timedelta(days=3)


def test_news_article_image_is_the_absolute_hero_rendition(client, story):
    soup = read(client, story.url)
    article = of_type(json_ld(soup), "NewsArticle")

    assert article["image"] == [meta(soup, "og:image")]
    assert article["image"][0].startswith("http://localhost/")
    assert "fill-1200x630" in article["image"][0]


def test_news_article_has_no_image_without_a_hero_or_default(client, section):
    article_page = ArticlePageFactory(parent=section)
    soup = read(client, article_page.url)

    assert "image" not in of_type(json_ld(soup), "NewsArticle")
    assert meta(soup, "og:image") is None
    assert meta(soup, "twitter:card") == "summary"


def test_breadcrumbs_run_from_home_to_the_article(client, story):
    crumbs = of_type(json_ld(read(client, story.url)), "BreadcrumbList")["itemListElement"]

    assert [(c["position"], c["name"], c["item"]) for c in crumbs] == [
        (1, "Outlet", "http://localhost/"),
        (2, "Analysis", "http://localhost/analysis/"),
        (3, "Why tariffs stick", story.get_full_url()),
    ]
    assert all(c["@type"] == "ListItem" for c in crumbs)


def test_section_page_has_breadcrumbs_but_no_article(client, section, story):
    documents = json_ld(read(client, section.url))

    crumbs = of_type(documents, "BreadcrumbList")["itemListElement"]
    assert [(c["position"], c["name"]) for c in crumbs] == [(1, "Outlet"), (2, "Analysis")]
    assert not [doc for doc in documents if doc["@type"] == "NewsArticle"]


def test_json_ld_cannot_be_closed_by_a_title(client, section):
    hostile = '</script><script>alert("x")</script><!--'
    page = ArticlePageFactory(parent=section, title=hostile, slug="hostile")
    soup = read(client, page.url)

    assert of_type(json_ld(soup), "NewsArticle")["headline"] == hostile
    scripts = soup.find_all("script")
    assert [s.get("type") for s in scripts if not s.get("src")] == ["application/ld+json"]


# <head>


def test_article_head_has_title_canonical_and_description(client, story):
    soup = read(client, story.url)

    assert soup.title.string == "CvT: Why tariffs stick | Outlet"
    assert soup.find("link", rel="canonical")["href"] == story.get_full_url()
    assert meta(soup, "description") == story.dek


def test_seo_title_overrides_the_head_title(client, section):
    article_page = ArticlePageFactory(parent=section, seo_title="Tariffs, explained")
    soup = read(client, article_page.url)

    assert soup.title.string == "Tariffs, explained | Outlet"
    assert meta(soup, "og:title") == "Tariffs, explained"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"search_description": "For search", "dek": "The dek", "summary": "Sum"}, "For search"),
        ({"search_description": "", "dek": "The dek", "summary": "Sum"}, "The dek"),
        ({"search_description": "", "dek": "", "summary": "Sum"}, "Sum"),
        ({"search_description": "", "dek": "", "summary": ""}, "The outlet's tagline"),
    ],
    ids=["search_description", "dek", "summary", "tagline"],
)
def test_meta_description_falls_back_in_order(client, site, section, fields, expected):
    PublicationSettings.objects.update_or_create(
        site=site, defaults={"tagline": "The outlet's tagline"}
    )
    article_page = ArticlePageFactory(parent=section, **fields)
    soup = read(client, article_page.url)

    assert meta(soup, "description") == expected
    assert meta(soup, "og:description") == expected
    assert meta(soup, "twitter:description") == expected


def test_open_graph_tags_describe_an_article(client, story):
    soup = read(client, story.url)

    assert meta(soup, "og:type") == "article"
    assert meta(soup, "og:site_name") == "Outlet"
    assert meta(soup, "og:title") == "CvT: Why tariffs stick"
    assert meta(soup, "og:url") == story.get_full_url()
    assert meta(soup, "og:image").startswith("http://localhost/")
    assert meta(soup, "og:image:alt") == story.hero_image.description
    assert moment(meta(soup, "article:published_time")) == story.date


def test_twitter_card_is_large_with_an_image_and_names_the_site(client, site, story):
    PublicationSettings.objects.update_or_create(site=site, defaults={"x_handle": "outletnews"})
    soup = read(client, story.url)

    assert meta(soup, "twitter:card") == "summary_large_image"
    assert meta(soup, "twitter:site") == "@outletnews"
    assert meta(soup, "twitter:title") == "CvT: Why tariffs stick"
    assert meta(soup, "twitter:image") == meta(soup, "og:image")


def test_default_share_image_stands_in_for_a_missing_hero(client, site, section):
    PublicationSettings.objects.update_or_create(
        site=site, defaults={"default_share_image": ImageFactory(title="Masthead")}
    )
    article_page = ArticlePageFactory(parent=section)
    soup = read(client, article_page.url)

    assert meta(soup, "og:image").startswith("http://localhost/media/images/")
    assert of_type(json_ld(soup), "NewsArticle")["image"] == [meta(soup, "og:image")]


def test_article_head_links_its_section_and_site_feeds(client, story):
    soup = read(client, story.url)

    feeds = [
        (link["type"], link["href"])
        for link in soup.find_all("link", rel="alternate", href=True)
        if link.get("type", "").endswith("+xml")
    ]
    assert feeds == [
        ("application/rss+xml", "/analysis/feed/"),
        ("application/atom+xml", "/analysis/feed/atom/"),
        ("application/rss+xml", "/feed/"),
        ("application/atom+xml", "/feed/atom/"),
    ]


@pytest.mark.parametrize(
    ("url", "title", "feed"),
    [
        ("/authors/li-wei/", "Li Wei | Outlet", "/authors/li-wei/feed/"),
        ("/series/coffee-vs-tea/", "Coffee vs. Tea | Outlet", "/series/coffee-vs-tea/feed/"),
        ("/tags/trade/", "Tagged “trade” | Outlet", "/tags/trade/feed/"),
    ],
)
def test_listing_pages_have_their_own_title_canonical_and_feed(client, story, url, title, feed):
    soup = read(client, url)

    assert soup.title.string == title
    assert soup.find("link", rel="canonical")["href"] == "http://localhost" + url
    assert soup.find("link", rel="alternate", type="application/rss+xml")["href"] == feed
    assert meta(soup, "og:type") == "website"


def test_home_page_title_is_the_site_name_alone(client, home, story):
    soup = read(client, "/")

    assert soup.title.string == "Outlet"
    assert soup.find("link", rel="canonical")["href"] == "http://localhost/"


def test_pages_are_not_noindexed_except_search(client, story):
    assert meta(read(client, story.url), "robots") is None
    assert meta(read(client, "/search/?q=tariffs"), "robots").startswith("noindex")


def test_article_published_time_is_in_utc_iso_format(client, section):
    date = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    article_page = ArticlePageFactory(parent=section, date=date)
    soup = read(client, article_page.url)

    assert meta(soup, "article:published_time") == "2025-06-01T12:00:00+00:00"
    assert soup.find("time")["datetime"] == "2025-06-01T12:00:00+00:00"
