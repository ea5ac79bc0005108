"""The kill -9 soak: a 10,000-recipient send while worker processes are killed at random.

    .venv/bin/python bench/soak.py                      # db_worker on SQLite
    .venv/bin/python bench/soak.py --backend rq         # rqworker on Redis, PostgreSQL

reliability.md, "Sending", 3: random `kill -9` of a worker several times during a
10,000-recipient send: 0 missing, duplicates <= number of kills. What it does, in a fresh
temporary folder (and, for PostgreSQL, a database bench_soak_<pid>_* and the Redis database
--redis-db, both emptied or dropped at the end):

1. migrate, load_demo_content, --recipients confirmed subscribers (bench/fleet_worker.py);
2. an SMTP sink on 127.0.0.1 that records how many messages each recipient got, answers a
   seeded --transient share of RCPTs "451" (try again later), and answers each DATA --ack-delay
   seconds after it has counted the message (so that many kills land in the window where the
   server has the message and the worker has not heard so: the duplicates the promise allows);
3. --workers worker processes (db_worker, or rqworker with --backend rq) and the scheduler
   (`manage.py run_scheduler --interval 1`: publish_scheduled and the delivery sweep, which
   enqueues delivery again for rows a dead worker left once their lease has run out);
   leases of --lease seconds, retries after 1 s (doubling);
4. the issue opened as an editor's publish does (open_send(), start_workers());
5. --kills times, when the sink has received a random share of the messages (5 % to 85 %,
   seeded) plus a random few milliseconds: SIGKILL to a random worker's process group, and
   a new worker started in its place;
6. once the run is "sent" (or --time-limit passes: a violation), everything stopped, and the
   ledger checked against the sink: every recipient the ledger mailed received at least one
   message (0 missing); extra messages <= kills; every recipient who got two is flagged
   `uncertain`; nobody outside the ledger got anything; recipients = sent + failed +
   bounced + skipped, nothing pending; no worker logged a traceback.

Exit status: 0 when every check held, 1 on any violation, 2 on error or interruption.
Results: bench/results/soak-<UTC time>.json and soak-latest.json.
"""

import argparse
import contextlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from fleet import (
    DEFAULT_REDIS_DB,
    DEFAULT_REDIS_URL,
    RedisDatabase,
    Workers,
    phase,
    prepare,
    progress_option,
    sink_progress,
    worker_environment,
)
from runs import ROOT, code_state, machine, save, stop_cleanly_on_signals
from send import DEFAULT_POSTGRES_URL, PostgresDatabases, Sink, SqliteDatabases


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_state(url: str, issue_id: int) -> tuple[str | None, int]:
    """The run's state and its rows still pending or sending, read straight from the
    database (a Django process per poll would cost more than the workers)."""
    state_sql = "SELECT state FROM newsletters_issuesend WHERE issue_id = {p}"
    left_sql = (
        "SELECT count(*) FROM newsletters_delivery WHERE issue_id = {p}"
        " AND status IN ('pending', 'sending')"
    )
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(urlsplit(url).path, timeout=30)) as db:
            state = db.execute(state_sql.format(p="?"), [issue_id]).fetchone()
            left = db.execute(left_sql.format(p="?"), [issue_id]).fetchone()[0]
    else:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as db:
            state = db.execute(state_sql.format(p="%s"), [issue_id]).fetchone()
            left = db.execute(left_sql.format(p="%s"), [issue_id]).fetchone()[0]
    return (state[0] if state else None), left


