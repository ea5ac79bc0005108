"""Every subscribe form readers meet is a working form for the right newsletter."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Subscription
from tests.articles.factories import ArticlePageFactory, SeriesFactory, paragraph
from tests.newsletters.factories import IssuePageFactory
from tests.newsletters.forms import form_data, subscribe_forms
from tests.reader import read

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
    series = SeriesFactory(name="Coffee vs. Tea", label="CvT")
    series_newsletter.promoted_on.add(series)
    series_newsletter.save_revision().publish()  # as an editor names the series
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
    # The series' letter in the article, then the site-wide signup at the foot of the page.
    form, site_wide = forms_on(client, series_article.url)
    assert int(form_data(form)["newsletters"]) == series_newsletter.pk
    assert int(form_data(site_wide)["newsletters"]) == newsletter.pk

    submit(client, form, "reader@example.com", committed)

    subscription = Subscription.objects.get(subscriber__email="reader@example.com")
    assert subscription.newsletter_id == series_newsletter.pk
    assert subscription.source == series_article.url
    assert "Coffee vs. Tea" in mailbox.only()["Subject"]


def test_article_without_a_series_newsletter_promotes_the_default_one(
    client, section, newsletter, series_newsletter, plain_article
):
    in_series_without_newsletter = ArticlePageFactory(parent=section, series=SeriesFactory())

    assert promoted_on(client, plain_article.url) == [newsletter.pk, newsletter.pk]
    assert promoted_on(client, in_series_without_newsletter.url) == [newsletter.pk, newsletter.pk]


def test_a_series_newsletter_that_is_not_live_gives_way_to_the_default(
    client, newsletter, series_article, series_newsletter
):
    series_newsletter.unpublish()

    assert promoted_on(client, series_article.url) == [newsletter.pk, newsletter.pk]


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
    # The block's form for the chosen newsletter, the article's own promo, the site-wide one.
    assert [int(form_data(form)["newsletters"]) for form in forms] == [
        series_newsletter.pk,
        newsletter.pk,
        newsletter.pk,
    ]
    assert len({form.find("input", type="email")["id"] for form in forms}) == 3

    submit(client, forms[0], "reader@example.com", committed)

    assert Subscription.objects.get().newsletter_id == series_newsletter.pk
    assert len(mailbox) == 1


def test_issue_web_copy_offers_the_next_issue_by_email(client, newsletter):
    issue = IssuePageFactory(parent=newsletter)

    assert promoted_on(client, issue.url) == [newsletter.pk]


# The site-wide signup, and the one subscribe component every form comes from


@pytest.fixture
def reader_pages(section, plain_article):
    """One URL of each reader page kind outside the newsletters."""
    author = plain_article.authors[0]
    tagged = ArticlePageFactory(parent=section, tags=["trade"], series=SeriesFactory())
    return {
        "home": "/",
        "section": section.url,
        "article": plain_article.url,
        "author": author.get_absolute_url(),
        "series": tagged.series.get_absolute_url(),
        "tag": reverse("articles:tag", args=["trade"]),
        "search": reverse("articles:search") + "?q=port",
    }


def test_every_reader_page_ends_with_the_default_newsletters_signup(
    client, newsletter, series_newsletter, reader_pages
):
    for kind, url in reader_pages.items():
        soup = read(client, url)
        signup = soup.select_one(".site-signup form")
        assert signup is not None, f"{kind}: no site-wide signup"
        assert int(form_data(signup)["newsletters"]) == newsletter.pk, kind
        assert signup.find_parent("main") is None, f"{kind}: the signup is not at the page's foot"
        assert subscribe_forms(str(soup))[-1] == signup, f"{kind}: a form comes after it"


def test_newsletter_pages_carry_only_their_own_forms(
    client, newsletter_index, newsletter, series_newsletter
):
    issue = IssuePageFactory(parent=series_newsletter)

    assert promoted_on(client, series_newsletter.url) == [series_newsletter.pk]
    assert promoted_on(client, issue.url) == [series_newsletter.pk]
    assert sorted(promoted_on(client, newsletter_index.url)) == sorted(
        [newsletter.pk, series_newsletter.pk]
    )


def test_every_form_has_the_trap_hidden_from_people_and_screen_readers(
    client, newsletter_index, newsletter, series_newsletter, reader_pages
):
    for url in [*reader_pages.values(), newsletter_index.url, newsletter.url]:
        soup = read(client, url)
        ids = [element["id"] for element in soup.find_all(id=True)]
        assert len(ids) == len(set(ids)), f"{url}: ids repeat"
        for form in subscribe_forms(str(soup)):
            trap = form.find("input", attrs={"name": "website"})
            wrapper = trap.find_parent(class_="subscribe__trap")
            assert wrapper is not None and wrapper["aria-hidden"] == "true", url
            assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off", url
            email = form.find("input", type="email")
            assert form.find("label", attrs={"for": email["id"]}), f"{url}: unlabelled field"


def test_the_cadence_is_said_once_beside_a_newsletter(client, newsletter_index, series_newsletter):
    soup = read(client, newsletter_index.url)
    (card,) = soup.select(".newsletter-card")
    text = " ".join(card.get_text(" ").split())

    assert text.count("Every two weeks") == 1
    assert "Every two weeks" not in " ".join(card.select_one(".subscribe").get_text(" ").split())


def test_header_and_footer_lead_to_the_newsletters(client, newsletter_index, reader_pages):
    for kind, url in reader_pages.items():
        soup = read(client, url)
        assert soup.select_one("header.site-header nav a[href='/newsletters/']"), kind
        assert soup.select_one("footer.site-footer a[href='/newsletters/']"), kind


def test_without_a_newsletter_index_nothing_links_to_it(client, section):
    soup = read(client, section.url)

    assert not soup.select("a[href='/newsletters/']")
    assert not soup.select(".site-signup form")


def test_the_newsletter_archive_lists_issues_by_date_and_pages_after_twelve(client, newsletter):
    for number in range(1, 15):
        IssuePageFactory(
            parent=newsletter,
            title=f"The Weekly Steep, No. {number}",
            subject=f"Subject {number}",
            first_published_at=timezone.now() - timedelta(days=7 * (15 - number)),
        )

    first = read(client, newsletter.url)
    subjects = [a.get_text() for a in first.select(".issue-archive__subject a")]
    assert subjects == [f"Subject {n}" for n in range(14, 2, -1)]
    item = first.select_one(".issue-archive__item")
    assert item.select_one(".issue-archive__number").get_text() == "No. 14"
    assert item.find("time")["datetime"].startswith(str(timezone.now().date() - timedelta(7)))
    older = first.select_one(".pagination a[rel=next]")["href"]

    second = read(client, newsletter.url + older)
    assert [a.get_text() for a in second.select(".issue-archive__subject a")] == [
        "Subject 2",
        "Subject 1",
    ]
