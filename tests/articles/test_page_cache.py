"""Anonymous readers get cached pages; publishing clears them; logged-in users never get them."""

import pytest
from django.test import Client

from articles.models import ArticlePage, Author
from tests.articles.factories import ArticlePageFactory
from tests.newsletters.factories import NewsletterIndexPageFactory, NewsletterPageFactory

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def sneak_title_change(page, title: str):
    """Change a title in the database without any signal, as a stale cache would not notice."""
    ArticlePage.objects.filter(pk=page.pk).update(title=title)


def test_second_anonymous_request_is_served_without_touching_the_database(
    client, story, django_assert_num_queries
):
    first = client.get(story.url)

    with django_assert_num_queries(0):
        second = client.get(story.url)

    assert second.content == first.content


def test_an_article_with_the_newsletter_promo_is_still_cached(
    client, home, story, django_assert_num_queries
):
    index = NewsletterIndexPageFactory(parent=home)
    NewsletterPageFactory(parent=index, title="The Weekly Steep", promote_by_default=True)
    first = client.get(story.url)
    assert "The Weekly Steep" in html(first)
    assert not first.cookies, "a cookie on an anonymous page stops it being cached"

    with django_assert_num_queries(0):
        client.get(story.url)


def test_cached_page_does_not_see_an_unannounced_database_change(client, story):
    html(client.get(story.url))
    sneak_title_change(story, "Changed behind the cache's back")

    assert "Changed behind the cache" not in html(client.get(story.url))


def test_logged_in_user_is_never_served_the_cached_page(client, story, editor):
    assert "wagtail-userbar" not in html(client.get(story.url))
    editor_client = Client()
    editor_client.force_login(editor)

    # Rendered for them: with the editor's bar, which the page kept for readers lacks.
    assert "wagtail-userbar" in html(editor_client.get(story.url))


def test_a_logged_in_users_page_is_never_stored_for_readers(client, story, editor):
    editor_client = Client()
    editor_client.force_login(editor)
    assert "wagtail-userbar" in html(editor_client.get(story.url))

    assert "wagtail-userbar" not in html(client.get(story.url))


def test_publishing_an_article_clears_the_cached_listing(client, section, story):
    assert "Fresh analysis" not in html(client.get(section.url))
    article = ArticlePageFactory(parent=section, title="Fresh analysis", live=False)

    article.save_revision().publish()

    assert "Fresh analysis" in html(client.get(section.url))
    assert "Fresh analysis" in html(client.get("/feed/"))


def test_republishing_an_edit_clears_the_cached_article(client, story):
    html(client.get(story.url))
    story.title = "Why tariffs stick, revised"
    story.save_revision().publish()

    assert "Why tariffs stick, revised" in html(client.get(story.url))


def test_unpublishing_an_article_clears_it_from_every_cached_page(client, section, story):
    html(client.get(section.url))
    html(client.get(story.url))

    story.unpublish()

    assert "Why tariffs stick" not in html(client.get(section.url))
    assert client.get(story.url).status_code == 404


def test_editing_an_author_snippet_clears_the_cached_byline(client, story):
    html(client.get(story.url))
    author = Author.objects.get(slug="li-wei")

    author.name = "Li Wei-ming"
    author.save()

    assert "Li Wei-ming" in html(client.get(story.url))


def test_editing_an_author_in_the_admin_clears_the_cache(client, story, editor):
    from wagtail.test.utils.form_data import nested_form_data, streamfield

    html(client.get("/authors/li-wei/"))
    author = Author.objects.get(slug="li-wei")
    editor_client = Client()
    editor_client.force_login(editor)
    form = {
        "name": "Li Wei (李伟)",
        "slug": "li-wei",
        "role": author.role,
        "bio": author.bio,
        "photo": "",
        **nested_form_data({"links": streamfield([])}),
    }

    response = editor_client.post(f"/admin/snippets/articles/author/edit/{author.pk}/", form)

    assert response.status_code == 302
    assert "Li Wei (李伟)" in html(client.get("/authors/li-wei/"))


@pytest.mark.parametrize("hit", [False, True], ids=["miss", "hit"])
def test_browsers_may_keep_a_page_only_briefly(client, story, hit, settings):
    if hit:
        client.get(story.url)
    response = client.get(story.url)

    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert f"max-age={settings.PAGE_CACHE_BROWSER_SECONDS}" in directives
    assert "public" in directives
    assert not response.has_header("Expires")


def test_admin_pages_are_not_cached_for_browsers_or_readers(client, editor):
    client.force_login(editor)
    response = client.get("/admin/")

    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")


def test_what_a_reader_stored_before_a_publication_committed_is_forgotten(
    story, django_capture_on_commit_callbacks
):
    from django.conf import settings
    from django.core.cache import caches

    pages = caches[settings.CACHE_MIDDLEWARE_ALIAS]
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Why tariffs stick, revised"
        story.save_revision().publish()
        # Another reader, served from the database before this publication commits, stores
        # the page as it was.
        pages.set("a-page-as-it-was", "<h1>Why tariffs stick</h1>")

    assert pages.get("a-page-as-it-was") is None
