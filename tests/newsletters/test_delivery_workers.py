"""Delivery by real worker processes (`manage.py db_worker`) that the tests kill with SIGKILL,
against a real SMTP server on 127.0.0.1 (see reliability.md, "Sending", promises 2 and 3).

The workers open the test database (a file on SQLite), take tasks from the database queue and
mail the sink; leases are 2 seconds, so a dead worker's rows come back quickly. This process
plays the scheduler: its sweep enqueues delivery again for rows a dead worker left.
"""

import os
import random
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from newsletters.models import Delivery, IssuePage, IssueSend, progress_of
from newsletters.sweep import sweep
from tests.newsletters.sending import (
    add_subscribers,
    assert_counts_add_up,
    assert_each_mailed_once,
    make_issue,
    publish,
    send_state,
    unfinished,
)
from tests.newsletters.smtp_sink import wait_until
from tests.newsletters.workers import DATABASE_TASKS, finish_with_sweeps, worker_env

Status = Delivery.Status
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def duplicates_and_uncertain(sink, issue) -> tuple[dict, set]:
    twice = {address: n for address, n in sink.counts().items() if n > 1}
    uncertain = set(
        Delivery.objects.filter(issue=issue, uncertain=True).values_list(
            "subscriber__email", flat=True
        )
    )
    return twice, uncertain


class HeldRow:
    """A write lock on one ledger row, held from a thread of its own by a transaction that
    waits (a slow database): the worker's record of that row waits behind it."""

    def __init__(self) -> None:
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread: threading.Thread | None = None
        self.holder = 0  # the holding session's process id, on PostgreSQL

    def hold(self, issue: IssuePage, email: str) -> None:
        def run():
            try:
                with transaction.atomic():
                    row = Delivery.objects.filter(issue=issue, subscriber__email=email)
                    assert row.update(deferrals=F("deferrals")) == 1
                    if connection.vendor == "postgresql":
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_backend_pid()")
                            self.holder = cursor.fetchone()[0]
                    self.locked.set()
                    self.release.wait(120)
                    transaction.set_rollback(True)
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.locked.wait(30), "the row could not be locked"

    def let_go(self) -> None:
        """Release the row once the killed worker's sessions are gone. On SQLite its waiting
        record died with its process; PostgreSQL would run a statement that reached it
        before the kill as soon as the lock goes (the record would land after all), until it
        notices the client is gone: here it is told at once."""
        if connection.vendor == "postgresql":
            others = (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)"
            )

            def gone() -> bool:
                with connection.cursor() as cursor:
                    cursor.execute(others, [self.holder])
                    return not cursor.fetchall()

            assert wait_until(gone, 30), "the killed worker's sessions are still there"
        self.release.set()
        if self.thread is not None:
            self.thread.join(30)


def sent(issue: IssuePage, email: str) -> bool:
    return Delivery.objects.filter(
        issue=issue, subscriber__email=email, status=Status.SENT
    ).exists()


# The point where the worker dies, the how-manyth time the point is reached (the second
# batch, so that some rows are already sent), what the database is doing about the message
# before (the 69th) meanwhile, and the duplicates that may cause: only a message the server
# accepted but the worker never recorded can reach a reader twice. A worker records each
# message while it sends the next (newsletters.delivery.Recorder) and lets that one go only
# once the record has landed, so at most one accepted message is ever unrecorded.
CRASH_POINTS = [
    pytest.param("connect", 2, "", 0, id="after-claim"),
    pytest.param("rcpt", 70, "recorded", 0, id="after-rcpt-previous-recorded"),
    pytest.param("rcpt", 70, "held", 1, id="after-rcpt-previous-not-yet-recorded"),
    pytest.param("data", 70, "", 1, id="after-250-before-record"),
]


@pytest.mark.parametrize(("point", "after", "previous", "duplicates"), CRASH_POINTS)
def test_a_worker_killed_at_a_named_point_misses_no_one(
    point, after, previous, duplicates, sink, processes, newsletter, database_tasks
):
    emails = add_subscribers(newsletter, 120)
    issue = make_issue(newsletter)
    env = worker_env(sink, DELIVERY_BATCH_SIZE=50)
    first = processes.db_worker(env)
    held = HeldRow()

    def previous_message() -> str:  # the recipient of the message before the killing point
        return sink.messages[after - 2].rcpt

    if previous == "held":
        sink.hooks[after - 1] = lambda: held.hold(issue, previous_message())
    kill = sink.kill_at(
        point,
        first,
        after=after,
        when=(lambda: sent(issue, previous_message())) if previous == "recorded" else None,
    )

    publish(issue)  # opens the ledger and enqueues delivery for the workers

    assert kill.done.wait(120), f"the worker never reached {point}\n{processes.outputs()}"
    held.let_go()
    if previous:
        assert sent(issue, previous_message()) == (previous == "recorded")
    assert first.returncode is not None
    killed_with = sink.received_count()
    assert unfinished(issue) > 0
    assert send_state(issue) == IssueSend.State.SENDING

    processes.db_worker(env)  # the restart
    finish_with_sweeps(issue, processes)

    counts = sink.counts()
    assert not [address for address in emails if not counts[address]], "missed"
    twice, uncertain = duplicates_and_uncertain(sink, issue)
    assert len(twice) == duplicates, (twice, killed_with)
    assert all(n == 2 for n in twice.values()), twice
    assert set(twice) <= uncertain, "a reader mailed twice must be flagged uncertain"
    assert len(uncertain) <= 1, uncertain  # at most the one message in flight
    assert progress_of(issue).uncertain == len(uncertain)  # as the admin shows it
    assert Delivery.objects.filter(issue=issue, status=Status.SENT).count() == 120
    assert_counts_add_up(issue)


