"""news-sitemap.xml: the articles of the last two days, as Google News reads them."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree

from tests.articles.factories import ArticlePageFactory, SeriesFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
NAMESPACES = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "sitemap.xsd")))


@pytest.fixture
def articles(section):
    now = timezone.now()
    series = SeriesFactory(name="Coffee vs. Tea", label="CvT")
    return {
        "today": ArticlePageFactory(
            parent=section, title="Ports & tariffs <today>", date=now - timedelta(hours=3)
        ),
        "yesterday": ArticlePageFactory(
            parent=section, title="Chips", series=series, date=now - timedelta(hours=30)
        ),
        "last week": ArticlePageFactory(parent=section, title="Old", date=now - timedelta(days=7)),
        "draft": ArticlePageFactory(parent=section, title="Draft", date=now, live=False),
    }


def read(client):
    response = client.get("/news-sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return etree.fromstring(response.content)


def test_the_news_sitemap_validates_against_its_schemas(client, articles, schema):
    document = read(client)

    assert schema.validate(document), schema.error_log


def test_it_lists_the_last_two_days_live_articles_newest_first(client, articles):
    document = read(client)

    locations = document.xpath("//s:url/s:loc/text()", namespaces=NAMESPACES)
    assert locations == [
        articles["today"].get_full_url(),
        articles["yesterday"].get_full_url(),
    ]


def test_each_entry_names_the_publication_title_and_date(client, articles):
    (first, second) = read(client).xpath("//s:url/news:news", namespaces=NAMESPACES)

    def text(entry, path):
        return entry.xpath(path, namespaces=NAMESPACES)[0].text

    assert text(first, "news:publication/news:language") == "en"
    assert text(first, "news:publication/news:name")
    assert text(first, "news:title") == "Ports & tariffs <today>"  # escaped in the XML
    assert text(second, "news:title") == "CvT: Chips"
    published = text(first, "news:publication_date")
    assert published.startswith(articles["today"].date.strftime("%Y-%m-%dT"))


def test_robots_txt_points_to_both_sitemaps(client):
    robots = client.get("/robots.txt").content.decode()

    assert "Sitemap: http://testserver/sitemap.xml" in robots
    assert "Sitemap: http://testserver/news-sitemap.xml" in robots


def test_a_schema_that_can_fail_fails_on_a_broken_entry(schema):
    broken = etree.fromstring(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        b"<loc>https://outlet.example/a/</loc><news:news><news:title>x</news:title>"
        b"</news:news></url></urlset>"
    )

    assert not schema.validate(broken)
