"""Writers see no newsletter page anywhere in the admin, by Wagtail's own page permissions.

Every admin URL in the URL conf is requested as a writer: those without arguments as they are
and with a search for the newsletters' name; those that take a page with each newsletter page
in turn. Whatever the writer gets (a refusal, a 404, an empty listing), it must not name a
newsletter page. An admin URL whose arguments the probe cannot fill fails the test, so a new
URL is never left unchecked. The same probe run as an editor finds the pages, so it can see.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from wagtail.models import Page

from tests.articles.factories import ArticlePageFactory
from tests.newsletters.factories import (
    IssuePageFactory,
    NewsletterIndexPageFactory,
    NewsletterPageFactory,
)

pytestmark = pytest.mark.django_db

MARK = "marmalade"  # searched for; every newsletter page's title starts with it
TITLES = ["Marmalade letters", "Marmalade weekly", "Marmalade No. 1", "Marmalade No. 2"]
# A page named anywhere: its title (a search box only echoes the word searched for).
FOUND = re.compile("|".join(re.escape(title) for title in TITLES), re.IGNORECASE)

# Arguments that name a page: filled with each newsletter page in turn.
PAGE_ARGUMENTS = {"page_id", "parent_page_id", "page_to_move_id", "page_pk", "issue_id"}
# Arguments that name something no newsletter page can be reached through (images, documents,
# workflows, collections, redirects…): filled with an id that exists nowhere.
UNRELATED_ARGUMENTS = {
    "collection_id",
    "doc_id",
    "document_id",
    "image_id",
    "redirect_id",
    "session_id",
    "task_id",
    "task_state_id",
    "uploaded_file_id",
    "workflow_pk",
    "workflow_state_id",
    "filter_spec",
    "token",
    "uidb64",
}
# URLs that end the session or exist to fail.
NOT_PROBED = {"wagtailadmin_logout", "wagtailadmin_error_test", "test404"}
SEARCH = {"q": MARK, "search": MARK}


def admin_patterns(patterns=None, namespace=(), route=""):
    """(name, argument names) of every admin URL."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        here = route + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespace, pattern.namespace) if pattern.namespace else namespace
            yield from admin_patterns(pattern.url_patterns, inner, here)
        elif isinstance(pattern, URLPattern) and here.startswith("admin/"):
            name = ":".join((*namespace, pattern.name or ""))
            yield name, tuple(pattern.pattern.regex.groupindex)


@pytest.fixture
def newsletter_pages(home, section, editor, writer):
    """Newsletter pages in every state the admin lists: live, draft, locked, in a workflow,
    edited last (the page types report names the last edited page of each type)."""
    ArticlePageFactory(parent=section, title="A writer's own article", owner=writer)
    index = NewsletterIndexPageFactory(parent=home, title=TITLES[0], slug="letters")
    newsletter = NewsletterPageFactory(parent=index, title=TITLES[1], slug="weekly")
    live = IssuePageFactory(parent=newsletter, title=TITLES[2], slug="no-1")
    draft = IssuePageFactory(parent=newsletter, title=TITLES[3], slug="no-2", live=False)
    draft.save_revision(user=editor, log_action=True)
    draft.locked, draft.locked_by, draft.locked_at = True, editor, timezone.now()
    draft.save(update_fields=["locked", "locked_by", "locked_at"])
    workflow = live.get_workflow()
    live.save_revision(user=editor, log_action=True)
    workflow.start(live, editor)
    return [index, newsletter, live, draft]


def fillings(name: str, arguments: tuple, pages: list[Page], home) -> list[dict]:
    """The URL's arguments, once per newsletter page where it takes a page."""
    if not arguments:
        return [{}]
    unknown = set(arguments) - PAGE_ARGUMENTS - UNRELATED_ARGUMENTS - CONTEXTUAL - {"pk"}
    assert not unknown, f"{name}: the probe cannot fill {sorted(unknown)}; teach it"
    filled = []
    for page in pages:
        kwargs = {}
        for argument in arguments:
            if argument in PAGE_ARGUMENTS or (argument == "pk" and "pages" in name):
                # "pk" names a page in the page views and the pages API, else something else
                kwargs[argument] = page.pk
            elif argument in UNRELATED_ARGUMENTS or argument == "pk":
                kwargs[argument] = 987654 if argument.endswith(("id", "pk")) else "x1"
            else:
                kwargs[argument] = contextual(argument, page, home)
        filled.append(kwargs)
    return filled


CONTEXTUAL = {
    "action",
    "action_name",
    "app_label",
    "app_name",
    "content_type_app_name",
    "content_type_model_name",
    "destination_id",
    "model_name",
    "object_id",
    "revision_id",
    "revision_id_a",
    "revision_id_b",
}


def contextual(argument: str, page: Page, home):
    latest = page.get_latest_revision()
    return {
        "action": "delete",
        "action_name": "copy",
        "app_label": page._meta.app_label,
        "app_name": page._meta.app_label,
        "content_type_app_name": page._meta.app_label,
        "content_type_model_name": page._meta.model_name,
        "destination_id": home.pk,
        "model_name": page._meta.model_name,
        "object_id": page.pk,
        "revision_id": latest.pk if latest else 987654,
        "revision_id_a": "earliest",
        "revision_id_b": "latest",
    }[argument]


def probe(client: Client, pages: list[Page], home) -> dict[str, int]:
    """Every admin URL a GET can reach, and how often each named a newsletter page."""
    found = {}
    ids = "&".join(f"id={page.pk}" for page in pages)
    for name, arguments in sorted(set(admin_patterns())):
        if name in NOT_PROBED or not name or name.endswith(":"):  # unnamed: not reversible
            continue
        for kwargs in fillings(name, arguments, pages, home):
            url = reverse(name, kwargs=kwargs)
            # Listings take a search, and the pages API a parent too.
            queries = (
                [SEARCH]
                if kwargs
                else [SEARCH, {"child_of": pages[0].pk}, {"descendant_of": home.pk}]
            )
            for query in queries:
                response = client.get(f"{url}?{ids}", query)
                body = response.content.decode(errors="replace")
                if FOUND.search(body):
                    found[f"{url}?{ids}&{query}"] = response.status_code
    return found


def test_a_writer_meets_no_newsletter_page_anywhere_in_the_admin(writer, newsletter_pages, home):
    client = Client()
    client.force_login(writer)

    assert probe(client, newsletter_pages, home) == {}


def test_the_probe_finds_newsletter_pages_where_an_editor_looks(editor, newsletter_pages, home):
    client = Client()
    client.force_login(editor)

    found = probe(client, newsletter_pages, home)

    for where in ("/admin/pages/search/", "/admin/api/main/pages/", "/admin/choose-page/"):
        assert any(url.startswith(where) for url in found), where
    assert any(url.startswith("/admin/reports/locked/") for url in found)
