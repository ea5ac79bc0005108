"""Editorial flows through the real admin: a writer drafts and submits, an editor publishes."""

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.models import Page, TaskState, WorkflowState
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from articles.models import ArticlePage, Author
from tests.articles.factories import AuthorFactory
from tests.reader import read

pytestmark = pytest.mark.django_db

ADD_AUTHOR_URL = "/admin/snippets/articles/author/add/"
CHOOSE_AUTHOR_URL = "/admin/snippets/choose/articles/author/"


def add_url(section) -> str:
    return reverse("wagtailadmin_pages:add", args=["articles", "articlepage", section.pk])


def edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


BODY = nested_form_data(
    {
        "body": streamfield(
            [("paragraph", rich_text("<p>Procurement rules took effect in March.</p>"))]
        )
    }
)


def article_form(client, url: str, **fields) -> dict:
    """The admin form at `url` as the browser would submit it, with `fields` filled in.

    The body's StreamField inputs are built by JavaScript in a browser, so they come from BODY.
    """
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} → {response.status_code}"
    data = querydict_from_html(response.content.decode(), form_id="page-edit-form")
    form = {key: value for key, value in data.items() if "__prefix__" not in key}
    form.update(BODY)
    form.update(fields)
    return form


def new_article_fields(author: Author, **overrides) -> dict:
    fields = {
        "title": "Export controls, year two",
        "slug": "export-controls-year-two",
        "dek": "The rules tightened twice; enforcement has not kept up.",
        "article_authors-0-author": str(author.pk),
        "tags": "trade, chips",
    }
    fields.update(overrides)
    return fields


def assert_no_form_errors(response):
    if response.status_code == 200 and response.context and "form" in response.context:
        errors = response.context["form"].errors
        formset_errors = {
            name: formset.errors
            for name, formset in response.context["form"].formsets.items()
            if any(formset.errors)
        }
        raise AssertionError(f"the form was refused: {errors} {formset_errors}")


@pytest.fixture
def drafted(writer_client, section):
    """An article a writer created in the admin and saved as a draft."""
    author = AuthorFactory(name="Li Wei", slug="li-wei")
    form = article_form(writer_client, add_url(section), **new_article_fields(author))
    response = writer_client.post(add_url(section), form)
    assert_no_form_errors(response)
    assert response.status_code == 302
    return ArticlePage.objects.get(slug="export-controls-year-two")


# Writers


def test_writer_creates_a_draft_article_through_the_admin(drafted, section, writer):
    assert not drafted.live
    assert drafted.get_parent().pk == section.pk
    assert drafted.owner == writer
    revision = drafted.get_latest_revision_as_object()
    assert [link.author.name for link in revision.article_authors.all()] == ["Li Wei"]
    assert sorted(revision.tags.names()) == ["chips", "trade"]
    assert revision.word_count == 6


def test_a_draft_is_not_visible_to_readers(drafted):
    read(Client(), "/analysis/export-controls-year-two/", status=404)


