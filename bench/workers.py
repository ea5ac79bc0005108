"""Delivery by 1, 2, 4 and 8 worker processes against a slow SMTP server: how far it scales.

    .venv/bin/python bench/workers.py [--recipients 800] [--delay 0.05] [--workers 1,2,4,8]

A send to a real mail server is mostly waiting: each message waits for the server's replies
(tens of milliseconds for a remote server, --delay here). More workers wait side by side.
This measures how much: for each task backend,

- database (`manage.py db_worker`) on SQLite,
- database (`manage.py db_worker`) on PostgreSQL,
- rq (`manage.py rqworker`, django-tasks-rq, on Redis) on PostgreSQL,

and each number of workers K, in a fresh copy of a database holding --recipients confirmed
subscribers (bench/fleet_worker.py populate):

1. an SMTP sink on 127.0.0.1 that answers each DATA --delay seconds late (an asyncio sleep:
   it serves every connection at once) and counts what each address received;
2. K worker processes, started and waited for (their "ready" log line);
3. the issue opened as an editor's publish does (open_send(), then start_workers(), which
   enqueues DELIVERY_CONCURRENCY = K delivery tasks: one per worker);
4. until the sink has every message, then until the run is "sent"; the workers are killed
   (by process group id), the sink stopped;
5. checks: each recipient received exactly one message; the run's counts add up.

Figures: msgs/s = recipients / (last message accepted - tasks enqueued), speed-up = msgs/s ÷
msgs/s with 1 worker (same backend, same run), efficiency = speed-up ÷ K.
Exit status: 0 when measured and every check held, 1 on a failed check, 2 on error.
Results: bench/results/workers-<UTC time>.json and workers-latest.json.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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

CONFIGS = {  # name: (database kind, task backend)
    "db_worker/sqlite": ("sqlite", "database"),
    "db_worker/postgres": ("postgres", "database"),
    "rqworker/postgres": ("postgres", "rq"),
}


def log(message: str) -> None:
    print(f"[workers {time.strftime('%H:%M:%S')}] {message}", flush=True)


def one_run(folder, databases, base_env, redis, backend, k, args, label) -> dict:
    kind = databases.kind
    name = f"{label.replace('/', '-')}-{k}"
    url = databases.clone(name.replace("-", "_"))
    sink = Sink(folder, args.run_timeout + 60, "--delay", args.delay, "--per-address",
                *progress_option(folder, name), name=name)  # fmt: skip
    if redis:
        redis.close()  # an empty queue for each run
        redis = RedisDatabase(args.redis_url, args.redis_db)
    env = worker_environment(folder, kind, url, sink, backend, redis, DELIVERY_CONCURRENCY=k)
    workers = Workers(folder, env, backend, label=name.replace("/", "_"))
    load = os.getloadavg()[0]
    try:
        workers.wait_ready([workers.start() for _ in range(k)])
        opened = phase(folder, env, "open")
        n = opened["recipients"]
        deadline = time.monotonic() + args.run_timeout
        while sink_progress(sink)["messages"] < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label}, {k} workers: not sent in {args.run_timeout} s")
            time.sleep(0.2)
        state = None
        for _ in range(20):  # the last worker records its last row and closes the run
            state = phase(folder, env, "progress")
            if state["state"] == "sent":
                break
            time.sleep(1)
        tracebacks = workers.tracebacks()
    finally:
        workers.stop_all()
        counts = sink.stop() or {}
    verified = phase(folder, env, "verify", "--sink-counts", sink.counts)
    databases.drop(name.replace("-", "_"))
    seconds = counts["last_at"] - opened["enqueued_at"]
    result = {
        "workers": k,
        "recipients": n,
        "load_average_before": round(load, 2),
        "seconds": round(seconds, 2),
        "msgs_per_s": round(n / seconds, 1),
        "first_to_last_msgs_per_s": round((n - 1) / (counts["last_at"] - counts["first_at"]), 1),
        "first_message_after_s": round(counts["first_at"] - opened["enqueued_at"], 2),
        "sink_max_open_connections": counts["max_open_connections"],
        "sink_messages": counts["messages"],
        "state": state["state"] if state else None,
        "verify": verified,
        "worker_tracebacks": tracebacks,
    }
    result["ok"] = (
        verified["missing"] == 0
        and verified["duplicated_recipients"] == 0
        and verified["counts_add_up"]
        and counts["messages"] == n
        and result["state"] == "sent"
        and not tracebacks
    )
    log(
        f"{label}: {k} worker(s): {n} msgs in {seconds:.1f} s = {result['msgs_per_s']} msgs/s"
        f" (first message after {result['first_message_after_s']} s, up to"
        f" {counts['max_open_connections']} connections open); missing {verified['missing']},"
        f" duplicated {verified['duplicated_recipients']}, state {result['state']}"
        f"{'' if result['ok'] else ' — CHECK FAILED'}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=800)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per DATA reply")
    parser.add_argument(
        "--workers", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2, 4, 8]
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs per worker count")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated")
    parser.add_argument("--run-timeout", type=float, default=240, help="seconds per send")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--redis-db", type=int, default=DEFAULT_REDIS_DB)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    configs = [c for c in args.configs.split(",") if c]

    stop_cleanly_on_signals()
    started = time.monotonic()
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="outlet-workers-"))
    databases: dict[str, object] = {}
    redis = None
    try:
        results: dict[str, list] = {}
        for label in configs:
            kind, backend = CONFIGS[label]
            if kind not in databases:
                if kind == "postgres":
                    db = PostgresDatabases(args.postgres_url)
                    db.prefix = f"bench_workers_{os.getpid()}"
                else:
                    db = SqliteDatabases(folder)
                databases[kind] = db
                log(f"{kind}: migrate, load_demo_content, {args.recipients} subscribers")
                prepare(folder, kind, db.create_base(), args.recipients)
            if backend == "rq" and redis is None:
                redis = RedisDatabase(args.redis_url, args.redis_db)
            runs = results.setdefault(label, [])
            for _ in range(args.rounds):
                for k in args.workers:
                    runs.append(
                        one_run(folder, databases[kind], None, redis, backend, k, args, label)
                    )
        summary = {}
        for label, runs in results.items():
            by_k = {}
            for k in args.workers:
                rates = [r["msgs_per_s"] for r in runs if r["workers"] == k]
                by_k[k] = {
                    "msgs_per_s": statistics.median(rates),
                    "range": [min(rates), max(rates)],
                }
            one = by_k[args.workers[0]]["msgs_per_s"] * (1 / args.workers[0])
            for k, row in by_k.items():
                row["speedup"] = round(row["msgs_per_s"] / one, 2)
                row["efficiency"] = round(row["speedup"] / k, 2)
            summary[label] = by_k
        print(f"\n{args.recipients} recipients, the sink answers each message after"
              f" {args.delay * 1000:.0f} ms\n")  # fmt: skip
        print(f"{'backend':<20}{'workers':>8}{'msgs/s':>9}{'speed-up':>10}{'efficiency':>11}")
        for label, by_k in summary.items():
            for k, row in by_k.items():
                print(f"{label:<20}{k:>8}{row['msgs_per_s']:>9.1f}{row['speedup']:>10.2f}"
                      f"{row['efficiency']:>11.2f}")  # fmt: skip
        failed = [
            f"{label}, {r['workers']} workers" for label, rs in results.items() for r in rs
            if not r["ok"]
        ]  # fmt: skip
        print(f"\nchecks: {'all held' if not failed else 'FAILED: ' + '; '.join(failed)}")
        when = datetime.now(UTC)
        record = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/workers.py", *sys.argv[1:]]),
            "code": code_state(),
            "options": {k: v for k, v in vars(args).items() if "url" not in k},
            "summary": summary,
            "runs": results,
            "failed": failed,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        out = save(record, f"workers-{when.strftime('%Y%m%dT%H%M%SZ')}", "workers-latest.json")
        log(f"results: {out.relative_to(ROOT)} ({record['elapsed_s']} s)")
        return 1 if failed else 0
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        return 2
    finally:
        for db in databases.values():
            with contextlib.suppress(Exception):
                db.close()
        if redis is not None:
            redis.close()
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
