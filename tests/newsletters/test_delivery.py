"""Delivery against a real SMTP server on 127.0.0.1, in this process (see reliability.md,
"Sending"): a clean send, transient and permanent refusals, an address that keeps failing, a
server that goes away or refuses our sender, readers who leave or join while an issue is going
out, and scheduled sends (on time, or missed and marked).

Tasks run where they are enqueued (test settings), so publishing delivers before it returns;
the tests that need real worker processes are in test_delivery_workers.py. Retry delays and
schedules are waited out on time-machine's clock, stopped at START until the test moves it: this
process plays the scheduler, ticking after each delay, so no test depends on the machine's speed.
"""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone
from wagtail.models import PageLogEntry

from newsletters.models import (
    Delivery,
    IssuePage,
    IssueSend,
    Subscriber,
    Subscription,
    Suppression,
)
from newsletters.sweep import sweep
from tests.newsletters.sending import (
    add_subscribers,
    assert_counts_add_up,
    assert_each_mailed_once,
    ledger,
    make_issue,
    publish,
    send_state,
)
from tests.newsletters.smtp_sink import wait_until
from tests.newsletters.workers import DUMMY_TASKS

Status = Delivery.Status
pytestmark = pytest.mark.django_db

START = "2026-11-30 08:00:00+00:00"  # where the tests that wait on the clock stop it


def test_clean_send_mails_everyone_once_over_a_connection_per_batch(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks
):
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 200)
    issue = make_issue(newsletter)

    with (
        override_settings(DELIVERY_BATCH_SIZE=50),
        django_capture_on_commit_callbacks(execute=True),
    ):
        publish(issue)

    assert_each_mailed_once(sink, emails)
    assert sink.received_count() == 200
    assert send_state(issue) == IssueSend.State.SENT
    assert ledger(issue) == {Status.SENT: 200}
    assert_counts_add_up(issue)
    assert IssueSend.objects.get(issue=issue).recipients == 200
    # One connection per batch of 50, not one per message.
    assert sink.connections <= 200 // 50 + 1, sink.connections
    # Each row records the Message-ID the server received.
    received_ids = {received.message_id for received in sink.messages}
    assert set(Delivery.objects.filter(issue=issue).values_list("message_id", flat=True)) == (
        received_ids
    )
    assert len(received_ids) == 200
    message = sink.messages[0].message
    assert message["Subject"] == "Tariffs, chips and tea"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_publishing_again_sends_nothing(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks
):
    sink = mail_to_sink
    add_subscribers(newsletter, 20)
    issue = make_issue(newsletter)
    for _ in range(3):  # then typo fixes
        with django_capture_on_commit_callbacks(execute=True):
            publish(issue)
    assert sink.received_count() == 20
    assert IssueSend.objects.filter(issue=issue).count() == 1
    assert Delivery.objects.filter(issue=issue).count() == 20


TRANSIENT_FAULTS = [
    pytest.param("RCPT", (451, 421), id="rcpt-451-421"),
    pytest.param("DATA", (451, 421), id="data-451-421"),
    pytest.param("RCPT", (0,), id="rcpt-connection-dropped"),
]


@pytest.mark.parametrize(("stage", "codes"), TRANSIENT_FAULTS)
def test_transient_refusals_are_retried_on_a_fresh_connection(
    stage, codes, mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings
):
    sink = mail_to_sink
    # A fifth of the attempts fail; an address fails at most twice, fewer than the attempts
    # allowed, so every message must get through in the end.
    if codes == (0,):
        sink.drop(0.2, stage=stage, limit_per_address=2)
    else:
        sink.transient(0.2, codes=codes, stage=stage, limit_per_address=2)
    emails = add_subscribers(newsletter, 200)
    issue = make_issue(newsletter)
    settings.DELIVERY_RETRY_SECONDS = 0  # retries are due at once: one run finishes the send
    settings.DELIVERY_BATCH_SIZE = 50

    with django_capture_on_commit_callbacks(execute=True):
        publish(issue)

    assert_each_mailed_once(sink, emails)
    assert ledger(issue) == {Status.SENT: 200}
    assert send_state(issue) == IssueSend.State.SENT
    faults = [e for e in sink.events if e.verb == stage and e.code != 250]
    assert 20 <= len(faults) <= 80, len(faults)  # the faults did happen, about 20 %
    attempts = list(Delivery.objects.filter(issue=issue).values_list("attempts", flat=True))
    assert max(attempts) <= settings.DELIVERY_MAX_ATTEMPTS
    assert sum(attempts) == len(faults)  # each failure counted once, against its own row
    # A connection the server closed (421, dropped) is never used again: the next message
    # goes out on a new connection that starts with EHLO. After a 451 the same one goes on
    # (unless that was the batch's last message).
    events = sink.events
    carried_on = []
    for index, fault in enumerate(events):
        if fault.verb != stage or fault.code == 250:
            continue
        following = next((e for e in events[index + 1 :] if e.verb == "MAIL"), None)
        if following is None:
            continue  # the very last message
        if fault.code in (0, 421):
            assert following.connection != fault.connection, (fault, following)
            assert any(e.verb == "EHLO" and e.connection == following.connection for e in events)
        else:
            carried_on.append(following.connection == fault.connection)
    if carried_on:
        assert sum(carried_on) >= 0.75 * len(carried_on), carried_on


