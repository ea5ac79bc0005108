"""Every page type renders for an anonymous reader, with the content that matters on it."""

import re

import pytest

from articles.models import HomePageFeaturedArticle
from tests.articles.factories import ArticlePageFactory, AuthorFactory, SeriesFactory
from tests.reader import (
    NOT_FOUND_HEADING,
    card_titles,
    has_heading,
    read,
    section_headed,
    text_of,
)

pytestmark = pytest.mark.django_db

FEED_URL = re.compile(r"/feed/")


# Article page


def test_article_title_carries_the_series_label_before_the_title(client, story):
    soup = read(client, story.url)

    assert text_of(soup, "h1") == "CvT: Why tariffs stick"
    label = soup.h1.find("a")
    assert label.get_text(strip=True) == "CvT:"
    assert label["href"] == "/series/coffee-vs-tea/"


def test_article_title_has_no_label_when_the_series_has_none(client, section):
    unlabelled = SeriesFactory(label="")
    article = ArticlePageFactory(parent=section, title="Quiet column", series=unlabelled)

    assert text_of(read(client, article.url), "h1") == "Quiet column"


def test_article_shows_its_dek_under_the_title(client, story):
    soup = read(client, story.url)

    dek = soup.h1.find_next_sibling("p")
    assert dek.get_text(strip=True) == story.dek


def test_article_byline_links_every_author_in_order(client, story):
    soup = read(client, story.url)

    byline = soup.select("header a[rel=author]")
    assert [(a.get_text(strip=True), a["href"]) for a in byline] == [
        ("Li Wei", "/authors/li-wei/"),
        ("Ana Costa", "/authors/ana-costa/"),
    ]
    assert "Li Wei and Ana Costa" in text_of(soup, "main header")


def test_article_byline_shows_date_and_reading_time(client, section):
    article = ArticlePageFactory(
        parent=section, body=[{"type": "paragraph", "value": "<p>" + "word " * 460 + "</p>"}]
    )
    header = text_of(read(client, article.url), "main header")

    assert "2 min read" in header
    assert article.date.strftime("%-d %B %Y") in header


def test_article_has_the_share_widget_at_top_and_bottom(client, story):
    soup = read(client, story.url)

    widgets = soup.select("[data-share]")
    assert len(widgets) == 2
    assert widgets[0].find_parent("header") is not None, "the first share widget is not on top"
    assert widgets[1].find_parent("footer") is not None, "the second is not at the bottom"
    for widget in widgets:
        assert len(widget.select("a[href]")) == 8
        assert widget.find("svg") is not None


def test_every_sized_image_gives_each_candidate_its_width(client, story):
    """With `sizes`, a srcset whose candidate has no width descriptor is invalid HTML."""
    soup = read(client, story.url)
    sized = soup.select("main [srcset][sizes]")
    hero = soup.select_one(".article__hero picture")

    assert len(hero.select("[srcset]")) == 2 + 1, "AVIF and WebP sources, and the JPEG img"
    assert sized
    for element in sized:
        candidates = [c.strip() for c in element["srcset"].split(",")]
        assert len(candidates) > 1, element
        assert all(re.fullmatch(r"\S+ \d+w", c) for c in candidates), candidates


def test_article_renders_every_body_block(client, story):
    body = read(client, story.url).find("main")
    text = " ".join(body.get_text(" ").split())

    assert body.find("h2", string="What the new rules change")
    assert "Beijing's new procurement rules took effect in March." in text
    assert body.find("blockquote").get_text(strip=True).startswith("Tariffs are a tax")
    assert "— A trade lawyer in Geneva" in text
    takeaways = section_headed(body, "Key takeaways")
    assert [li.get_text() for li in takeaways.find_all("li")] == [
        "Export controls tightened twice",
        "Enforcement lags the rules",
    ]
    figure_image = body.find("img", alt="Cranes over the container terminal")
    assert figure_image is not None
    assert "Ningbo in March" in figure_image.find_parent("figure").get_text()
    table = body.find("table")
    assert table.caption.get_text() == "Exports by year"
    assert [th.get_text() for th in table.select("thead th")] == ["Year", "Exports"]
    sources = section_headed(body, "Sources")
    assert sources.find("a", href="https://customs.example/").get_text() == "Customs statistics"


def test_article_hero_image_has_caption_credit_and_alt_text(client, story):
    soup = read(client, story.url)

    hero = next(figure for figure in soup.find("main").find_all("figure") if figure.picture)
    assert hero.find("img")["alt"] == "A container ship at the port of Ningbo"
    assert "The port of Ningbo" in hero.figcaption.get_text()
    assert "Photo: Outlet" in hero.figcaption.get_text()


def test_article_has_a_written_by_box_per_author(client, story):
    boxes = section_headed(read(client, story.url), "Written by")

    names = [a.get_text(strip=True) for a in boxes.find_all("a", href=lambda h: "/authors/" in h)]
    assert names == ["Li Wei", "Ana Costa"]
    text = " ".join(boxes.get_text(" ").split())
    assert "Senior correspondent" in text
    assert "Li Wei covers trade between China and the United States." in text
    assert boxes.find("a", href="https://li.example/").get_text() == "Website"


def test_article_lists_its_tags_as_links_to_tag_pages(client, story):
    topics = section_headed(read(client, story.url), "Topics")

    links = {a.get_text(): a["href"] for a in topics.find_all("a")}
    assert links == {"trade": "/tags/trade/", "tariffs": "/tags/tariffs/"}


