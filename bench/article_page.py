"""Article page throughput under gunicorn, against a constant Django view in the same run.

    .venv/bin/python bench/article_page.py [--duration 3] [--rounds 3] [--connections 8]

What it does, all inside a fresh temporary folder that it deletes at the end:

1. a new SQLite database: migrate, load_demo_content, collectstatic;
2. SQL queries per page (bench/query_counts.py), which also picks the costliest article;
3. gunicorn on 127.0.0.1 (a free port), 2 sync workers, outlet.settings.production through
   bench/settings.py, which only adds the ceiling view /bench/constant/ and moves static
   files into the temporary folder (CACHE_DIR and MEDIA_ROOT put the rest there);
4. wrk on loopback, bounded in time (-t2 -c8, 3 s a run, 3 rounds): in each round the
   constant view, then four kinds cached (anonymous, after a warm-up request) and every kind
   uncached (a `Cookie: sessionid=x` header makes the page cache step aside); each ratio is taken
   against the constant view of the same round, and the median over rounds is reported;
5. a profile of the uncached article (bench/profile_page.py) unless --no-profile.

It prints a table, writes bench/results/article_page-<time>.json (and latest.json), and
always stops the gunicorn it started, by PID. Exit status: 0 when measured, 1 when
--strict is given and a target was missed, 2 on error.

Targets (design.md "What good looks like"):
- a cached page serves >= 85 % of the constant view's requests per second;
- every page kind uncached (article, home, section, author, series, tag, newsletter, issue,
  feeds) costs <= 16x the constant view's CPU per request: half of what Wagtail's
  bakerydemo blog post costs (~32x);
- every page kind costs <= 15 queries, also on the first request after a publish, whatever
  an article's number of authors, tags, related picks and blocks.
"""

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

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

