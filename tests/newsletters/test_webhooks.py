"""Providers report bounces, complaints and unsubscribes later, by webhook.

Payloads have the shapes each provider documents (Amazon SES notifications through SNS,
Postmark, Mailgun), posted to the real webhook URLs with the real secrets (and a wrong one).
"""

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings

from newsletters.models import (
    Delivery,
    FeedbackEvent,
    IssueSend,
    Subscriber,
    Subscription,
    Suppression,
)
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

Status = Delivery.Status
Kind = FeedbackEvent.Kind
ADDRESS = "ada@example.com"


def basic_auth(secret: str) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


GOOD = basic_auth(settings.ANYMAIL["WEBHOOK_SECRET"])
BAD = basic_auth("webhook-user:guessed")


@pytest.fixture
def sent(newsletter, series_newsletter):
    """A message of an issue, sent to a reader of two newsletters; the provider's id for it."""
    subscription = SubscriptionFactory(newsletter=newsletter, subscriber__email=ADDRESS)
    SubscriptionFactory(newsletter=series_newsletter, subscriber=subscription.subscriber)
    issue = IssuePageFactory(parent=newsletter)
    IssueSend.objects.create(issue=issue, recipients=1, state=IssueSend.State.SENT)
    provider_id = str(uuid.uuid4())
    return Delivery.objects.create(
        issue=issue,
        subscriber=subscription.subscriber,
        status=Status.SENT,
        sent_at=datetime(2026, 11, 28, 8, tzinfo=UTC),
        message_id=f"<{uuid.uuid4().hex}@outlet.example>",
        provider_message_id=provider_id,
    )


def state(delivery) -> dict:
    delivery.refresh_from_db()
    subscriber = Subscriber.objects.get(pk=delivery.subscriber_id)
    return {
        "delivery": delivery.status,
        "delivered_at": delivery.delivered_at,
        "deferrals": delivery.deferrals,
        "subscriber": subscriber.status,
        "suppression": Suppression.reason_for(subscriber.email),
        "subscriptions": sorted(
            Subscription.objects.filter(subscriber=subscriber).values_list("status", flat=True)
        ),
        "events": sorted(FeedbackEvent.objects.values_list("kind", flat=True)),
    }


# Postmark


def postmark(record: dict, auth: str = GOOD):
    from django.test import Client

    return Client().post(
        "/email/postmark/tracking/",
        json.dumps(record),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def postmark_bounce(message_id: str, kind: str = "HardBounce", code: int = 1) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "broadcast",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": code,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": f"smtp;550 5.1.1 <{ADDRESS}>: The email account does not exist.",
        "Email": ADDRESS,
        "From": "steep@outlet.example",
        "BouncedAt": "2026-11-28T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Tariffs, chips and tea",
        "Content": None,
    }


def test_a_postmark_hard_bounce_bounces_the_delivery_and_suppresses_the_address(sent):
    response = postmark(postmark_bounce(sent.provider_message_id))

    assert response.status_code == 200
    after = state(sent)
    assert after["delivery"] == Status.BOUNCED
    assert after["subscriber"] == Subscriber.Status.BOUNCED
    assert after["suppression"] == Suppression.Reason.BOUNCED
    event = FeedbackEvent.objects.get()
    assert (event.kind, event.source) == (Kind.HARD_BOUNCE, "postmark")
    assert ADDRESS not in event.detail and "<recipient>" in event.detail


def test_a_replayed_webhook_changes_nothing_more(sent):
    postmark(postmark_bounce(sent.provider_message_id))
    once = state(sent)

    response = postmark(postmark_bounce(sent.provider_message_id))

    assert response.status_code == 200
    assert state(sent) == once
    assert FeedbackEvent.objects.count() == 1


def test_a_postmark_soft_bounce_is_counted_and_suppresses_nobody_alone(sent):
    postmark(postmark_bounce(sent.provider_message_id, kind="SoftBounce", code=4096))

    after = state(sent)
    assert after["events"] == [Kind.SOFT_BOUNCE]
    assert (after["delivery"], after["suppression"]) == (Status.SENT, None)


