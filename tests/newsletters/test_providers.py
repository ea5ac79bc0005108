"""Sending through a provider's API with django-anymail: what the provider answers, mapped onto
the ledger as SMTP answers are (tests/newsletters/postmark_api.py plays Postmark on 127.0.0.1).
"""

import base64
import json
import socket

import pytest
from django.test import Client, override_settings

from newsletters.delivery import deliver
from newsletters.models import Delivery, IssueSend, Subscriber, Suppression
from tests.newsletters.postmark_api import PostmarkApi
from tests.newsletters.sending import (
    add_subscribers,
    assert_counts_add_up,
    ledger,
    make_issue,
    publish,
)

pytestmark = pytest.mark.django_db

Status = Delivery.Status


@pytest.fixture
def postmark(settings):
    settings.DELIVERY_RETRY_SECONDS = 0
    with PostmarkApi() as api, override_settings(**api.settings()):
        yield api


@pytest.fixture
def issue(newsletter):
    """An issue that went live for six readers, its ledger opened but nothing sent yet."""
    add_subscribers(newsletter, 6)
    issue = make_issue(newsletter)
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    ):
        publish(issue)
    return issue


def send_all(issue, rounds: int = 5) -> None:
    for _ in range(rounds):
        deliver(issue.pk)
        if not Delivery.objects.filter(issue=issue, status=Status.PENDING).exists():
            return
        Delivery.objects.filter(issue=issue, status=Status.PENDING).update(
            next_attempt_at="2000-01-01T00:00Z"
        )


def test_each_message_is_recorded_with_the_providers_id(postmark, issue):
    send_all(issue)

    assert ledger(issue) == {Status.SENT: 6}
    recorded = set(
        Delivery.objects.filter(issue=issue).values_list("provider_message_id", flat=True)
    )
    assert recorded == {message["MessageID"] for message in postmark.accepted}
    headers = {header["Name"]: header["Value"] for header in postmark.accepted[0]["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert postmark.accepted[0]["From"] == "The Weekly Steep <steep@outlet.example>"
    assert_counts_add_up(issue)


def test_a_recipient_the_provider_refuses_bounces_and_is_suppressed(postmark, issue):
    refused = Delivery.objects.filter(issue=issue).order_by("pk").first().subscriber.email
    postmark.inactive.add(refused)

    send_all(issue)

    assert ledger(issue) == {Status.SENT: 5, Status.BOUNCED: 1}
    assert Suppression.reason_for(refused) == Suppression.Reason.BOUNCED
    assert Subscriber.objects.get(email=refused).status == Subscriber.Status.BOUNCED


def test_refused_credentials_blame_no_reader_and_sending_resumes_once_fixed(postmark, issue):
    postmark.token = "a-rotated-token"

    deliver(issue.pk)

    assert ledger(issue) == {Status.PENDING: 6}
    assert not Delivery.objects.filter(issue=issue, attempts__gt=0).exists()
    assert not Suppression.objects.exists()
    send = IssueSend.objects.get(issue=issue)
    assert "credentials or account (401)" in send.pause_reason
    assert send.state == IssueSend.State.SENDING

    postmark.token = "postmark-server-token-for-tests"  # fixed
    send_all(issue)

    assert ledger(issue) == {Status.SENT: 6}
    assert IssueSend.objects.get(issue=issue).pause_reason == ""
    assert len(postmark.accepted) == 6


def test_a_rate_limit_answer_is_retried_and_nobody_is_mailed_twice(postmark, issue, settings):
    postmark.rate_limited = 3

    send_all(issue)

    assert ledger(issue) == {Status.SENT: 6}
    assert len({message["To"] for message in postmark.accepted}) == len(postmark.accepted) == 6
    assert Delivery.objects.filter(issue=issue, attempts__gt=0).count() == 3


def test_an_unreachable_provider_blames_no_reader(issue, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = {"POSTMARK_SERVER_TOKEN": "x", "POSTMARK_API_URL": f"http://127.0.0.1:{port}/"}
    with override_settings(
        EMAIL_PROVIDER="postmark",
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL=unreachable,
    ):
        deliver(issue.pk)

    assert ledger(issue) == {Status.PENDING: 6}
    assert not Delivery.objects.filter(issue=issue, attempts__gt=0).exists()
    assert "unreachable" in IssueSend.objects.get(issue=issue).pause_reason


def test_a_bounce_webhook_finds_the_message_sent_through_the_provider(postmark, issue, settings):
    send_all(issue)
    accepted = postmark.accepted[0]
    record = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "ID": 42,
        "MessageID": accepted["MessageID"],
        "Email": accepted["To"],
        "BouncedAt": "2026-11-28T16:40:00Z",
        "Details": "smtp;550 5.1.1 mailbox unavailable",
        "Description": "The server was unable to deliver your message.",
        "Inactive": True,
    }
    secret = base64.b64encode(settings.ANYMAIL["WEBHOOK_SECRET"].encode()).decode()

    response = Client().post(
        "/email/postmark/tracking/",
        json.dumps(record),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {secret}",
    )

    assert response.status_code == 200
    assert Delivery.objects.get(provider_message_id=accepted["MessageID"]).status == Status.BOUNCED
    assert Suppression.reason_for(accepted["To"]) == Suppression.Reason.BOUNCED
