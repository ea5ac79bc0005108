"""One rule on who may be emailed, consulted by every path that can lead to an email.

A bounced or complained address gets nothing (also after a GDPR erase), and the reader's page
reads as anyone's; an address that unsubscribed from everything, or was erased, may opt in
again through double opt-in. Each path is tried for each kind of suppressed address.
"""

import re

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from newsletters import subscribing, tokens
from newsletters.gdpr import erase_subscriber
from newsletters.ledger import open_send
from newsletters.models import Delivery, Subscriber, Subscription, Suppression
from newsletters.suppression import suppress
from tests.newsletters.editor import csv_file, logged_in, messages_of, press, report, run_import
from tests.newsletters.factories import IssuePageFactory, SubscriberFactory, SubscriptionFactory
from tests.newsletters.mail import local, text_links, text_part

pytestmark = pytest.mark.django_db

Status = Subscription.Status
Reason = Suppression.Reason
ADDRESS = "kept.out@example.com"


def bounced(newsletter):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    suppress(subscriber, Reason.BOUNCED)


def complained(newsletter):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    suppress(subscriber, Reason.COMPLAINED)


def erased_after_bounce(newsletter):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    suppress(subscriber, Reason.BOUNCED)
    erase_subscriber(Subscriber.objects.get(pk=subscriber.pk))


NEVER_MAILED = {
    "bounced": bounced,
    "complained": complained,
    "erased after a bounce": erased_after_bounce,
}


@pytest.fixture(params=NEVER_MAILED.values(), ids=NEVER_MAILED.keys())
def kept_out(request, newsletter):
    """ADDRESS, suppressed in one of the ways that mean: never mail it again."""
    request.param(newsletter)
    return ADDRESS


def page_text(response) -> str:
    """What the reader reads, without the per-reader tokens in links and forms."""
    soup = BeautifulSoup(response.content, "html.parser")
    main = soup.find("main") or soup
    text = " ".join(main.get_text(" ").split())
    return re.sub(r"/subscriptions/[^\s\"']+", "/subscriptions/…", text)


# The subscribe form


def test_the_form_mails_a_suppressed_address_nothing_and_says_what_it_says_to_anyone(
    client, signup, mailbox, kept_out
):
    before = set(Subscriber.objects.values_list("pk", "status"))

    suppressed = signup(kept_out.upper(), ip="198.51.100.1")
    anyone = signup("someone.new@example.com", ip="198.51.100.2")

    assert len(mailbox) == 1 and mailbox.only()["To"] == "someone.new@example.com"
    assert (suppressed.status_code, suppressed["Location"]) == (302, anyone["Location"])
    assert page_text(client.get(suppressed["Location"])) == page_text(
        client.get(anyone["Location"])
    )
    assert (
        set(Subscriber.objects.exclude(email="someone.new@example.com").values_list("pk", "status"))
        == before
    )


def test_an_address_that_unsubscribed_from_everything_may_opt_in_again(
    client, signup, mailbox, newsletter
):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    subscribing.unsubscribe(subscriber)

    signup(ADDRESS)
    (link,) = [url for url in text_links(text_part(mailbox.only())) if "/confirm/" in url]
    client.post(local(link))

    assert Subscription.objects.get(subscriber=subscriber).status == Status.ACTIVE
    assert not Suppression.covers(ADDRESS)


def test_an_erased_address_may_opt_in_again(client, signup, mailbox, newsletter):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    erase_subscriber(subscriber)

    signup(ADDRESS)
    (link,) = [url for url in text_links(text_part(mailbox.only())) if "/confirm/" in url]
    client.post(local(link))

    assert Subscription.objects.get(subscriber__email=ADDRESS).status == Status.ACTIVE
    assert not Suppression.covers(ADDRESS), "their own opt-in lifts the erasure's block"


# Confirming, and the confirmation email


@pytest.fixture
def pending(newsletter):
    """A reader who asked for the newsletter and holds a confirmation link."""
    subscription = SubscriptionFactory(
        newsletter=newsletter, subscriber__email=ADDRESS, status=Status.PENDING, confirmed_at=None
    )
    subscriber = subscription.subscriber
    return subscriber, local(
        "http://localhost"
        + reverse("newsletters:confirm", args=[tokens.make(tokens.CONFIRM, subscriber)])
    )