def test_soft_bounces_suppress_an_address_once_there_are_enough_of_them(sent, settings):
    settings.BOUNCE_SOFT_LIMIT = 2
    record = postmark_bounce(sent.provider_message_id, kind="SoftBounce", code=4096)
    postmark(record)
    assert state(sent)["suppression"] is None

    postmark({**record, "ID": record["ID"] + 1})

    assert state(sent)["suppression"] == Suppression.Reason.BOUNCED


def test_a_postmark_spam_complaint_unsubscribes_from_everything(sent):
    record = {
        **postmark_bounce(sent.provider_message_id, kind="SpamComplaint", code=512),
        "RecordType": "SpamComplaint",
        "Name": "Spam complaint",
    }

    postmark(record)

    after = state(sent)
    assert after["subscriber"] == Subscriber.Status.COMPLAINED
    assert after["suppression"] == Suppression.Reason.COMPLAINED
    assert after["subscriptions"] == ["unsubscribed", "unsubscribed"]


def test_a_postmark_delivery_is_recorded_and_a_late_one_undoes_no_bounce(sent):
    delivery = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "broadcast",
        "MessageID": sent.provider_message_id,
        "Recipient": ADDRESS,
        "Tag": "",
        "DeliveredAt": "2026-11-28T08:00:03Z",
        "Details": "Test delivery webhook details",
        "Metadata": {},
    }
    postmark(delivery)
    assert state(sent)["delivered_at"] == datetime(2026, 11, 28, 8, 0, 3, tzinfo=UTC)

    postmark(postmark_bounce(sent.provider_message_id))  # the mailbox bounced it after all
    postmark({**delivery, "DeliveredAt": "2026-11-28T08:00:09Z"})  # out of order

    assert state(sent)["delivery"] == Status.BOUNCED


def test_a_postmark_unsubscribe_ends_only_that_newsletter(sent, newsletter):
    postmark(
        {
            "RecordType": "SubscriptionChange",
            "MessageID": sent.provider_message_id,
            "ServerID": 23,
            "MessageStream": "broadcast",
            "ChangedAt": "2026-11-28T09:00:00Z",
            "Recipient": ADDRESS,
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
            "Tag": "",
            "Metadata": {},
        }
    )

    statuses = dict(
        Subscription.objects.filter(subscriber=sent.subscriber).values_list(
            "newsletter_id", "status"
        )
    )
    assert statuses[newsletter.pk] == Subscription.Status.UNSUBSCRIBED
    assert sorted(statuses.values()) == ["active", "unsubscribed"]


def test_a_webhook_with_a_wrong_secret_changes_nothing(sent):
    before = state(sent)

    response = postmark(postmark_bounce(sent.provider_message_id), auth=BAD)

    assert response.status_code in (400, 401, 403)
    assert state(sent) == before


def test_an_event_for_an_unknown_message_is_logged_and_answered(sent, caplog):
    before = state(sent)

    with caplog.at_level(logging.WARNING, logger="newsletters.webhooks"):
        response = postmark(postmark_bounce("00000000-not-ours"))

    assert response.status_code == 200
    assert "unknown message" in caplog.text
    assert state(sent) == before


# Amazon SES, through Amazon SNS


def sns(notification: dict, auth: str = GOOD):
    from django.test import Client

    message_id = str(uuid.uuid4())
    envelope = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:outlet-ses-feedback",
        "Message": json.dumps(notification),
        "Timestamp": "2026-11-28T16:34:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+2Sfa9ZzqlW8LwCxFkJ0FfKqm8o4iAZTE09cA==",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }
    return Client().post(
        "/email/amazon_ses/tracking/",
        json.dumps(envelope),
        content_type="text/plain; charset=UTF-8",
        HTTP_AUTHORIZATION=auth,
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
        HTTP_X_AMZ_SNS_MESSAGE_ID=message_id,
        HTTP_X_AMZ_SNS_TOPIC_ARN=envelope["TopicArn"],
    )


def ses_mail(message_id: str) -> dict:
    return {
        "timestamp": "2026-11-28T16:33:50.000Z",
        "source": "bounces@outlet.example",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/outlet.example",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [ADDRESS],
    }


def ses_bounce(message_id: str, bounce_type: str = "Permanent") -> dict:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": ADDRESS,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.4.7",
                    "diagnosticCode": f"smtp; 550 5.1.1 <{ADDRESS}>... User unknown",
                }
            ],
            "timestamp": "2026-11-28T16:33:54.000Z",
            "feedbackId": "0100018c-aaaa-bbbb-cccc-dddddddddddd-000000",
            "reportingMTA": "dns; a8-70.smtp-out.amazonses.com",
        },
        "mail": ses_mail(message_id),
    }


