"""The Django side of bench/ledger_million.py, bench/workers.py and bench/soak.py: one phase
per process, results as JSON.

    python -m bench.fleet_worker PHASE OUT.json [options]

Run with outlet.settings.production, the run's database (DATABASE_URL) and EMAIL_URL pointing
at the bench's local sink (see send.py's environment()). Phases:

- populate: --recipients N confirmed subscribers and subscriptions to the newsletter of the
  demo's fullest live issue (send_worker.target()), written by the database itself (one
  INSERT … SELECT over a generated series per table), plus --suppressed subscribers whose
  addresses are suppressed (so the audience query has suppressions to leave out). Then
  ANALYZE, as a database that has lived with these rows would have its statistics;
- ledger: (with --what-if, DDL from WHAT_IF applied to the bench database first) the issue's
  run opened by newsletters.ledger.open_send() (create_ledger() inside),
  the real path of an editor's first publish: time, RSS before, peak RSS after; with
  --explain, EXPLAIN ANALYZE of the same INSERT … SELECT for a second issue (PostgreSQL, in
  a transaction rolled back), and the SELECT alone;
- open: the issue's earlier run and ledger dropped, then open_send() and start_workers():
  one delivery task per DELIVERY_CONCURRENCY, onto the configured task backend;
- progress: the ledger's counts by status, and the run's state;
- sweep: newsletters.sweep.sweep() once (the scheduler's tick);
- verify: the ledger against the sink's per-address counts (--sink-counts): missing
  recipients, duplicates, duplicates not flagged uncertain, and whether the run's counts add
  up (recipients = sent + failed + bounced + skipped, nothing pending).
"""

import argparse
import gc
import json
import time
from pathlib import Path

import django

from bench.send_worker import BENCH_DOMAIN, peak_rss_mb, rss_mb, target

SUPPRESSED_DOMAIN = "suppressed.bench.example"


