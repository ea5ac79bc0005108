"""The home page's largest image in view is fetched at once, never lazily."""

import lxml.html
import pytest

from articles.models import HomePageFeaturedArticle
from tests.articles.factories import ArticlePageFactory, ImageFactory

pytestmark = pytest.mark.django_db


def test_the_first_featured_image_loads_first_and_the_rest_lazily(client, home, section):
    for number in range(3):
        article = ArticlePageFactory(
            parent=section, title=f"Featured {number}", hero_image=ImageFactory()
        )
        HomePageFeaturedArticle.objects.create(page=home, article=article, sort_order=number)

    response = client.get(home.url)

    assert response.status_code == 200
    page = lxml.html.fromstring(response.content)
    images = page.xpath("//section[@class='featured']//img[contains(@class, 'card__image')]")
    assert len(images) == 3
    first, *others = images
    assert first.get("fetchpriority") == "high"
    assert first.get("loading") is None
    assert [image.get("loading") for image in others] == ["lazy", "lazy"]


def test_no_template_comment_shows_on_a_listing(client, home, section):
    article = ArticlePageFactory(parent=section, title="Featured", hero_image=ImageFactory())
    HomePageFeaturedArticle.objects.create(page=home, article=article, sort_order=0)

    for url in (home.url, section.url):
        body = client.get(url).content.decode()
        assert "{#" not in body and "#}" not in body and "{%" not in body, url
