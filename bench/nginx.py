"""nginx's micro-cache in front of gunicorn, against nginx serving a static file in the same run.

    .venv/bin/python bench/nginx.py [--duration 3] [--rounds 5] [--connections 8]

Needs nginx and wrk (apt-get install -y nginx-light wrk). What it does, all inside a fresh
temporary folder that it deletes at the end:

1. a new SQLite database: migrate, load_demo_content, collectstatic (as article_page.py does),
   and the article article_page.py measures (bench/query_counts.py picks it);
2. gunicorn on a free 127.0.0.1 port, 2 sync workers, bench/settings.py
   (outlet.settings.production), with TRUSTED_PROXY_IPS=127.0.0.1;
3. nginx as the current user, in its own prefix folder (pid file, error log, cache, temp
   files), worker_processes 2, listening on free 127.0.0.1 ports, with deploy/nginx.conf itself
   inside its http block: only the listen lines, certificate lines, gunicorn's address and the
   folders are replaced (and the run stops if one of them is no longer found). `nginx -t` first;
4. checks of the rules (each listed in the output): the micro-cached body is the page, a session
   or CSRF cookie and a POST are never answered from the micro-cache nor stored, the admin and
   the newsletter pages are never cached, nor responses that are not public or set a cookie;
   static and media headers; the X-Forwarded-* headers as the site reads them;
5. wrk on loopback, bounded in time (-t2 -c8, 3 s a run, 5 rounds), interleaved: in each round
   (a) nginx serving a static file with the article's bytes (the ceiling: nothing can answer
   faster than a file from disk), (b) the article from the micro-cache, (c) the article through
   nginx with a (well-formed) `csrftoken` cookie, which bypasses the micro-cache but not
   Django's page cache, and (d) the article straight from gunicorn (Django's page cache).
   Then as browsers ask, with Accept-Encoding: gzip: (a2) the same file compressed
   beforehand (gzip_static, as whitenoise's storage does for static files) and (b2) the
   micro-cached article, which nginx compresses on every hit. Each ratio is taken against
   (a), or (a2), in the same round; the median and the range over rounds are reported.

It prints a table, writes bench/results/nginx-<time>.json (and latest-nginx.json), and always
stops the nginx and gunicorn it started, by PID. Exit status: 0 when measured, 1 when --strict
is given and a target or a check failed, 2 on error.

Target: the micro-cached article serves >= 85 % of the static file's requests per second.
"""

import argparse
import contextlib
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from article_page import Gunicorn, environment, free_port, log, prepare_database, wrk
from runs import ROOT, code_state, machine, run, save, stop_cleanly_on_signals

DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
TARGET_RATIO = 0.85
STATIC_COPY = "bench/article.html"  # under STATIC_ROOT: the article's bytes, as a file
INSTALL = "apt-get update && apt-get install -y nginx-light wrk"
# A reader who has used a form. The token must look like one of Django's (32 characters): the
# CSRF middleware replaces a malformed one, and that response, setting a cookie, would not be
# served from Django's page cache either.
CSRF_COOKIE = "csrftoken=" + "b" * 32
STATIC = "(a) static file, nginx"
CACHED = "(b) micro-cached article, nginx"
STATIC_GZIP = "(a2) static file .gz (gzip_static)"


