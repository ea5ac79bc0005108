"""Correction emails, end to end: an editor adds a correction to an article in the admin and
mails it from there; the SMTP sink on 127.0.0.1 receives it from exactly the readers whose
issues carried the article (sent rows of the ledger), each once, through the same claims,
leases and sweep as an issue."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from articles.models import ArticlePage
from newsletters import corrections
from newsletters.delivery import claim_batch, deliver_run
from newsletters.models import (
    CorrectionSend,
    Delivery,
    FeedbackEvent,
    IssueSend,
    Ledger,
    Subscriber,
    Subscription,
)
from newsletters.sweep import sweep
from tests.articles.test_admin import article_form, assert_no_form_errors, edit_url
from tests.newsletters.sending import (
    add_subscribers,
    assert_each_mailed_once,
    make_article,
    make_issue,
    make_newsletter,
    publish,
)

pytestmark = pytest.mark.django_db

Status = Delivery.Status
CORRECTION = "An earlier version gave the tariff as 25%. It is 20%."
SUBJECT = "Correction: What the new tariffs change"


@pytest.fixture
def carried(mail_to_sink, newsletter, django_capture_on_commit_callbacks):
    """An article two issues of The Weekly Steep and one of Coffee vs. Tea carried, and who
    received which; the sink emptied afterwards.

    - steep: got both issues; joined: got only the second; both: got both newsletters'
    - left: got the first issue, unsubscribed since; bounced: refused the first issue
    - failed: Coffee vs. Tea's issue never reached them (451 until attempts ran out)
    - late: subscribed after both issues; other: got an issue without the article
    """
    sink = mail_to_sink
    article = make_article()
    tea = make_newsletter()
    tea.title = "Coffee vs. Tea"
    tea.save_revision().publish()
    steep = add_subscribers(newsletter, 3, prefix="steep")
    left = add_subscribers(newsletter, 1, prefix="left")
    bounced = add_subscribers(newsletter, 1, prefix="bounced")
    both = add_subscribers(tea, 2, prefix="tea")
    failed = add_subscribers(tea, 1, prefix="failed")
    for address in both[:1]:
        subscriber = Subscriber.objects.get(email=address)
        Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status="active")
    other = add_subscribers(make_newsletter(), 1, prefix="other")
    sink.refuse(bounced)
    sink.transient(1.0, codes=(451,), addresses=failed, limit_per_address=None)
    with (
        override_settings(DELIVERY_MAX_ATTEMPTS=1),
        django_capture_on_commit_callbacks(execute=True),
    ):
        publish(make_issue(newsletter, article))
        joined = add_subscribers(newsletter, 2, prefix="joined")
        publish(make_issue(newsletter, article))
        publish(make_issue(tea, article))
        publish(make_issue(Subscription.objects.get(subscriber__email=other[0]).newsletter))
    Subscription.objects.filter(subscriber__email__in=left).update(status="unsubscribed")
    late = add_subscribers(newsletter, 1, prefix="late")
    assert sink.counts()[steep[0]] == 2 and sink.counts()[both[0]] == 3
    assert Delivery.objects.get(subscriber__email=failed[0]).status == Status.FAILED
    sink.messages.clear()
    sink.rules.clear()
    return {
        "article": ArticlePage.objects.get(pk=article.pk),
        "steep": newsletter,
        "tea": tea,
        "expected": steep + joined + both,
        "left": left,
        "failed": failed,
        "bounced": bounced,
        "late": late,
        "other": other,
    }


def add_correction(client, article) -> None:
    """The editor adds a correction to the article in the admin and publishes it."""
    form = article_form(
        client,
        edit_url(article),
        **{
            "notices-TOTAL_FORMS": "1",
            "notices-0-kind": "correction",
            "notices-0-date": timezone.now().strftime("%Y-%m-%d %H:%M"),
            "notices-0-text": CORRECTION,
            "notices-0-ORDER": "1",
            "action-publish": "Publish",
        },
    )
    response = client.post(edit_url(article), form)
    assert_no_form_errors(response)
    assert response.status_code == 302


def correction_url(article) -> str:
    return reverse("newsletters_admin:correction", args=[article.pk])


def test_the_correction_reaches_exactly_the_readers_who_received_the_article_once_each(
    carried, editor_client, mail_to_sink, django_capture_on_commit_callbacks
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)

    edit_page = editor_client.get(edit_url(article)).content.decode()
    assert "Email this correction to 7 readers who received it" in edit_page
    confirm = editor_client.get(correction_url(article)).content.decode()
    assert CORRECTION in confirm
    assert "Email this correction to 7 readers" in confirm
    assert sink.received_count() == 0, "nothing goes before the editor presses the button"

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(correction_url(article))

    assert response.status_code == 302
    assert_each_mailed_once(sink, carried["expected"])
    assert set(sink.counts()) == set(carried["expected"])
    assert {received.subject for received in sink.messages} == {SUBJECT}
    sends = CorrectionSend.objects.filter(article=article)
    assert {send.state for send in sends} == {CorrectionSend.State.SENT}
    assert sum(send.recipients for send in sends) == 7
    rows = Delivery.objects.filter(correction__article=article)
    assert rows.filter(status=Status.SENT).count() == 7 and rows.count() == 7
    assert rows.filter(issue__isnull=False).count() == 0
    entry = PageLogEntry.objects.get(page=article, action="newsletters.correction_email")
    assert entry.data["recipients"] == 7


def test_each_reader_hears_from_the_newsletter_that_sent_them_the_article(
    carried, editor_client, mail_to_sink, django_capture_on_commit_callbacks
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(correction_url(article))

    by_reader = {received.rcpt: received.message for received in sink.messages}
    only_tea = carried["expected"][-1]
    assert by_reader[only_tea]["List-Id"].startswith("Coffee vs. Tea <")
    steep = carried["expected"][0]
    message = by_reader[steep]
    assert message["List-Id"].startswith("The Weekly Steep <")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert CORRECTION in text
    first_issue = corrections.issues_that_carried(article, carried["steep"]).earliest("pk")
    assert f"In The Weekly Steep of {first_issue.first_published_at:%-d %B %Y} we sent you" in text
    notice = article.notices.get()
    assert f"{article.get_full_url()}#notice-{notice.pk}" in text
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    response = Client().post(unsubscribe.split("localhost", 1)[1], {"List-Unsubscribe": "x"})
    assert response.status_code == 200
    assert not Subscription.objects.filter(
        subscriber__email=steep, newsletter=carried["steep"], status="active"
    ).exists()


def test_mailing_the_same_correction_again_sends_nothing(
    carried, editor_client, mail_to_sink, django_capture_on_commit_callbacks
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(correction_url(article))
        editor_client.post(correction_url(article))

    assert sink.received_count() == 7
    assert "Email this correction" not in editor_client.get(edit_url(article)).content.decode()
    notice = article.notices.get()
    assert corrections.open_correction(notice) == []


def test_writers_neither_see_nor_reach_the_correction_email(carried, writer, editor_client):
    article = carried["article"]
    add_correction(editor_client, article)
    client = Client()
    client.force_login(writer)

    edit_page = client.get(edit_url(article))
    assert edit_page.status_code == 200
    assert "Email this correction" not in edit_page.content.decode()
    assert client.get(correction_url(article)).status_code in (302, 403)
    assert client.post(correction_url(article)).status_code in (302, 403)
    assert not CorrectionSend.objects.exists()


def test_a_worker_that_died_holding_rows_leaves_them_to_the_next_none_missed(
    carried, editor_client, mail_to_sink, time_machine
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)
    sends = corrections.open_correction(article.notices.get())
    ledger = Ledger.of_correction(sends[0].pk)
    _, held = claim_batch(ledger.rows, 3)  # a worker claims three rows, then dies
    assert len(held) == 3

    time_machine.move_to(timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1))
    for send in sends:
        assert corrections.deliver(send.pk) == "done"

    assert_each_mailed_once(sink, carried["expected"])
    assert ledger.rows.filter(uncertain=True).count() == 1, "only the first could be in flight"
    assert CorrectionSend.objects.get(pk=sends[0].pk).state == CorrectionSend.State.SENT


def test_the_sweep_sends_a_correction_whose_task_was_lost(
    carried, editor_client, mail_to_sink, django_capture_on_commit_callbacks
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)
    corrections.open_correction(article.notices.get())  # no task enqueued
    assert sink.received_count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    assert_each_mailed_once(sink, carried["expected"])
    assert set(sink.counts()) == set(carried["expected"])
    assert not CorrectionSend.objects.exclude(state=CorrectionSend.State.SENT).exists()
    assert IssueSend.objects.exclude(state=IssueSend.State.SENT).count() == 0


def test_a_reader_who_leaves_while_the_correction_goes_out_is_not_mailed(
    carried, editor_client, mail_to_sink
):
    sink, article = mail_to_sink, carried["article"]
    add_correction(editor_client, article)
    sends = corrections.open_correction(article.notices.get())
    leaving = carried["expected"][1]
    Subscription.objects.filter(subscriber__email=leaving).update(status="unsubscribed")

    for send in sends:
        deliver_run(Ledger.of_correction(send.pk), corrections.render_correction(send))

    assert leaving not in sink.counts()
    assert sink.received_count() == 6
    assert Delivery.objects.get(correction__in=sends, subscriber__email=leaving).status == (
        Status.SKIPPED
    )


def test_deleting_the_article_takes_its_correction_ledger_and_feedback(
    carried, editor_client, mail_to_sink
):
    article = carried["article"]
    add_correction(editor_client, article)
    sends = corrections.open_correction(article.notices.get())
    row = Delivery.objects.filter(correction__in=sends).first()
    FeedbackEvent.objects.create(
        delivery=row,
        source="dsn",
        event_id="bounce-1",
        kind=FeedbackEvent.Kind.HARD_BOUNCE,
        occurred_at=timezone.now(),
    )

    ArticlePage.objects.get(pk=article.pk).delete()

    assert not CorrectionSend.objects.exists()
    assert not Delivery.objects.filter(correction__isnull=False).exists()
    assert not FeedbackEvent.objects.exists()