def test_permanent_refusals_bounce_once_and_are_never_mailed_again(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings
):
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 60)
    refused = set(emails[5:60:10])  # six addresses, in several batches
    sink.refuse(refused, 550)
    settings.DELIVERY_BATCH_SIZE = 20
    first = make_issue(newsletter)

    with django_capture_on_commit_callbacks(execute=True):
        publish(first)

    bounced = Delivery.objects.filter(issue=first, status=Status.BOUNCED)
    assert set(bounced.values_list("subscriber__email", flat=True)) == refused
    assert set(bounced.values_list("attempts", flat=True)) == {0}  # no retry was made
    assert all(row.last_error.startswith("550") for row in bounced)
    assert ledger(first) == {Status.SENT: 54, Status.BOUNCED: 6}
    assert send_state(first) == IssueSend.State.SENT
    assert_counts_add_up(first)
    for address in refused:
        assert Subscriber.objects.get(email=address).status == Subscriber.Status.BOUNCED
        assert Suppression.covers(address)
    rcpts = [e.address for e in sink.events if e.verb == "RCPT"]
    assert all(rcpts.count(address) == 1 for address in refused)

    second = make_issue(newsletter)
    with django_capture_on_commit_callbacks(execute=True):
        publish(second)

    rcpts = [e.address for e in sink.events if e.verb == "RCPT"]
    assert all(rcpts.count(address) == 1 for address in refused), "mailed again"
    assert not Delivery.objects.filter(issue=second, subscriber__email__in=refused).exists()
    assert ledger(second) == {Status.SENT: 54}
    assert sink.counts() == {
        address: 2 for address in emails if address not in refused
    }  # everyone else got both issues, once each