@pytest.mark.parametrize("reason", [Reason.BOUNCED, Reason.COMPLAINED])
def test_confirming_switches_nothing_on_for_an_address_that_bounced_since(
    client, pending, newsletter, reason
):
    subscriber, link = pending
    other = SubscriptionFactory(
        newsletter=newsletter, status=Status.PENDING, confirmed_at=None
    ).subscriber
    other_link = reverse("newsletters:confirm", args=[tokens.make(tokens.CONFIRM, other)])
    suppress(subscriber, reason)

    response = client.post(link)

    assert not Subscription.objects.filter(subscriber=subscriber, status=Status.ACTIVE).exists()
    assert response.status_code == 200
    assert page_text(response) == page_text(client.post(other_link))


def test_a_confirmation_email_is_not_sent_to_an_address_that_bounced_meanwhile(newsletter, mailbox):
    subscriber = SubscriberFactory(email=ADDRESS)
    suppress(subscriber, Reason.BOUNCED)

    subscribing.send_confirmation_email(subscriber.pk, [newsletter.pk])

    assert len(mailbox) == 0


# The preference centre


@pytest.mark.parametrize("reason", [Reason.BOUNCED, Reason.COMPLAINED])
def test_re_ticking_a_newsletter_switches_nothing_on_for_a_suppressed_address(
    client, newsletter, reason
):
    subscription = SubscriptionFactory(
        newsletter=newsletter, subscriber__email=ADDRESS, status=Status.UNSUBSCRIBED
    )
    subscriber = subscription.subscriber
    suppress(subscriber, reason)
    path = reverse("newsletters:preferences", args=[tokens.make(tokens.PREFERENCES, subscriber)])

    response = client.post(path, {"newsletters": [newsletter.pk]})

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Status.UNSUBSCRIBED
    assert "saved" in page_text(response).lower()


# CSV import and the admin


def test_an_import_never_brings_a_suppressed_address_back(editor_client, newsletter, kept_out):
    response = run_import(editor_client, newsletter, csv_file("email", kept_out.title()))

    assert report(response) == "Import finished: 1 suppressed."
    assert not Subscription.objects.mailable(newsletter.pk).filter(subscriber__email=ADDRESS)


@pytest.mark.parametrize("reason", list(Reason))
def test_the_admin_will_not_add_a_suppressed_address(editor_client, newsletter, reason):
    Suppression.add(ADDRESS, reason)

    response = editor_client.post(
        reverse("subscribers:add"), {"email": ADDRESS, "name": "", "status": "active"}
    )

    assert response.status_code == 200
    assert "Outlet does not mail this address" in str(response.context["form"].errors)
    assert not Subscriber.objects.exists()


def test_the_admin_will_not_make_a_bounced_subscriber_active_again(editor_client, newsletter):
    bounced(newsletter)
    subscriber = Subscriber.objects.get(email=ADDRESS)

    response = editor_client.post(
        reverse("subscribers:edit", args=[subscriber.pk]),
        {"email": ADDRESS, "name": "", "status": "active"},
    )

    assert response.status_code == 200
    assert "never mails it again" in str(response.context["form"].errors["status"])
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED


def test_marking_a_subscriber_bounced_in_the_admin_suppresses_the_address(
    editor_client, newsletter
):
    subscriber = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber

    editor_client.post(
        reverse("subscribers:edit", args=[subscriber.pk]),
        {"email": ADDRESS, "name": "", "status": "bounced"},
    )

    assert Suppression.reason_for(ADDRESS) == Reason.BOUNCED


# The audience of an issue


def test_the_ledger_leaves_out_a_suppressed_address_whatever_its_rows_say(newsletter):
    # Rows that disagree with the suppression (written before the rule, or by hand).
    kept_out = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    Suppression.add(ADDRESS, Reason.COMPLAINED)
    reader = SubscriptionFactory(newsletter=newsletter).subscriber
    issue = IssuePageFactory(parent=newsletter)

    send = open_send(issue)

    assert send.recipients == 1
    assert list(Delivery.objects.values_list("subscriber_id", flat=True)) == [reader.pk]
    assert kept_out.pk not in Subscription.objects.mailable(newsletter.pk).values_list(
        "subscriber_id", flat=True
    )


# Test sends


def test_a_test_send_to_a_suppressed_reader_is_refused_and_to_staff_allowed(
    editor, newsletter, mailbox, kept_out
):
    from tests.articles.factories import UserFactory

    UserFactory(username="colleague", email="colleague@example.org", groups=["Writers"])
    issue = IssuePageFactory(parent=newsletter)
    editor.email = "editor@example.org"
    editor.save()

    response = press(
        logged_in(editor),
        "send_test",
        issue,
        follow=True,
        test_recipients=f"{kept_out}, colleague@example.org",
    )

    assert sorted(m["To"] for m in mailbox.all()) == [
        "colleague@example.org",
        "editor@example.org",
    ]
    assert any(ADDRESS in m and "suppressed" in m for m in messages_of(response))
