"""The Django side of bench/send.py: one phase per process, results as JSON.

    python -m bench.send_worker PHASE OUT.json [options]

send.py runs each phase in a fresh process, with outlet.settings.production, the run's
database (DATABASE_URL) and EMAIL_URL pointing at the local sink, so that ru_maxrss (the
process's peak memory) belongs to one phase. Phases:

- setup: adds confirmed subscribers (bulk_create) to the newsletter of the demo's fullest
  live issue until it has N recipients (its demo subscribers count), and gives that issue an
  IssueSend row in the "sending" state;
- throughput: the bare smtplib loop (the ceiling) and newsletters.delivery.deliver() (the
  measured path) in turn: ceiling, deliver, ceiling, deliver, ceiling. Each deliver() gets
  a fresh ledger (not timed) and is compared with the mean of the ceilings either side of
  it. The bare loop sends the bytes of one real issue email, built by the app, to every
  recipient over one connection. With --deadline, deliver() stops claiming after that many
  seconds (its rate is then taken over the messages it sent), which bounds the run when
  commits are slow;
- profile: cProfile over one deliver() of a fresh ledger;
- ledger: newsletters.ledger.create_ledger() for the whole audience: time and memory;
- deliver: deliver() of the ledger that `ledger` created: memory, sampled per batch. With
  --deadline it stops claiming once the deadline passes (deliver() then returns as if the
  ledger were empty); with --tail it then marks all but the last TAIL pending rows as sent
  in one UPDATE, refreshes the table's statistics (VACUUM ANALYZE and CHECKPOINT / ANALYZE,
  as autovacuum would have during a real send) and delivers those, so that the end of a
  large ledger is measured too.

With BENCH_FAST_COMMIT=1 in the environment, every database connection is first switched to
commits that do not wait for the disk (see fast_commits()): a what-if, not the app's setup.
"""

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import smtplib
import statistics
import time
import tracemalloc
import uuid
from email.utils import parseaddr
from pathlib import Path

import django

BENCH_DOMAIN = "bench.example"
CHUNK = 5000


def rss_mb() -> float:
    """Resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QueryCounter:
    """connection.execute_wrapper that counts statements by their first word."""

    def __init__(self):
        self.counts = {}

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper()
        self.counts[verb] = self.counts.get(verb, 0) + 1
        return execute(sql, params, many, context)


def target():
    """The issue the bench sends: the live issue with the most items, and its newsletter."""
    from django.db.models import Count

    from newsletters.models import IssuePage

    issue = (
        IssuePage.objects.live()
        .annotate(item_count=Count("items"))
        .filter(item_count__gt=0)
        .order_by("-item_count", "-first_published_at")
        .first()
    )
    if issue is None:
        raise SystemExit("no live issue with items: did load_demo_content run?")
    return issue, issue.get_parent().specific


def audience_size(newsletter_id: int) -> int:
    from newsletters.models import Subscriber, Subscription

    return Subscription.objects.filter(
        newsletter_id=newsletter_id,
        status=Subscription.Status.ACTIVE,
        subscriber__status=Subscriber.Status.ACTIVE,
    ).count()


def open_run(issue) -> None:
    """The issue's delivery run, in the state deliver() expects (as open_send() leaves it)."""
    from django.utils import timezone

    from newsletters.models import IssueSend

    IssueSend.objects.update_or_create(
        issue=issue,
        defaults={
            "state": IssueSend.State.SENDING,
            "started_at": timezone.now(),
            "finished_at": None,
        },
    )


def fresh_ledger(issue, newsletter) -> int:
    """Delete the issue's ledger and create it again: every recipient pending."""
    from newsletters.ledger import analyze_audience, create_ledger
    from newsletters.models import Delivery, IssueSend

    Delivery.objects.filter(issue_id=issue.pk).delete()
    open_run(issue)
    recipients = create_ledger(issue.pk, newsletter.pk)
    analyze_audience()  # as open_send() does once the ledger is committed
    IssueSend.objects.filter(issue=issue).update(recipients=recipients)
    return recipients


def status_counts(issue) -> dict:
    from django.db.models import Count

    from newsletters.models import Delivery

    rows = Delivery.objects.filter(issue_id=issue.pk).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


# -- phases ------------------------------------------------------------------------------


