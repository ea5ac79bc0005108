"""Links in emails: signed, purpose-bound, revocable; a bad one says so and changes nothing.

Also the pages they lead to: one-click unsubscribe (RFC 8058) and the preference centre.
"""

import email
from datetime import timedelta
from email import policy
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from newsletters import tokens
from newsletters.models import Subscriber, Subscription, Suppression
from newsletters.rendering import render_issue, token_url
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.forms import newsletter_state
from tests.newsletters.mail import local

pytestmark = pytest.mark.django_db

Status = Subscription.Status
VIEW_FOR = {
    tokens.CONFIRM: "newsletters:confirm",
    tokens.UNSUBSCRIBE: "newsletters:unsubscribe",
    tokens.PREFERENCES: "newsletters:preferences",
}


@pytest.fixture
def reader(newsletter, series_newsletter):
    """Subscribed to the weekly, still to confirm the series newsletter."""
    subscription = SubscriptionFactory(newsletter=newsletter, subscriber__email="ada@example.com")
    SubscriptionFactory(
        newsletter=series_newsletter,
        subscriber=subscription.subscriber,
        status=Status.PENDING,
        confirmed_at=None,
    )
    return subscription.subscriber


def token_for(purpose: str, subscriber, newsletter) -> str:
    newsletter_id = newsletter.pk if purpose == tokens.UNSUBSCRIBE else None
    return tokens.make(purpose, subscriber, newsletter_id)


def link(purpose: str, token: str) -> str:
    return reverse(VIEW_FOR[purpose], args=[token])


def one_click(client, path):
    """What a mailbox provider sends for RFC 8058: a bare form POST, no cookie, no CSRF token."""
    return client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )


def assert_bad_link(response):
    assert response.status_code == 400
    if response.request["REQUEST_METHOD"] != "HEAD":
        text = response.content.decode()
        assert "This link does not work" in text
        assert "Nothing has been changed" in text


def press(client, purpose: str, path: str):
    """The change each page's button makes."""
    if purpose == tokens.PREFERENCES:
        return client.post(path, {"unsubscribe_all": "1"})
    return client.post(path)


# Bad tokens


def tampered(token: str) -> str:
    head, _, signature = token.rpartition(":")
    flipped = "A" if signature[5] != "A" else "B"
    return f"{head}:{signature[:5]}{flipped}{signature[6:]}"


def for_someone_else(token: str, other) -> str:
    """The payload swapped for another subscriber's, the signature kept."""
    _, timestamp, signature = token.split(":")
    payload = signing.b64_encode(signing.JSONSerializer().dumps([other.pk, 1, 1])).decode()
    return f"{payload}:{timestamp}:{signature}"