def test_random_kills_during_a_large_send_miss_no_one(sink, processes, newsletter, database_tasks):
    rng = random.Random(7)
    size = 2000 if os.environ.get("CI") == "true" else 1500
    emails = add_subscribers(newsletter, size)
    issue = make_issue(newsletter)
    env = worker_env(sink, DELIVERY_BATCH_SIZE=100)
    publish(issue)

    kills = 0
    for _ in range(4):
        worker = processes.db_worker(env)
        target = min(sink.received_count() + rng.randint(100, 300), size - 50)
        if not wait_until(lambda target=target: sink.received_count() >= target, 120):
            break
        time.sleep(rng.random() * 0.05)  # anywhere: mid-message, mid-write, between batches
        processes.kill(worker)
        kills += 1
        with override_settings(TASKS=DATABASE_TASKS):
            sweep()
    assert kills >= 3, processes.outputs()

    processes.db_worker(env)
    finish_with_sweeps(issue, processes)

    counts = sink.counts()
    assert not [address for address in emails if not counts[address]], "missed"
    twice, uncertain = duplicates_and_uncertain(sink, issue)
    assert sum(n - 1 for n in twice.values()) <= kills, (twice, kills)
    assert set(twice) <= uncertain
    assert len(uncertain) <= kills
    assert Delivery.objects.filter(issue=issue, status=Status.SENT).count() == size
    assert_counts_add_up(issue)


def test_many_concurrent_publishes_open_one_send(sink, newsletter):
    """Editors clicking "publish" at once, each request on its own database connection.

    On SQLite the clicks' writes take turns (IMMEDIATE transactions queue a second writer
    instead of failing it with "database is locked"); none of them may fail.
    """
    emails = add_subscribers(newsletter, 150)
    issue = make_issue(newsletter)
    clicks = 6
    barrier = threading.Barrier(clicks)
    errors = []

    def click():
        try:
            barrier.wait(10)
            publish(issue)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    with override_settings(**sink.django_settings):
        threads = [threading.Thread(target=click) for _ in range(clicks)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert not any(thread.is_alive() for thread in threads)

    assert not errors, errors
    assert IssueSend.objects.filter(issue=issue).count() == 1
    assert Delivery.objects.filter(issue=issue).count() == 150
    assert_each_mailed_once(sink, emails)
    assert send_state(issue) == IssueSend.State.SENT
    assert_counts_add_up(issue)


def test_two_scheduler_runs_at_once_send_a_scheduled_issue_once(sink, processes, newsletter):
    emails = add_subscribers(newsletter, 300)
    issue = IssuePage.objects.get(pk=make_issue(newsletter).pk)
    # Scheduled ten minutes ago for five minutes ago: due when the scheduler processes start,
    # whose clocks nothing here can move.
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        issue.go_live_at = timezone.now() + timedelta(minutes=5)
        issue.save_revision().publish()  # scheduled, not sent
    assert not IssueSend.objects.filter(issue=issue).exists()

    # Each run publishes what is due, then sweeps; tasks run inside the scheduler process.
    # Both must succeed: on SQLite, IMMEDIATE transactions make the second writer wait its
    # turn rather than fail with "database is locked" (outlet/settings/base.py).
    env = worker_env(sink, TASKS_BACKEND="immediate", DELIVERY_BATCH_SIZE=50)
    runs = [processes.start(env, "run_scheduler", "--once", name="scheduler") for _ in range(2)]
    for run in runs:
        run.wait(120)

    assert [run.returncode for run in runs] == [0, 0], processes.outputs()
    assert IssueSend.objects.filter(issue=issue).count() == 1
    assert Delivery.objects.filter(issue=issue).count() == 300
    assert Delivery.objects.filter(issue=issue).values("subscriber").distinct().count() == 300
    assert_each_mailed_once(sink, emails)
    assert send_state(issue) == IssueSend.State.SENT, processes.outputs()
    assert_counts_add_up(issue)


def test_a_batch_that_outlives_its_lease_is_not_sent_twice(sink, processes, newsletter):
    """A slow server: a batch takes longer than its lease, while another worker is free."""
    emails = add_subscribers(newsletter, 60)
    issue = make_issue(newsletter)
    sink.delay = 0.2  # 20 messages: 4 seconds, twice the lease
    env = worker_env(sink, DELIVERY_BATCH_SIZE=20, DELIVERY_CONCURRENCY=2)
    for _ in range(2):
        processes.db_worker(env)

    with override_settings(TASKS=DATABASE_TASKS, DELIVERY_CONCURRENCY=2):
        publish(issue)
    finish_with_sweeps(issue, processes)

    assert sink.max_open >= 2  # both workers were sending at once
    assert_each_mailed_once(sink, emails)
    assert not Delivery.objects.filter(issue=issue, uncertain=True).exists()
    assert_counts_add_up(issue)