# Wagtail's bakerydemo blog post costs ~32x the constant view's CPU per request; the target
# is half that, for every page kind.
UNCACHED_CPU_TARGET = 16.0
CACHED_TARGET_RATIO = 0.85
QUERY_TARGET = 15
# Measured cached as well as uncached; every kind is measured uncached.
CACHED_KINDS = ("article", "home", "feed", "issue")
UNCACHED = {"Cookie": "sessionid=x"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(bench_dir: Path) -> dict:
    return production_environment(
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_DIR=str(bench_dir),
        DATABASE_URL=f"sqlite:///{bench_dir / 'db.sqlite3'}",
        MEDIA_ROOT=str(bench_dir / "media"),
        CACHE_DIR=str(bench_dir / "cache"),
        EMAIL_URL="dummy://",
    )


def prepare_database(env: dict) -> None:
    manage = [sys.executable, ROOT / "manage.py"]
    log("migrate")
    run([*manage, "migrate", "--noinput"], env, timeout=180)
    log("load_demo_content")
    log(run([*manage, "load_demo_content"], env, timeout=180).strip()[-2000:])
    log("collectstatic")
    run([*manage, "collectstatic", "--noinput"], env, timeout=180)


class Gunicorn:
    """gunicorn started by this script; stop() ends it and its workers by PID, always."""

    def __init__(self, env: dict, bench_dir: Path, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = bench_dir / "gunicorn.log"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [
            str(gunicorn), "outlet.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--worker-class", "sync",
            "--chdir", str(ROOT), "--error-logfile", str(self.log_path), "--log-level", "warning",
        ]  # fmt: skip
        self.command = " ".join(command[1:])
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.worker_pids: set[int] = set()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{self.tail()}")
            try:
                if fetch(self.base + "/bench/constant/")[0] == 200:
                    self.worker_pids |= self.children()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def children(self) -> set[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in path.read_text().split()}
        except OSError:
            return set()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far, from /proc."""
        self.worker_pids |= self.children()
        total = 0
        for pid in self.worker_pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / os.sysconf("SC_CLK_TCK")

    def tail(self) -> str:
        try:
            return self.log_path.read_text()[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.worker_pids |= self.children()
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in self.worker_pids:  # a worker this gunicorn forked, if it outlived it
            if self.owns(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def owns(self, pid: int) -> bool:
        """Whether `pid` is still one of our workers (not a reused PID): same bind address."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"127.0.0.1:{self.port}".encode() in cmdline


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(\w+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors: (.*)")
WRK_PERCENTILE = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, headers: dict, duration: int, threads: int, connections: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=True
    ).stdout
    rate = WRK_RATE.search(output)
    if rate is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    total = WRK_TOTAL.search(output)
    non2xx = WRK_NON2XX.search(output)
    errors = WRK_ERRORS.search(output)
    return {
        "req_s": float(rate.group(1)),
        "requests": int(total.group(1)) if total else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "latency_ms": {
            f"p{p}": round(float(v) * UNIT_MS[u], 2) for p, v, u in WRK_PERCENTILE.findall(output)
        },
        "command": shlex.join(command),
    }


def measure(server: Gunicorn, targets: list, args) -> list[dict]:
    """Every target once per round, for `rounds` rounds, the constant view first in each.

    Interleaving puts each page next to a ceiling measured moments before it, so that other
    work on the machine (it has only 2 cores) moves both figures of a ratio together; each
    ratio is taken within its round, and the table shows the median over rounds.
    """
    bodies = {}
    for name, path, headers in targets:
        url = server.base + path
        status, _, body = fetch(url, headers)
        if status != 200:
            raise RuntimeError(f"{name}: {path} answered {status}")
        bodies[name] = len(body)
        # Warm-up: a cached target's first request stores the page; every target's warm-up
        # brings both workers' imports, templates and database connections up.
        wrk(url, headers, args.warmup, args.threads, args.connections)

    runs: dict[str, list[dict]] = {name: [] for name, _, _ in targets}
    for round_number in range(1, args.rounds + 1):
        for name, path, headers in targets:
            cpu_before = server.cpu_seconds()
            result = wrk(server.base + path, headers, args.duration, args.threads, args.connections)
            cpu = server.cpu_seconds() - cpu_before
            result["round"] = round_number
            result["worker_cpu_ms_per_request"] = round(1000 * cpu / max(result["requests"], 1), 3)
            if result["non_2xx"] or result["socket_errors"]:
                log(f"  warning: {name}: {result['non_2xx']} non-2xx, {result['socket_errors']}")
            runs[name].append(result)
            if name.endswith("uncached"):
                time.sleep(0.5)  # let the workers drain requests wrk left queued
        log(
            f"round {round_number}/{args.rounds}: "
            + ", ".join(f"{name} {runs[name][-1]['req_s']:.0f}" for name, _, _ in targets)
        )

    rows = []
    constant = runs["constant"]
    for name, path, headers in targets:
        mine = runs[name]
        ratios = [run["req_s"] / c["req_s"] for run, c in zip(mine, constant, strict=True)]
        cpu_ratios = [
            c["worker_cpu_ms_per_request"] / run["worker_cpu_ms_per_request"]
            for run, c in zip(mine, constant, strict=True)
            if run["worker_cpu_ms_per_request"]
        ]
        rows.append(
            {
                "name": name,
                "path": path,
                "headers": headers,
                "bytes": bodies[name],
                "req_s": round(statistics.median(run["req_s"] for run in mine), 1),
                "ratio_to_constant": round(statistics.median(ratios), 3),
                "ratio_to_constant_by_round": [round(r, 3) for r in ratios],
                # The same comparison by the workers' CPU cost per request: how many times
                # the constant view's cost a request takes, inverted (1.0 = as cheap).
                "cpu_ratio_to_constant": round(statistics.median(cpu_ratios), 3)
                if cpu_ratios
                else None,
                "worker_cpu_ms_per_request": statistics.median(
                    run["worker_cpu_ms_per_request"] for run in mine
                ),
                "latency_ms": {
                    key: statistics.median(run["latency_ms"].get(key, 0) for run in mine)
                    for key in ("p50", "p90", "p99")
                },
                "runs": mine,
            }
        )
    return rows


def verdicts(rows: list[dict], queries: dict) -> list[dict]:
    checks = []
    for row in rows:
        if row["name"].endswith(" cached"):
            row["target"] = f">= {CACHED_TARGET_RATIO:.0%} of constant"
            row["met"] = row["ratio_to_constant"] >= CACHED_TARGET_RATIO
        elif row["name"].endswith(" uncached") and row["cpu_ratio_to_constant"]:
            # CPU per request, as a multiple of the constant view's in the same round.
            row["cpu_multiple"] = round(1 / row["cpu_ratio_to_constant"], 1)
            row["target"] = f"<= {UNCACHED_CPU_TARGET:.0f}x constant's CPU"
            row["met"] = row["cpu_multiple"] <= UNCACHED_CPU_TARGET
        if "met" in row:
            checks.append({"what": f"{row['name']}: {row['target']}", "met": row["met"]})
    for label, infix in (("steady", ""), ("first after an article's publication", "cold_")):
        worst = max(queries[f"page_queries_{infix}max"], queries[f"article_queries_{infix}max"])
        checks.append(
            {
                "what": f"every page kind <= {QUERY_TARGET} queries, {label} (worst {worst})",
                "met": worst <= QUERY_TARGET,
            }
        )
    return checks


def print_table(rows: list[dict], queries: dict, checks: list[dict]) -> None:
    print()
    print(
        f"{'benchmark':<20}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'x const':>8}{'CPU ms':>8}"
        f"{'x CPU':>7}  target"
    )
    for row in rows:
        latency = row["latency_ms"]
        target = row.get("target", "ceiling" if row["name"] == "constant" else "")
        if "met" in row:
            target += "  MET" if row["met"] else "  MISSED"
        if "cpu_multiple" in row:
            target += f"  ({row['cpu_multiple']}x; bakerydemo's post ~32x)"
        if row["name"] != "constant":
            by_round = " ".join(f"{ratio:.2f}" for ratio in row["ratio_to_constant_by_round"])
            target += f"  [x const by round: {by_round}]"
        print(
            f"{row['name']:<20}{row['req_s']:>8.1f}{latency.get('p50', 0):>8.2f}"
            f"{latency.get('p99', 0):>8.2f}{row['ratio_to_constant']:>8.2f}"
            f"{row['worker_cpu_ms_per_request']:>8.2f}{row['cpu_ratio_to_constant'] or 0:>7.2f}"
            f"  {target}"
        )
    print(
        "x const = req/s / constant's req/s in the same round (median over rounds): the figure"
        " the targets use.\nCPU ms = gunicorn workers' CPU time per request (from /proc);"
        " x CPU = constant's CPU ms / this CPU ms.\nBoth CPU columns move far less than req/s"
        " when other work shares the machine."
    )
    print()
    print(
        "SQL queries per request: anonymous cache miss with the site chrome cached (steady"
        " state),\nthe first request after an article's publication (cold: the page cache"
        " emptied),\nand after a change of the site's structure (a section, the settings: the"
        " chrome emptied too):"
    )
    for name, page in queries["pages"].items():
        session = page.get("queries_with_session_cookie")
        extra = f"  ({session} with the session cookie)" if session is not None else ""
        print(
            f"  {name:<14}{page['queries']:>4}  cold {page['queries_cold']:>3}"
            f"  restructured {page['queries_after_structure_change']:>3}  {page['url']}{extra}"
        )
    print(
        f"  every article: {queries['article_queries_min']}..{queries['article_queries_max']}"
        f" queries (cold: up to {queries['article_queries_cold_max']})"
        f" over {len(queries['articles'])} live articles"
    )
    for item in sorted(queries["articles"], key=lambda a: a["queries"]):
        print(
            f"    {item['queries']:>3} q  cold {item['queries_cold']:>3}"
            f"  authors {item['authors']} tags {item['tags']}"
            f" picks {item['related_picks']} blocks {item['blocks']}"
            f" images {item['image_blocks']}  {item['url']}"
        )
    print()
    for check in checks:
        print(f"  [{'MET' if check['met'] else 'MISSED'}] {check['what']}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every target")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up per target")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile step")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    # SIGTERM (make, CI) and SIGINT (Ctrl-C, even where a shell started us with it ignored)
    # unwind through the clean-up below.
    stop_cleanly_on_signals()
    started = time.monotonic()
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        log(
            f"warning: load average {load_before[0]:.1f} before starting: other work on this "
            "machine makes absolute figures noisy (ratios within a round less so)"
        )
    bench_dir = Path(tempfile.mkdtemp(prefix="outlet-bench-"))
    env = environment(bench_dir)
    server = None
    try:
        prepare_database(env)
        log("counting queries")
        queries_path = bench_dir / "queries.json"
        run([sys.executable, "-m", "bench.query_counts", queries_path], env, timeout=600)
        queries = json.loads(queries_path.read_text())
        pages = queries["pages"]

        log("starting gunicorn")
        server = Gunicorn(env, bench_dir, workers=args.workers)
        server.wait_ready()
        targets = [("constant", "/bench/constant/", {})]
        targets += [(f"{kind} cached", pages[kind]["url"], {}) for kind in CACHED_KINDS]
        targets += [(f"{kind} uncached", page["url"], UNCACHED) for kind, page in pages.items()]
        article = pages["article"]["url"]
        rows = measure(server, targets, args)
        page_cache = bench_dir / "cache" / "pages"
        # The entries of outlet.file_cache.UncompressedFileCache (not a write's temporary file).
        cached_files = len(list(page_cache.glob("*.entry"))) if page_cache.is_dir() else 0
        if cached_files == 0:
            raise RuntimeError("the page cache stayed empty: cached runs did not hit it")
        server_log = server.tail()
        server.stop()

        profile = None
        if not args.no_profile:
            log("profiling the uncached article")
            profile_path = bench_dir / "profile.txt"
            run([sys.executable, "-m", "bench.profile_page", article, 40, profile_path], env)
            profile = profile_path.read_text()

        checks = verdicts(rows, queries)
        print_table(rows, queries, checks)
        when = datetime.now(UTC)
        result = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/article_page.py", *sys.argv[1:]]),
            "content": "manage.py load_demo_content",
            "code": code_state(),
            "gunicorn": server.command,
            "wrk": {
                "threads": args.threads,
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
            },
            "bars": {
                "uncached_cpu_multiple": UNCACHED_CPU_TARGET,
                "cached_target_ratio": CACHED_TARGET_RATIO,
                "query_target": QUERY_TARGET,
            },
            "runs": rows,
            "checks": checks,
            "queries": queries,
            "cached_pages_on_disk": cached_files,
            "gunicorn_log_tail": server_log,
            "profile": profile,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        out = save(result, f"article_page-{when.strftime('%Y%m%dT%H%M%SZ')}", "latest.json")
        if profile:
            (RESULTS / "latest-profile.txt").write_text(profile)
        log(f"results: {out.relative_to(ROOT)} ({result['elapsed_s']} s)")
        return 1 if args.strict and not all(check["met"] for check in checks) else 0
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        if server is not None:
            sys.stderr.write(server.tail())
        return 2
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            log(f"kept {bench_dir}")
        else:
            shutil.rmtree(bench_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
