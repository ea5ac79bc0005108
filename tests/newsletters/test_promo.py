"""Every subscribe form readers meet is a working form for the right newsletter."""

import pytest
from django.urls import reverse

from newsletters.models import Subscription
from tests.factories import ArticlePageFactory, SeriesFactory, paragraph
from tests.newsletters.conftest import form_data, subscribe_forms
from tests.newsletters.factories import IssuePageFactory

pytestmark = pytest.mark.django_db


def forms_on(client, url: str) -> list:
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} → {response.status_code}"
    return subscribe_forms(response.content.decode())


def promoted_on(client, url: str) -> list[int]:
    """The newsletter each subscribe form on the page subscribes to, in page order."""
    return [int(form_data(form)["newsletters"]) for form in forms_on(client, url)]


def submit(client, form, address: str, committed):
    data = form_data(form)
    data["email"] = address
    with committed():
        return client.post(form["action"], data)


@pytest.fixture
def series_article(section, series_newsletter):
    series = SeriesFactory(name="Coffee vs. Tea", label="CvT", newsletter=series_newsletter)
    return ArticlePageFactory(parent=section, title="Beans and leaves", series=series)


@pytest.fixture
def plain_article(section):
    return ArticlePageFactory(parent=section, title="Port fees, explained")


def test_newsletter_page_form_subscribes_to_that_newsletter(
    client, newsletter, series_newsletter, mailbox, committed
):
    (form,) = forms_on(client, series_newsletter.url)

    response = submit(client, form, "reader@example.com", committed)

    assert response.status_code == 302
    assert response["Location"] == reverse("newsletters:check_inbox")
    subscription = Subscription.objects.get(subscriber__email="reader@example.com")
    assert subscription.newsletter_id == series_newsletter.pk
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.source == series_newsletter.url
    assert mailbox.only()["To"] == "reader@example.com"


def test_index_page_has_one_working_form_per_newsletter(
    client, newsletter_index, newsletter, series_newsletter, mailbox, committed
):
    forms = forms_on(client, newsletter_index.url)
    assert sorted(int(form_data(form)["newsletters"]) for form in forms) == sorted(
        [newsletter.pk, series_newsletter.pk]
    )

    for number, form in enumerate(forms):
        submit(client, form, f"reader{number}@example.com", committed)

    subscribed = dict(Subscription.objects.values_list("subscriber__email", "newsletter_id"))
    assert subscribed == {
        f"reader{number}@example.com": int(form_data(form)["newsletters"])
        for number, form in enumerate(forms)
    }
    assert len(mailbox) == 2


def test_home_page_promotes_the_default_newsletter(client, home, newsletter, series_newsletter):
    assert promoted_on(client, home.url) == [newsletter.pk]


def test_article_in_a_series_with_a_newsletter_promotes_that_newsletter(
    client, newsletter, series_article, series_newsletter, mailbox, committed
):
    (form,) = forms_on(client, series_article.url)
    assert int(form_data(form)["newsletters"]) == series_newsletter.pk

    submit(client, form, "reader@example.com", committed)

    subscription = Subscription.objects.get(subscriber__email="reader@example.com")
    assert subscription.newsletter_id == series_newsletter.pk
    assert subscription.source == series_article.url
    assert "Coffee vs. Tea" in mailbox.only()["Subject"]


def test_article_without_a_series_newsletter_promotes_the_default_one(
    client, section, newsletter, series_newsletter, plain_article
):
    in_series_without_newsletter = ArticlePageFactory(
        parent=section, series=SeriesFactory(newsletter=None)
    )

    assert promoted_on(client, plain_article.url) == [newsletter.pk]
    assert promoted_on(client, in_series_without_newsletter.url) == [newsletter.pk]


def test_a_series_newsletter_that_is_not_live_gives_way_to_the_default(
    client, newsletter, series_article, series_newsletter
):
    series_newsletter.unpublish()

    assert promoted_on(client, series_article.url) == [newsletter.pk]


def test_without_a_live_newsletter_articles_show_no_form(client, newsletter, plain_article):
    newsletter.unpublish()

    assert promoted_on(client, plain_article.url) == []


def test_signup_block_in_an_article_body_is_a_working_form(
    client, section, newsletter, series_newsletter, mailbox, committed
):
    article = ArticlePageFactory(
        parent=section,
        body=[
            paragraph("Before the form."),
            {"type": "newsletter_signup", "value": {"newsletter": series_newsletter.pk}},
        ],
    )
    forms = forms_on(client, article.url)
    # The block's form for the chosen newsletter, then the article's own promo.
    assert [int(form_data(form)["newsletters"]) for form in forms] == [
        series_newsletter.pk,
        newsletter.pk,
    ]
    assert len({form.find("input", type="email")["id"] for form in forms}) == 2

    submit(client, forms[0], "reader@example.com", committed)

    assert Subscription.objects.get().newsletter_id == series_newsletter.pk
    assert len(mailbox) == 1


def test_issue_web_copy_offers_the_next_issue_by_email(client, newsletter):
    issue = IssuePageFactory(parent=newsletter)

    assert promoted_on(client, issue.url) == [newsletter.pk]