@pytest.mark.parametrize("mode", ["hangup", "refuse"])
def test_a_server_down_mid_send_pauses_it_and_resumes_when_it_returns(
    mode, mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings, time_machine
):
    time_machine.move_to(START, tick=False)
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 200)
    issue = make_issue(newsletter)
    settings.DELIVERY_BATCH_SIZE = 50
    retry_delay = timedelta(seconds=settings.DELIVERY_RETRY_SECONDS)
    sink.down_after(60, mode=mode)

    with django_capture_on_commit_callbacks(execute=True):
        publish(issue)  # both delivery tasks run, and find the server gone

    assert sink.received_count() == 60
    assert sink.is_down

    def paused():
        counts = ledger(issue)
        assert counts[Status.FAILED] == 0, "a server that is down fails nobody"
        assert counts[Status.SENT] == 60
        assert counts[Status.PENDING] == 140
        assert send_state(issue) == IssueSend.State.SENDING  # never "sent" with rows pending
        # At most the message the server went away under counts an attempt.
        assert Delivery.objects.filter(issue=issue, attempts__gt=0).count() <= 1

    paused()
    # The scheduler keeps ticking while the server is down, each tick once the rows are due
    # again: each tick makes at most one connection attempt, then gives up until the next (no
    # hot loop).
    ticks = 6
    for _ in range(ticks):
        time_machine.shift(retry_delay)
        sweep()
    paused()
    if mode == "hangup":
        assert sink.attempts_while_down <= 2 + ticks, sink.attempts_while_down
    assert sink.received_count() == 60

    sink.up()
    time_machine.shift(retry_delay)
    sweep()  # the first tick once the server is back sends the rest

    assert_each_mailed_once(sink, emails)
    assert ledger(issue) == {Status.SENT: 200}
    assert send_state(issue) == IssueSend.State.SENT
    assert_counts_add_up(issue)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readers_who_leave_mid_send_are_not_mailed_and_newcomers_wait(mail_to_sink, newsletter):
    from newsletters.subscribing import confirm, unsubscribe

    sink = mail_to_sink
    emails = add_subscribers(newsletter, 100)
    pending = add_subscribers(newsletter, 1, prefix="pending", status=Subscription.Status.PENDING)
    issue = make_issue(newsletter)
    # While the 10th message is with the server: two readers leave this newsletter (one
    # later in the same batch, one in the next batch), one leaves everything, a pending
    # reader confirms and a new reader arrives.
    leavers = [emails[30], emails[80]]
    leaves_all = emails[40]
    newcomer = []

    def meanwhile():
        for address in leavers:
            unsubscribe(Subscriber.objects.get(email=address), [newsletter.pk])
        unsubscribe(Subscriber.objects.get(email=leaves_all))
        confirm(Subscriber.objects.get(email=pending[0]))
        newcomer.extend(add_subscribers(newsletter, 1, prefix="newcomer"))

    sink.hooks[10] = meanwhile

    with override_settings(DELIVERY_BATCH_SIZE=50):
        publish(issue)

    assert newcomer, "the hook ran"
    gone = {*leavers, leaves_all}
    counts = sink.counts()
    assert not gone & set(counts), f"mailed after unsubscribing: {gone & set(counts)}"
    assert not counts[pending[0]] and not counts[newcomer[0]], "joined after the issue went live"
    assert set(counts) == set(emails) - gone
    assert all(n == 1 for n in counts.values())
    skipped = Delivery.objects.filter(issue=issue, status=Status.SKIPPED)
    assert set(skipped.values_list("subscriber__email", flat=True)) == gone
    assert not Delivery.objects.filter(
        issue=issue, subscriber__email__in=[pending[0], newcomer[0]]
    ).exists()
    assert ledger(issue) == {Status.SENT: 97, Status.SKIPPED: 3}
    assert IssueSend.objects.get(issue=issue).recipients == 100
    assert_counts_add_up(issue)


def schedule(issue, from_now: timedelta):
    """An editor schedules the issue with Wagtail's go-live time."""
    issue = IssuePage.objects.get(pk=issue.pk)
    issue.go_live_at = timezone.now() + from_now
    issue.save_revision().publish()
    issue.refresh_from_db()
    assert not issue.live
    return issue.go_live_at


def run_publish_scheduled(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_scheduled", stdout=io.StringIO())


def test_a_scheduled_issue_is_sent_at_its_time_not_before(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(START, tick=False)
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 30)
    issue = make_issue(newsletter)
    due = schedule(issue, timedelta(hours=2))

    time_machine.move_to(due - timedelta(minutes=1))
    run_publish_scheduled(django_capture_on_commit_callbacks)  # a minute early
    assert not IssuePage.objects.get(pk=issue.pk).live
    assert not IssueSend.objects.filter(issue=issue).exists()
    assert sink.received_count() == 0

    time_machine.move_to(due + timedelta(minutes=1))  # the scheduler's next tick
    run_publish_scheduled(django_capture_on_commit_callbacks)

    assert IssuePage.objects.get(pk=issue.pk).live
    send = IssueSend.objects.get(issue=issue)
    assert send.state == IssueSend.State.SENT
    assert send.scheduled_for == due
    assert_each_mailed_once(sink, emails)
    assert all(received.rcpt in emails for received in sink.messages)


def test_a_schedule_missed_by_more_than_the_lateness_is_marked_and_sends_nothing(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings, time_machine
):
    time_machine.move_to(START, tick=False)
    sink = mail_to_sink
    add_subscribers(newsletter, 30)
    issue = make_issue(newsletter)
    due = schedule(issue, timedelta(hours=2))

    # The scheduler was down: it runs again when the issue is more than the lateness late.
    lateness = timedelta(seconds=settings.DELIVERY_MAX_LATENESS_SECONDS)
    time_machine.move_to(due + lateness + timedelta(minutes=1))
    run_publish_scheduled(django_capture_on_commit_callbacks)

    assert IssuePage.objects.get(pk=issue.pk).live  # the web copy is up
    send = IssueSend.objects.get(issue=issue)
    assert send.state == IssueSend.State.MISSED
    assert send.scheduled_for == due
    assert send.recipients == 0
    assert not Delivery.objects.filter(issue=issue).exists()
    assert PageLogEntry.objects.filter(page=issue, action="newsletters.send").exists()
    # Neither a sweep nor a later publish (a typo fix) sends it silently late.
    sweep()
    with django_capture_on_commit_callbacks(execute=True):
        publish(issue)
    assert sink.received_count() == 0
    assert IssueSend.objects.get(issue=issue).state == IssueSend.State.MISSED


def test_an_address_that_keeps_failing_fails_after_the_attempts_allowed(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings
):
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 10)
    sink.transient(1.0, codes=(451,), addresses=[emails[3]], limit_per_address=None)
    settings.DELIVERY_RETRY_SECONDS = 0  # retries are due at once: one run gets to the end

    with django_capture_on_commit_callbacks(execute=True):
        publish(issue := make_issue(newsletter))

    row = Delivery.objects.get(issue=issue, subscriber__email=emails[3])
    assert row.status == Status.FAILED
    assert row.attempts == settings.DELIVERY_MAX_ATTEMPTS
    assert row.last_error.startswith("451")
    tried = [e for e in sink.events if e.verb == "RCPT" and e.address == emails[3]]
    assert len(tried) == settings.DELIVERY_MAX_ATTEMPTS
    assert ledger(issue) == {Status.SENT: 9, Status.FAILED: 1}
    assert send_state(issue) == IssueSend.State.SENT
    assert_counts_add_up(issue)