def setup(args) -> dict:
    """Confirmed subscribers added in bulk until the target newsletter has N recipients."""
    from django.db import transaction
    from django.utils import timezone

    from newsletters.models import Subscriber, Subscription

    issue, newsletter = target()
    now = timezone.now()
    demo_audience = audience_size(newsletter.pk)
    adding = max(0, args.recipients - demo_audience)
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, adding, CHUNK):
            subscribers = Subscriber.objects.bulk_create(
                Subscriber(
                    email=f"reader{i:07d}@{BENCH_DOMAIN}",
                    name=f"Reader {i}",
                    created_at=now,
                    consent_at=now,
                    consent_source="bench",
                )
                for i in range(start, min(adding, start + CHUNK))
            )
            Subscription.objects.bulk_create(
                Subscription(
                    subscriber=subscriber,
                    newsletter_id=newsletter.pk,
                    status=Subscription.Status.ACTIVE,
                    source="bench",
                    created_at=now,
                    confirmed_at=now,
                )
                for subscriber in subscribers
            )
        open_run(issue)
    return {
        "issue_id": issue.pk,
        "issue": issue.title,
        "issue_items": issue.items.count(),
        "newsletter_id": newsletter.pk,
        "newsletter": newsletter.title,
        "demo_subscribers": demo_audience,
        "bench_subscribers": adding,
        "audience": audience_size(newsletter.pk),
        "seconds": round(time.perf_counter() - started, 2),
    }


def bare_loop(host: str, port: int, sender: str, recipients: list[str], raw: bytes) -> float:
    """The ceiling: one connection, one sendmail() per recipient, the same bytes each time."""
    started = time.perf_counter()
    with smtplib.SMTP(host, port, local_hostname="localhost") as smtp:
        for recipient in recipients:
            smtp.sendmail(sender, [recipient], raw)
    return time.perf_counter() - started


