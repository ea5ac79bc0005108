"""Reading time is derived from the words a reader reads, and is never zero."""

import pytest

from articles.reading_time import count_words, reading_minutes
from tests.articles.factories import ArticlePageFactory, paragraph, words


@pytest.mark.parametrize(
    ("word_count", "minutes"),
    [(0, 1), (1, 1), (230, 1), (231, 2), (460, 2), (461, 3), (2300, 10)],
)
def test_reading_minutes_round_up_and_never_reach_zero(word_count, minutes):
    assert reading_minutes(word_count) == minutes


def test_words_are_counted_in_every_prose_block():
    body = [
        {"type": "heading", "value": {"text": "Two words", "level": "h2"}},
        paragraph("three more words"),
        {"type": "quote", "value": {"text": "four words in quote", "attribution": "Jo Bloggs"}},
        {"type": "key_takeaways", "value": {"title": "Takeaways", "items": ["one", "two"]}},
    ]

    assert count_words(body) == 2 + 3 + 4 + 2 + 1 + 2


def test_tables_sources_and_embeds_are_not_read_as_prose():
    body = [
        {"type": "table", "value": {"data": [["many", "cells", "here"]]}},
        {"type": "sources", "value": {"title": "Sources", "items": [{"text": "A long source"}]}},
        {"type": "embed", "value": "https://video.example/watch"},
    ]

    assert count_words(body) == 0


def test_markup_is_not_counted_as_words():
    body = [{"type": "paragraph", "value": '<p><a href="https://x.example/a/b">Link</a> text</p>'}]

    assert count_words(body) == 2


def test_html_entities_are_not_counted_as_words():
    # Rich text stores "&" as "&amp;": the reader sees one symbol, not the word "amp".
    body = [{"type": "paragraph", "value": "<p>Tariffs &amp; quotas &quot;bite&quot;</p>"}]

    assert count_words(body) == 3


@pytest.mark.django_db
def test_article_reading_time_follows_its_body_when_saved(section):
    article = ArticlePageFactory(parent=section, body=[paragraph(words(460))])
    assert (article.word_count, article.reading_minutes) == (460, 2)

    article.body = [paragraph(words(700))]
    article.save_revision().publish()
    article.refresh_from_db()

    assert (article.word_count, article.reading_minutes) == (700, 4)


@pytest.mark.django_db
def test_an_empty_article_still_reads_in_one_minute(client, section):
    article = ArticlePageFactory(parent=section, body=[])

    assert article.reading_minutes == 1
    assert "1 min read" in client.get(article.url).content.decode()
