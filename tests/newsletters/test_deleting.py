"""Deleting an issue or a subscriber takes its ledger with it, in a fixed number of queries
however long the ledger: no row is loaded into memory, and nothing is left behind."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletters.models import Delivery, FeedbackEvent, IssuePage, Subscriber
from tests.newsletters.factories import IssuePageFactory

pytestmark = pytest.mark.django_db


def issue_sent_to(newsletter, readers: int) -> IssuePage:
    issue = IssuePageFactory(parent=newsletter)
    tag = issue.pk
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{tag}-{n}@example.com", email_hash=f"{tag}-{n}") for n in range(readers)
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(issue=issue, subscriber=subscriber, status=Delivery.Status.SENT)
        for subscriber in subscribers
    )
    FeedbackEvent.objects.create(
        delivery=deliveries[0],
        source="postmark",
        event_id=f"bounce-{tag}",
        kind=FeedbackEvent.Kind.HARD_BOUNCE,
        occurred_at=timezone.now(),
    )
    return issue


def queries_to_delete(page) -> int:
    with CaptureQueriesContext(connection) as queries:
        page.delete()
    return len(queries)


def test_deleting_an_issue_costs_the_same_queries_for_ten_readers_or_ten_thousand(newsletter):
    small, large = issue_sent_to(newsletter, 10), issue_sent_to(newsletter, 10_000)

    few, many = queries_to_delete(small), queries_to_delete(large)

    assert few == many, (few, many)
    assert not Delivery.objects.exists()
    assert not FeedbackEvent.objects.exists()


def test_deleting_a_subscriber_takes_their_deliveries_and_feedback(newsletter):
    issue = issue_sent_to(newsletter, 3)
    bounced = Delivery.objects.get(feedback__isnull=False).subscriber

    bounced.delete()

    assert Delivery.objects.filter(issue=issue).count() == 2
    assert not FeedbackEvent.objects.exists()