def test_a_server_that_refuses_our_sender_bounces_no_one(
    mail_to_sink, newsletter, django_capture_on_commit_callbacks, settings, time_machine
):
    """A 5xx to MAIL FROM (relay misconfigured, sender not allowed) is about us, not about
    the readers: nobody is bounced or suppressed, the send waits until it is fixed."""
    time_machine.move_to(START, tick=False)
    sink = mail_to_sink
    emails = add_subscribers(newsletter, 60)
    issue = make_issue(newsletter)
    settings.DELIVERY_BATCH_SIZE = 20
    sink.refuse_sender(553)

    with django_capture_on_commit_callbacks(execute=True):
        publish(issue)

    assert ledger(issue) == {Status.PENDING: 60}
    assert not Delivery.objects.filter(issue=issue, attempts__gt=0).exists()
    assert not Subscriber.objects.filter(status=Subscriber.Status.BOUNCED).exists()
    assert not Suppression.objects.exists()
    assert send_state(issue) == IssueSend.State.SENDING
    assert len([e for e in sink.events if e.verb == "MAIL"]) <= 2  # once per delivery task

    sink.rules.clear()  # the configuration is fixed
    time_machine.shift(timedelta(seconds=settings.DELIVERY_RETRY_SECONDS))
    sweep()  # the first tick after the retry delay sends everyone

    assert_each_mailed_once(sink, emails)
    assert ledger(issue) == {Status.SENT: 60}
    assert send_state(issue) == IssueSend.State.SENT


def test_the_ledger_is_written_by_the_database_in_one_statement(newsletter):
    from django.test.utils import CaptureQueriesContext

    from newsletters.ledger import create_ledger

    add_subscribers(newsletter, 300)
    add_subscribers(newsletter, 5, prefix="pending", status=Subscription.Status.PENDING)
    issue = make_issue(newsletter)

    with CaptureQueriesContext(connection) as queries:
        rows = create_ledger(issue.pk, newsletter.pk)

    assert rows == 300 == Delivery.objects.filter(issue=issue, status=Status.PENDING).count()
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT INTO")
    fresh = Delivery.objects.filter(issue=issue).first()
    assert (fresh.attempts, fresh.claim_token, fresh.uncertain) == (0, "", False)


