"""Who may open what: a permission matrix built from the URL conf, and writers kept out."""

import json

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from wagtail.models import PagePermissionTester

from newsletters.models import Delivery, IssuePage
from tests.articles.factories import ArticlePageFactory
from tests.newsletters.editor import edit_url, issue_form, logged_in
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.forms import newsletter_state

pytestmark = pytest.mark.django_db

NAMESPACES = ("newsletters_admin", "subscribers", "deliveries")
OK, POST_ONLY, DENIED, LOGIN = "200", "405 (POST only)", "denied", "sent to log in"
PERMISSION_DENIED = "Sorry, you do not have permission to access this area."

# What editors and superusers get on GET. Anonymous readers are always sent to log in, and
# writers are always refused. A URL added to the admin without an entry here fails the test.
EXPECTED = {
    "newsletters_admin:compile": (POST_ONLY, POST_ONLY),
    "newsletters_admin:send_test": (POST_ONLY, POST_ONLY),
    "newsletters_admin:publish": (POST_ONLY, POST_ONLY),
    "newsletters_admin:retry": (POST_ONLY, POST_ONLY),
    "newsletters_admin:resume": (POST_ONLY, POST_ONLY),
    "newsletters_admin:delivery": (OK, OK),
    "newsletters_admin:correction": (OK, OK),  # says to whom; mailing takes a POST
    "newsletters_admin:import": (OK, OK),
    "newsletters_admin:export": (OK, OK),
    "newsletters_admin:erase": (OK, OK),  # a confirmation page; erasing takes a POST
    "subscribers:index": (OK, OK),
    "subscribers:index_results": (OK, OK),
    "subscribers:add": (OK, OK),
    "subscribers:edit": (OK, OK),
    # A subscriber leaves through "Erase (GDPR)", never a plain delete that keeps no hash.
    "subscribers:delete": (DENIED, DENIED),
    "subscribers:history": (OK, OK),
    "subscribers:history_results": (OK, OK),
    "subscribers:usage": (OK, OK),
    "subscribers:inspect": (OK, OK),
    "deliveries:index": (OK, OK),
    "deliveries:index_results": (OK, OK),
    "deliveries:inspect": (OK, OK),
    # The ledger is written by delivery alone: editors watch it, nobody edits rows by hand.
    "deliveries:add": (DENIED, DENIED),
    "deliveries:edit": (DENIED, DENIED),
    "deliveries:delete": (DENIED, DENIED),
    "deliveries:history": (DENIED, DENIED),
    "deliveries:history_results": (DENIED, DENIED),
    "deliveries:usage": (DENIED, DENIED),
}


def admin_urls(patterns=None, namespace=()):
    """(name, its URL arguments) of every URL in the newsletter namespaces, from the URL conf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespace, pattern.namespace) if pattern.namespace else namespace
            yield from admin_urls(pattern.url_patterns, inner)
        elif namespace and namespace[-1] in NAMESPACES:
            yield f"{namespace[-1]}:{pattern.name}", tuple(pattern.pattern.converters)


URLS = sorted(set(admin_urls()))


@pytest.fixture
def objects(newsletter, section):
    issue = IssuePageFactory(parent=newsletter)
    subscriber = SubscriptionFactory(newsletter=newsletter).subscriber
    delivery = Delivery.objects.create(issue=issue, subscriber=subscriber)
    article = ArticlePageFactory(parent=section)
    return {
        "issue_id": issue.pk,
        "subscriber": subscriber.pk,
        "delivery": delivery.pk,
        "page_id": article.pk,
    }


def concrete(name: str, arguments: tuple, objects: dict) -> str:
    """The URL with each int argument filled with the pk of a real object of the right kind."""
    kwargs = {}
    for argument in arguments:
        if argument in ("issue_id", "page_id"):
            kwargs[argument] = objects[argument]
        elif argument == "pk" and name.startswith("deliveries:"):
            kwargs[argument] = objects["delivery"]
        elif argument == "pk":
            kwargs[argument] = objects["subscriber"]
        else:
            raise AssertionError(f"{name}: no object to fill in its argument {argument!r}")
    return reverse(name, kwargs=kwargs)


def test_the_matrix_covers_every_newsletter_admin_url():
    found = {name for name, _ in URLS}

    assert found - EXPECTED.keys() == set(), "admin URLs with no expected answer"
    assert EXPECTED.keys() - found == set(), "expected answers for URLs that no longer exist"


def is_denied(response) -> bool:
    """Refused the way the admin refuses: 403, or home with Wagtail's permission message."""
    if response.status_code == 403:
        return True
    if response.status_code != 302 or response["Location"] != reverse("wagtailadmin_home"):
        return False
    return PERMISSION_DENIED in [str(m).strip() for m in response.wsgi_request._messages]


