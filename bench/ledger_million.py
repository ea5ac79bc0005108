"""The ledger of an issue to 1,000,000 subscribers: how long the publish takes to write it.

    .venv/bin/python bench/ledger_million.py [--recipients 1000000] [--rounds 3] [--no-sqlite]

What it does, in a fresh temporary folder (and temporary PostgreSQL databases
bench_ledger_<pid>_*) that it deletes at the end:

1. for PostgreSQL and SQLite: migrate and load_demo_content, then --recipients confirmed
   subscribers and subscriptions to the newsletter of the demo's fullest live issue, plus
   --suppressed subscribers whose addresses are suppressed, all written by the database
   (bench/fleet_worker.py, phase populate: INSERT … SELECT over a generated series, the
   models' columns), then ANALYZE;
2. --rounds times, in a fresh process each: the issue's run and ledger dropped, then
   newsletters.ledger.open_send(issue), which is what an editor's first publish runs (the
   IssueSend row and create_ledger()'s one INSERT … SELECT over Subscription.mailable()).
   It reports the time, the process's RSS before and its peak RSS after (ru_maxrss): the
   rows never pass through Python, so the peak must not move with the ledger's size;
3. with --what-if, one more PostgreSQL round after dropping or narrowing the indexes a new row
   need not enter, and one more after also dropping the ledger's foreign keys
   (fleet_worker.WHAT_IF: DDL on the bench's database, to size a possible migration);
4. on the last PostgreSQL round, EXPLAIN (ANALYZE, BUFFERS) of the audience SELECT alone and
   of the whole INSERT … SELECT (for another issue, rolled back; foreign keys checked inside
   the statement so their cost shows).

Target: <= 20 s on PostgreSQL for 1,000,000 rows (SQLite reported for information).
Exit status: 0 when measured, 1 with --strict when the target is missed, 2 on error.
Results: bench/results/ledger_million-<UTC time>.json and ledger_million-latest.json.
"""

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from runs import (
    ROOT,
    code_state,
    machine,
    production_environment,
    run,
    save,
    stop_cleanly_on_signals,
)
from send import DEFAULT_POSTGRES_URL, PostgresDatabases, SqliteDatabases

TARGET_SECONDS = 20.0


def log(message: str) -> None:
    print(f"[ledger {time.strftime('%H:%M:%S')}] {message}", flush=True)


def phase(folder: Path, env: dict, name: str, *options, timeout: float = 600) -> dict:
    out = folder / f"{name}-{time.monotonic_ns()}.json"
    run([sys.executable, "-m", "bench.fleet_worker", name, out, *options], env, timeout=timeout)
    return json.loads(out.read_text())


def measure(folder: Path, databases, args) -> dict:
    kind = databases.kind
    env = production_environment(
        DJANGO_SETTINGS_MODULE="outlet.settings.production",
        MEDIA_ROOT=str(folder / f"media-{kind}"),
        CACHE_DIR=str(folder / f"cache-{kind}"),
        EMAIL_URL="dummy://",
        DATABASE_URL=databases.create_base(),
    )
    manage = [sys.executable, ROOT / "manage.py"]
    log(f"{kind}: migrate, load_demo_content")
    run([*manage, "migrate", "--noinput"], env, timeout=300)
    run([*manage, "load_demo_content"], env, timeout=300)
    log(f"{kind}: {args.recipients:,} subscribers (+{args.suppressed:,} suppressed), in SQL")
    populated = phase(
        folder, env, "populate", "--recipients", args.recipients, "--suppressed", args.suppressed
    )
    log(f"{kind}: populated in {populated['seconds']} s, audience {populated['audience']:,}")
    rounds = []
    count = args.rounds if kind == "postgres" else args.sqlite_rounds
    for n in range(count):
        explain = kind == "postgres" and n == count - 1 and not args.no_explain
        result = phase(folder, env, "ledger", *(["--explain"] if explain else []))
        log(
            f"{kind}: round {n + 1}: {result['rows']:,} rows in {result['seconds']} s"
            f" ({result['rows_per_s']:,}/s), RSS {result['rss_before_mb']} MB before,"
            f" peak {result['peak_rss_after_mb']} MB after"
        )
        rounds.append(result)
    what_if = {}
    if kind == "postgres" and args.what_if:
        for name in ("lean", "nofk"):  # cumulative: nofk comes on top of lean
            result = phase(folder, env, "ledger", "--what-if", name)
            log(f"{kind}: what-if {name}: {result['rows']:,} rows in {result['seconds']} s")
            what_if[name] = result
    seconds = [r["seconds"] for r in rounds]
    return {
        "what_if": what_if,
        "populate": populated,
        "rounds": rounds,
        "seconds_median": statistics.median(seconds),
        "seconds_range": [min(seconds), max(seconds)],
        "rows": rounds[0]["rows"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--suppressed", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="PostgreSQL rounds")
    parser.add_argument("--sqlite-rounds", type=int, default=1)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--what-if", action="store_true",
        help="PostgreSQL: also time the ledger with leaner indexes, then also without the"
        " ledger's foreign keys (DDL on the bench database; see fleet_worker.WHAT_IF)",
    )  # fmt: skip
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()

    stop_cleanly_on_signals()
    started = time.monotonic()
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="outlet-ledger-"))
    databases = []
    try:
        if not args.no_postgres:
            postgres = PostgresDatabases(args.postgres_url)
            postgres.prefix = f"bench_ledger_{os.getpid()}"
            databases.append(postgres)
        if not args.no_sqlite:
            databases.append(SqliteDatabases(folder))
        results = {db.kind: measure(folder, db, args) for db in databases}
        checks = []
        if "postgres" in results:
            r = results["postgres"]
            checks.append(
                {
                    "what": f"postgres: {r['rows']:,} ledger rows in {r['seconds_median']} s"
                    f" (median of {len(r['rounds'])}, range {r['seconds_range']})"
                    f" <= {TARGET_SECONDS:.0f} s",
                    "met": r["seconds_median"] <= TARGET_SECONDS,
                }
            )
        for kind, r in results.items():
            before = max(x["rss_before_mb"] for x in r["rounds"])
            peak = max(x["peak_rss_after_mb"] for x in r["rounds"])
            checks.append(
                {
                    "what": f"{kind}: memory flat: RSS {before} MB before, peak {peak} MB after",
                    "met": peak - before <= 25,
                }
            )
        print()
        for kind, r in results.items():
            by_round = [x["seconds"] for x in r["rounds"]]
            print(f"{kind}: {r['rows']:,} rows; seconds by round {by_round}")
            for x in r["rounds"]:
                for line in x.get("explain_insert", []) + x.get("explain_select", []):
                    print(f"    {line}")
        for check in checks:
            print(f"  [{'MET' if check['met'] else 'MISSED'}] {check['what']}")
        when = datetime.now(UTC)
        record = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/ledger_million.py", *sys.argv[1:]]),
            "code": code_state(),
            "results": results,
            "checks": checks,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        out = save(record, f"ledger_million-{when.strftime('%Y%m%dT%H%M%SZ')}",
                   "ledger_million-latest.json")  # fmt: skip
        log(f"results: {out.relative_to(ROOT)} ({record['elapsed_s']} s)")
        return 1 if args.strict and not all(c["met"] for c in checks) else 0
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        return 2
    finally:
        for db in databases:
            with contextlib.suppress(Exception):
                db.close()
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