def rows_the_planner_counts(model) -> int:
    """How many rows the database's query planner believes `model`'s table holds (its
    statistics, not a count); -1 if it has none."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return int(cursor.fetchone()[0])
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return -1
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        return max((int(stat.split()[0]) for (stat,) in cursor.fetchall()), default=-1)


def test_a_run_opens_with_the_planner_knowing_its_audience(
    newsletter, django_capture_on_commit_callbacks
):
    """Readers who arrived a moment ago, and suppressions too few for autovacuum to count,
    are counted once the run's ledger is committed."""
    from newsletters.ledger import open_send
    from newsletters.suppression import suppress

    # Statistics outlive a test's rollback: add rows in a number they cannot already say.
    counted = (Subscriber, Subscription, Suppression)
    stale = {model: rows_the_planner_counts(model) for model in counted}
    readers, suppressed = next(
        (readers, suppressed)
        for readers, suppressed in zip((60, 61, 62, 63), (1, 2, 3, 4), strict=True)
        if Subscriber.objects.count() + readers != stale[Subscriber]
        and Subscription.objects.count() + readers != stale[Subscription]
        and Suppression.objects.count() + suppressed != stale[Suppression]
    )
    emails = add_subscribers(newsletter, readers)
    for email in emails[:suppressed]:
        suppress(Subscriber.objects.get(email=email), Suppression.Reason.BOUNCED)
    now = {model: model.objects.count() for model in counted}
    assert all(rows_the_planner_counts(model) != now[model] for model in counted)

    with django_capture_on_commit_callbacks(execute=True):
        open_send(make_issue(newsletter))

    assert {model: rows_the_planner_counts(model) for model in counted} == now


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reader_who_leaves_is_not_mailed_once_the_next_few_messages_have_gone(
    mail_to_sink, newsletter
):
    """The bound on how late an unsubscribe is honoured: readers are checked RECHECK_EVERY at a
    time, just before their messages go out."""
    from newsletters.delivery import RECHECK_EVERY
    from newsletters.subscribing import unsubscribe

    sink = mail_to_sink
    emails = add_subscribers(newsletter, 40)
    issue = make_issue(newsletter)
    # Leaves while the 1st message is with the server: the next check comes while message
    # RECHECK_EVERY is with the server, and every reader from there on who has left is skipped.
    leaver = emails[RECHECK_EVERY]
    sink.hooks[1] = lambda: unsubscribe(Subscriber.objects.get(email=leaver), [newsletter.pk])

    with override_settings(DELIVERY_BATCH_SIZE=40):
        publish(issue)

    assert leaver not in sink.counts()
    assert Delivery.objects.get(issue=issue, subscriber__email=leaver).status == Status.SKIPPED
    assert len(sink.counts()) == 39


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_records_are_written_by_a_thread_of_their_own_and_in_order(mail_to_sink, newsletter):
    """A sent message is recorded on a thread of its own while the next one is being sent
    (newsletters.delivery.Recorder); yet whenever the server accepts a message, every message
    before it is in the ledger as sent, and it is not yet. (A record is usually quick enough
    to land before the next message anyway: the test below holds one back, so that only the
    wait before the next message's data keeps them in order.)"""
    sink = mail_to_sink
    add_subscribers(newsletter, 60)
    issue = make_issue(newsletter)
    seen = []

    def check():
        accepted = [received.rcpt for received in sink.messages]
        recorded = set(
            Delivery.objects.filter(issue=issue, status=Status.SENT).values_list(
                "subscriber__email", flat=True
            )
        )
        recorder = any(thread.name.startswith("ledger") for thread in threading.enumerate())
        seen.append((recorded == set(accepted[:-1]), recorder))

    for n in range(1, 61):
        sink.hooks[n] = check
    with override_settings(DELIVERY_BATCH_SIZE=25):
        publish(issue)

    assert len(seen) == 60
    assert all(in_order for in_order, _ in seen), seen
    assert all(recorder for _, recorder in seen[1:]), "recorded on a thread of its own"
    assert ledger(issue) == {Status.SENT: 60}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_while_a_record_waits_on_the_database_the_next_message_is_held_back(
    mail_to_sink, newsletter
):
    sink = mail_to_sink
    add_subscribers(newsletter, 12)
    issue = make_issue(newsletter)
    locked, release, observed = threading.Event(), threading.Event(), {}

    def hold_the_5th_record():
        address = sink.messages[4].rcpt

        def lock():  # a slow database: a transaction that holds the 5th row a while
            try:
                with transaction.atomic():
                    rows = Delivery.objects.filter(issue=issue, subscriber__email=address)
                    rows.update(deferrals=F("deferrals"))
                    locked.set()
                    release.wait(60)
            finally:
                connections.close_all()

        def watch():  # the 6th message's envelope comes, and its data does not
            wait_until(lambda: sum(e.verb == "RCPT" for e in list(sink.events)) >= 6, 30)
            time.sleep(0.5)  # time enough for a message that was let go to arrive
            observed["accepted"] = sink.received_count()
            observed["recorded"] = ledger(issue)[Status.SENT]
            release.set()

        threading.Thread(target=lock, daemon=True).start()
        assert locked.wait(30)
        threading.Thread(target=watch, daemon=True).start()

    sink.hooks[5] = hold_the_5th_record
    publish(issue)

    assert observed == {"accepted": 5, "recorded": 4}
    assert ledger(issue) == {Status.SENT: 12}
    assert_each_mailed_once(sink, sink.counts())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_that_cannot_be_recorded_stops_the_send_before_the_next_goes(
    mail_to_sink, newsletter, monkeypatch
):
    from newsletters import delivery

    sink = mail_to_sink
    add_subscribers(newsletter, 10)
    issue = make_issue(newsletter)
    with override_settings(TASKS=DUMMY_TASKS):
        publish(issue)
    record_sent, calls = delivery.record_sent, []

    def fails_the_4th(*args):
        calls.append(args)
        if len(calls) == 4:
            raise DatabaseError("disk I/O error")
        record_sent(*args)

    monkeypatch.setattr(delivery, "record_sent", fails_the_4th)
    with pytest.raises(delivery.LedgerUnwritable, match="disk I/O error"):
        delivery.deliver(issue.pk)

    assert sink.received_count() == 4, "the 5th message waited for the 4th's record"
    fourth = Delivery.objects.get(issue=issue, subscriber__email=sink.messages[3].rcpt)
    assert fourth.status == Status.SENDING, "left to be reclaimed, as after a crash"
    assert ledger(issue)[Status.SENT] == 3


