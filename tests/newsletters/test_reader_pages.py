"""The newsletter pages readers read: an issue's web copy and the preference centre."""

import pytest
from django.urls import reverse

from newsletters import tokens
from tests.articles.factories import ArticlePageFactory, AuthorFactory, ImageFactory
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.reader import read, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(newsletter, section):
    pictured = ArticlePageFactory(
        parent=section,
        title="Why tariffs stick",
        hero_image=ImageFactory(description="Cranes over the container terminal"),
        authors=[AuthorFactory(name="Li Wei"), AuthorFactory(name="Ana Costa")],
    )
    plain = ArticlePageFactory(parent=section, title="Chips, year two")
    return IssuePageFactory(
        parent=newsletter,
        title="The Weekly Steep, No. 7",
        subject="Tariffs and chips",
        items=[pictured, plain],
        closing_note="<p>Reply to this email: it reaches the editors.</p>",
    )


def test_the_issue_web_copy_names_the_issue_and_shows_each_article(client, issue):
    soup = read(client, issue.url)

    assert text_of(soup, "h1") == "Tariffs and chips"
    assert text_of(soup, ".issue__dateline").startswith("No. 7 · ")
    lead, other = soup.select(".issue__item")
    assert lead.find("img")["alt"] == "Cranes over the container terminal"
    assert text_of(lead, ".issue__byline") == "By Li Wei and Ana Costa"
    assert other.find("img") is None, "no picture for an article without one of its own"


def test_the_issue_web_copy_leaves_out_what_only_an_email_says(client, issue):
    text = " ".join(read(client, issue.url).find("main").get_text(" ").split())

    assert "Reply to this email" not in text
    assert "Unsubscribe" not in text
    assert "Manage your newsletters" not in text
    assert "Get the next issue by email" in text


def test_the_preference_centre_describes_each_newsletter_and_sets_leaving_apart(
    client, newsletter, series_newsletter
):
    reader = SubscriptionFactory(newsletter=newsletter).subscriber
    token = tokens.make(tokens.PREFERENCES, reader)
    soup = read(client, reverse("newsletters:preferences", args=[token]))

    choices = soup.select(".preferences-form__choice")
    assert [text_of(c, ".preferences-form__title") for c in choices] == [
        "Coffee vs. Tea",
        "The Weekly Steep",
    ]
    assert text_of(choices[0], ".preferences-form__description") == series_newsletter.description
    save = soup.find("button", string="Save my choices").find_parent("form")
    leave = soup.find("button", attrs={"name": "unsubscribe_all"}).find_parent("form")
    assert save is not leave
    assert save.find("button", attrs={"name": "unsubscribe_all"}) is None
    assert leave.find_parent("section").h2.get_text() == "Leave everything"