def populate(args) -> dict:
    """Subscribers, subscriptions and suppressions in SQL: faithful to the models' columns,
    with the database generating the rows (a million in seconds, nothing through Python)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from newsletters.models import Subscriber, Subscription, Suppression

    issue, newsletter = target()
    now = timezone.now()
    q = connection.ops.quote_name
    subscriber = q(Subscriber._meta.db_table)
    subscription = q(Subscription._meta.db_table)
    suppression = q(Suppression._meta.db_table)
    if connection.vendor == "postgresql":
        series = "SELECT g AS i FROM generate_series(1, %s) AS g"
        # A stand-in for the keyed hash (the bench has no use for the real key): 64 hex
        # characters, distinct per address, as email_hash() gives.
        hashed = "encode(sha256(convert_to(s.email, 'UTF8')), 'hex')"
        concat = "'{prefix}' || lpad(i::text, 7, '0') || '@{domain}'"
    else:
        series = (
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %s) "
            "SELECT i FROM g"
        )
        hashed = "lower(hex(randomblob(32)))"
        concat = "'{prefix}' || substr('0000000' || i, -7, 7) || '@{domain}'"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for prefix, domain, count in (
            ("reader", BENCH_DOMAIN, args.recipients),
            ("gone", SUPPRESSED_DOMAIN, args.suppressed),
        ):
            if not count:
                continue
            email = concat.format(prefix=prefix, domain=domain)
            cursor.execute(
                f"INSERT INTO {subscriber} (email, email_hash, name, status, created_at,"
                " consent_at, consent_source, confirmation_sent_at, token_version)"
                f" SELECT {email}, '', 'Reader ' || i, %s, %s, %s, 'bench', %s, 1"
                f" FROM ({series}) AS n",
                [Subscriber.Status.ACTIVE, now, now, now, count],
            )
        # The hash from the address, in a second pass (the database has the address by then).
        cursor.execute(
            f"UPDATE {subscriber} AS s SET email_hash = {hashed} WHERE s.email_hash = ''"
            " AND (s.email LIKE %s OR s.email LIKE %s)",
            [f"%@{BENCH_DOMAIN}", f"%@{SUPPRESSED_DOMAIN}"],
        )
        cursor.execute(
            f"INSERT INTO {subscription} (subscriber_id, newsletter_id, status, source,"
            " created_at, confirmed_at, unsubscribed_at, welcomed_at)"
            f" SELECT s.id, %s, %s, 'bench', %s, %s, NULL, %s FROM {subscriber} AS s"
            " WHERE s.email LIKE %s OR s.email LIKE %s",
            [newsletter.pk, Subscription.Status.ACTIVE, now, now, now,
             f"%@{BENCH_DOMAIN}", f"%@{SUPPRESSED_DOMAIN}"],
        )  # fmt: skip
        cursor.execute(
            f"INSERT INTO {suppression} (email_hash, reason, created_at)"
            f" SELECT s.email_hash, %s, %s FROM {subscriber} AS s WHERE s.email LIKE %s",
            [Suppression.Reason.BOUNCED, now, f"%@{SUPPRESSED_DOMAIN}"],
        )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            # Everything into the main file, which the benches copy per scenario.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    from newsletters.ledger import audience

    return {
        "issue_id": issue.pk,
        "newsletter_id": newsletter.pk,
        "bench_subscribers": args.recipients,
        "suppressed_subscribers": args.suppressed,
        "audience": audience(newsletter.pk).count(),
        "seconds": round(seconds, 2),
    }


def drop_run(issue) -> None:
    """The issue as if never sent: no run, no ledger (a bench database, so TRUNCATE-fast)."""
    from django.db import connection

    from newsletters.models import Delivery, FeedbackEvent, IssueSend

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(
                connection.ops.quote_name(m._meta.db_table) for m in (FeedbackEvent, Delivery)
            )
            cursor.execute(f"TRUNCATE {tables}")
        else:
            FeedbackEvent.objects.all().delete()
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(Delivery._meta.db_table)}")
    IssueSend.objects.filter(issue=issue).delete()


# What-ifs for the ledger's INSERT (PostgreSQL; DDL on the bench's database, not the app's
# migrations). "lean": the indexes a new ledger row need not enter: the foreign-key indexes
# on issue and correction (each is the leading column of a unique constraint already), the
# correction indexes made partial to correction rows (an issue's row has no correction), and
# the message-id indexes made partial to rows that have one (a new row's are empty).
# "nofk": also no foreign-key constraints from the ledger to subscribers and issues (Django
# still cascades deletes itself): no per-row check and row lock on the referenced row.
WHAT_IF = {
    "lean": [
        "DROP INDEX newsletters_delivery_issue_id_d20e1b1b",
        "DROP INDEX newsletters_delivery_correction_id_acf1bc1c",
        "DROP INDEX newsletters_delivery_provider_message_id_a8cb3ca0_like",
        "DROP INDEX newsletters_delivery_provider_message_id_a8cb3ca0",
        "CREATE INDEX delivery_provider_id ON newsletters_delivery (provider_message_id)"
        " WHERE provider_message_id <> ''",
        "DROP INDEX delivery_message_id",
        "CREATE INDEX delivery_message_id ON newsletters_delivery (message_id)"
        " WHERE message_id <> ''",
        "ALTER TABLE newsletters_delivery DROP CONSTRAINT one_delivery_per_correction",
        "CREATE UNIQUE INDEX one_delivery_per_correction ON newsletters_delivery"
        " (correction_id, subscriber_id) WHERE correction_id IS NOT NULL",
        "DROP INDEX correction_due",
        "CREATE INDEX correction_due ON newsletters_delivery (correction_id, id)"
        " WHERE status = 'pending' AND correction_id IS NOT NULL",
        "DROP INDEX correction_leased",
        "CREATE INDEX correction_leased ON newsletters_delivery (correction_id, claimed_until)"
        " WHERE status = 'sending' AND correction_id IS NOT NULL",
    ],
    "nofk": [
        "ALTER TABLE newsletters_delivery"
        " DROP CONSTRAINT newsletters_delivery_subscriber_id_469de33d_fk_newslette",
        "ALTER TABLE newsletters_delivery"
        " DROP CONSTRAINT newsletters_delivery_issue_id_d20e1b1b_fk_newslette",
    ],
}


def ledger(args) -> dict:
    from django.db import connection

    from newsletters.ledger import audience, open_send
    from newsletters.models import Delivery, IssuePage

    issue, newsletter = target()
    issue = IssuePage.objects.get(pk=issue.pk)  # as the publish signal gets it
    drop_run(issue)
    if args.what_if:
        with connection.cursor() as cursor:
            for statement in WHAT_IF[args.what_if]:
                cursor.execute(statement)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Delivery._meta.db_table}")
            cursor.execute("CHECKPOINT")  # the truncate's writes out of the way of the timing
    gc.collect()
    rss_before = rss_mb()
    peak_before = peak_rss_mb()
    started = time.perf_counter()
    send = open_send(issue)
    seconds = time.perf_counter() - started
    assert send is not None
    rows = Delivery.objects.filter(issue=issue).count()
    assert rows == send.recipients, (rows, send.recipients)
    result = {
        "rows": send.recipients,
        "seconds": round(seconds, 2),
        "rows_per_s": round(send.recipients / seconds),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_before_mb": round(peak_before, 1),
        "peak_rss_after_mb": round(peak_rss_mb(), 1),
        "growth_mb": round(peak_rss_mb() - rss_before, 1),
    }
    if args.explain:
        select = audience(newsletter.pk)
        sql, params = select.values_list("subscriber_id").query.sql_with_params()
        with connection.cursor() as cursor:
            prefix = "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else ""
            started = time.perf_counter()
            if prefix:
                cursor.execute(f"{prefix} {sql}", params)
                result["explain_select"] = [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute(f"SELECT count(*) FROM ({sql})", params)
                cursor.fetchall()
            result["select_alone_seconds"] = round(time.perf_counter() - started, 2)
        if connection.vendor == "postgresql":
            result["explain_insert"] = explain_insert(issue, newsletter)
    return result


class Rollback(Exception):
    pass


def explain_insert(issue, newsletter) -> list[str]:
    """EXPLAIN ANALYZE of create_ledger()'s INSERT … SELECT for another issue, rolled back.

    Foreign keys are checked at commit (Django makes them DEFERRABLE INITIALLY DEFERRED):
    SET CONSTRAINTS ALL IMMEDIATE makes their triggers run, and show, inside the statement.
    """
    from django.db import connection, transaction

    from newsletters.ledger import create_ledger
    from newsletters.models import IssuePage

    other = IssuePage.objects.exclude(pk=issue.pk).first()
    plan: list[str] = []

    def explain(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith("INSERT"):
            return execute(sql, params, many, context)
        cursor = context["cursor"]
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan.extend(row[0] for row in cursor.fetchall())
        return None

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with connection.execute_wrapper(explain):
                create_ledger(other.pk, newsletter.pk)
            raise Rollback
    except Rollback:
        pass
    return plan


def open_and_start(args) -> dict:
    from django.conf import settings

    from newsletters.ledger import open_send
    from newsletters.models import IssuePage
    from newsletters.tasks import start_workers

    issue, _ = target()
    issue = IssuePage.objects.get(pk=issue.pk)
    drop_run(issue)
    started = time.perf_counter()
    send = open_send(issue)
    ledger_seconds = time.perf_counter() - started
    enqueued_at = time.time()
    start_workers(issue.pk)
    return {
        "issue_id": issue.pk,
        "recipients": send.recipients,
        "ledger_seconds": round(ledger_seconds, 2),
        "enqueued_at": enqueued_at,
        "tasks": settings.DELIVERY_CONCURRENCY,
    }


def progress(args) -> dict:
    from newsletters.models import IssueSend, progress_of

    issue, _ = target()
    p = progress_of(issue)
    send = IssueSend.objects.filter(issue=issue).first()
    return {
        "recipients": p.recipients,
        "pending": p.pending,
        "sent": p.sent,
        "failed": p.failed,
        "bounced": p.bounced,
        "skipped": p.skipped,
        "uncertain": p.uncertain,
        "state": p.state,
        "finished_at": send.finished_at.timestamp() if send and send.finished_at else None,
    }


def sweep(args) -> dict:
    from newsletters.sweep import sweep as run_sweep

    return {"enqueued": run_sweep()}


def verify(args) -> dict:
    from django.conf import settings

    from newsletters.models import Delivery, IssueSend

    issue, _ = target()
    received = json.loads(args.sink_counts.read_text())["by_address"]
    rows = Delivery.objects.filter(issue=issue).values_list(
        "subscriber__email", "status", "uncertain"
    )
    ledger = {email.lower(): (status, uncertain) for email, status, uncertain in rows}
    send = IssueSend.objects.get(issue=issue)
    counts: dict[str, int] = {}
    for status, _ in ledger.values():
        counts[status] = counts.get(status, 0) + 1
    # Rows recorded as sent must have reached the sink; failed and bounced rows are accounted
    # for in the counts (none are expected unless the sink refuses an address for good).
    mailed = [a for a, (status, _) in ledger.items() if status == Delivery.Status.SENT]
    missing = [a for a in mailed if not received.get(a)]
    duplicates = {a: n for a, n in received.items() if n > 1}
    not_flagged = [a for a in duplicates if not ledger.get(a, ("", False))[1]]
    strangers = [a for a in received if a not in ledger]
    final = sum(counts.get(s, 0) for s in ("sent", "failed", "bounced", "skipped"))
    tasks = None
    if settings.TASKS_BACKEND == "database":
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(task_path__endswith=".deliver_issue")
        tasks = dict(rows.values_list("status").annotate(n=Count("pk")))
    return {
        "delivery_tasks_by_status": tasks,
        "recipients": send.recipients,
        "ledger_rows": len(ledger),
        "state": send.state,
        "by_status": counts,
        "missing": len(missing),
        "missing_sample": missing[:10],
        "duplicated_recipients": len(duplicates),
        "extra_messages": sum(n - 1 for n in duplicates.values()),
        "duplicates_not_flagged_uncertain": not_flagged[:20],
        "uncertain_rows": sum(1 for _, u in ledger.values() if u),
        "received_by_strangers": strangers[:10],
        "counts_add_up": send.recipients == final
        and not counts.get("pending")
        and not counts.get("sending"),
    }


PHASES = {
    "populate": populate,
    "ledger": ledger,
    "open": open_and_start,
    "progress": progress,
    "sweep": sweep,
    "verify": verify,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("out", type=Path)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--suppressed", type=int, default=0)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--what-if", choices=WHAT_IF)
    parser.add_argument("--sink-counts", type=Path)
    args = parser.parse_args()
    django.setup()
    result = PHASES[args.phase](args)
    result["process_peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
