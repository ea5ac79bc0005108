"""The newsletters panel on the editor's dashboard: what goes out next, what is going out,
what went wrong, and whether readers are joining."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from newsletters.models import Delivery, IssueSend, Subscription
from tests.newsletters.editor import edit_url, publish
from tests.newsletters.factories import IssuePageFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def dashboard(client) -> BeautifulSoup:
    response = client.get("/admin/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def table(soup, name: str) -> list[list[str]]:
    found = soup.find("table", attrs={"data-dashboard": name})
    assert found is not None, f"no {name} table on the dashboard"
    return [
        [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
        for row in found.select("tbody tr")
    ]


def test_writers_see_no_newsletters_on_their_dashboard(writer_client, newsletter, audience):
    soup = dashboard(writer_client)

    assert soup.find(class_="newsletter-dashboard") is None
    assert "Weekly Steep" not in soup.get_text()


def test_a_scheduled_issue_shows_when_and_to_how_many(
    editor_client, drafted, audience, committed, time_machine
):
    time_machine.move_to("2026-12-01 08:00:00+00:00", tick=False)
    with committed():
        publish(editor_client, drafted, go_live_at="2026-12-02 09:00")

    rows = table(dashboard(editor_client), "scheduled")

    assert rows == [["Issue 12", "2 December, 09:00", "2 subscribers of The Weekly Steep"]]
    link = dashboard(editor_client).find("table", attrs={"data-dashboard": "scheduled"}).a
    assert link["href"] == edit_url(drafted)


def test_nothing_scheduled_says_so(editor_client, newsletter):
    soup = dashboard(editor_client)

    assert soup.find("table", attrs={"data-dashboard": "scheduled"}) is None
    assert "No issue is scheduled." in soup.find(class_="newsletter-dashboard").get_text()


def ledger(issue, **statuses):
    for status, count in statuses.items():
        for _ in range(count):
            subscriber = SubscriptionFactory(newsletter=issue.get_parent()).subscriber
            Delivery.objects.create(issue=issue, subscriber=subscriber, status=status)


def test_a_send_in_progress_shows_how_far_it_has_got(editor_client, newsletter):
    issue = IssuePageFactory(parent=newsletter, title="No. 9")
    IssueSend.objects.create(issue=issue, state=IssueSend.State.SENDING, recipients=4)
    ledger(issue, sent=3, pending=1)

    assert table(dashboard(editor_client), "sending") == [["No. 9", "3 of 4 (75%)", "1", "0"]]


def test_failed_and_missed_sends_need_attention(editor_client, newsletter):
    failing = IssuePageFactory(parent=newsletter, title="No. 8")
    IssueSend.objects.create(issue=failing, state=IssueSend.State.SENT, recipients=3)
    ledger(failing, sent=2, failed=1)
    missed = IssuePageFactory(parent=newsletter, title="No. 7")
    IssueSend.objects.create(issue=missed, state=IssueSend.State.MISSED)
    fine = IssuePageFactory(parent=newsletter, title="No. 6")
    IssueSend.objects.create(issue=fine, state=IssueSend.State.SENT, recipients=1)
    ledger(fine, sent=1)

    rows = table(dashboard(editor_client), "failures")

    assert sorted(rows) == [
        ["No. 7", "Missed its schedule: not sent", "0"],
        ["No. 8", "Sent", "1"],
    ]


def test_a_run_that_paused_itself_needs_attention_and_says_why(editor_client, newsletter):
    paused = IssuePageFactory(parent=newsletter, title="No. 5")
    IssueSend.objects.create(
        issue=paused,
        state=IssueSend.State.PAUSED,
        recipients=3,
        pause_reason="2 of 2 messages bounced (100.0%).",
    )
    ledger(paused, bounced=2, pending=1)

    rows = table(dashboard(editor_client), "failures")

    assert rows == [["No. 5", "Paused: 2 of 2 messages bounced (100.0%).", "0"]]


def test_reader_growth_compares_this_week_with_last(
    editor_client, newsletter, series_newsletter, time_machine
):
    now = timezone.now()
    for days_ago in (1, 2, 6):  # this week
        SubscriptionFactory(newsletter=newsletter, confirmed_at=now - timedelta(days=days_ago))
    SubscriptionFactory(newsletter=newsletter, confirmed_at=now - timedelta(days=9))  # last week
    SubscriptionFactory(newsletter=newsletter, confirmed_at=now - timedelta(days=30))
    SubscriptionFactory(
        newsletter=newsletter,
        status=Subscription.Status.UNSUBSCRIBED,
        confirmed_at=now - timedelta(days=40),
        unsubscribed_at=now - timedelta(days=3),
    )
    SubscriptionFactory(
        newsletter=newsletter, status=Subscription.Status.PENDING, confirmed_at=None
    )

    rows = table(dashboard(editor_client), "growth")

    assert rows == [
        ["Coffee vs. Tea", "0", "0", "0", "0"],
        ["The Weekly Steep", "5", "3", "1", "1"],
    ]
