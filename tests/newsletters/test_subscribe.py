"""Subscribing: double opt-in through the public form, and the form's defences against abuse."""

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletters.models import SignupAttempt, Subscriber, Subscription, Suppression
from tests.newsletters.factories import SubscriberFactory, SubscriptionFactory
from tests.newsletters.forms import newsletter_state
from tests.newsletters.mail import html_links, html_part, local, text_links, text_part

pytestmark = pytest.mark.django_db

Status = Subscription.Status
CHECK_INBOX = reverse("newsletters:check_inbox")
BULK_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence")


def confirm_link(message) -> str:
    (link,) = [url for url in text_links(text_part(message)) if "/confirm/" in url]
    return link


# Double opt-in


def test_subscribing_records_a_pending_subscription_and_mails_one_confirmation(
    signup, newsletter, mailbox
):
    response = signup("Reader@Example.com ")

    assert response.status_code == 302
    assert response["Location"] == CHECK_INBOX
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.com"
    assert subscriber.consent_at is None
    assert subscriber.subscriptions.get().status == Status.PENDING
    message = mailbox.only()
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == "Confirm your subscription to The Weekly Steep"
    assert message["Message-ID"] and message["Date"] and message["From"]


def test_confirmation_email_is_transactional_without_bulk_headers(signup, mailbox):
    signup("reader@example.com")

    message = mailbox.only()
    present = [name for name in BULK_HEADERS if name in message]
    assert present == [], f"a transactional email carries bulk headers {present}"


def test_confirmation_email_has_the_same_single_link_in_html_and_text(signup, mailbox):
    signup("reader@example.com")

    message = mailbox.only()
    link = confirm_link(message)
    assert link.startswith("http://localhost/subscriptions/confirm/")
    assert html_links(html_part(message)) == [link]


def test_confirmation_link_opens_a_page_and_get_or_head_confirm_nothing(
    client, signup, mailbox, newsletter
):
    signup("reader@example.com")
    path = local(confirm_link(mailbox.only()))
    before = newsletter_state()

    page = client.get(path)
    head = client.head(path)

    assert page.status_code == head.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.find("form", method="post").find("button").get_text() == "Confirm my subscription"
    assert "The Weekly Steep" in soup.get_text()
    assert newsletter_state() == before


def test_pressing_the_confirm_button_activates_the_subscription(client, signup, mailbox):
    signup("reader@example.com")
    path = local(confirm_link(mailbox.only()))
    form = BeautifulSoup(client.get(path).content, "html.parser").find("form", method="post")

    response = client.post(form.get("action") or path)

    assert response.status_code == 200
    assert "You are subscribed" in response.content.decode()
    subscription = Subscription.objects.get()
    assert subscription.status == Status.ACTIVE
    assert subscription.confirmed_at is not None
    assert subscription.subscriber.consent_at is not None


def test_confirming_twice_changes_nothing_the_second_time(client, signup, mailbox):
    signup("reader@example.com")
    path = local(confirm_link(mailbox.only()))
    client.post(path)
    after_first = newsletter_state()

    response = client.post(path)

    assert response.status_code == 200
    assert "nothing has changed" in response.content.decode()
    assert newsletter_state() == after_first


def test_a_reader_who_unsubscribed_can_subscribe_again_by_confirming(
    client, signup, mailbox, newsletter
):
    subscription = SubscriptionFactory(
        newsletter=newsletter, subscriber__email="back@example.com", status=Status.UNSUBSCRIBED
    )

    signup("back@example.com")
    client.post(local(confirm_link(mailbox.only())))

    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE
    assert subscription.unsubscribed_at is None


def test_confirming_after_unsubscribing_from_everything_lifts_that_suppression(
    client, signup, mailbox, newsletter
):
    SubscriptionFactory(
        newsletter=newsletter, subscriber__email="back@example.com", status=Status.UNSUBSCRIBED
    )
    Suppression.add("back@example.com", Suppression.Reason.UNSUBSCRIBED)

    signup("back@example.com")
    client.post(local(confirm_link(mailbox.only())))

    assert not Suppression.covers("back@example.com")


