"""Two RQ workers on Redis deliver one issue: no one missed, no one mailed twice
(reliability.md, "Sending", 10).

The scale-out engine: TASKS_BACKEND=rq, any number of `manage.py rqworker` processes. On
PostgreSQL (DATABASE_URL, as in CI's second pass) they claim ledger rows side by side with
SELECT … FOR UPDATE SKIP LOCKED. On SQLite, which has no row locks, the claim's re-checked
UPDATE keeps them apart, and IMMEDIATE transactions make a second writer wait its turn (see
outlet/settings/base.py): on either database no task may fail. Each test run uses a Redis
database of its own (13 + the xdist worker's number) and empties it; without a Redis server on
127.0.0.1 the test is skipped (a failure under CI).
"""

import os
import time

import pytest
from django.test import override_settings

from newsletters.models import Delivery, IssueSend
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
from tests.newsletters.workers import is_postgres, worker_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
RECIPIENTS = 3000
RQWORKER = ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]  # as the README says


def worker_name(n: int) -> str:
    return f"delivery-{n}-{os.getpid()}"


def test_two_rq_workers_deliver_one_issue_missing_no_one_and_no_one_twice(
    redis_url, sink, processes, newsletter
):
    from django_rq.queues import get_queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    emails = add_subscribers(newsletter, RECIPIENTS)
    issue = make_issue(newsletter)
    env = worker_env(
        sink,
        TASKS_BACKEND="rq",
        REDIS_URL=redis_url,
        DELIVERY_BATCH_SIZE=50,
        DELIVERY_LEASE_SECONDS=120,
    )
    workers = [processes.start(env, *RQWORKER, "--name", worker_name(n), name="rq") for n in (1, 2)]
    rq_settings = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}}
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend"}}, RQ_QUEUES=rq_settings
    ):
        queue = get_queue("default")
        assert wait_until(lambda: len(queue.connection.smembers("rq:workers")) == 2, 30), (
            processes.outputs()
        )
        publish(issue)  # enqueues one delivery task per worker (DELIVERY_CONCURRENCY = 2)

        deadline = time.monotonic() + 300  # generous: only a stuck send reaches it
        while unfinished(issue) or send_state(issue) != IssueSend.State.SENT:
            assert time.monotonic() < deadline, f"{unfinished(issue)} left\n{processes.outputs()}"
            time.sleep(1)
            sweep()  # the scheduler's tick
        registries = [FinishedJobRegistry(queue=queue), FailedJobRegistry(queue=queue)]
        jobs = [queue.fetch_job(job) for registry in registries for job in registry.get_job_ids()]
        failed = FailedJobRegistry(queue=queue).get_job_ids()

    assert all(worker.poll() is None for worker in workers), processes.outputs()
    assert_each_mailed_once(sink, emails)
    assert sink.received_count() == RECIPIENTS
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == RECIPIENTS
    assert not Delivery.objects.filter(issue=issue, uncertain=True).exists()
    assert_counts_add_up(issue)
    assert {job.worker_name for job in jobs} == {worker_name(1), worker_name(2)}, (
        "both workers took a delivery task"
    )
    assert not failed, processes.outputs()
    assert "Traceback" not in processes.outputs(), processes.outputs()
    if is_postgres():
        assert sink.max_open >= 2, "the two workers were sending at the same time"
