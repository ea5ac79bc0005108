"""Further reading: editor picks first, then same series, then shared tags, then the latest."""

from datetime import UTC, datetime

import pytest
from wagtail.models import PageViewRestriction

from articles.models import ArticlePage, ArticlePageRelated
from tests.articles.factories import ArticlePageFactory, SeriesFactory
from tests.reader import card_titles, read, section_headed

pytestmark = pytest.mark.django_db


@pytest.fixture
def make(section):
    def make(title, **kwargs):
        return ArticlePageFactory(parent=section, title=title, **kwargs)

    return make


def titles(articles) -> list[str]:
    return [article.title for article in articles]


def test_editor_picks_come_first_in_their_order(make):
    first, second = make("Pick one"), make("Pick two")
    make("Newest unrelated")
    article = make("Subject", related=[second, first])

    assert titles(article.further_reading()) == ["Pick two", "Pick one", "Newest unrelated"]


def test_only_three_picks_are_shown_when_an_editor_picks_more(make):
    picks = [make(f"Pick {n}") for n in range(4)]
    article = make("Subject", related=picks)

    assert titles(article.further_reading()) == ["Pick 0", "Pick 1", "Pick 2"]


def test_same_series_comes_before_shared_tags(make):
    series = SeriesFactory()
    make("Same series, no tags", series=series)
    make("Shares a tag, newer", tags=["trade"])
    article = make("Subject", series=series, tags=["trade"])

    assert titles(article.further_reading())[:2] == ["Same series, no tags", "Shares a tag, newer"]


def test_more_shared_tags_rank_higher_than_fewer(make):
    make("Shares two tags", tags=["trade", "chips"])
    make("Shares one tag, newer", tags=["trade"])
    article = make("Subject", tags=["trade", "chips", "ports"])

    assert titles(article.further_reading())[:2] == ["Shares two tags", "Shares one tag, newer"]


def test_picks_come_before_series_and_tags(make):
    series = SeriesFactory()
    make("Same series", series=series, tags=["trade"])
    pick = make("Unrelated pick")
    article = make("Subject", series=series, tags=["trade"], related=[pick])

    assert titles(article.further_reading())[:2] == ["Unrelated pick", "Same series"]


def test_recency_pads_what_relations_leave_empty(make):
    make("Old")
    make("Shares a tag but is ancient", date=datetime(2020, 1, 1, tzinfo=UTC), tags=["x"])
    make("Recent")
    article = make("Subject", tags=["x"])
    make("Most recent")

    assert titles(article.further_reading()) == [
        "Shares a tag but is ancient",
        "Most recent",
        "Recent",
    ]


def test_never_offers_the_article_itself(make):
    make("Other")
    article = make("Subject", tags=["trade"])
    ArticlePageRelated.objects.create(page=article, article=article, sort_order=0)
    article = ArticlePage.objects.get(pk=article.pk)
    assert [pick.article_id for pick in article.related_picks.all()] == [article.pk]

    assert titles(article.further_reading()) == ["Other"]


def test_never_offers_drafts_or_private_pages_even_when_picked(make):
    draft = make("Draft pick", live=False, tags=["trade"])
    private = make("Private pick", tags=["trade"])
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    make("Live and related", tags=["trade"])
    article = make("Subject", tags=["trade"], related=[draft, private])

    assert titles(article.further_reading()) == ["Live and related"]


def test_a_repeated_pick_is_shown_once(make):
    pick = make("Pick")
    make("Filler")
    article = make("Subject", related=[pick, pick])

    assert titles(article.further_reading()) == ["Pick", "Filler"]


def test_always_at_most_three(make):
    series = SeriesFactory()
    for n in range(6):
        make(f"Related {n}", series=series, tags=["trade"])
    article = make("Subject", series=series, tags=["trade"])

    assert len(article.further_reading()) == 3


def test_an_only_article_has_no_further_reading(client, make):
    article = make("Alone")

    assert article.further_reading() == []
    soup = read(client, article.url)
    assert "Further reading" not in soup.get_text()


def test_the_page_shows_further_reading_in_the_ranked_order(client, make):
    series = SeriesFactory(label="CvT")
    make("Shares a tag", tags=["trade"])
    make("Same series", series=series)
    pick = make("Editor pick")
    article = make("Subject", series=series, tags=["trade"], related=[pick])

    further = section_headed(read(client, article.url), "Further reading")

    assert card_titles(further) == ["Editor pick", "CvT: Same series", "Shares a tag"]