def test_writer_submits_the_draft_for_review(writer_client, drafted):
    form = article_form(writer_client, edit_url(drafted), **{"action-submit": "Submit"})
    response = writer_client.post(edit_url(drafted), form)
    assert_no_form_errors(response)

    drafted.refresh_from_db()
    state = WorkflowState.objects.get(base_content_type__model="page", object_id=str(drafted.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == "Editorial review"
    assert state.current_task_state.task.name == "Editor review"
    assert not drafted.live


def test_writer_cannot_publish(writer_client, drafted):
    fields = {"title": "Export controls, revised", "action-publish": "Publish"}
    response = writer_client.post(
        edit_url(drafted), article_form(writer_client, edit_url(drafted), **fields)
    )
    assert_no_form_errors(response)

    drafted.refresh_from_db()
    assert drafted.get_latest_revision_as_object().title == "Export controls, revised"
    assert not drafted.live
    assert drafted.first_published_at is None
    read(Client(), "/analysis/export-controls-year-two/", status=404)


def test_writer_cannot_publish_when_creating_either(writer_client, section):
    author = AuthorFactory()
    fields = new_article_fields(author, **{"action-publish": "Publish"})
    writer_client.post(add_url(section), article_form(writer_client, add_url(section), **fields))

    assert not ArticlePage.objects.get(slug="export-controls-year-two").live


def test_an_article_needs_an_author(writer_client, section):
    fields = new_article_fields(AuthorFactory(), **{"article_authors-0-author": ""})
    response = writer_client.post(
        add_url(section), article_form(writer_client, add_url(section), **fields)
    )

    assert response.status_code == 200, "the form should be shown again with an error"
    assert not ArticlePage.objects.filter(slug="export-controls-year-two").exists()


def test_writer_cannot_add_authors(writer_client):
    response = writer_client.get(ADD_AUTHOR_URL)
    assert response.status_code in (302, 403)

    writer_client.post(ADD_AUTHOR_URL, {"name": "Sneaky", "slug": "sneaky", "links-count": "0"})
    assert not Author.objects.filter(slug="sneaky").exists()


def test_writer_can_choose_existing_authors(writer_client):
    AuthorFactory(name="Ana Costa")

    response = writer_client.get(CHOOSE_AUTHOR_URL)

    assert response.status_code == 200
    assert "Ana Costa" in response.content.decode()


# Editors


@pytest.fixture
def submitted(writer_client, drafted):
    form = article_form(writer_client, edit_url(drafted), **{"action-submit": "Submit"})
    writer_client.post(edit_url(drafted), form)
    return drafted


def test_editor_approves_the_submitted_article_and_it_goes_live(editor_client, submitted):
    task_state = TaskState.objects.get(
        workflow_state__object_id=str(submitted.pk), status=TaskState.STATUS_IN_PROGRESS
    )
    url = reverse(
        "wagtailadmin_pages:workflow_action", args=[submitted.pk, "approve", task_state.pk]
    )

    response = editor_client.post(url, {"comment": ""})

    assert response.status_code in (200, 302)
    submitted.refresh_from_db()
    assert submitted.live
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_APPROVED
    soup = read(Client(), "/analysis/export-controls-year-two/")
    assert soup.h1.get_text(strip=True) == "Export controls, year two"
    assert soup.find("a", rel="author").get_text() == "Li Wei"


def test_editor_publishes_from_the_edit_view(editor_client, submitted):
    form = article_form(editor_client, edit_url(submitted), **{"action-publish": "Publish"})
    response = editor_client.post(edit_url(submitted), form)
    assert_no_form_errors(response)

    submitted.refresh_from_db()
    assert submitted.live
    assert "Export controls, year two" in Client().get("/analysis/").content.decode()


def test_writer_cannot_approve_their_own_submission(writer_client, submitted):
    task_state = TaskState.objects.get(
        workflow_state__object_id=str(submitted.pk), status=TaskState.STATUS_IN_PROGRESS
    )
    url = reverse(
        "wagtailadmin_pages:workflow_action", args=[submitted.pk, "approve", task_state.pk]
    )

    writer_client.post(url, {"comment": ""})

    submitted.refresh_from_db()
    assert not submitted.live
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_IN_PROGRESS


def test_editor_adds_an_author_through_the_snippets_admin(editor_client):
    response = editor_client.get(ADD_AUTHOR_URL)
    assert response.status_code == 200
    form = {
        "name": "Zhang Min",
        "slug": "zhang-min",
        "role": "Beijing correspondent",
        "bio": "Zhang Min reports on industrial policy.",
        "photo": "",
        **nested_form_data({"links": streamfield([])}),
    }

    response = editor_client.post(ADD_AUTHOR_URL, form)

    assert response.status_code == 302, response.context and response.context["form"].errors
    author = Author.objects.get(slug="zhang-min")
    assert author.role == "Beijing correspondent"
    assert read(Client(), "/authors/zhang-min/").h1.get_text() == "Zhang Min"


def test_only_the_home_page_sits_at_the_top_of_the_tree(home):
    assert [page.specific_class.__name__ for page in Page.get_first_root_node().get_children()] == [
        "HomePage"
    ]


@pytest.mark.parametrize("kind", ["author", "series"])
def test_editors_find_authors_and_series_by_name_in_the_admin(editor, kind):
    from tests.articles.factories import SeriesFactory

    AuthorFactory(name="Marmalade Jones")
    SeriesFactory(name="Marmalade talks")
    AuthorFactory(name="Someone Else")
    client = Client()
    client.force_login(editor)

    response = client.get(f"/admin/snippets/articles/{kind}/", {"q": "marma"})

    assert response.status_code == 200
    listed = " ".join(response.content.decode().split())
    assert "Marmalade" in listed
    assert "Someone Else" not in listed


# Nothing from elsewhere


def loaded_from_elsewhere(html: str) -> list[str]:
    """URLs the page makes the browser fetch (images, scripts, styles, frames) on other hosts."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    fetched = [tag.get("src") for tag in soup.find_all(["img", "script", "iframe"])]
    fetched += [tag.get("srcset") for tag in soup.find_all(["img", "source"])]
    fetched += [tag.get("href") for tag in soup.find_all("link", rel=["stylesheet", "icon"])]
    return [url for url in fetched if url and url.lstrip().startswith(("http:", "https:", "//"))]


def test_the_admin_loads_nothing_from_other_hosts(editor_client, section, editor):
    editor.email = "eddie@outlet.example"  # what a gravatar would be looked up by
    editor.save()
    pages = [
        "/admin/",
        reverse("wagtailadmin_account"),
        edit_url(section),
        reverse("wagtailadmin_explore", args=[section.pk]),
    ]
    for url in pages:
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert loaded_from_elsewhere(response.content.decode()) == [], url


# The article editor


def tab_fields(html: str, tab: str) -> set[str]:
    """Names of the form fields on one tab of the page editor ("content", "promote"…)."""
    from bs4 import BeautifulSoup

    panel = BeautifulSoup(html, "html.parser").find(id=f"tab-{tab}")
    assert panel is not None, f"no {tab} tab"
    return {
        field["name"]
        for field in panel.find_all(["input", "select", "textarea"], attrs={"name": True})
    }


def test_series_and_tags_are_on_the_content_tab_beside_the_authors(writer_client, section):
    html = writer_client.get(add_url(section)).content.decode()

    content = tab_fields(html, "content")
    assert {"series", "tags", "article_authors-TOTAL_FORMS", "dek"} <= content
    assert not {"series", "tags"} & tab_fields(html, "promote")


def slug_help_text(client, url: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(client.get(url).content, "html.parser")
    slug = soup.find("input", attrs={"name": "slug"})
    return soup.find(id=slug["aria-describedby"]).get_text(" ", strip=True)


def test_the_slug_help_names_the_address_on_this_site(writer_client, editor_client, section):
    new_article = slug_help_text(writer_client, add_url(section))
    the_section = slug_help_text(editor_client, edit_url(section))

    assert "domain.com" not in new_article + the_section
    assert "after /analysis/ " in new_article
    assert "after / " in the_section


# The publication date is the day an article goes live


def test_a_new_article_is_undated_until_it_goes_live(editor_client, section, time_machine):
    time_machine.move_to("2026-03-02 08:00:00+00:00", tick=False)
    author = AuthorFactory()
    form = article_form(editor_client, add_url(section), **new_article_fields(author))
    assert form.get("date", "") == "", "the form must not pre-date the article"
    editor_client.post(add_url(section), form)
    draft = ArticlePage.objects.get(slug="export-controls-year-two")
    assert draft.date is None

    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    publish = {"action-publish": "Publish"}
    response = editor_client.post(
        edit_url(draft), article_form(editor_client, edit_url(draft), **publish)
    )
    assert_no_form_errors(response)

    live = ArticlePage.objects.get(pk=draft.pk)
    assert live.live
    assert live.date.isoformat() == "2026-03-05T14:30:00+00:00"
    assert "5 March 2026" in read(Client(), "/analysis/").get_text()
    assert "5 March 2026" in read(Client(), live.url).find(class_="byline").get_text()


def test_republishing_keeps_the_first_publication_date(editor_client, section, time_machine):
    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    author = AuthorFactory()
    fields = new_article_fields(author, **{"action-publish": "Publish"})
    editor_client.post(add_url(section), article_form(editor_client, add_url(section), **fields))
    article = ArticlePage.objects.get(slug="export-controls-year-two")

    time_machine.move_to("2026-03-09 10:00:00+00:00", tick=False)
    form = article_form(editor_client, edit_url(article), **{"action-publish": "Publish"})
    assert form["date"].startswith("2026-03-05 14:30"), "the editor sees the live date"
    form["dek"] = "Corrected standfirst."
    editor_client.post(edit_url(article), form)

    article.refresh_from_db()
    assert article.dek == "Corrected standfirst."
    assert article.date.isoformat() == "2026-03-05T14:30:00+00:00"


def test_a_date_the_editor_sets_is_kept(editor_client, section, time_machine):
    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    fields = new_article_fields(
        AuthorFactory(), date="2026-02-20 09:00", **{"action-publish": "Publish"}
    )
    editor_client.post(add_url(section), article_form(editor_client, add_url(section), **fields))

    article = ArticlePage.objects.get(slug="export-controls-year-two")
    assert article.live
    assert article.date.isoformat() == "2026-02-20T09:00:00+00:00"


def test_a_scheduled_article_is_dated_when_it_goes_live(editor_client, section, time_machine):
    from django.core.management import call_command

    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    fields = new_article_fields(
        AuthorFactory(), go_live_at="2026-03-06 07:00", **{"action-publish": "Publish"}
    )
    editor_client.post(add_url(section), article_form(editor_client, add_url(section), **fields))
    article = ArticlePage.objects.get(slug="export-controls-year-two")
    assert not article.live

    time_machine.move_to("2026-03-06 07:01:00+00:00", tick=False)
    call_command("publish_scheduled")

    article.refresh_from_db()
    assert article.live
    assert article.date.isoformat() == "2026-03-06T07:01:00+00:00"


def test_an_update_dated_before_an_undated_articles_publication_is_refused_not_a_500(
    editor_client, section, time_machine
):
    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    fields = new_article_fields(
        AuthorFactory(), updated="2026-03-01 09:00", **{"action-publish": "Publish"}
    )

    response = editor_client.post(
        add_url(section), article_form(editor_client, add_url(section), **fields)
    )

    assert response.status_code == 200
    assert "An update cannot come before publication." in response.content.decode()
    assert not ArticlePage.objects.filter(live=True, slug="export-controls-year-two").exists()