def test_article_shows_further_reading_with_labelled_titles(client, story, series):
    sibling = ArticlePageFactory(parent=story.get_parent(), title="Tea wins", series=series)
    further = section_headed(read(client, story.url), "Further reading")

    assert "CvT: Tea wins" in card_titles(further)
    assert further.find("a", href=sibling.url)


# Home and section


def test_home_shows_featured_latest_and_series(client, home, story, series):
    other = ArticlePageFactory(parent=story.get_parent(), title="Chip controls, year two")
    HomePageFeaturedArticle.objects.create(page=home, article=story, sort_order=0)

    soup = read(client, "/")

    assert card_titles(section_headed(soup, "Featured")) == ["CvT: Why tariffs stick"]
    latest = card_titles(section_headed(soup, "Latest"))
    assert latest == ["Chip controls, year two"], "the featured article is repeated in Latest"
    strip = section_headed(soup, "Series")
    assert strip.find("a", href="/series/coffee-vs-tea/").get_text(" ", strip=True) == (
        "CvT Coffee vs. Tea"
    )
    assert other.title in soup.get_text()


def test_home_says_so_when_nothing_is_published(client, home):
    soup = read(client, "/")

    assert "Nothing has been published yet." in section_headed(soup, "Latest").get_text()


def test_section_lists_its_articles_newest_first_with_cards(client, section, story):
    newer = ArticlePageFactory(parent=section, title="Newer piece", summary="The newest one.")
    soup = read(client, section.url)

    assert text_of(soup, "h1") == "Analysis"
    assert card_titles(soup) == ["Newer piece", "CvT: Why tariffs stick"]
    card = soup.find("a", href=newer.url).find_parent("article")
    assert "The newest one." in card.get_text()
    assert "min read" in card.get_text()
    assert soup.select_one("nav[aria-label=Main] a[aria-current=page]")["href"] == section.url


def test_section_paginates_after_twelve_articles(client, section):
    for _ in range(13):
        ArticlePageFactory(parent=section)

    first, second = read(client, section.url), read(client, section.url + "?page=2")

    assert len(card_titles(first)) == 12
    assert len(card_titles(second)) == 1
    assert first.find("a", rel="next")["href"] == "?page=2"


# Author, series and tag pages


def test_author_page_shows_the_author_and_their_live_articles(client, story, authors, section):
    ArticlePageFactory(parent=section, title="Someone else's piece")
    soup = read(client, "/authors/li-wei/")

    assert text_of(soup, "h1") == "Li Wei"
    assert "Senior correspondent" in soup.get_text()
    assert "Li Wei covers trade between China and the United States." in soup.get_text()
    assert card_titles(soup) == ["CvT: Why tariffs stick"]


def test_series_page_shows_label_description_and_articles(client, story):
    soup = read(client, "/series/coffee-vs-tea/")

    assert text_of(soup, "h1") == "Coffee vs. Tea"
    assert "CvT" in text_of(soup, "main header")
    assert "Two economies, two drinks, one rivalry." in soup.get_text()
    assert card_titles(soup) == ["CvT: Why tariffs stick"]


def test_tag_page_lists_the_articles_carrying_the_tag(client, story, section):
    ArticlePageFactory(parent=section, title="Untagged piece")
    ArticlePageFactory(parent=section, title="Other tag", tags=["chips"])
    soup = read(client, "/tags/trade/")

    assert text_of(soup, "h1") == "trade"
    assert card_titles(soup) == ["CvT: Why tariffs stick"]


def test_listing_pages_link_their_own_feeds(client, story):
    soup = read(client, "/authors/li-wei/")

    follow = {a.get_text(): a["href"] for a in soup.find("main").find_all(href=FEED_URL)}
    assert follow == {"RSS": "/authors/li-wei/feed/", "ATOM": "/authors/li-wei/feed/atom/"}


# Search


def test_search_finds_articles_by_title_and_shows_the_count(client, story, section):
    ArticlePageFactory(parent=section, title="Semiconductors and Taiwan")
    soup = read(client, "/search/?q=tariffs")

    assert card_titles(soup) == ["CvT: Why tariffs stick"]
    assert "1 result for “tariffs”" in soup.get_text()
    assert soup.find("input", id="search-q")["value"] == "tariffs"


def test_search_without_results_says_so(client, story):
    soup = read(client, "/search/?q=zebrafish")

    assert card_titles(soup) == []
    assert "No articles match “zebrafish”" in soup.get_text()


def test_search_without_a_query_shows_only_the_form(client, story):
    soup = read(client, "/search/")

    assert soup.find("input", id="search-q")["value"] == ""
    assert card_titles(soup) == []
    assert "No articles match" not in soup.get_text()


# Not found


def test_unknown_tag_is_a_404_page(client, story):
    soup = read(client, "/tags/no-such-tag/", status=404)

    assert text_of(soup, "h1") == NOT_FOUND_HEADING


def test_unknown_page_is_a_404_page_with_search(client, story):
    soup = read(client, "/analysis/no-such-article/", status=404)

    assert text_of(soup, "h1") == NOT_FOUND_HEADING
    assert soup.title.get_text().startswith("Page not found")
    assert soup.find("form", action="/search/")


@pytest.mark.parametrize("url", ["/authors/nobody/", "/series/no-such-series/"])
def test_unknown_author_or_series_is_a_404(client, url):
    soup = read(client, url, status=404)

    assert text_of(soup, "h1") == NOT_FOUND_HEADING


def test_author_with_no_live_articles_still_has_a_page(client):
    AuthorFactory(name="New Hire", slug="new-hire")
    soup = read(client, "/authors/new-hire/")

    assert text_of(soup, "h1") == "New Hire"
    assert "No articles here yet." in soup.get_text()
    assert not has_heading(soup, "Further reading")