def deploy_config(prefix: Path, bench_dir: Path, port: int, redirect_port: int, upstream: str):
    """deploy/nginx.conf with this run's ports and folders: the production text, not a copy."""
    text = DEPLOY_CONF.read_text()
    replacements = [
        # TLS is not what is measured, and wrk would pay for it on both sides alike.
        (r"^(\s*)listen 443 ssl http2;", rf"\1listen 127.0.0.1:{port};"),
        (r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{redirect_port};"),
        (r"^\s*listen \[::\]:.*\n", ""),
        (r"^(\s*)(ssl_certificate\S*\s.*)$", r"\1# \2"),
        (r"127\.0\.0\.1:8000", upstream),
        (r"/srv/outlet/staticfiles/", f"{bench_dir}/staticfiles/"),
        (r"/srv/outlet/media/", f"{bench_dir}/media/"),
        (r"/var/cache/nginx/outlet", f"{prefix}/cache"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, lambda m, r=replacement: m.expand(r), text, flags=re.M)
        if count == 0:
            raise RuntimeError(f"deploy/nginx.conf has no {pattern!r} any more: update {__file__}")
    return text


def main_config(prefix: Path, site_config: Path) -> str:
    """The http block around the site's file, as Debian's nginx.conf has it (gzip on for
    text/html included), in `prefix`."""
    mime = Path("/etc/nginx/mime.types")
    types = (
        f"include {mime};"
        if mime.exists()
        else "types { text/html html; text/css css; application/javascript js; image/jpeg jpg; }"
    )
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx would switch its workers to `nobody`, who cannot read the temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    {types}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    gzip on;
    # No access log anywhere: the static location has none, the pages would, and the two
    # sides of the ratio should pay for the same things.
    access_log off;
{temp}
    include {site_config};
}}
"""


class Nginx:
    """nginx started by this script in its own prefix; stop() ends it and its workers by PID."""

    def __init__(self, prefix: Path):
        self.prefix = prefix
        self.config = prefix / "nginx.conf"
        self.command = ["nginx", "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c"]
        self.command.append(str(self.config))
        self.process: subprocess.Popen | None = None
        self.children_seen: dict[int, str] = {}  # pid -> start time, to never kill a reused PID

    def test(self) -> str:
        result = subprocess.run([*self.command, "-t"], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"nginx -t refused the generated configuration:\n{result.stderr}")
        return result.stderr.strip()

    def start(self, port: int, timeout: float = 15) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.tail()}")
            try:
                request(port, "/static/" + STATIC_COPY)
                self.workers()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not answer in time")

    def workers(self) -> set[int]:
        """The worker and cache processes of this nginx, remembered with their start times."""
        if self.process is None:
            return set()
        pid = self.process.pid
        try:
            pids = {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
        except OSError:
            pids = set()
        for child in pids:
            self.children_seen.setdefault(child, start_time(child))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master and the workers so far, from /proc."""
        pids = self.workers() | ({self.process.pid} if self.process else set())
        return sum(cpu_seconds(pid) for pid in pids)

    def tail(self) -> str:
        try:
            return (self.prefix / "error.log").read_text()[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.workers()
            self.process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid, started in self.children_seen.items():
            if started and start_time(pid) == started:  # still the process we saw
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(port: int, path: str, method: str = "GET", headers: dict | None = None):
    """One request on loopback, redirects not followed: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = b"" if method == "POST" else None
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def checks(nginx_port: int, redirect_port: int, gunicorn_port: int, article: str, bench_dir: Path):
    """What the configuration promises, request by request. Each check: what, met, seen."""
    results = []

    def check(what: str, met: bool, seen) -> None:
        results.append({"what": what, "met": bool(met), "seen": seen})
        if not met:
            log(f"  check failed: {what}: {seen}")

    def via_nginx(path, method="GET", headers=None):
        return request(nginx_port, path, method, headers)

    def cache_status(path, method="GET", headers=None):
        status, response_headers, _ = via_nginx(path, method, headers)
        return status, response_headers.get("X-Cache-Status")

    # The page as Django gives it to nginx (same Host), and twice through the micro-cache.
    _, direct_headers, page = request(gunicorn_port, article, headers={"Host": "127.0.0.1"})
    fresh = f"{article}?check=cache"
    first = via_nginx(fresh)
    second = via_nginx(fresh)
    check(
        "an anonymous page is stored, then answered from the micro-cache",
        (first[1].get("X-Cache-Status"), second[1].get("X-Cache-Status")) == ("MISS", "HIT"),
        [first[1].get("X-Cache-Status"), second[1].get("X-Cache-Status")],
    )
    check(
        "the micro-cached body is the page, byte for byte",
        second[0] == 200 and second[2] == page and len(page) > 1000,
        {"status": second[0], "bytes": len(second[2]), "page_bytes": len(page)},
    )
    check(
        "the app's browser lifetime reaches the reader (Cache-Control passed through)",
        second[1].get("Cache-Control") == direct_headers.get("Cache-Control"),
        second[1].get("Cache-Control"),
    )
    compressed = via_nginx(fresh, headers={"Accept-Encoding": "gzip"})
    check(
        "with Accept-Encoding: gzip, the micro-cached page compressed (and only compressed)",
        compressed[1].get("X-Cache-Status") == "HIT"
        and compressed[1].get("Content-Encoding") == "gzip"
        and gzip.decompress(compressed[2]) == page,
        {
            "status": compressed[1].get("X-Cache-Status"),
            "encoding": compressed[1].get("Content-Encoding"),
            "bytes": len(compressed[2]),
            "vary": compressed[1].get_all("Vary"),
        },
    )
    head = via_nginx(fresh, "HEAD")
    check("HEAD is answered from the GET's entry", head[1].get("X-Cache-Status") == "HIT",
          head[1].get("X-Cache-Status"))  # fmt: skip

    for cookie in ("sessionid=x", CSRF_COOKIE):
        path = f"{article}?check={cookie.split('=')[0]}"
        seen = [cache_status(path, headers={"Cookie": cookie})[1]]
        seen.append(cache_status(path, headers={"Cookie": cookie})[1])
        seen.append(cache_status(path)[1])
        check(
            f"a request with `{cookie.split('=')[0]}` bypasses the micro-cache and is not stored",
            seen == ["BYPASS", "BYPASS", "MISS"],
            seen,
        )
    # A cached URL: a POST there still reaches Django (which refuses it: no CSRF token).
    post = cache_status(fresh, "POST")
    check("a POST to a cached page is not answered from the micro-cache",
          post[1] in (None, "", "BYPASS") and post[0] != 200, post)  # fmt: skip
    path = f"{article}?check=post"
    seen = [cache_status(path, "POST")[1], cache_status(path)[1]]
    check("a POST is not stored", seen[1] == "MISS", seen)

    for path in ("/admin/login/", "/subscriptions/subscribe/", "/email/postmark/tracking/"):
        answers = [via_nginx(path, headers={"Accept-Encoding": "gzip"}) for _ in range(2)]
        seen = [(a[0], a[1].get("X-Cache-Status"), a[1].get("Content-Encoding")) for a in answers]
        check(
            f"{path} is never cached nor compressed",
            all(s[1] is None and s[2] is None for s in seen),
            seen,
        )
    for path, why in (
        ("/bench/constant/", "a never_cache response (private, no-store) is not stored"),
        ("/bench/sets-cookie/", "a public response that sets a cookie is not stored"),
    ):
        seen = [cache_status(path)[1] for _ in range(2)]
        check(why, seen == ["MISS", "MISS"], seen)

    # What the site makes of the request: a reader who forged X-Forwarded-* gains nothing.
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    seen = json.loads(via_nginx("/bench/client/", headers=forged)[2])
    check(
        "X-Forwarded-For/Proto/Host as the site trusts them (forged values in front)",
        seen["client_address"] == "127.0.0.1"
        and seen["x_forwarded_for"] == "203.0.113.9, 127.0.0.1"
        and seen["x_forwarded_proto"] == "http"
        and not seen["is_secure"]
        and seen["host"] == "127.0.0.1",
        seen,
    )
    status, headers, _ = request(redirect_port, "/some/page/?q=1")
    check("plain http redirects to https", status == 301
          and headers.get("Location") == "https://127.0.0.1/some/page/?q=1",
          [status, headers.get("Location")])  # fmt: skip

    manifest = json.loads((bench_dir / "staticfiles" / "staticfiles.json").read_text())["paths"]
    original, hashed = next((k, v) for k, v in manifest.items() if k.endswith(".css"))
    status, headers, _ = via_nginx(f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    check(
        "a hashed static file: a year, immutable, the .gz beside it",
        status == 200
        and headers.get("Cache-Control") == "public, max-age=31536000, immutable"
        and headers.get("Content-Encoding") == "gzip",
        [hashed, status, headers.get("Cache-Control"), headers.get("Content-Encoding")],
    )
    status, headers, _ = via_nginx(f"/static/{original}")
    check("an unhashed static file: a minute",
          status == 200 and headers.get("Cache-Control") == "public, max-age=60",
          [original, status, headers.get("Cache-Control")])  # fmt: skip
    media = bench_dir / "media"
    image = next((p for p in sorted(media.glob("images/*")) if p.is_file()), None)
    if image is not None:
        status, headers, _ = via_nginx(f"/media/{image.relative_to(media)}")
        check("a media file is served from MEDIA_ROOT", status == 200,
              [str(image.relative_to(media)), status, headers.get("Cache-Control")])  # fmt: skip
    document = media / "documents" / "bench-private.txt"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text("a document's file\n")
    status = via_nginx("/media/documents/bench-private.txt")[0]
    check("documents' files are not served around Wagtail's /documents/", status == 404, status)
    return results


def measure(targets: list, args, gunicorn: Gunicorn, nginx: Nginx) -> dict:
    """Every target once per round, in the same order, for `rounds` rounds; ratios per round."""
    for _, url, headers, _ in targets:
        wrk(url, headers, args.warmup, args.threads, args.connections)
    runs: dict[str, list[dict]] = {name: [] for name, *_ in targets}
    for round_number in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        for name, url, headers, _ in targets:
            before = gunicorn.cpu_seconds(), nginx.cpu_seconds()
            result = wrk(url, headers, args.duration, args.threads, args.connections)
            requests = max(result["requests"] or 0, 1)
            result["gunicorn_cpu_ms_per_request"] = round(
                1000 * (gunicorn.cpu_seconds() - before[0]) / requests, 4
            )
            result["nginx_cpu_ms_per_request"] = round(
                1000 * (nginx.cpu_seconds() - before[1]) / requests, 4
            )
            result["round"] = round_number
            result["load_average_1min"] = round(load, 2)
            if result["non_2xx"] or result["socket_errors"]:
                log(f"  warning: {name}: {result['non_2xx']} non-2xx, {result['socket_errors']}")
            runs[name].append(result)
        log(
            f"round {round_number}/{args.rounds} (load {load:.2f}): "
            + ", ".join(f"{name} {runs[name][-1]['req_s']:.0f}" for name, *_ in targets)
        )
    rows = {}
    for name, url, headers, compared_with in targets:
        mine, ceiling = runs[name], runs[compared_with]
        ratios = [r["req_s"] / c["req_s"] for r, c in zip(mine, ceiling, strict=True)]
        # The same comparison by nginx's CPU time per request (1.0 = as cheap as the file),
        # which moves much less than req/s when other work shares the machine.
        cpu_ratios = [
            c["nginx_cpu_ms_per_request"] / r["nginx_cpu_ms_per_request"]
            for r, c in zip(mine, ceiling, strict=True)
            if r["nginx_cpu_ms_per_request"]
        ]
        rows[name] = {
            "url": url,
            "headers": headers,
            "compared_with": compared_with,
            "req_s": round(statistics.median(r["req_s"] for r in mine), 1),
            "req_s_range": [min(r["req_s"] for r in mine), max(r["req_s"] for r in mine)],
            "ratio_to_static": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
            "ratio_by_round": [round(r, 3) for r in ratios],
            "nginx_cpu_ratio_to_static": round(statistics.median(cpu_ratios), 3)
            if len(cpu_ratios) == len(mine)
            else None,
            "nginx_cpu_ratio_by_round": [round(r, 3) for r in cpu_ratios],
            "latency_ms": {
                key: statistics.median(r["latency_ms"].get(key, 0) for r in mine)
                for key in ("p50", "p90", "p99")
            },
            "nginx_cpu_ms_per_request": statistics.median(
                r["nginx_cpu_ms_per_request"] for r in mine
            ),
            "gunicorn_cpu_ms_per_request": statistics.median(
                r["gunicorn_cpu_ms_per_request"] for r in mine
            ),
            "runs": mine,
        }
    return rows


def print_table(rows: dict, results: list[dict], target: dict) -> None:
    print()
    print(
        f"{'benchmark':<37}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'x static':>9}"
        f"{'range':>12}{'nginx CPU':>10}{'x CPU':>7}{'gunicorn CPU':>13}"
    )
    for name, row in rows.items():
        low, high = row["ratio_range"]
        print(
            f"{name:<37}{row['req_s']:>8.0f}{row['latency_ms']['p50']:>8.2f}"
            f"{row['latency_ms']['p99']:>8.2f}{row['ratio_to_static']:>9.2f}"
            f"{f'{low:.2f}-{high:.2f}':>12}{row['nginx_cpu_ms_per_request']:>10.3f}"
            f"{row['nginx_cpu_ratio_to_static'] or 0:>7.2f}"
            f"{row['gunicorn_cpu_ms_per_request']:>13.3f}"
        )
    print(
        "x static = req/s / the static file's req/s in the same round (median, range over rounds),"
        "\n(a2) for the gzip rows;"
        "\nCPU columns: ms of CPU per request, nginx (master + workers) and gunicorn workers,"
        " from /proc;\nx CPU = the static file's nginx CPU ms / this one's (median over rounds;"
        " 0 where nginx does\nalmost nothing)."
    )
    print()
    for item in results:
        print(f"  [{'OK' if item['met'] else 'FAILED'}] {item['what']}")
    print(f"  [{'MET' if target['met'] else 'MISSED'}] {target['what']}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over every target")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up per target")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if missing:
        print(f"{' and '.join(missing)} not installed: {INSTALL}", file=sys.stderr)
        return 2

    stop_cleanly_on_signals()
    started = time.monotonic()
    load_before = os.getloadavg()
    bench_dir = Path(tempfile.mkdtemp(prefix="outlet-bench-nginx-"))
    env = environment(bench_dir)
    env.update(TRUSTED_PROXY_IPS="127.0.0.1", TRUSTED_PROXY_COUNT="1")
    gunicorn = nginx = None
    try:
        prepare_database(env)
        log("picking the article (bench/query_counts.py)")
        queries_path = bench_dir / "queries.json"
        run([sys.executable, "-m", "bench.query_counts", queries_path], env, timeout=600)
        article = json.loads(queries_path.read_text())["pages"]["article"]["url"]

        log("starting gunicorn")
        gunicorn = Gunicorn(env, bench_dir, workers=args.workers)
        gunicorn.wait_ready()
        status, _, page = request(gunicorn.port, article, headers={"Host": "127.0.0.1"})
        if status != 200:
            raise RuntimeError(f"{article} answered {status}")
        static_copy = bench_dir / "staticfiles" / STATIC_COPY
        static_copy.parent.mkdir(parents=True, exist_ok=True)
        static_copy.write_bytes(page)
        # As whitenoise's storage compresses collected files, for gzip_static.
        static_copy.with_name(static_copy.name + ".gz").write_bytes(gzip.compress(page, 9))

        prefix = bench_dir / "nginx"
        for folder in ("cache", "temp"):
            (prefix / folder).mkdir(parents=True)
        port, redirect_port = free_port(), free_port()
        site_config = prefix / "outlet.conf"
        site_config.write_text(
            deploy_config(prefix, bench_dir, port, redirect_port, f"127.0.0.1:{gunicorn.port}")
        )
        nginx = Nginx(prefix)
        nginx.config.write_text(main_config(prefix, site_config))
        log(f"nginx -t: {nginx.test()}")
        log(f"starting nginx on 127.0.0.1:{port}")
        nginx.start(port)

        log("checking the configuration's rules")
        results = checks(port, redirect_port, gunicorn.port, article, bench_dir)

        nginx_base = f"http://127.0.0.1:{port}"
        static, cached = f"{nginx_base}/static/{STATIC_COPY}", f"{nginx_base}{article}"
        gzip_accepted = {"Accept-Encoding": "gzip"}
        # name, URL, headers, the target it is compared with in each round
        targets = [
            (STATIC, static, {}, STATIC),
            (CACHED, cached, {}, STATIC),
            ("(c) nginx, bypass -> page cache", cached, {"Cookie": CSRF_COOKIE}, STATIC),
            ("(d) gunicorn direct, page cache", f"{gunicorn.base}{article}", {}, STATIC),
            (STATIC_GZIP, static, gzip_accepted, STATIC_GZIP),
            ("(b2) micro-cached, gzip on the fly", cached, gzip_accepted, STATIC_GZIP),
        ]
        log(f"measuring {article} ({len(page):,} bytes)")
        rows = measure(targets, args, gunicorn, nginx)
        cached = rows[CACHED]
        target = {
            "what": f"micro-cached article >= {TARGET_RATIO:.0%} of the static file's req/s"
            f" (median {cached['ratio_to_static']:.2f},"
            f" range {cached['ratio_range'][0]:.2f}-{cached['ratio_range'][1]:.2f};"
            f" by nginx's CPU per request {cached['nginx_cpu_ratio_to_static']})",
            "met": cached["ratio_to_static"] >= TARGET_RATIO,
        }
        print_table(rows, results, target)

        when = datetime.now(UTC)
        record = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(load_before),
            "command": " ".join([".venv/bin/python", "bench/nginx.py", *sys.argv[1:]]),
            "content": "manage.py load_demo_content",
            "code": code_state(),
            "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            "gunicorn": gunicorn.command,
            "article": {"url": article, "bytes": len(page)},
            "wrk": {
                "threads": args.threads,
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
            },
            "target": {"ratio": TARGET_RATIO, **target},
            "checks": results,
            "runs": rows,
            "nginx_config": site_config.read_text(),
            "nginx_error_log_tail": nginx.tail(),
            "gunicorn_log_tail": gunicorn.tail(),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        out = save(record, f"nginx-{when.strftime('%Y%m%dT%H%M%SZ')}", "latest-nginx.json")
        log(f"results: {out.relative_to(ROOT)} ({record['elapsed_s']} s)")
        failed = not target["met"] or not all(item["met"] for item in results)
        return 1 if args.strict and failed else 0
    except (Exception, KeyboardInterrupt) as error:
        log(f"failed: {error!r}")
        for server in (nginx, gunicorn):
            if server is not None:
                sys.stderr.write(server.tail())
        return 2
    finally:
        if nginx is not None:
            nginx.stop()
        if gunicorn is not None:
            gunicorn.stop()
        if args.keep:
            log(f"kept {bench_dir}")
        else:
            shutil.rmtree(bench_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
