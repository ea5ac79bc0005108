"""Bounces and complaints that come back by email, read by `manage.py process_bounces`.

The reports are written from RFC 3464 and RFC 5965 and from what Postfix, Exim, Microsoft 365,
Gmail, Yahoo and Microsoft's JMRP send (tests/newsletters/reports/), with this test's own
delivery filled in: its VERP Return-Path and its Message-ID.
"""

import io
import mailbox
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletters.bounces import delivery_named_by, return_path
from newsletters.delivery import deliver
from newsletters.models import Delivery, FeedbackEvent, IssueSend, Subscriber, Suppression
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory
from tests.newsletters.sending import make_issue, publish

pytestmark = pytest.mark.django_db

REPORTS = Path(__file__).parent / "reports"
ADDRESS = "ada@example.com"
Status = Delivery.Status
Kind = FeedbackEvent.Kind


@pytest.fixture(autouse=True)
def bounce_address(settings):
    settings.BOUNCE_ADDRESS = "bounces@outlet.example"


@pytest.fixture
def sent(newsletter):
    subscription = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS)
    issue = IssuePageFactory(parent=newsletter)
    IssueSend.objects.create(issue=issue, recipients=1, state=IssueSend.State.SENT)
    return Delivery.objects.create(
        issue=issue,
        subscriber=subscription.subscriber,
        status=Status.SENT,
        message_id=f"<{uuid.uuid4().hex}@outlet.example>",
    )


def report(name: str, delivery: Delivery, *, verp: str | None = None) -> bytes:
    text = (REPORTS / name).read_text()
    text = text.replace("{VERP}", verp if verp is not None else return_path(delivery.pk))
    text = text.replace("{MESSAGE_ID}", delivery.message_id).replace("{ADDRESS}", ADDRESS)
    return text.replace("\n", "\r\n").encode()


def process(raw: bytes, *arguments: str) -> str:
    out, stdin = io.StringIO(), sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("process_bounces", *arguments, stdout=out, stderr=io.StringIO())
    finally:
        sys.stdin = stdin
    return out.getvalue()


def outcome(delivery: Delivery) -> tuple:
    delivery.refresh_from_db()
    subscriber = Subscriber.objects.get(pk=delivery.subscriber_id)
    return (
        delivery.status,
        delivery.deferrals,
        Suppression.reason_for(subscriber.email),
        sorted(FeedbackEvent.objects.values_list("kind", flat=True)),
    )


BOUNCED = (Status.BOUNCED, 0, Suppression.Reason.BOUNCED, [Kind.HARD_BOUNCE])
REPORTED = {
    "postfix_user_unknown.eml": BOUNCED,
    "exim_user_unknown.eml": BOUNCED,
    "microsoft_recipient_not_found.eml": BOUNCED,
    "gmail_address_not_found.eml": BOUNCED,
    # Gave up after temporary failures: counted, not yet suppressed.
    "exim_gave_up.eml": (Status.SENT, 0, None, [Kind.SOFT_BOUNCE]),
    # Still being retried: counted on the delivery only.
    "postfix_delayed.eml": (Status.SENT, 1, None, [Kind.DEFERRED]),
    "yahoo_complaint.eml": (Status.SENT, 0, Suppression.Reason.COMPLAINED, [Kind.COMPLAINT]),
    "microsoft_jmrp_complaint.eml": (
        Status.SENT,
        0,
        Suppression.Reason.COMPLAINED,
        [Kind.COMPLAINT],
    ),
    # Not a bounce or a complaint: nothing changes.
    "not_spam_report.eml": (Status.SENT, 0, None, []),
    "out_of_office.eml": (Status.SENT, 0, None, []),
}


@pytest.mark.parametrize("name, expected", REPORTED.items(), ids=REPORTED.keys())
def test_each_report_has_the_right_outcome(sent, name, expected):
    process(report(name, sent))

    assert outcome(sent) == expected


@pytest.mark.parametrize("name", ["postfix_user_unknown.eml", "yahoo_complaint.eml"])
def test_a_report_without_our_return_path_is_matched_by_message_id(sent, name):
    process(report(name, sent, verp="bounces@outlet.example"))

    assert outcome(sent)[2] is not None


def test_a_complaint_unsubscribes_from_every_newsletter(sent):
    process(report("yahoo_complaint.eml", sent))

    subscriber = Subscriber.objects.get(pk=sent.subscriber_id)
    assert subscriber.status == Subscriber.Status.COMPLAINED
    assert not subscriber.subscriptions.filter(status="active").exists()


def test_a_report_processed_twice_changes_nothing_the_second_time(sent):
    raw = report("postfix_user_unknown.eml", sent)
    first = process(raw)
    once = outcome(sent)

    second = process(raw)

    assert first.startswith("1 applied")
    assert second.startswith("0 applied, 1 already applied")
    assert outcome(sent) == once


def test_a_forged_return_path_names_no_delivery(sent):
    forged = return_path(sent.pk).replace("+", "+9").split("-")[0] + "-0123456789ab@x"

    assert delivery_named_by(forged) is None
    assert delivery_named_by(return_path(sent.pk)) == sent.pk


def test_the_pipe_can_name_the_recipient_itself(sent):
    raw = report("postfix_user_unknown.eml", sent, verp="bounces@outlet.example")
    raw = raw.replace(sent.message_id.encode(), b"<unknown@elsewhere>")

    process(raw, "--recipient", return_path(sent.pk))

    assert outcome(sent) == BOUNCED


def test_a_report_for_no_delivery_of_ours_is_counted_and_skipped(sent):
    raw = report("postfix_user_unknown.eml", sent, verp="bounces@outlet.example")
    raw = raw.replace(sent.message_id.encode(), b"<unknown@elsewhere>")

    out = process(raw)

    assert out.startswith("0 applied, 0 already applied, 1 for no known delivery")
    assert outcome(sent) == (Status.SENT, 0, None, [])


def test_a_maildir_is_read_once(sent, tmp_path):
    box = mailbox.Maildir(tmp_path / "bounces")
    box.add(report("postfix_user_unknown.eml", sent))
    box.add(report("postfix_delayed.eml", sent))
    box.add(report("out_of_office.eml", sent))

    first = process(b"", "--maildir", str(tmp_path / "bounces"))
    second = process(b"", "--maildir", str(tmp_path / "bounces"))

    assert first.startswith("2 applied, 0 already applied, 0 for no known delivery, 1 ")
    assert second.startswith("0 applied, 0 already applied, 0 for no known delivery, 0 ")
    assert outcome(sent) == (Status.BOUNCED, 1, "bounced", [Kind.DEFERRED, Kind.HARD_BOUNCE])
    assert all("S" in message.get_flags() for message in box)


def test_a_missing_maildir_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Cannot open the Maildir"):
        call_command("process_bounces", "--maildir", str(tmp_path / "nowhere"))


def test_each_message_goes_out_with_a_return_path_that_names_its_delivery(newsletter, mail_to_sink):
    reader = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS).subscriber
    issue = make_issue(newsletter)
    publish(issue)
    deliver(issue.pk)
    (received,) = mail_to_sink.messages

    delivery = Delivery.objects.get(issue=issue, subscriber=reader)
    assert delivery_named_by(received.mail_from) == delivery.pk
    assert received.message["From"].addresses[0].addr_spec == "steep@outlet.example"
    assert "bounces+" not in str(received.message["From"])
