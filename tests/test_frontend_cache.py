"""Publishing purges the caches in front of the site: a real HTTP server on 127.0.0.1 stands in
for the nginx or Varnish cache and records each PURGE request it receives."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import ArticlePage
from tests.articles.factories import (
    ArticlePageFactory,
    AuthorFactory,
    SectionPageFactory,
    SeriesFactory,
)
from tests.articles.test_admin import add_url, article_form, assert_no_form_errors

pytestmark = pytest.mark.django_db


class PurgeRecorder(BaseHTTPRequestHandler):
    def do_PURGE(self):
        self.server.purged.append((self.headers["Host"], self.path))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def purged():
    """The (Host, path) of every PURGE request the cache receives, in order."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PurgeRecorder)
    server.purged = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(purged, settings):
    """The site configured as FRONTEND_CACHE_PURGE_URL=http://127.0.0.1:<port> would make it."""
    host, port = purged.server_address[:2]
    settings.WAGTAILFRONTENDCACHE = {
        "proxy-0": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": f"http://{host}:{port}",
        }
    }
    return purged.purged


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def series(db):
    return SeriesFactory(name="Coffee vs. Tea", slug="coffee-vs-tea")


def publish_through_the_admin(client, section, series, capture) -> ArticlePage:
    author = AuthorFactory(name="Li Wei", slug="li-wei")
    fields = {
        "title": "Export controls, year two",
        "slug": "export-controls-year-two",
        "dek": "The rules tightened twice; enforcement has not kept up.",
        "article_authors-0-author": str(author.pk),
        "series": str(series.pk),
        "tags": "trade, chips",
        "action-publish": "Publish",
    }
    form = article_form(client, add_url(section), **fields)
    with capture(execute=True):  # Wagtail sends purges as a task, once the publish commits
        response = client.post(add_url(section), form)
    assert_no_form_errors(response)
    article = ArticlePage.objects.get(slug="export-controls-year-two")
    assert article.live
    return article


LISTINGS = {
    "/",
    "/analysis/",
    "/analysis/feed/",
    "/analysis/feed/atom/",
    "/feed/",
    "/feed/atom/",
    "/sitemap.xml",
    "/news-sitemap.xml",
    "/authors/li-wei/",
    "/authors/li-wei/feed/",
    "/series/coffee-vs-tea/",
    "/series/coffee-vs-tea/feed/atom/",
    "/tags/trade/",
    "/tags/chips/feed/",
}


def test_publishing_purges_the_article_and_every_listing_that_shows_it(
    proxy, editor_client, section, series, django_capture_on_commit_callbacks
):
    publish_through_the_admin(editor_client, section, series, django_capture_on_commit_callbacks)

    paths = {path for _, path in proxy}
    assert "/analysis/export-controls-year-two/" in paths
    assert paths >= LISTINGS, LISTINGS - paths
    assert {host for host, _ in proxy} == {"localhost"}, "the site's own host name is purged"
    assert not any(path.startswith("/newsletters/") for path in paths), "only what lists it"


def test_unpublishing_purges_the_article_and_its_listings(
    proxy, editor_client, section, series, django_capture_on_commit_callbacks
):
    article = publish_through_the_admin(
        editor_client, section, series, django_capture_on_commit_callbacks
    )
    proxy.clear()

    url = reverse("wagtailadmin_pages:unpublish", args=[article.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url)

    assert response.status_code == 302
    article.refresh_from_db()
    assert not article.live
    paths = {path for _, path in proxy}
    assert "/analysis/export-controls-year-two/" in paths
    assert paths >= LISTINGS, LISTINGS - paths


def test_every_page_of_a_long_section_listing_is_purged(
    proxy, home, django_capture_on_commit_callbacks
):
    briefings = SectionPageFactory(parent=home, title="Briefings", slug="briefings")
    articles = [ArticlePageFactory(parent=briefings) for _ in range(25)]
    proxy.clear()

    with django_capture_on_commit_callbacks(execute=True):
        articles[-1].save_revision().publish()

    paths = {path for _, path in proxy}
    assert {"/briefings/", "/briefings/?page=2", "/briefings/?page=3"} <= paths
    assert "/briefings/?page=4" not in paths


def test_nothing_is_purged_when_no_cache_is_configured(
    purged, settings, editor_client, section, series, django_capture_on_commit_callbacks
):
    settings.WAGTAILFRONTENDCACHE = {}

    publish_through_the_admin(editor_client, section, series, django_capture_on_commit_callbacks)

    assert purged.purged == []