def soak(folder: Path, args, databases, redis) -> dict:
    rng = random.Random(args.seed)
    url = databases.create_base()
    log(f"{databases.kind}: migrate, load_demo_content, {args.recipients:,} subscribers")
    prepare(folder, databases.kind, url, args.recipients)

    sink_options = ["--per-address", "--transient", args.transient, "--delay", args.delay,
                    "--ack-delay", args.ack_delay]  # fmt: skip
    sink = Sink(folder, args.time_limit + 120, *sink_options, *progress_option(folder, "soak"),
                name="soak")  # fmt: skip
    env = worker_environment(
        folder, databases.kind, url, sink, args.backend, redis,
        DELIVERY_CONCURRENCY=args.workers, DELIVERY_LEASE_SECONDS=args.lease,
        DELIVERY_RETRY_SECONDS=1, DELIVERY_BATCH_SIZE=args.batch,
    )  # fmt: skip
    workers = Workers(folder, env, args.backend, label="soak")
    scheduler = None
    kills = []
    started = time.monotonic()
    deadline = started + args.time_limit
    finished = False
    try:
        workers.wait_ready([workers.start() for _ in range(args.workers)])
        with open(folder / "scheduler.log", "wb") as scheduler_log:
            scheduler = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "run_scheduler", "--interval", "1"],
                cwd=ROOT, env=env, stdout=scheduler_log, stderr=scheduler_log,
                start_new_session=True,
            )  # fmt: skip
        opened = phase(folder, env, "open")
        n = opened["recipients"]
        log(f"{n:,} recipients, {args.workers} workers ({args.backend}), {args.kills} kills")
        targets = sorted(rng.randint(int(0.05 * n), int(0.85 * n)) for _ in range(args.kills))
        for target in targets:
            while sink_progress(sink)["messages"] < target and time.monotonic() < deadline:
                time.sleep(0.01)
            if time.monotonic() >= deadline:
                break
            time.sleep(rng.random() * 0.05)  # anywhere: mid-message, mid-commit, between batches
            victim = rng.choice(workers.running)
            at = sink_progress(sink)["messages"]
            workers.kill(victim)
            kills.append({"after_messages": at, "seconds": round(time.monotonic() - started, 1)})
            log(f"kill -9 worker pid {victim.pid} at ~{at:,} messages; starting another")
            workers.start()
        state, left = None, None
        while time.monotonic() < deadline:
            state, left = run_state(url, opened["issue_id"])
            if state == "sent" and left == 0:
                finished = True
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        log(f"run {state}, {left} rows left, after {elapsed:.0f} s")
        tracebacks = workers.tracebacks()
    finally:
        workers.stop_all()
        if scheduler is not None:
            workers.kill(scheduler)
        counts = sink.stop() or {}
    verified = phase(folder, env, "verify", "--sink-counts", sink.counts)
    checks = [
        ("the run finished within the time limit", finished),
        (f"0 missing ({verified['missing']})", verified["missing"] == 0),
        (
            f"extra messages {verified['extra_messages']} <= kills {len(kills)}",
            verified["extra_messages"] <= len(kills),
        ),
        (
            f"every duplicated recipient flagged uncertain ({verified['duplicated_recipients']}"
            f" duplicated, {verified['uncertain_rows']} rows uncertain)",
            not verified["duplicates_not_flagged_uncertain"],
        ),
        ("nobody outside the ledger was mailed", not verified["received_by_strangers"]),
        (
            f"counts add up: {verified['recipients']:,} = {verified['by_status']}",
            verified["counts_add_up"],
        ),
        (f"kills made: {len(kills)} of {args.kills}", len(kills) == args.kills),
        (f"no worker traceback ({tracebacks})", not tracebacks),
    ]
    return {
        "backend": args.backend,
        "database": databases.kind,
        "recipients": n,
        "elapsed_s": round(elapsed, 1),
        "kills": kills,
        "sink": {k: v for k, v in counts.items() if k != "by_address"},
        "verify": verified,
        "checks": [{"what": what, "met": bool(met)} for what, met in checks],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["database", "rq"], default="database")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        help="default: sqlite for the database backend, postgres for rq",
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transient", type=float, default=0.02, help="share of RCPTs given 451")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per DATA reply")
    parser.add_argument(
        "--ack-delay", type=float, default=0.01,
        help="seconds the sink waits to answer 250 after it has counted a message: a kill then"
        " falls inside the uncertain window more often",
    )  # fmt: skip
    parser.add_argument("--lease", type=int, default=5, help="DELIVERY_LEASE_SECONDS")
    parser.add_argument("--batch", type=int, default=50, help="DELIVERY_BATCH_SIZE")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds for the send")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--redis-db", type=int, default=DEFAULT_REDIS_DB)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    kind = args.database or ("postgres" if args.backend == "rq" else "sqlite")

    stop_cleanly_on_signals()
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="outlet-soak-"))
    databases = redis = None
    try:
        if kind == "postgres":
            databases = PostgresDatabases(args.postgres_url)
            databases.prefix = f"bench_soak_{os.getpid()}"
        else:
            databases = SqliteDatabases(folder)
        if args.backend == "rq":
            redis = RedisDatabase(args.redis_url, args.redis_db)
        result = soak(folder, args, databases, redis)
        print()
        for check in result["checks"]:
            print(f"  [{'OK' if check['met'] else 'VIOLATED'}] {check['what']}")
        print()
        when = datetime.now(UTC)
        record = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/soak.py", *sys.argv[1:]]),
            "code": code_state(),
            "options": {k: v for k, v in vars(args).items() if "url" not in k},
            "result": result,
        }
        out = save(record, f"soak-{when.strftime('%Y%m%dT%H%M%SZ')}", "soak-latest.json")
        log(f"results: {out.relative_to(ROOT)}")
        return 0 if all(c["met"] for c in result["checks"]) else 1
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        return 2
    finally:
        if databases is not None:
            with contextlib.suppress(Exception):
                databases.close()
        if redis is not None:
            redis.close()
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
