"""What an article keeps between publishes is forgotten exactly when readers could see a change.

The reader here has a session, so the page cache never serves them: each request renders the
page, reusing only the parts kept until the next publish (page_cache_tags).
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from articles.models import Author
from articles.models.pages import LISTING_PAGE_SIZE
from tests.articles.factories import ArticlePageFactory, ImageFactory, paragraph

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def further_reading(page_html: str) -> str:
    start = page_html.index('class="further-reading"')
    return page_html[start : page_html.index("</section>", start)]


def test_a_second_reading_reuses_what_is_kept(reader, story, django_assert_max_num_queries):
    first = html(reader.get(story.url))
    # Routing, privacy, the authors and tags for the metadata; none for the body, the author
    # boxes or further reading (15 when they are rendered).
    with django_assert_max_num_queries(9):
        second = html(reader.get(story.url))
    assert second == first


def test_a_published_edit_shows_at_once(reader, story):
    html(reader.get(story.url))
    story.body = [paragraph("A corrected paragraph about the procurement rules.")]
    story.save_revision().publish()

    assert "A corrected paragraph" in html(reader.get(story.url))


def test_a_newly_published_article_joins_further_reading(reader, section, story):
    assert "Tea exports double" not in html(reader.get(story.url))
    fresh = ArticlePageFactory(parent=section, title="Tea exports double", live=False)
    fresh.save_revision().publish()

    assert "Tea exports double" in further_reading(html(reader.get(story.url)))


def test_an_unpublished_article_leaves_further_reading(reader, section, story):
    other = ArticlePageFactory(parent=section, title="Soy futures slide")
    assert "Soy futures slide" in further_reading(html(reader.get(story.url)))

    other.unpublish()

    assert "Soy futures slide" not in html(reader.get(story.url))


def test_an_article_made_private_leaves_further_reading(reader, section, story):
    other = ArticlePageFactory(parent=section, title="Members: the chip fund")
    assert "Members: the chip fund" in further_reading(html(reader.get(story.url)))

    PageViewRestriction.objects.create(
        page=other, restriction_type=PageViewRestriction.PASSWORD, password="members"
    )

    assert "Members: the chip fund" not in html(reader.get(story.url))


def test_an_edited_author_shows_in_the_author_box(reader, story):
    html(reader.get(story.url))
    author = Author.objects.get(slug="ana-costa")
    author.bio = "Ana Costa now edits the technology desk."
    author.save()

    assert "now edits the technology desk" in html(reader.get(story.url))


def test_a_new_author_photo_shows_in_the_author_box(reader, story):
    before = html(reader.get(story.url))
    author = Author.objects.get(slug="li-wei")
    author.photo = ImageFactory(title="Li Wei, 2026")
    author.save()

    after = html(reader.get(story.url))
    assert after != before
    assert author.photo.get_rendition("fill-96x96|format-webp").url in after


def test_a_replaced_photo_file_shows_in_the_author_box(reader, story):
    author = Author.objects.get(slug="li-wei")
    author.photo = ImageFactory(title="Li Wei")
    author.save()
    before = html(reader.get(story.url))

    photo = author.photo
    photo.focal_point_x, photo.focal_point_y = 10, 10
    photo.focal_point_width = photo.focal_point_height = 5
    photo.save()

    assert html(reader.get(story.url)) != before


def test_a_draft_shows_its_unpublished_edits_even_when_the_page_is_kept(reader, story, editor):
    html(reader.get(story.url))  # the live page's parts are kept now
    story.dek = "A dek only the editor has typed"
    story.save_revision()  # a draft, not published
    editor_client = Client()
    editor_client.force_login(editor)

    draft = editor_client.get(f"/admin/pages/{story.pk}/view_draft/")

    assert "A dek only the editor has typed" in html(draft)
    assert "A dek only the editor has typed" not in html(reader.get(story.url))


def test_the_home_page_reuses_its_listing_until_the_next_publish(
    reader, home, section, story, django_assert_max_num_queries
):
    first = html(reader.get(home.url))
    assert "Why tariffs stick" in first
    # The site, the home page and its privacy; none for the listing (15 when it is rendered).
    with django_assert_max_num_queries(4):
        assert html(reader.get(home.url)) == first

    ArticlePageFactory(
        parent=section, title="Tea exports double", live=False
    ).save_revision().publish()

    assert "Tea exports double" in html(reader.get(home.url))


def test_each_page_of_a_listing_is_kept_apart_and_a_publish_reaches_the_first(reader, section):
    for number in range(LISTING_PAGE_SIZE + 2):
        ArticlePageFactory(parent=section, title=f"Briefing {number:02}")
    first, second = (html(reader.get(f"{section.url}?page={n}")) for n in (1, 2))
    assert "Briefing 00" in second and "Briefing 00" not in first
    assert html(reader.get(f"{section.url}?page=2")) == second  # kept, and kept apart

    news = ArticlePageFactory(parent=section, title="Breaking: tariffs cut", live=False)
    news.save_revision().publish()

    assert "Breaking: tariffs cut" in html(reader.get(f"{section.url}?page=1"))
    assert "Briefing 01" in html(reader.get(f"{section.url}?page=2"))  # pushed down a page


def test_a_feed_is_built_once_per_publish(reader, section, story, django_assert_max_num_queries):
    first = reader.get("/feed/")
    assert first.status_code == 200 and first["Content-Type"].startswith("application/rss+xml")
    with django_assert_max_num_queries(1):  # the site, for the feed's title
        again = reader.get("/feed/")
    assert again.content == first.content
    assert again["Last-Modified"] == first["Last-Modified"]

    news = ArticlePageFactory(parent=section, title="Tea exports double", live=False)
    news.save_revision().publish()

    assert b"Tea exports double" in reader.get("/feed/").content


def test_the_site_is_found_once_per_publish_and_again_when_it_changes(reader, site, story):
    # The first view also completes its images' metadata, an image save that empties the cache.
    html(reader.get(story.url))
    html(reader.get(story.url))
    with CaptureQueriesContext(connection) as queries:
        html(reader.get(story.url))
    assert not [query for query in queries if '"wagtailcore_site"' in query["sql"]]

    site.site_name = "Outlet Weekly Review"
    site.save()

    assert "Outlet Weekly Review" in html(reader.get(story.url))


def test_a_published_new_title_shows_in_the_head_at_once(reader, story):
    html(reader.get(story.url))
    story.title = "Why tariffs stick around"
    story.seo_title = ""
    story.save_revision().publish()

    page = html(reader.get(story.url))
    head = page[: page.index("</head>")]
    title = head[head.index("<title>") : head.index("</title>")]
    assert "Why tariffs stick around" in title
    assert "Why tariffs stick around" in head[head.index('property="og:title"') :].split(">")[0]