def test_a_message_that_cannot_be_made_fails_on_its_own_turn(mail_to_sink, newsletter, monkeypatch):
    """The next message is made while the server reads the current one; should making it
    fail, the current one is still sent and recorded, and the error is raised on its turn."""
    from newsletters.delivery import deliver
    from newsletters.rendering import RenderedIssue

    sink = mail_to_sink
    add_subscribers(newsletter, 6)
    issue = make_issue(newsletter)
    with override_settings(TASKS=DUMMY_TASKS):
        publish(issue)
    personal_links, made, broken = RenderedIssue.personal_links, [], []

    def fails_for_the_4th_reader(self, subscriber):
        made.append(subscriber.email)
        if len(made) == 4:
            broken.append(subscriber.email)
        if subscriber.email in broken:
            raise ValueError("cannot make this reader's links")
        return personal_links(self, subscriber)

    monkeypatch.setattr(RenderedIssue, "personal_links", fails_for_the_4th_reader)
    with pytest.raises(ValueError, match="links"):
        deliver(issue.pk)

    # Made ahead while the 3rd was with the server, failed, made again on its turn: raised.
    assert made[3:] == broken * 2
    assert sink.received_count() == 3 and broken[0] not in sink.counts()
    assert ledger(issue)[Status.SENT] == 3


@pytest.mark.parametrize(
    "state",
    ["confirmed", "pending", "unsubscribed", "other-newsletter", "suppressed", "complained"],
)
def test_the_check_before_sending_finds_exactly_the_mailable_readers(
    newsletter, series_newsletter, state
):
    from newsletters.delivery import RECHECK_EVERY, still_wanted
    from newsletters.suppression import suppress

    emails = add_subscribers(newsletter, RECHECK_EVERY - 1)
    subscribers = list(Subscriber.objects.filter(email__in=emails).order_by("pk"))
    target = subscribers[4]
    subscription = Subscription.objects.get(subscriber=target, newsletter=newsletter)
    if state == "pending":
        subscription.status = Subscription.Status.PENDING
    elif state == "unsubscribed":
        subscription.status = Subscription.Status.UNSUBSCRIBED
    elif state == "other-newsletter":
        subscription.newsletter = series_newsletter
    subscription.save()
    if state == "suppressed":
        suppress(target, Suppression.Reason.BOUNCED)
    elif state == "complained":
        suppress(target, Suppression.Reason.COMPLAINED)

    class Row:  # what still_wanted() reads of a ledger row
        def __init__(self, subscriber):
            self.subscriber_id = subscriber.pk

    wanted = still_wanted([Row(subscriber) for subscriber in subscribers], newsletter.pk)

    expected = {subscriber.pk for subscriber in subscribers}
    if state != "confirmed":
        expected.discard(target.pk)
    assert wanted == expected
    assert Subscription.objects.mailable(newsletter.pk).filter(
        subscriber__in=subscribers
    ).count() == len(expected), "the same rule as mailable()"
