"""Newsletter sending against a bare smtplib loop, both into one local SMTP sink, in one run.

    .venv/bin/python bench/send.py [--recipients 2000] [--rounds 2] [--no-postgres]

What it does, all inside a fresh temporary folder (and temporary PostgreSQL databases) that
it deletes at the end:

1. starts an SMTP sink on 127.0.0.1 in a process of its own (bench/smtp_sink.py: aiosmtpd,
   accepts and discards, counts what it got);
2. for SQLite (a file in the temporary folder) and, if the server answers, PostgreSQL
   (databases bench_send_<pid>_* created next to the one --postgres-url names, dropped at
   the end): migrate and load_demo_content once, then a copy of that database per scenario;
3. throughput: the demo newsletter's fullest live issue gets N recipients (bulk_create),
   then, in one process (bench/send_worker.py): the bare loop, deliver(), the bare loop,
   deliver(), the bare loop. The bare loop (the ceiling) sends the bytes of one real issue
   email, built by the app, to the N recipients over one connection with
   smtplib.sendmail(). deliver() is newsletters.delivery.deliver(issue_id) on a fresh ledger
   (create_ledger, not timed): claims, per-recipient personalisation, Django's SMTP backend
   and one ledger UPDATE per message. Each deliver() is compared with the mean of the
   ceilings either side of it; the median over rounds is the figure;
4. a cProfile of one deliver() (--profile-messages recipients) per database;
5. memory (PostgreSQL, or SQLite without it): for 1,000 and 100,000 recipients, a fresh
   process times create_ledger() and reports its peak RSS, then another one runs deliver()
   over that ledger. At 100,000 deliver() stops claiming after --deadline seconds, then all
   but the last --tail pending rows are marked sent in one UPDATE and those are delivered,
   so that both ends of a large ledger are measured without sending 100,000 messages;
6. checks that the sink received exactly the messages the phases report sending.

It prints a table and writes bench/results/send-<UTC time>.json (and send-latest.json).
Exit status: 0 when measured, 1 with --strict when a target is missed, 2 on error.

Targets (design.md, "What good looks like"):
- deliver() reaches >= 70 % of the bare loop's messages per second;
- memory stays flat from 1,000 to 100,000 recipients;
- 100,000 ledger rows are created in seconds (here: <= 10 s on PostgreSQL).
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from runs import (
    RESULTS,
    ROOT,
    code_state,
    machine,
    production_environment,
    run,
    save,
    stop_cleanly_on_signals,
)

SEND_TARGET_RATIO = 0.70
LEDGER_TARGET_SECONDS = 10.0
FLAT_MEMORY_MB = 25.0  # peak RSS at the largest size may exceed the smallest's by this much
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def log(message: str) -> None:
    print(f"[send {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Sink:
    """The SMTP sink process; stop() ends it by PID and returns what it received."""

    def __init__(self, folder: Path, max_seconds: float, *options, name: str = "sink"):
        self.ready = folder / f"{name}-ready.json"
        self.counts = folder / f"{name}-counts.json"
        self.log_path = folder / f"{name}.log"
        with open(self.log_path, "w") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.smtp_sink", self.ready, self.counts,
                 "--max-seconds", str(max_seconds), *map(str, options)],
                cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while not self.ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the SMTP sink did not start: {self.log_path.read_text()}")
            time.sleep(0.1)
        time.sleep(0.05)  # the file is written in one go, but let the write land
        self.port = json.loads(self.ready.read_text())["port"]
        self.pid = self.process.pid

    def stop(self) -> dict | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.counts.read_text())
        return None


class SqliteDatabases:
    """SQLite files in the run's folder: `base` is migrated once, scenarios get copies."""

    kind = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder / "sqlite"
        self.folder.mkdir()

    def url(self, name: str) -> str:
        return f"sqlite:///{self.folder / name}.sqlite3"

    def create_base(self) -> str:
        return self.url("base")

    def clone(self, name: str) -> str:
        shutil.copyfile(self.folder / "base.sqlite3", self.folder / f"{name}.sqlite3")
        return self.url(name)

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (self.folder / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases bench_send_<pid>_<name> on the server of `admin_url`, all dropped by close()."""

    kind = "postgres"

    def __init__(self, admin_url: str):
        import psycopg

        self.psycopg = psycopg
        self.admin_url = admin_url
        self.connection = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        self.prefix = f"bench_send_{os.getpid()}"
        self.created: list[str] = []

    def name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{self.name(name)}"))

    def _create(self, name: str, template: str | None = None) -> str:
        sql = self.psycopg.sql
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name(name)))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(self.name(template)))
        self.created.append(self.name(name))
        self.connection.execute(statement)
        return self.url(name)

    def create_base(self) -> str:
        return self._create("base")

    def clone(self, name: str) -> str:
        return self._create(name, template="base")

    def drop(self, name: str) -> None:
        self._drop(self.name(name))

    def _drop(self, database: str) -> None:
        sql = self.psycopg.sql
        self.connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        with contextlib.suppress(ValueError):
            self.created.remove(database)

    def close(self) -> None:
        for database in list(reversed(self.created)):
            try:
                self._drop(database)
            except Exception as error:  # keep dropping the others
                log(f"could not drop {database}: {error!r}")
        self.connection.close()


def environment(folder: Path, kind: str, sink: Sink) -> dict:
    return production_environment(
        DJANGO_SETTINGS_MODULE="outlet.settings.production",
        MEDIA_ROOT=str(folder / f"media-{kind}"),
        CACHE_DIR=str(folder / f"cache-{kind}"),
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        BENCH_SINK_PID=str(sink.pid),
    )


class Runner:
    """Runs worker phases for one database kind and keeps the count of messages sent."""

    def __init__(self, folder: Path, databases, env: dict):
        self.folder = folder
        self.databases = databases
        self.env = env
        self.sent_to_sink = 0

    def prepare(self) -> None:
        env = {**self.env, "DATABASE_URL": self.databases.create_base()}
        manage = [sys.executable, ROOT / "manage.py"]
        log(f"{self.databases.kind}: migrate")
        run([*manage, "migrate", "--noinput"], env, timeout=300)
        log(f"{self.databases.kind}: load_demo_content")
        run([*manage, "load_demo_content"], env, timeout=180)

    def worker(self, phase: str, url: str, *options, timeout: float = 300, **env) -> dict:
        out = self.folder / f"{self.databases.kind}-{phase}-{time.monotonic_ns()}.json"
        command = [sys.executable, "-m", "bench.send_worker", phase, out, *options]
        run(command, {**self.env, "DATABASE_URL": url, **env}, timeout=timeout)
        result = json.loads(out.read_text())
        self.sent_to_sink += result.get("sent_to_sink", 0)
        return result

    def throughput(self, args) -> dict:
        kind = self.databases.kind
        url = self.databases.clone("throughput")
        try:
            setup = self.worker("setup", url, "--recipients", args.recipients)
            log(f"{kind}: throughput, {setup['audience']} recipients, {args.rounds} rounds")
            rounds = ("--rounds", args.rounds, "--deadline", args.deliver_deadline)
            result = self.worker("throughput", url, *rounds)
            result["setup"] = setup
            log(
                f"{kind}: ceiling {result['ceiling_msgs_per_s']:.0f} msgs/s, deliver"
                f" {result['deliver_msgs_per_s']:.0f} msgs/s, ratio {result['ratio']:.2f}"
            )
            if args.what_if_fast_commit:
                log(f"{kind}: what-if: the same without a disk flush per commit")
                result["what_if_fast_commit"] = self.worker(
                    "throughput", url, *rounds, BENCH_FAST_COMMIT="1"
                )
        finally:
            self.databases.drop("throughput")
        if args.profile_messages:
            url = self.databases.clone("profile")
            try:
                self.worker("setup", url, "--recipients", args.profile_messages)
                log(f"{kind}: profiling deliver() of {args.profile_messages} messages")
                result["profile"] = self.worker("profile", url)
            finally:
                self.databases.drop("profile")
        return result

    def memory(self, args) -> list[dict]:
        kind = self.databases.kind
        results = []
        for size in args.memory_sizes:
            name = f"memory_{size}"
            url = self.databases.clone(name)
            try:
                setup = self.worker("setup", url, "--recipients", size, timeout=300)
                log(f"{kind}: {setup['audience']:,} recipients: create_ledger()")
                ledger = self.worker("ledger", url, *(["--tracemalloc"] * args.tracemalloc))
                log(
                    f"{kind}: {ledger['rows']:,} ledger rows in {ledger['seconds']:.1f} s;"
                    " deliver()"
                )
                deliver = self.worker(
                    "deliver", url, "--deadline", args.deadline, "--tail", args.tail, timeout=600
                )
            finally:
                self.databases.drop(name)
            results.append(
                {"recipients": size, "setup": setup, "ledger": ledger, "deliver": deliver}
            )
        return results


# -- report ------------------------------------------------------------------------------


def checks_for(results: dict) -> list[dict]:
    checks = []
    for kind, result in results["throughput"].items():
        checks.append(
            {
                "what": f"{kind}: deliver() >= {SEND_TARGET_RATIO:.0%} of the bare loop's msgs/s"
                f" (median {result['ratio']:.2f}, rounds {result['ratios']})",
                "met": result["ratio"] >= SEND_TARGET_RATIO,
            }
        )
    for kind, sizes in results["memory"].items():
        if len(sizes) < 2:
            continue
        small, large = sizes[0], sizes[-1]
        for phase in ("ledger", "deliver"):
            a, b = small[phase]["peak_rss_mb"], large[phase]["peak_rss_mb"]
            checks.append(
                {
                    "what": f"{kind}: {phase} memory flat: peak RSS {a:.0f} MB at"
                    f" {small['recipients']:,}, {b:.0f} MB at {large['recipients']:,}"
                    f" (allowed +{FLAT_MEMORY_MB:.0f} MB)",
                    "met": b - a <= FLAT_MEMORY_MB,
                }
            )
        if large["recipients"] >= 100_000:
            seconds = large["ledger"]["seconds"]
            checks.append(
                {
                    "what": f"{kind}: {large['ledger']['rows']:,} ledger rows in {seconds:.1f} s"
                    f" (<= {LEDGER_TARGET_SECONDS:.0f} s)",
                    "met": seconds <= LEDGER_TARGET_SECONDS,
                }
            )
    sink = results["sink"]
    checks.append(
        {
            "what": f"the sink received every message sent ({sink['received']:,} of"
            f" {sink['expected']:,})",
            "met": sink["received"] == sink["expected"],
        }
    )
    return checks


def print_report(results: dict, checks: list[dict]) -> None:
    print()
    for kind, r in results["throughput"].items():
        print(
            f"{kind}: {r['messages']:,} recipients, message {r['message_bytes'] / 1024:.1f} KB,"
            f" batch {r['batch_size']}, queries per message {r['queries_per_msg']}"
        )
    print(
        f"\n{'database':<10}{'ceiling/s':>10}{'deliver/s':>10}{'ratio':>7}  {'by round':<12}"
        f"{'CPU ms/msg: sender':>19}{'(ceiling)':>10}{'sink':>6}{'(ceiling)':>10}"
    )
    for kind, r in results["throughput"].items():
        rows = [(kind, r)]
        if "what_if_fast_commit" in r:
            rows.append(("  what-if", r["what_if_fast_commit"]))
        for label, x in rows:
            by_round = " ".join(f"{ratio:.2f}" for ratio in x["ratios"])
            print(
                f"{label:<10}{x['ceiling_msgs_per_s']:>10.0f}{x['deliver_msgs_per_s']:>10.0f}"
                f"{x['ratio']:>7.2f}  {by_round:<12}{x['deliver_sender_cpu_ms']:>19.2f}"
                f"{x['ceiling_sender_cpu_ms']:>10.2f}{x['deliver_sink_cpu_ms']:>6.2f}"
                f"{x['ceiling_sink_cpu_ms']:>10.2f}"
            )
    print(
        "ratio = deliver()'s msgs/s / the mean of the bare loops run just before and after it;"
        " median over rounds.\nCPU ms/msg: this process's and the sink's CPU time per message"
        " (steadier than msgs/s on a shared machine)."
    )
    for kind, r in results["throughput"].items():
        if "profile" in r:
            p = r["profile"]
            print(f"\n{kind}: deliver() under cProfile, µs per message ({p['messages']} messages):")
            for label, micros in p["us_per_message"].items():
                print(f"  {micros:9.1f}  {label}")
            steps = p["steps_us_per_message"]
            print(
                f"{kind}: each step alone, no profiler, µs per message ({steps['messages timed']}):"
            )
            for label, micros in steps.items():
                if label != "messages timed":
                    print(f"  {micros:9.1f}  {label}")
    for kind, sizes in results["memory"].items():
        print(f"\n{kind}: memory (a fresh process per phase; peak = ru_maxrss)")
        print(
            f"{'recipients':>11}  {'phase':<8}{'rows/msgs':>10}{'seconds':>9}{'peak MB':>9}"
            f"{'growth MB':>10}  notes"
        )
        for size in sizes:
            led, dl = size["ledger"], size["deliver"]
            traced = (
                f", tracemalloc peak {led['tracemalloc_peak_mb']:.1f} MB"
                if led["tracemalloc_peak_mb"] is not None
                else ""
            )
            print(
                f"{led['rows']:>11,}  {'ledger':<8}{led['rows']:>10,}{led['seconds']:>9.2f}"
                f"{led['peak_rss_mb']:>9.1f}{led['growth_mb']:>10.1f}"
                f"  {led['rows_per_s']:,} rows/s{traced}"
            )
            head = dl["head"]
            note = f"{head['msgs_per_s']} msgs/s, claim {head['claim_ms_median']} ms"
            if head["stopped_at_deadline"]:
                note += f"; stopped at {head['seconds']:.0f} s"
            if "tail" in dl:
                tail = dl["tail"]
                note += (
                    f"; then {dl['skipped_as_sent']:,} marked sent, last {tail['messages']}"
                    f" at {tail['msgs_per_s']} msgs/s, claim {tail['claim_ms_median']} ms"
                )
            print(
                f"{led['rows']:>11,}  {'deliver':<8}{dl['sent']:>10,}"
                f"{head['seconds'] + dl.get('tail', {}).get('seconds', 0):>9.2f}"
                f"{dl['peak_rss_mb']:>9.1f}{dl['growth_mb']:>10.1f}  {note}"
            )
    print()
    for check in checks:
        print(f"  [{'MET' if check['met'] else 'MISSED'}] {check['what']}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000, help="N for the throughput")
    parser.add_argument("--rounds", type=int, default=2, help="deliver() runs per database")
    parser.add_argument(
        "--deliver-deadline", type=float, default=40,
        help="seconds after which a throughput deliver() stops claiming (0: none)",
    )  # fmt: skip
    parser.add_argument("--profile-messages", type=int, default=400, help="0: no profile")
    parser.add_argument(
        "--memory-sizes",
        type=lambda text: [int(x) for x in text.split(",") if x],
        default=[1000, 100_000],
        help="comma-separated recipient counts; empty: no memory phase",
    )
    parser.add_argument(
        "--memory-db", choices=["postgres", "sqlite", "both"], default="postgres",
        help="where to run the memory phases (sqlite when PostgreSQL is not there)",
    )  # fmt: skip
    parser.add_argument("--deadline", type=float, default=15, help="deliver() seconds at 100k")
    parser.add_argument("--tail", type=int, default=300, help="rows delivered at the end")
    parser.add_argument("--tracemalloc", action="store_true", help="ledger: tracemalloc peak")
    parser.add_argument(
        "--what-if-fast-commit", action="store_true",
        help="also measure deliver() with commits that do not wait for the disk"
        " (SQLite WAL + synchronous=NORMAL; PostgreSQL synchronous_commit=off)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL", "")
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else DEFAULT_POSTGRES_URL,
        help="a server the run may create and drop bench_send_* databases on",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()

    stop_cleanly_on_signals()
    started = time.monotonic()
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load_before[0]:.1f} before starting: figures will be noisy")
    folder = Path(tempfile.mkdtemp(prefix="outlet-send-"))
    sink = None
    databases = []
    try:
        sink = Sink(folder, max_seconds=900)
        log(f"SMTP sink on 127.0.0.1:{sink.port} (pid {sink.pid})")
        if not args.no_sqlite:
            databases.append(SqliteDatabases(folder))
        if not args.no_postgres:
            try:
                databases.append(PostgresDatabases(args.postgres_url))
            except Exception as error:
                log(f"PostgreSQL skipped: {error!r}")
        kinds = [db.kind for db in databases]
        memory_kinds = {"both": kinds, "sqlite": ["sqlite"]}.get(
            args.memory_db, ["postgres"] if "postgres" in kinds else ["sqlite"]
        )
        results = {"throughput": {}, "memory": {}}
        runners = []
        for db in databases:
            runner = Runner(folder, db, environment(folder, db.kind, sink))
            runners.append(runner)
            runner.prepare()
            results["throughput"][db.kind] = runner.throughput(args)
            if args.memory_sizes and db.kind in memory_kinds:
                results["memory"][db.kind] = runner.memory(args)
        counts = sink.stop() or {}
        results["sink"] = {
            "expected": sum(r.sent_to_sink for r in runners),
            "received": counts.get("messages", -1),
            "bytes": counts.get("bytes"),
        }
        checks = checks_for(results)
        print_report(results, checks)
        when = datetime.now(UTC)
        record = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/send.py", *sys.argv[1:]]),
            "code": code_state(),
            "options": {k: v for k, v in vars(args).items() if k != "postgres_url"},
            "results": results,
            "checks": checks,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        out = save(record, f"send-{when.strftime('%Y%m%dT%H%M%SZ')}", "send-latest.json")
        for kind, r in results["throughput"].items():
            if "profile" in r:
                (RESULTS / f"send-latest-profile-{kind}.txt").write_text(r["profile"]["text"])
        log(f"results: {out.relative_to(ROOT)} ({record['elapsed_s']} s)")
        return 1 if args.strict and not all(c["met"] for c in checks) else 0
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        return 2
    finally:
        if sink is not None:
            sink.stop()
        for db in databases:
            with contextlib.suppress(Exception):
                db.close()
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