# Never reveal whether an address is known


def normalised(response) -> tuple:
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    body = re.sub(rb'nonce="[^"]+"', b"", body)
    return response.status_code, response.get("Location"), response.get("Retry-After"), body


def test_the_response_is_the_same_whoever_the_address_belongs_to(client, signup, newsletter):
    SubscriptionFactory(newsletter=newsletter, subscriber__email="member@example.com")
    SubscriptionFactory(
        newsletter=newsletter, subscriber__email="former@example.com", status=Status.UNSUBSCRIBED
    )
    SubscriberFactory(email="bounced@example.com", status=Subscriber.Status.BOUNCED)

    answers = {}
    for address in (
        "new@example.com",
        "member@example.com",
        "former@example.com",
        "bounced@example.com",
    ):
        response = signup(address)
        answers[address] = (normalised(response), normalised(client.get(response["Location"])))

    assert len(set(answers.values())) == 1, answers
    assert answers["new@example.com"][0][:2] == (302, CHECK_INBOX)


def test_a_member_asking_again_gets_no_second_email(signup, newsletter, mailbox):
    SubscriptionFactory(newsletter=newsletter, subscriber__email="member@example.com")

    signup("member@example.com")

    assert len(mailbox) == 0


def test_a_bounced_address_is_not_mailed(signup, mailbox):
    SubscriberFactory(email="bounced@example.com", status=Subscriber.Status.BOUNCED)

    signup("bounced@example.com")

    assert len(mailbox) == 0
    assert not Subscription.objects.exists()


# Abuse


def test_a_filled_honeypot_looks_like_success_but_stores_and_sends_nothing(signup, mailbox):
    response = signup("bot@example.com", website="http://spam.example/")

    assert response.status_code == 302
    assert response["Location"] == CHECK_INBOX
    assert not Subscriber.objects.exists()
    assert not SignupAttempt.objects.exists()
    assert len(mailbox) == 0


def test_too_many_signups_from_one_address_get_429_with_retry_after(signup, settings, mailbox):
    settings.SIGNUP_RATE_LIMIT = 3
    settings.SIGNUP_RATE_WINDOW_SECONDS = 600
    for number in range(3):
        assert signup(f"reader{number}@example.com", ip="203.0.113.9").status_code == 302

    response = signup("one-more@example.com", ip="203.0.113.9")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many requests" in response.content.decode()
    assert not Subscriber.objects.filter(email="one-more@example.com").exists()
    assert len(mailbox) == 3
    # Another network is not held back by this one.
    assert signup("neighbour@example.com", ip="203.0.113.10").status_code == 302


def test_invalid_submissions_count_against_the_limit_too(signup, settings, mailbox):
    settings.SIGNUP_RATE_LIMIT = 3
    for _ in range(3):
        assert signup("not an address", ip="203.0.113.9").status_code == 400

    assert signup("reader@example.com", ip="203.0.113.9").status_code == 429
    assert len(mailbox) == 0


def test_the_rate_limit_lifts_when_its_window_has_passed(signup, settings):
    settings.SIGNUP_RATE_LIMIT = 1
    with freeze_time("2026-03-02 09:00:00"):
        assert signup("first@example.com").status_code == 302
        assert signup("second@example.com").status_code == 429
    with freeze_time("2026-03-02 09:10:01"):
        assert signup("second@example.com").status_code == 302


def test_bombing_one_address_from_many_networks_sends_one_email_per_cooldown(
    signup, settings, mailbox
):
    settings.CONFIRMATION_COOLDOWN_SECONDS = 900
    with freeze_time("2026-03-02 09:00:00") as clock:
        for host in range(1, 31):
            response = signup("victim@example.com", ip=f"192.0.2.{host}")
            assert response.status_code == 302
            clock.tick(timedelta(seconds=20))
        assert len(mailbox.sent_to("victim@example.com")) == 1

        clock.move_to("2026-03-02 09:15:01")
        signup("victim@example.com", ip="192.0.2.200")
    assert len(mailbox.sent_to("victim@example.com")) == 2


