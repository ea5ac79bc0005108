"""Limits on sending (reliability.md, "Sending", 12): a send rate that holds across workers, a
server's pushback that slows the run, and a run that pauses itself past its bounce threshold.

Measured on the SMTP sink's own clock: when it accepted each message.
"""

import pytest
from django.test import override_settings

from newsletters import pausing
from newsletters.delivery import deliver
from newsletters.models import Delivery, IssueSend, Suppression
from tests.newsletters.sending import (
    add_subscribers,
    assert_counts_add_up,
    assert_each_mailed_once,
    ledger,
    make_issue,
    publish,
)
from tests.newsletters.workers import DUMMY_TASKS, finish_with_sweeps, worker_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
Status = Delivery.Status

RATE = 10  # per second: far below what the machine can send, so that the limit is what shows
RECIPIENTS = 100  # ten seconds' worth


def measured_rate(sink) -> float:
    """Messages per second between the first and the last the server accepted."""
    times = sorted(received.at for received in sink.messages)
    return (len(times) - 1) / (times[-1] - times[0])


def test_two_database_workers_keep_to_the_shared_rate(sink, processes, newsletter, database_tasks):
    emails = add_subscribers(newsletter, RECIPIENTS)
    issue = make_issue(newsletter)
    env = worker_env(
        sink, DELIVERY_RATE_PER_SECOND=RATE, DELIVERY_BATCH_SIZE=20, DELIVERY_LEASE_SECONDS=60
    )
    processes.db_worker(env)
    processes.db_worker(env)

    publish(issue)
    finish_with_sweeps(issue, processes)

    assert_each_mailed_once(sink, emails)
    assert RATE * 0.9 <= measured_rate(sink) <= RATE * 1.1, measured_rate(sink)
    assert len({received.connection for received in sink.messages}) >= 2  # both sent


def test_two_rq_workers_keep_to_the_shared_rate(redis_url, sink, processes, newsletter):
    emails = add_subscribers(newsletter, RECIPIENTS)
    issue = make_issue(newsletter)
    env = worker_env(
        sink,
        TASKS_BACKEND="rq",
        REDIS_URL=redis_url,
        DELIVERY_RATE_PER_SECOND=RATE,
        DELIVERY_BATCH_SIZE=20,
        DELIVERY_LEASE_SECONDS=60,
    )
    for _ in range(2):
        processes.start(env, "rqworker", "--job-class", "django_tasks_rq.Job", "default")
    rq_tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    rq_queues = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}}

    with override_settings(TASKS=rq_tasks, RQ_QUEUES=rq_queues, TASKS_BACKEND="rq"):
        publish(issue)
        finish_with_sweeps(issue, processes, tasks=rq_tasks)

    assert_each_mailed_once(sink, emails)
    assert RATE * 0.9 <= measured_rate(sink) <= RATE * 1.1, measured_rate(sink)


def test_a_burst_of_421s_slows_the_run_down(sink, processes, newsletter, database_tasks):
    emails = add_subscribers(newsletter, 120)
    issue = make_issue(newsletter)
    # Ten readers in a row, five seconds in, are answered 421 once each.
    sink.transient(1.0, codes=(421,), addresses=emails[50:60], limit_per_address=1)
    env = worker_env(
        sink, DELIVERY_RATE_PER_SECOND=RATE, DELIVERY_BATCH_SIZE=20, DELIVERY_LEASE_SECONDS=60
    )
    processes.db_worker(env)

    publish(issue)
    finish_with_sweeps(issue, processes)

    assert_each_mailed_once(sink, emails)
    accepted = sorted(received.at for received in sink.messages)
    pushed_back = min(event.at for event in sink.events if event.code == 421)
    before = [at for at in accepted if pushed_back - 2 <= at < pushed_back]
    after = [at for at in accepted if pushed_back <= at < pushed_back + 2]
    # At least three quarters of the rate: a loaded machine may fall a little behind it.
    assert len(before) >= 0.75 * 2 * RATE, "the run went at its rate before the pushback"
    assert len(after) <= 0.6 * len(before), (len(before), len(after))


def test_a_run_past_its_bounce_threshold_pauses_and_resumes_cleanly(
    mail_to_sink, newsletter, settings
):
    sink = mail_to_sink
    settings.DELIVERY_BATCH_SIZE = 50
    settings.DELIVERY_PAUSE_MIN_SAMPLE = 50
    settings.DELIVERY_PAUSE_BOUNCE_RATE = 0.05
    emails = add_subscribers(newsletter, 200)
    refused = emails[0:50:5]  # one in five of the first batch: an old import gone stale
    sink.refuse(refused)
    issue = make_issue(newsletter)
    with override_settings(TASKS=DUMMY_TASKS):
        publish(issue)

    assert deliver(issue.pk) == "paused"

    send = IssueSend.objects.get(issue=issue)
    assert send.state == IssueSend.State.PAUSED
    assert "10 of 50 messages bounced (20.0%)" in send.pause_reason
    assert ledger(issue) == {Status.SENT: 40, Status.BOUNCED: 10, Status.PENDING: 150}
    assert deliver(issue.pk) == "paused"  # a worker that comes along sends nothing
    assert sink.received_count() == 40

    assert pausing.resume(issue.pk)
    assert deliver(issue.pk) == "done"

    assert IssueSend.objects.get(issue=issue).state == IssueSend.State.SENT
    assert_each_mailed_once(sink, [email for email in emails if email not in refused])
    assert ledger(issue) == {Status.SENT: 190, Status.BOUNCED: 10}
    assert all(Suppression.reason_for(email) == "bounced" for email in refused)
    assert_counts_add_up(issue)