def test_an_ses_permanent_bounce_suppresses_the_address(sent):
    response = sns(ses_bounce(sent.provider_message_id))

    assert response.status_code == 200
    after = state(sent)
    assert (after["delivery"], after["suppression"]) == (Status.BOUNCED, "bounced")
    assert FeedbackEvent.objects.get().source == "amazon_ses"


def test_an_ses_transient_bounce_is_a_soft_one(sent):
    sns(ses_bounce(sent.provider_message_id, bounce_type="Transient"))

    after = state(sent)
    assert after["events"] == [Kind.SOFT_BOUNCE]
    assert after["suppression"] is None


def test_an_ses_complaint_suppresses_and_unsubscribes(sent):
    sns(
        {
            "notificationType": "Complaint",
            "complaint": {
                "userAgent": "Comcast Feedback Loop (V0.01)",
                "complainedRecipients": [{"emailAddress": ADDRESS}],
                "complaintFeedbackType": "abuse",
                "arrivalDate": "2026-11-28T17:00:00.000Z",
                "timestamp": "2026-11-28T17:00:05.000Z",
                "feedbackId": "0100018c-eeee-ffff-0000-111111111111-000000",
            },
            "mail": ses_mail(sent.provider_message_id),
        }
    )

    after = state(sent)
    assert after["suppression"] == Suppression.Reason.COMPLAINED
    assert "active" not in after["subscriptions"]


def test_an_ses_notification_without_the_secret_changes_nothing(sent):
    before = state(sent)

    response = sns(ses_bounce(sent.provider_message_id), auth=BAD)

    assert response.status_code in (400, 401, 403)
    assert state(sent) == before


# Mailgun


def mailgun(event_data: dict, *, key: str | None = None, auth: str = GOOD):
    from django.test import Client

    key = key or settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]
    timestamp, token = "1764347634", uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()},
        "event-data": event_data,
    }
    return Client().post(
        "/email/mailgun/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def mailgun_failure(message_id: str, severity: str = "permanent") -> dict:
    return {
        "event": "failed",
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": 1764347634.5,
        "log-level": "error",
        "severity": severity,
        "reason": "bounce" if severity == "permanent" else "generic",
        "recipient": ADDRESS,
        "recipient-domain": "example.com",
        "envelope": {"sender": "steep@outlet.example", "transport": "smtp", "targets": ADDRESS},
        "message": {
            "headers": {
                "to": ADDRESS,
                "message-id": message_id.strip("<>"),
                "from": "The Weekly Steep <steep@outlet.example>",
                "subject": "Tariffs, chips and tea",
            },
            "size": 111,
        },
        "delivery-status": {
            "attempt-no": 1,
            "code": 550 if severity == "permanent" else 452,
            "message": "5.1.1 The email account that you tried to reach does not exist.",
            "description": "",
            "session-seconds": 0.4,
        },
        "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
    }


@pytest.fixture
def sent_by_mailgun(sent):
    sent.provider_message_id = "<20261128163354.1.ABCDEF0123456789@mg.outlet.example>"
    sent.save(update_fields=["provider_message_id"])
    return sent


def test_a_mailgun_permanent_failure_suppresses_the_address(sent_by_mailgun):
    response = mailgun(mailgun_failure(sent_by_mailgun.provider_message_id))

    assert response.status_code == 200
    assert state(sent_by_mailgun)["suppression"] == Suppression.Reason.BOUNCED


def test_a_mailgun_temporary_failure_is_only_counted(sent_by_mailgun):
    mailgun(mailgun_failure(sent_by_mailgun.provider_message_id, severity="temporary"))

    after = state(sent_by_mailgun)
    assert (after["deferrals"], after["suppression"]) == (1, None)


def test_a_mailgun_webhook_with_a_forged_signature_changes_nothing(sent_by_mailgun):
    before = state(sent_by_mailgun)

    response = mailgun(mailgun_failure(sent_by_mailgun.provider_message_id), key="not-the-key")

    assert response.status_code in (400, 401, 403)
    assert state(sent_by_mailgun) == before
