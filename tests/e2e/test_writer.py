"""A writer logs into the admin and drafts an article, through the real editor UI."""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from articles.models import ArticlePage, Author, HomePage, SectionPage
from tests.e2e.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TITLE = "Why port fees matter more than tariffs"
# Wagtail's message after the save: "created" if the writer's click created the page, "updated"
# if autosave had created it first (as it may, under load) and the click saved it again.
SAVED = re.compile(rf"Page '{TITLE}' (created|has been updated)")


@pytest.fixture
def newsroom(django_db_serialized_rollback):
    section = SectionPage(title="Analysis", slug="analysis")
    HomePage.objects.get().add_child(instance=section)
    section.save_revision().publish()
    Author.objects.create(name="Ada Writer", slug="ada-writer")
    writer = User.objects.create_user("wendy", password="correct horse battery")
    writer.groups.add(Group.objects.get(name="Writers"))
    return section


def log_in_as_writer(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("wendy")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


# Wagtail's editor notices edits (and so autosaves) only once it has taken its first look at
# the form, about two seconds after the page loads; what is typed before that counts as the
# starting point. A person is slower than that; the test waits for it.
NOTE_WHEN_EDITS_ARE_WATCHED = """
document.addEventListener('w-unsaved:watch-edits', () => { window.editsWatched = true; });
"""


def draft_an_article(page, section):
    page.context.add_init_script(NOTE_WHEN_EDITS_ARE_WATCHED)
    page.goto(f"/admin/pages/add/articles/articlepage/{section.pk}/")
    page.wait_for_function("window.editsWatched === true")
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_dek").fill("A quieter lever of trade policy.")

    page.get_by_role("button", name="Choose author").first.click()
    page.locator(".modal-dialog").get_by_role("link", name="Ada Writer").click()
    expect(page.locator("#id_article_authors-0-author-chooser")).to_contain_text("Ada Writer")

    page.get_by_title("Insert a block").first.click()
    page.get_by_role("option", name=re.compile("Paragraph")).click()
    paragraph = page.locator("[data-contentpath='body'] .public-DraftEditor-content").first
    paragraph.click()
    page.keyboard.type("Shipping lines set the real price.")
    # Draftail writes its content to the form field shortly after typing stops.
    expect(page.locator("input[name='body-0-value']")).to_have_value(re.compile("Shipping lines"))


def assert_one_draft_by_wendy():
    (article,) = ArticlePage.objects.filter(title=TITLE)
    assert article.live is False
    assert article.owner.username == "wendy"
    assert [link.author.name for link in article.article_authors.all()] == ["Ada Writer"]
    assert "Shipping lines set the real price." in str(article.get_latest_revision_as_object().body)


def test_writer_logs_in_and_saves_a_draft_article(page, newsroom):
    log_in_as_writer(page)
    draft_an_article(page, newsroom)

    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".messages")).to_contain_text(SAVED)
    assert_one_draft_by_wendy()


def is_autosave_of_a_new_page(request) -> bool:
    return (
        request.method == "POST"
        and "/admin/pages/add/" in request.url
        and "application/json" in request.headers.get("accept", "")
    )


def test_save_pressed_while_autosave_creates_the_page_saves_that_page(page, newsroom):
    """The race the tester met: autosave has created the page on the server, its answer has
    not reached the browser, and the writer presses Save draft."""
    held = []

    def hold_the_first_answer(route):
        if held or not is_autosave_of_a_new_page(route.request):
            route.continue_()
            return
        answer = route.fetch()
        if not answer.ok:  # an autosave of a form not filled in yet (no author): no page
            route.fulfill(response=answer)
            return
        held.append((route, answer))  # the server has created the page

    log_in_as_writer(page)
    page.route("**/admin/pages/add/**", hold_the_first_answer)
    draft_an_article(page, newsroom)
    wait_until(page, lambda: held, "autosave to create the page")
    assert ArticlePage.objects.filter(title__startswith="Why").count() == 1

    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/admin/pages/add/"))  # the save waits
    route, answer = held[0]
    route.fulfill(response=answer)

    expect(page.locator(".messages")).to_contain_text(f"Page '{TITLE}' has been updated.")
    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit/"))
    assert_one_draft_by_wendy()