def sample_message(issue, newsletter):
    """One real issue email, as the app builds it for the first recipient, and its bytes."""
    from newsletters.models import Subscriber
    from newsletters.rendering import render_issue

    rendered = render_issue(issue)
    first = Subscriber.objects.filter(
        subscriptions__newsletter_id=newsletter.pk, email__endswith=BENCH_DOMAIN
    ).earliest("pk")
    message = rendered.message_for(first)
    raw = message.message().as_bytes(linesep="\r\n")
    return rendered, message, raw


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid`, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Wall time, this process's CPU time and the sink's CPU time over a block."""

    def __init__(self, sink_pid: int | None):
        self.sink_pid = sink_pid

    def __enter__(self):
        gc.collect()
        self.sink = process_cpu(self.sink_pid) if self.sink_pid else 0.0
        self.cpu = time.process_time()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.sink = (process_cpu(self.sink_pid) - self.sink) if self.sink_pid else None

    def figures(self, messages: int) -> dict:
        return {
            "seconds": round(self.wall, 3),
            "msgs_per_s": round(messages / self.wall, 1),
            "sender_cpu_ms_per_msg": round(1000 * self.cpu / messages, 3),
            "sink_cpu_ms_per_msg": round(1000 * self.sink / messages, 3)
            if self.sink is not None
            else None,
        }


def throughput(args) -> dict:
    from django.conf import settings
    from django.db import connection

    from newsletters.delivery import Stopped, deliver
    from newsletters.models import Subscriber

    issue, newsletter = target()
    rendered, _, raw = sample_message(issue, newsletter)
    sender = parseaddr(rendered.from_email)[1]
    host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
    sink_pid = int(os.environ["BENCH_SINK_PID"]) if os.environ.get("BENCH_SINK_PID") else None
    messages = fresh_ledger(issue, newsletter)
    recipients = list(
        Subscriber.objects.filter(deliveries__issue_id=issue.pk)
        .order_by("deliveries__pk")
        .values_list("email", flat=True)
    )
    assert len(recipients) == messages
    bare_loop(host, port, sender, recipients[:50], raw)  # warm-up: connection, sink

    def ceiling() -> dict:
        with Meter(sink_pid) as meter:
            bare_loop(host, port, sender, recipients, raw)
        return meter.figures(messages)

    def measured() -> dict:
        fresh_ledger(issue, newsletter)
        counter = QueryCounter()
        with (
            bounded_claims(args.deadline) as claims,
            connection.execute_wrapper(counter),
            Meter(sink_pid) as meter,
        ):
            outcome = deliver(issue.pk)
        statuses = status_counts(issue)
        sent = statuses.get("sent", 0)
        complete = statuses == {"sent": messages}
        # Stopped at the deadline: every claimed row was sent, the rest is still pending.
        partial = claims["stopped"] and statuses == {"sent": sent, "pending": messages - sent}
        if outcome is not Stopped.DONE or not (complete or partial) or sent != claims["claimed"]:
            raise SystemExit(f"deliver() returned {outcome!r}, ledger {statuses}")
        return {
            **meter.figures(sent),
            "messages": sent,
            "stopped_at_deadline": claims["stopped"],
            "queries": counter.counts,
        }

    ceilings = [ceiling()]
    rounds = []
    for number in range(args.rounds):
        run = measured()
        ceilings.append(ceiling())
        around = (ceilings[-2]["msgs_per_s"] + ceilings[-1]["msgs_per_s"]) / 2
        rounds.append(
            {
                "round": number + 1,
                "deliver": run,
                "ceiling_msgs_per_s": round(around, 1),
                "ratio": round(run["msgs_per_s"] / around, 3),
            }
        )

    def median(values):
        return round(statistics.median(values), 3)

    return {
        "issue_id": issue.pk,
        "messages": messages,
        "message_bytes": len(raw),
        "html_bytes": rendered.html_size,
        "text_bytes": len(rendered.text.encode()),
        "batch_size": settings.DELIVERY_BATCH_SIZE,
        "ceilings": ceilings,
        "rounds": rounds,
        "ceiling_msgs_per_s": median(c["msgs_per_s"] for c in ceilings),
        "deliver_msgs_per_s": median(r["deliver"]["msgs_per_s"] for r in rounds),
        "ratio": median(r["ratio"] for r in rounds),
        "ratios": [r["ratio"] for r in rounds],
        "ceiling_sender_cpu_ms": median(c["sender_cpu_ms_per_msg"] for c in ceilings),
        "deliver_sender_cpu_ms": median(r["deliver"]["sender_cpu_ms_per_msg"] for r in rounds),
        "ceiling_sink_cpu_ms": median(c["sink_cpu_ms_per_msg"] or 0 for c in ceilings),
        "deliver_sink_cpu_ms": median(r["deliver"]["sink_cpu_ms_per_msg"] or 0 for r in rounds),
        "queries_per_msg": {
            verb: round(n / rounds[0]["deliver"]["messages"], 2)
            for verb, n in rounds[0]["deliver"]["queries"].items()
        },
        "deliver_stopped_at_deadline": any(r["deliver"]["stopped_at_deadline"] for r in rounds),
        "sent_to_sink": 50
        + messages * len(ceilings)
        + sum(r["deliver"]["messages"] for r in rounds),
    }


# (label, file suffix, function) for the profile's breakdown, per message. cProfile sees
# the sending thread only: the ledger's records, written on a thread of their own, show as
# the time the sender waits for them (Recorder.wait).
BREAKDOWN = [
    ("deliver(), the whole send", "newsletters/delivery.py", "deliver"),
    ("render_issue() (once per deliver() call)", "newsletters/rendering.py", "render_issue"),
    ("claim_batch() (lease a batch)", "newsletters/delivery.py", "claim_batch"),
    ("still_wanted() (subscription check, 1 in 10)", "newsletters/delivery.py", "still_wanted"),
    ("BatchSender.send_one(): one message", "newsletters/delivery.py", "send_one"),
    ("  send_held(): its SMTP exchange", "newsletters/smtp.py", "send_held"),
    ("    Recorder.wait(): for the last record", "newsletters/delivery.py", "wait"),
    ("    get_ahead(): the next one, meanwhile", "newsletters/delivery.py", "get_ahead"),
    ("      personal_links(): 2 tokens", "newsletters/rendering.py", "personal_links"),
    ("        signing.dumps()", "django/core/signing.py", "dumps"),
    ("      for_reader(): the reader's bytes", "newsletters/rendering.py", "for_reader"),
    ("        make_msgid()", "email/utils.py", "make_msgid"),
    ("    smtplib getreply(): waiting for the sink", "smtplib.py", "getreply"),
    ("SQL execute (all statements)", "django/db/backends/utils.py", "_execute"),
    ("ORM: compile SQL", "django/db/models/sql/compiler.py", "as_sql"),
]  # fmt: skip


def profile(args) -> dict:
    from newsletters.delivery import Stopped, deliver

    issue, newsletter = target()
    sample_message(issue, newsletter)  # warm: templates, URL resolver, CSS inliner
    messages = fresh_ledger(issue, newsletter)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    outcome = deliver(issue.pk)
    profiler.disable()
    seconds = time.perf_counter() - started
    assert outcome is Stopped.DONE, outcome

    stats = pstats.Stats(profiler)
    breakdown = {}
    for label, suffix, function in BREAKDOWN:
        cumulative = max(
            (
                entry[3]
                for (filename, _, name), entry in stats.stats.items()
                if filename.endswith(suffix) and name == function
            ),
            default=0.0,
        )
        breakdown[label] = round(cumulative * 1e6 / messages, 1)  # µs per message
    total = breakdown[BREAKDOWN[0][0]] or 1
    report = io.StringIO()
    report.write(
        f"deliver() of {messages} messages under cProfile: {seconds:.2f} s "
        f"({messages / seconds:.0f} msgs/s with the profiler's overhead)\n\n"
        "Cumulative µs per message (the lines nest, they are not a sum):\n"
    )
    for label, micros in breakdown.items():
        report.write(f"  {micros:9.1f} µs  {micros / total:6.1%}  {label}\n")
    report.write("\n")
    stats = pstats.Stats(profiler, stream=report).strip_dirs()
    report.write("== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(40)
    report.write("== by own time ==\n")
    stats.sort_stats("tottime").print_stats(30)
    steps = step_costs(issue, newsletter)
    report.write("\nEach step alone, without the profiler (µs per message, wall time):\n")
    for label, micros in steps.items():
        report.write(f"  {micros:9.1f} µs  {label}\n")
    return {
        "messages": messages,
        "seconds": round(seconds, 3),
        "us_per_message": breakdown,
        "steps_us_per_message": steps,
        "text": report.getvalue(),
        "sent_to_sink": messages + steps["messages timed"],
    }


def step_costs(issue, newsletter, limit: int = 400) -> dict:
    """Each step of sending one message, timed alone over the ledger's first rows."""
    import inspect

    from django.conf import settings

    from newsletters.delivery import still_wanted
    from newsletters.models import Delivery
    from newsletters.rendering import render_issue

    rendered = render_issue(issue)
    rows = list(
        Delivery.objects.filter(issue_id=issue.pk).select_related("subscriber").order_by("pk")
    )[:limit]
    emails, mimes, raws = {}, {}, {}
    sender = parseaddr(rendered.from_email)[1]

    def timed(step) -> float:
        gc.collect()
        started = time.perf_counter()
        for row in rows:
            step(row)
        return round(1e6 * (time.perf_counter() - started) / len(rows), 1)

    def personalise(row):
        emails[row.pk] = rendered.message_for(row.subscriber)

    def build(row):
        mimes[row.pk] = emails[row.pk].message()

    def serialise(row):
        raws[row.pk] = mimes[row.pk].as_bytes(linesep="\r\n")

    # still_wanted() takes a row or, in other versions of delivery.py, a list of rows.
    first = next(iter(inspect.signature(still_wanted).parameters))
    per_row = first in ("row", "delivery")

    def check(row):
        still_wanted(row if per_row else [row], newsletter.pk)

    def update(row):
        Delivery.objects.filter(pk=row.pk).update(message_id=f"<step-{row.pk}@bench>")

    costs = {
        "personalise: message_for() (2 signed links, EmailMultiAlternatives)": timed(personalise),
        "MIME build: EmailMessage.message()": timed(build),
        "serialise: as_bytes()": timed(serialise),
        "subscription check: still_wanted() (a SELECT)": timed(check),
        "ledger: one UPDATE + commit, as record() does": timed(update),
    }
    with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, local_hostname="localhost") as s:
        costs["SMTP: sendmail() of the bytes (the bare loop's step)"] = timed(
            lambda row: s.sendmail(sender, [row.subscriber.email], raws[row.pk])
        )
    costs["messages timed"] = len(rows)
    return costs


def ledger(args) -> dict:
    from newsletters.ledger import create_ledger
    from newsletters.models import Delivery, IssueSend

    issue, newsletter = target()
    Delivery.objects.filter(issue_id=issue.pk).delete()
    open_run(issue)
    audience = audience_size(newsletter.pk)
    gc.collect()
    rss_before = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    rows = create_ledger(issue.pk, newsletter.pk)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    tracemalloc.stop()
    IssueSend.objects.filter(issue=issue).update(recipients=rows)
    assert rows == audience, (rows, audience)
    return {
        "rows": rows,
        "audience": audience,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "growth_mb": round(peak_rss_mb() - rss_before, 1),
        "tracemalloc_peak_mb": round(traced_peak, 2) if traced_peak is not None else None,
        "timed_with_tracemalloc": bool(args.tracemalloc),
    }


@contextlib.contextmanager
def bounded_claims(deadline: float, sample=None):
    """Make deliver() stop claiming after `deadline` seconds (0: never), as if the ledger
    were empty, and count what it claimed. `sample()` runs before every claim."""
    import newsletters.delivery as delivery

    claim_batch = delivery.claim_batch
    state = {"claimed": 0, "claim_ms": [], "stopped": False}
    until = time.monotonic() + deadline if deadline else None

    def bounded_claim(issue_id, size):
        if sample is not None:
            sample(state["claimed"])
        if until is not None and time.monotonic() > until:
            state["stopped"] = True
            return uuid.uuid4().hex, []
        started = time.perf_counter()
        token, rows = claim_batch(issue_id, size)
        state["claim_ms"].append(round(1000 * (time.perf_counter() - started), 2))
        state["claimed"] += len(rows)
        return token, rows

    delivery.claim_batch = bounded_claim
    try:
        yield state
    finally:
        delivery.claim_batch = claim_batch


def deliver_phase(args) -> dict:
    """deliver() of the whole ledger, memory sampled after every batch; bounded by --deadline."""
    from django.db import DatabaseError, connection, transaction

    import newsletters.delivery as delivery
    from newsletters.models import Delivery

    issue, _ = target()
    pending_before = Delivery.objects.filter(issue_id=issue.pk, status="pending").count()
    gc.collect()
    rss_before = rss_mb()

    def run(deadline):
        samples = []
        with bounded_claims(deadline, lambda claimed: samples.append((claimed, rss_mb()))) as st:
            started = time.perf_counter()
            outcome = delivery.deliver(issue.pk)
            seconds = time.perf_counter() - started
        step = max(1, len(samples) // 12)
        shown = samples[::step] + ([samples[-1]] if samples else [])
        claim_ms = st["claim_ms"]
        return {
            "outcome": outcome,
            "stopped_at_deadline": st["stopped"],
            "messages": st["claimed"],
            "seconds": round(seconds, 2),
            "msgs_per_s": round(st["claimed"] / seconds, 1) if seconds else None,
            "claim_ms_median": statistics.median(claim_ms) if claim_ms else None,
            "claim_ms_first": claim_ms[:3],
            "claim_ms_last": claim_ms[-3:],
            "rss_mb_by_messages": [(n, round(mb, 1)) for n, mb in shown],
        }

    head = run(args.deadline)
    result = {
        "ledger_rows": pending_before,
        "rss_before_mb": round(rss_before, 1),
        "head": head,
    }
    pending = Delivery.objects.filter(issue_id=issue.pk, status="pending")
    if head["stopped_at_deadline"] and args.tail:
        # Skip the middle: everything but the last TAIL pending rows counts as sent, so that
        # deliver() then works at the end of a large ledger.
        keep = list(pending.order_by("-pk").values_list("pk", flat=True)[: args.tail])
        with transaction.atomic():
            skipped = pending.exclude(pk__in=keep).update(status="sent", message_id="skipped")
        # As autovacuum (PostgreSQL) would have done during a real send of this many rows:
        # fresh statistics and no dead rows, so that the tail measures the claim query itself.
        with connection.cursor() as cursor:
            table = Delivery._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {table}")
                # And have the server write that out now rather than during the tail's commits
                # (needs a superuser or pg_checkpoint; skipped without).
                with contextlib.suppress(DatabaseError):
                    cursor.execute("CHECKPOINT")
            else:
                cursor.execute(f"ANALYZE {table}")
        result["skipped_as_sent"] = skipped
        result["tail"] = run(None)
    result["sent"] = (
        Delivery.objects.filter(issue_id=issue.pk, status="sent")
        .exclude(message_id="skipped")
        .count()
    )
    result["left_pending"] = pending.count()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["growth_mb"] = round(peak_rss_mb() - rss_before, 1)
    result["sent_to_sink"] = result["sent"]
    return result


def fast_commits() -> None:
    """What-if (not the app's configuration): commits that do not wait for the disk.

    SQLite: WAL journal with synchronous=NORMAL (a commit is durable against a crash of the
    process, not of the machine). PostgreSQL: synchronous_commit=off for this session (a
    crash of the database server may lose the last few hundred milliseconds of commits).
    """
    from django.db.backends.signals import connection_created

    def on_connect(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            elif connection.vendor == "postgresql":
                cursor.execute("SET synchronous_commit TO off")

    connection_created.connect(on_connect, weak=False)


PHASES = {
    "setup": setup,
    "throughput": throughput,
    "profile": profile,
    "ledger": ledger,
    "deliver": deliver_phase,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("out", type=Path)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=0, help="seconds; 0 = none")
    parser.add_argument("--tail", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    django.setup()
    if os.environ.get("BENCH_FAST_COMMIT"):
        fast_commits()
    result = PHASES[args.phase](args)
    result["process_peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
