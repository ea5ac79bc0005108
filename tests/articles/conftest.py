"""Content the article tests share: a fully dressed article in a labelled series."""

import pytest
from django.test import Client

from tests.articles.factories import (
    ArticlePageFactory,
    AuthorFactory,
    ImageFactory,
    SeriesFactory,
    paragraph,
)


@pytest.fixture
def series(db):
    return SeriesFactory(
        name="Coffee vs. Tea",
        slug="coffee-vs-tea",
        label="CvT",
        description="Two economies, two drinks, one rivalry.",
    )


@pytest.fixture
def authors(db):
    return [
        AuthorFactory(
            name="Li Wei",
            slug="li-wei",
            role="Senior correspondent",
            bio="Li Wei covers trade between China and the United States.",
            links=[{"type": "link", "value": {"label": "Website", "url": "https://li.example/"}}],
        ),
        AuthorFactory(
            name="Ana Costa",
            slug="ana-costa",
            role="Technology editor",
            bio="Ana Costa writes about chips and export controls.",
        ),
    ]


def story_body(image) -> list[dict]:
    """One of every block readers see in a body (embeds need the network, so none here)."""
    return [
        {"type": "heading", "value": {"text": "What the new rules change", "level": "h2"}},
        paragraph("Beijing's new procurement rules took effect in March."),
        {
            "type": "quote",
            "value": {
                "text": "Tariffs are a tax that both sides pretend the other one pays.",
                "attribution": "A trade lawyer in Geneva",
            },
        },
        {
            "type": "key_takeaways",
            "value": {
                "title": "Key takeaways",
                "items": ["Export controls tightened twice", "Enforcement lags the rules"],
            },
        },
        {
            "type": "image",
            "value": {
                "image": image.pk,
                "alt_text": "Cranes over the container terminal",
                "caption": "Ningbo in March",
                "credit": "Photo: Outlet",
            },
        },
        {
            "type": "table",
            "value": {
                "data": [["Year", "Exports"], ["2024", "3.4 tn"]],
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "table_caption": "Exports by year",
            },
        },
        {
            "type": "sources",
            "value": {
                "title": "Sources",
                "items": [{"text": "Customs statistics", "url": "https://customs.example/"}],
            },
        },
    ]


@pytest.fixture
def story(section, series, authors):
    """A live article with two authors, a series label, tags, a hero image and every block."""
    hero = ImageFactory(title="Port of Ningbo")
    return ArticlePageFactory(
        parent=section,
        title="Why tariffs stick",
        slug="why-tariffs-stick",
        dek="Both sides say they want lower tariffs. Neither can afford to go first.",
        summary="How tariffs became permanent.",
        series=series,
        hero_image=hero,
        hero_caption="The port of Ningbo",
        hero_credit="Photo: Outlet",
        authors=authors,
        tags=["trade", "tariffs"],
        body=story_body(ImageFactory(title="Terminal")),
    )


@pytest.fixture
def writer_client(client, writer):
    """The test client, signed in as a writer."""
    client.force_login(writer)
    return client


@pytest.fixture
def editor_client(editor):
    """A client of its own, signed in as an editor."""
    editor_client = Client()
    editor_client.force_login(editor)
    return editor_client


@pytest.fixture
def reader():
    """A reader whose every request bypasses the page cache (a session cookie): each request
    renders its page, reusing only what is kept between publications."""
    client = Client()
    client.cookies["sessionid"] = "a-reader-with-a-session"
    return client
