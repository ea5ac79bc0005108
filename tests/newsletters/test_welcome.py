"""The welcome letter: sent once, by the task worker, to a reader who confirms; edited in the
admin like the rest of the newsletter."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend
from wagtail.test.utils.form_data import rich_text

from newsletters.models import Subscription, Suppression
from tests.newsletters.editor import issue_form
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.mail import html_links, html_part, local, text_links, text_part
from tests.newsletters.test_subscribe import BULK_HEADERS, confirm_link

pytestmark = pytest.mark.django_db

WELCOME = "Welcome to The Weekly Steep"


@pytest.fixture
def issues(newsletter):
    """Four live issues a week apart, No. 4 the newest, and a draft No. 5."""
    start = timezone.now() - timedelta(weeks=4)
    published = [
        IssuePageFactory(
            parent=newsletter,
            title=f"The Weekly Steep, No. {number}",
            slug=f"no-{number}",
            first_published_at=start + timedelta(weeks=number),
        )
        for number in range(1, 5)
    ]
    IssuePageFactory(parent=newsletter, title="The Weekly Steep, No. 5", slug="no-5", live=False)
    return published


@pytest.fixture
def confirm(client, signup, mailbox, committed):
    """Sign `address` up through the form and press the confirm button its email links to."""

    def run(address: str = "reader@example.com"):
        before = len(mailbox)
        signup(address)
        [confirmation] = mailbox.all()[before:]
        with committed():
            response = client.post(local(confirm_link(confirmation)))
        assert response.status_code == 200
        return local(confirm_link(confirmation))

    return run


def welcomes(mailbox, address: str = "reader@example.com"):
    return [message for message in mailbox.sent_to(address) if message["Subject"] == WELCOME]


def test_a_reader_who_confirms_gets_the_welcome_letter_with_the_latest_issues(
    confirm, mailbox, issues
):
    confirm()

    [message] = welcomes(mailbox)
    assert message["From"] == "The Weekly Steep <steep@outlet.example>"
    assert message["Reply-To"] == "letters@outlet.example"
    html, text = html_part(message), text_part(message)
    assert "Thank you for confirming." in html and "Thank you for confirming." in text
    newest = [f"http://localhost{issue.url}" for issue in reversed(issues[1:])]
    issue_links = [link for link in html_links(html) if "/no-" in link]
    assert issue_links == newest, "the three newest live issues, newest first; no draft"
    assert [link for link in text_links(text) if "/no-" in link] == newest
    assert "The Weekly Steep, No. 4" in html and "No. 1" not in html


def test_the_welcome_letter_is_transactional_without_bulk_headers(confirm, mailbox, issues):
    confirm()

    [message] = welcomes(mailbox)
    assert [name for name in BULK_HEADERS if name in message] == []
    preferences = [link for link in text_links(text_part(message)) if "/preferences/" in link]
    assert len(preferences) == 1, "a way to manage subscriptions, in the text, not a header"
    assert preferences[0] in html_links(html_part(message))


def test_confirming_twice_sends_one_welcome(client, confirm, mailbox, committed):
    path = confirm()
    with committed():
        client.post(path)

    assert len(welcomes(mailbox)) == 1


def test_a_reader_who_leaves_and_confirms_again_is_not_welcomed_twice(
    confirm, mailbox, time_machine
):
    confirm()
    subscription = Subscription.objects.get(subscriber__email="reader@example.com")
    subscription.status = Subscription.Status.UNSUBSCRIBED
    subscription.save()

    time_machine.move_to(timezone.now() + timedelta(hours=1))  # past the confirmation cooldown
    confirm()

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert len(welcomes(mailbox)) == 1
    assert len([m for m in mailbox.all() if m["Subject"].startswith("Confirm")]) == 2


def test_the_welcome_goes_through_the_task_worker_not_the_request(
    client, signup, mailbox, committed
):
    signup("reader@example.com")
    dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy):
        default_task_backend.clear()
        with committed():
            client.post(local(confirm_link(mailbox.only())))
        enqueued = [result.task.name for result in default_task_backend.results]

    assert enqueued == ["send_welcome"]
    assert welcomes(mailbox) == [], "nothing is sent until a worker runs the task"


def test_a_reader_whose_address_bounced_since_gets_no_welcome(client, signup, mailbox, committed):
    signup("reader@example.com")
    Suppression.add("reader@example.com", Suppression.Reason.BOUNCED)

    with committed():
        client.post(local(confirm_link(mailbox.only())))

    assert welcomes(mailbox) == []


def test_only_the_newsletter_just_confirmed_sends_its_welcome(
    client, signup, mailbox, committed, series_newsletter
):
    SubscriptionFactory(newsletter=series_newsletter, subscriber__email="reader@example.com")
    signup("reader@example.com")

    with committed():
        client.post(local(confirm_link(mailbox.only())))

    assert len(welcomes(mailbox)) == 1
    assert [m["Subject"] for m in mailbox.all()].count("Welcome to Coffee vs. Tea") == 0


def test_an_editor_rewrites_the_welcome_letter_in_the_admin(
    editor_client, newsletter, confirm, mailbox
):
    url = reverse("wagtailadmin_pages:edit", args=[newsletter.pk])
    form = issue_form(
        editor_client,
        url,
        welcome_message=rich_text("<p>Glad to have you. <b>Reply</b> with tips.</p>"),
        **{"action-publish": "Publish"},
    )
    response = editor_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]

    confirm()

    [message] = welcomes(mailbox)
    assert "<b>Reply</b> with tips." in html_part(message)
    assert "Glad to have you. Reply with tips." in text_part(message)
    assert "Thank you for confirming" not in text_part(message)