# Bad input: a form error, never a 500, never a crafted header

BAD_ADDRESSES = {
    "no at sign": "reader.example.com",
    "overlong": "a" * 250 + "@example.com",
    "overlong domain label": "reader@" + "a" * 64 + ".com",
    "CRLF header injection": "victim@example.com\r\nBcc: everyone@example.org",
    "LF header injection": "victim@example.com\nSubject: hi",
    "CR alone": "victim@example.com\rBcc: x@example.org",
    "NUL": "victim\x00@example.com",
    "bell": "victim\x07@example.com",
    "two addresses": "victim@example.com, other@example.com",
    "display name": "Victim <victim@example.com>",
    "fullwidth at sign": "victim\uff20example.com",
    "zero-width space in domain": "victim@exa\u200bmple.com",
    "right-to-left override": "\u202evictim@example.com",
    "line separator": "victim@example.com\u2028Bcc: x@example.org",
    "empty": "",
}


def test_an_internationalised_domain_is_accepted_and_mailed_in_ascii(signup, mailbox):
    response = signup("reader@b\u00fccher.example")

    assert response.status_code == 302
    assert Subscriber.objects.get().email == "reader@xn--bcher-kva.example"
    assert mailbox.only()["To"].addresses[0].addr_spec == "reader@xn--bcher-kva.example"


@pytest.mark.parametrize("address", BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_a_bad_address_gets_a_form_error_page_and_changes_nothing(signup, mailbox, address):
    response = signup(address)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find(role="alert").get_text().strip()
    assert soup.find("form", action=reverse("newsletters:subscribe"))
    assert not Subscriber.objects.exists()
    assert len(mailbox) == 0


def test_bytes_that_are_not_utf8_get_a_form_error(client, newsletter, mailbox):
    body = f"newsletters={newsletter.pk}&email=victim%ED%B3%BF%FF@example.com".encode()

    response = client.post(
        reverse("newsletters:subscribe"), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert not Subscriber.objects.exists()
    assert len(mailbox) == 0


def test_a_newsletter_that_is_not_offered_gets_a_form_error(signup, newsletter, mailbox):
    response = signup("reader@example.com", newsletters=str(newsletter.pk + 1000))

    assert response.status_code == 400
    assert "not available" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_subscribe_endpoint_only_takes_posts(client):
    assert client.get(reverse("newsletters:subscribe")).status_code == 405


ALLOWED_CONFIRMATION_HEADERS = {
    "content-type",
    "mime-version",
    "subject",
    "from",
    "to",
    "date",
    "message-id",
}

odd_addresses = st.one_of(
    st.emails(),
    st.text(max_size=300),
    st.builds(
        lambda local_part, junk, domain: f"{local_part}{junk}@{domain}",
        st.text(min_size=1, max_size=40),
        st.sampled_from(["", "\r\n", "\n", "\x00", "\u2028", "\u200b", "\t", " ", ","]),
        st.one_of(st.just("example.com"), st.text(min_size=1, max_size=70)),
    ),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(address=odd_addresses)
def test_fuzzed_addresses_never_crash_or_craft_headers(signup, mailbox, settings, address):
    settings.SIGNUP_RATE_LIMIT = 10_000
    sent_before = len(mailbox)
    response = signup(address, ip="198.51.100.99")

    assert response.status_code in (302, 400), response.status_code
    new_mail = mailbox.all()[sent_before:]
    assert len(new_mail) <= 1
    for message in new_mail:
        assert {name.lower() for name in message} <= ALLOWED_CONFIRMATION_HEADERS
        (recipient,) = message["To"].addresses
        assert not set(recipient.addr_spec) & set("\r\n\x00, <>")
    for stored in Subscriber.objects.values_list("email", flat=True):
        assert stored == stored.strip().lower()
        assert not any(ord(char) < 32 for char in stored)