def assert_denied(response):
    assert is_denied(response), (response.status_code, response.get("Location"))


def answer(response) -> str:
    """What the user got, in the matrix's words."""
    if response.status_code == 302 and response["Location"].startswith(
        reverse("wagtailadmin_login")
    ):
        return LOGIN
    if is_denied(response):
        return DENIED
    return {200: OK, 405: POST_ONLY}.get(response.status_code, str(response.status_code))


def expected_answer(role: str, name: str) -> str:
    if role == "anonymous":
        return LOGIN
    if role == "writer":
        return DENIED
    return EXPECTED[name][0 if role == "editor" else 1]


@pytest.mark.parametrize("role", ["anonymous", "writer", "editor", "superuser"])
def test_every_newsletter_admin_url_answers_each_role_as_the_matrix_says(request, objects, role):
    client = Client() if role == "anonymous" else logged_in(request.getfixturevalue(role))
    before = newsletter_state()
    wrong = {}

    for name, arguments in URLS:
        assert name in EXPECTED, f"{name} is missing from the permission matrix"
        url = concrete(name, arguments, objects)
        expected = expected_answer(role, name)
        response = client.get(url)
        if role == "writer" and EXPECTED[name][0] == POST_ONLY:
            # A POST-only view turns a GET away before asking who is there: POST as well.
            response = client.post(url)
        if (got := answer(response)) != expected:
            wrong[name] = f"expected {expected}, got {got}"

    assert wrong == {}
    assert newsletter_state() == before, "a request in the matrix changed something"


# Writers never see newsletters or subscribers


def sidebar_labels(client) -> str:
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    props = BeautifulSoup(response.content, "html.parser").find(id="wagtail-sidebar-props")
    return json.dumps(json.loads(props.string))


def test_the_admin_menu_shows_writers_no_newsletters_or_subscribers(writer_client, editor_client):
    assert '"Newsletters"' in sidebar_labels(editor_client)  # the check can see the menu
    assert '"Subscribers"' in sidebar_labels(editor_client)

    writer_menu = sidebar_labels(writer_client)
    assert '"Newsletters"' not in writer_menu
    assert '"Subscribers"' not in writer_menu
    assert '"Deliveries"' not in writer_menu


def explorer_rows(client, page) -> list[str]:
    """The titles of the pages listed under `page` in the page explorer."""
    response = client.get(reverse("wagtailadmin_explore", args=[page.pk]))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    return [" ".join(row.get_text().split()) for row in soup.select("main table tbody tr")]


def test_the_page_explorer_hides_newsletter_pages_from_writers(
    writer_client, editor_client, home, section, newsletter
):
    from tests.articles.factories import SectionPageFactory

    SectionPageFactory(parent=home, title="Briefings", slug="briefings")
    editor_sees = " | ".join(explorer_rows(editor_client, home))
    writer_sees = " | ".join(explorer_rows(writer_client, home))

    assert "Analysis" in editor_sees and "Newsletters" in editor_sees
    assert "Analysis" in writer_sees and "Briefings" in writer_sees
    assert "Newsletters" not in writer_sees


def test_wagtails_own_page_permissions_keep_writers_off_newsletter_pages(
    writer, editor, section, newsletter
):
    issue = IssuePageFactory(parent=newsletter)

    assert section.permissions_for_user(writer).can_add_subpage()
    for page in (newsletter.get_parent(), newsletter, issue):
        assert PagePermissionTester(writer, page).permissions == set()
        assert not page.permissions_for_user(writer).can_edit()
        assert page.permissions_for_user(editor).can_edit()


def test_managing_newsletters_is_a_permission_of_its_own(writer, editor):
    assert editor.has_perm("newsletters.manage_newsletters")
    assert not writer.has_perm("newsletters.manage_newsletters")


def test_a_writer_cannot_open_or_change_an_issue(writer_client, editor_client, newsletter):
    issue = IssuePageFactory(parent=newsletter, subject="The subject as sent")
    form = issue_form(editor_client, edit_url(issue), subject="Rewritten by a writer")

    opened = writer_client.get(edit_url(issue))
    changed = writer_client.post(edit_url(issue), form)

    assert_denied(opened)
    assert_denied(changed)
    stored = IssuePage.objects.get(pk=issue.pk)
    assert stored.get_latest_revision_as_object().subject == "The subject as sent"
    assert not stored.revisions.exists()


def test_a_writer_cannot_add_an_issue(writer_client, newsletter):
    url = reverse("wagtailadmin_pages:add", args=["newsletters", "issuepage", newsletter.pk])

    assert_denied(writer_client.get(url))


def test_writers_dashboard_has_no_delivery_panel(writer_client, editor_client):
    assert "newsletter_deliveries" not in writer_client.get("/admin/").content.decode()
