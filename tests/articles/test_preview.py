"""Preview works for every page type: the editor's own form, unsaved, rendered as readers see it."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.articles.factories import ArticlePageFactory
from tests.newsletters.factories import (
    IssuePageFactory,
    NewsletterIndexPageFactory,
    NewsletterPageFactory,
)

pytestmark = pytest.mark.django_db


def form_data(html: bytes) -> dict:
    """What the browser would submit from the page editor's form, unchanged."""
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"data-edit-form": True})
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button", "file"):
            continue
        if field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        if field.name == "textarea":
            value = field.text
        elif field.name == "select":
            value = [o.get("value", "") for o in field.find_all("option") if o.has_attr("selected")]
        else:
            value = field.get("value", "on" if field.get("type") == "checkbox" else "")
        data.setdefault(name, [])
        data[name] += value if isinstance(value, list) else [value]
    return data


def body(text: str) -> dict:
    """A StreamField as the editor's JavaScript posts it (the HTML form has only its JSON)."""
    fields = nested_form_data({"body": streamfield([("paragraph", rich_text(f"<p>{text}</p>"))])})
    return {key: [value] for key, value in fields.items()}


def preview_response(client, page, extra=None, mode=None, **changes):
    """Edit `page` in the admin without saving and preview it, as the side panel does."""
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert edit.status_code == 200
    data = {**form_data(edit.content), **(extra or {})}
    data.update({key: [value] for key, value in changes.items()})
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    posted = client.post(url, data)
    assert posted.json() == {"is_valid": True, "is_available": True}, posted.content[:500]
    query = {"in_preview_panel": "true", **({"mode": mode} if mode is not None else {})}
    shown = client.get(url, query)
    assert shown.status_code == 200
    return shown


def preview_of_edit(client, page, extra=None, **changes) -> BeautifulSoup:
    """Edit `page` in the admin without saving, preview it, and parse what the preview shows."""
    shown = preview_response(client, page, extra, **changes)
    return BeautifulSoup(shown.content, "html.parser")


def csp_directives(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_home_page_preview_shows_unsaved_intro(admin_client, home):
    soup = preview_of_edit(admin_client, home, intro="Analysis you will not find elsewhere.")

    assert "Analysis you will not find elsewhere." in soup.get_text()


def test_section_preview_shows_unsaved_title(admin_client, section):
    soup = preview_of_edit(admin_client, section, title="Long reads")

    assert soup.find("h1").get_text(strip=True) == "Long reads"


def test_article_preview_shows_unsaved_headline_and_draft_is_untouched(admin_client, section):
    article = ArticlePageFactory(parent=section, title="Port fees, explained")

    soup = preview_of_edit(
        admin_client,
        article,
        body("A paragraph not saved yet."),
        title="Port fees, explained again",
    )

    assert "Port fees, explained again" in soup.find("h1").get_text()
    assert "A paragraph not saved yet." in soup.get_text()
    article.refresh_from_db()
    assert article.title == "Port fees, explained", "previewing must not save"


def test_new_article_can_be_previewed_before_its_first_save(admin_client, section):
    add = reverse("wagtailadmin_pages:add", args=["articles", "articlepage", section.pk])
    data = form_data(admin_client.get(add).content)
    author = ArticlePageFactory(parent=section).authors[0]
    data.update(body("The opening paragraph."))
    data.update(
        title=["A first draft"],
        slug=["a-first-draft"],
        dek=["Not saved yet."],
        **{
            "article_authors-TOTAL_FORMS": ["1"],
            "article_authors-0-author": [str(author.pk)],
            "article_authors-0-ORDER": ["1"],
            "article_authors-0-id": [""],
            "article_authors-0-DELETE": [""],
        },
    )
    url = reverse("wagtailadmin_pages:preview_on_add", args=["articles", "articlepage", section.pk])

    assert admin_client.post(url, data).json() == {"is_valid": True, "is_available": True}
    soup = BeautifulSoup(admin_client.get(url).content, "html.parser")
    assert soup.find("h1").get_text(strip=True) == "A first draft"
    assert "Not saved yet." in soup.get_text()


def test_newsletter_pages_preview(admin_client, home):
    index = NewsletterIndexPageFactory(parent=home)
    newsletter = NewsletterPageFactory(parent=index)
    issue = IssuePageFactory(parent=newsletter)

    assert "Every newsletter" in preview_of_edit(admin_client, index, intro="Every newsletter").text
    assert (
        preview_of_edit(admin_client, newsletter, title="The Daily Leaf")
        .find("h1")
        .get_text(strip=True)
        == "The Daily Leaf"
    )
    assert (
        preview_of_edit(admin_client, issue, subject="Unsaved subject")
        .find("h1")
        .get_text(strip=True)
        == "Unsaved subject"
    )


# The admin frames previews; nobody frames readers' pages


@pytest.fixture
def one_of_each(home, section):
    """A page of every type readers can reach, published."""
    index = NewsletterIndexPageFactory(parent=home)
    newsletter = NewsletterPageFactory(parent=index)
    return {
        "home": home,
        "section": section,
        "article": ArticlePageFactory(parent=section),
        "newsletter index": index,
        "newsletter": newsletter,
        "issue": IssuePageFactory(parent=newsletter),
    }


def test_every_page_type_is_covered(one_of_each):
    from wagtail.models import get_page_models

    ours = {m for m in get_page_models() if m._meta.app_label in ("articles", "newsletters")}
    assert {type(page.specific) for page in one_of_each.values()} == ours


@pytest.mark.parametrize(
    "kind", ["home", "section", "article", "newsletter index", "newsletter", "issue"]
)
def test_the_admin_may_frame_a_preview_and_the_policy_is_otherwise_the_readers(
    admin_client, client, one_of_each, kind
):
    page = one_of_each[kind]

    preview = preview_response(admin_client, page, body("Text.") if kind == "article" else None)

    directives = csp_directives(preview)
    assert directives["frame-ancestors"] == ["'self'"]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert directives["style-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    public = client.get(page.url)
    assert public.status_code == 200
    assert csp_directives(public)["frame-ancestors"] == ["'none'"]
    assert public["X-Frame-Options"] == "DENY"


def test_the_draft_opened_in_a_new_tab_carries_the_preview_policy(admin_client, section):
    article = ArticlePageFactory(parent=section)
    article.save_revision()

    response = admin_client.get(reverse("wagtailadmin_pages:view_draft", args=[article.pk]))

    assert response.status_code == 200
    assert csp_directives(response)["frame-ancestors"] == ["'self'"]
    assert csp_directives(response)["style-src"] == ["'self'"]


def test_an_undated_draft_previews_with_the_date_it_would_go_live(
    admin_client, section, time_machine
):
    time_machine.move_to("2026-03-05 14:30:00+00:00", tick=False)
    article = ArticlePageFactory(parent=section, date=None, live=False, first_published_at=None)

    soup = preview_of_edit(admin_client, article, body("Text."))

    assert "5 March 2026" in soup.find(class_="byline").get_text()
    article.refresh_from_db()
    assert article.date is None, "previewing must not date the draft"
