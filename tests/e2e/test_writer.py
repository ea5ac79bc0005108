"""A writer logs into the admin and drafts an article, through the real editor UI."""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from articles.models import ArticlePage, Author, HomePage, SectionPage

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def newsroom(django_db_serialized_rollback):
    section = SectionPage(title="Analysis", slug="analysis")
    HomePage.objects.get().add_child(instance=section)
    section.save_revision().publish()
    Author.objects.create(name="Ada Writer", slug="ada-writer")
    writer = User.objects.create_user("wendy", password="correct horse battery")
    writer.groups.add(Group.objects.get(name="Writers"))
    return section


def test_writer_logs_in_and_saves_a_draft_article(page, newsroom):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("wendy")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto(f"/admin/pages/add/articles/articlepage/{newsroom.pk}/")
    page.locator("#id_title").fill("Why port fees matter more than tariffs")
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

    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".messages")).to_contain_text("created")
    article = ArticlePage.objects.get(title="Why port fees matter more than tariffs")
    assert article.live is False
    assert article.owner.username == "wendy"
    assert [link.author.name for link in article.article_authors.all()] == ["Ada Writer"]
    assert "Shipping lines set the real price." in str(article.get_latest_revision_as_object().body)