BREAKAGES = {
    "tampered signature": lambda token, other: tampered(token),
    "truncated": lambda token, other: token[:-6],
    "payload swapped": for_someone_else,
    "not a token": lambda token, other: "hello",
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
@pytest.mark.parametrize("purpose", VIEW_FOR.keys())
def test_a_broken_link_says_so_and_changes_nothing(client, reader, newsletter, purpose, breakage):
    other = SubscriptionFactory(newsletter=newsletter).subscriber
    path = link(purpose, breakage(token_for(purpose, reader, newsletter), other))
    before = newsletter_state()

    assert_bad_link(client.get(path))
    assert_bad_link(client.head(path))
    assert_bad_link(press(client, purpose, path))
    assert newsletter_state() == before


CROSS_PURPOSE = [
    (tokens.CONFIRM, tokens.UNSUBSCRIBE),
    (tokens.CONFIRM, tokens.PREFERENCES),
    (tokens.UNSUBSCRIBE, tokens.CONFIRM),
    (tokens.UNSUBSCRIBE, tokens.PREFERENCES),
    (tokens.PREFERENCES, tokens.UNSUBSCRIBE),
    (tokens.PREFERENCES, tokens.CONFIRM),
]


@pytest.mark.parametrize(
    ("made_for", "used_on"), CROSS_PURPOSE, ids=[f"{a} on {b}" for a, b in CROSS_PURPOSE]
)
def test_a_token_for_one_purpose_does_nothing_on_another(
    client, reader, newsletter, made_for, used_on
):
    path = link(used_on, token_for(made_for, reader, newsletter))
    before = newsletter_state()

    assert_bad_link(client.get(path))
    assert_bad_link(press(client, used_on, path))
    assert newsletter_state() == before


@pytest.mark.parametrize("purpose", VIEW_FOR.keys())
def test_a_revoked_link_says_so_and_changes_nothing(client, reader, newsletter, purpose):
    path = link(purpose, token_for(purpose, reader, newsletter))
    Subscriber.objects.filter(pk=reader.pk).update(token_version=reader.token_version + 1)
    before = newsletter_state()

    assert_bad_link(client.get(path))
    assert_bad_link(press(client, purpose, path))
    assert newsletter_state() == before


@pytest.mark.parametrize("purpose", VIEW_FOR.keys())
def test_a_link_for_an_erased_subscriber_says_so(client, reader, newsletter, purpose):
    path = link(purpose, token_for(purpose, reader, newsletter))
    reader.delete()

    assert_bad_link(press(client, purpose, path))


def test_a_validly_signed_but_malformed_payload_is_a_bad_link(client, reader):
    path = link(
        tokens.UNSUBSCRIBE, signing.dumps({"id": reader.pk}, salt="newsletters.unsubscribe")
    )
    before = newsletter_state()

    assert_bad_link(one_click(client, path))
    assert newsletter_state() == before


EXPIRY = {
    tokens.CONFIRM: timedelta(days=7),
    tokens.UNSUBSCRIBE: timedelta(days=3 * 365),
    tokens.PREFERENCES: timedelta(days=3 * 365),
}


@pytest.mark.parametrize("purpose", VIEW_FOR.keys())
def test_an_expired_link_says_so_and_changes_nothing(client, reader, newsletter, purpose):
    with freeze_time("2026-01-05 08:00:00") as clock:
        path = link(purpose, token_for(purpose, reader, newsletter))
        clock.tick(EXPIRY[purpose] + timedelta(minutes=1))
        before = newsletter_state()

        assert_bad_link(client.get(path))
        assert_bad_link(press(client, purpose, path))
    assert newsletter_state() == before


def test_a_confirmation_link_works_for_a_week(client, reader, newsletter):
    with freeze_time("2026-01-05 08:00:00") as clock:
        path = link(tokens.CONFIRM, token_for(tokens.CONFIRM, reader, newsletter))
        clock.tick(timedelta(days=6, hours=23))
        assert client.post(path).status_code == 200
    assert not reader.subscriptions.filter(status=Status.PENDING).exists()


@pytest.mark.parametrize("age", [timedelta(days=366), timedelta(days=2 * 365)], ids=str)
def test_unsubscribe_and_preference_links_work_for_more_than_a_year(
    client, reader, newsletter, age
):
    with freeze_time("2026-01-05 08:00:00") as clock:
        unsubscribe = link(tokens.UNSUBSCRIBE, token_for(tokens.UNSUBSCRIBE, reader, newsletter))
        preferences = link(tokens.PREFERENCES, token_for(tokens.PREFERENCES, reader, newsletter))
        clock.tick(age)

        assert client.get(preferences).status_code == 200
        assert one_click(client, unsubscribe).status_code == 200
    assert reader.subscriptions.get(newsletter=newsletter).status == Status.UNSUBSCRIBED


def test_unsubscribe_links_survive_a_secret_key_rotation(client, reader, newsletter):
    with override_settings(SECRET_KEY="the-key-of-last-year-0123456789abcdefghijkl"):
        path = link(tokens.UNSUBSCRIBE, token_for(tokens.UNSUBSCRIBE, reader, newsletter))

    with override_settings(
        SECRET_KEY="the-key-of-this-year-9876543210zyxwvutsrqpo",
        SECRET_KEY_FALLBACKS=["the-key-of-last-year-0123456789abcdefghijkl"],
    ):
        response = one_click(Client(enforce_csrf_checks=True), path)

    assert response.status_code == 200
    assert reader.subscriptions.get(newsletter=newsletter).status == Status.UNSUBSCRIBED


def test_links_signed_with_a_retired_key_stop_working_once_it_leaves_the_fallbacks(
    client, reader, newsletter
):
    with override_settings(SECRET_KEY="the-key-of-last-year-0123456789abcdefghijkl"):
        path = link(tokens.UNSUBSCRIBE, token_for(tokens.UNSUBSCRIBE, reader, newsletter))

    with override_settings(SECRET_KEY="the-key-of-this-year-9876543210zyxwvutsrqpo"):
        assert_bad_link(one_click(client, path))
    assert reader.subscriptions.get(newsletter=newsletter).status == Status.ACTIVE


# One-click unsubscribe (RFC 8058), from the header of a real issue email


@pytest.fixture
def header_url(reader, newsletter):
    issue = IssuePageFactory(parent=newsletter)
    message = render_issue(issue).message_for(reader)
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    (value,) = parsed.get_all("List-Unsubscribe")
    return local(value.strip().strip("<>"))


def test_one_click_post_without_cookie_or_csrf_token_unsubscribes(
    reader, newsletter, series_newsletter, header_url
):
    provider = Client(enforce_csrf_checks=True)

    response = one_click(provider, header_url)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscription = reader.subscriptions.get(newsletter=newsletter)
    assert subscription.status == Status.UNSUBSCRIBED
    assert subscription.unsubscribed_at is not None
    # Only this newsletter: the other subscription and the address itself are untouched.
    assert reader.subscriptions.get(newsletter=series_newsletter).status == Status.PENDING
    assert not Suppression.covers(reader.email)
    assert "sessionid" not in response.cookies


def test_a_second_one_click_post_is_harmless(reader, header_url):
    provider = Client(enforce_csrf_checks=True)
    one_click(provider, header_url)
    after_first = newsletter_state()

    response = one_click(provider, header_url)

    assert response.status_code == 200
    assert newsletter_state() == after_first


def test_opening_the_unsubscribe_link_shows_a_button_and_changes_nothing(
    client, reader, header_url
):
    before = newsletter_state()

    page = client.get(header_url)
    head = client.head(header_url)

    assert page.status_code == head.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.find("form", method="post").find("button").get_text() == "Unsubscribe"
    assert "The Weekly Steep" in soup.get_text()
    assert newsletter_state() == before


def test_the_unsubscribe_button_unsubscribes(client, reader, newsletter, header_url):
    form = BeautifulSoup(client.get(header_url).content, "html.parser").find("form", method="post")

    client.post(form.get("action") or header_url)

    assert reader.subscriptions.get(newsletter=newsletter).status == Status.UNSUBSCRIBED


def test_subscription_pages_are_never_cached(client, reader, header_url):
    response = client.get(header_url)

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# Preference centre


@pytest.fixture
def both(reader, newsletter, series_newsletter):
    """The reader, now confirmed on both newsletters."""
    reader.subscriptions.update(status=Status.ACTIVE)
    return reader


@pytest.fixture
def preferences_path(both, newsletter):
    return link(tokens.PREFERENCES, token_for(tokens.PREFERENCES, both, newsletter))


def checkboxes(client, path) -> dict[int, bool]:
    soup = BeautifulSoup(client.get(path).content, "html.parser")
    return {
        int(box["value"]): box.has_attr("checked")
        for box in soup.find_all("input", type="checkbox", attrs={"name": "newsletters"})
    }


def test_opening_the_preference_centre_shows_choices_and_changes_nothing(
    client, preferences_path, newsletter, series_newsletter
):
    before = newsletter_state()

    assert checkboxes(client, preferences_path) == {newsletter.pk: True, series_newsletter.pk: True}
    assert client.head(preferences_path).status_code == 200
    assert newsletter_state() == before


def test_unticking_a_newsletter_unsubscribes_from_it_alone(
    client, both, preferences_path, newsletter, series_newsletter
):
    response = client.post(preferences_path, {"newsletters": [str(newsletter.pk)]})

    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    statuses = dict(both.subscriptions.values_list("newsletter_id", "status"))
    assert statuses == {newsletter.pk: Status.ACTIVE, series_newsletter.pk: Status.UNSUBSCRIBED}
    assert checkboxes(client, preferences_path) == {
        newsletter.pk: True,
        series_newsletter.pk: False,
    }


def test_ticking_it_again_resubscribes(
    client, both, preferences_path, newsletter, series_newsletter
):
    client.post(preferences_path, {"newsletters": [str(newsletter.pk)]})

    client.post(preferences_path, {"newsletters": [str(newsletter.pk), str(series_newsletter.pk)]})

    statuses = set(both.subscriptions.values_list("status", flat=True))
    assert statuses == {Status.ACTIVE}


def test_unsubscribe_from_everything_ends_all_and_suppresses_the_address(
    client, both, preferences_path
):
    soup = BeautifulSoup(client.get(preferences_path).content, "html.parser")
    button = soup.find("button", attrs={"name": "unsubscribe_all"})

    response = client.post(preferences_path, {button["name"]: button["value"]})

    assert response.status_code == 200
    assert "We will not send any newsletter to ada@example.com again" in response.content.decode()
    assert set(both.subscriptions.values_list("status", flat=True)) == {Status.UNSUBSCRIBED}
    assert Suppression.objects.get().reason == Suppression.Reason.UNSUBSCRIBED
    assert Suppression.covers("ADA@example.com ")


def test_ticking_a_newsletter_after_unsubscribing_from_everything_lifts_the_block(
    client, both, preferences_path, newsletter
):
    client.post(preferences_path, {"unsubscribe_all": "1"})
    assert Suppression.covers("ada@example.com")

    client.post(preferences_path, {"newsletters": [str(newsletter.pk)]})

    assert both.subscriptions.get(newsletter=newsletter).status == Status.ACTIVE
    assert not Suppression.covers("ada@example.com"), "a later import would skip them"


@given(
    pk=st.integers(min_value=1, max_value=2**63 - 1),
    version=st.integers(min_value=0, max_value=2**31),
    newsletter_id=st.integers(min_value=1, max_value=2**63 - 1),
)
def test_a_readers_link_is_the_one_reverse_gives(pk, version, newsletter_id):
    reader = SimpleNamespace(pk=pk, token_version=version)
    for purpose, name, scope in (
        (tokens.UNSUBSCRIBE, "newsletters:unsubscribe", newsletter_id),
        (tokens.PREFERENCES, "newsletters:preferences", None),
    ):
        token = tokens.make(purpose, reader, scope)
        assert token_url(name, token) == reverse(name, args=[token])
