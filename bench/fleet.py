"""What bench/workers.py and bench/soak.py share: worker processes (db_worker or rqworker)
that the bench starts and kills by their own process group, the Redis database they queue
on, and the Django-side phases of bench/fleet_worker.py."""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from runs import ROOT, kill_tree, production_environment, run

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
# A Redis database of the bench's own (and the next one for the page cache): flushed at the
# start and at the end of a run, and nothing else touched.
DEFAULT_REDIS_DB = 9

RQWORKER = ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]  # as the README says
READY_LINE = {"database": "Starting worker", "rq": "Listening on"}


def log(prefix: str, message: str) -> None:
    print(f"[{prefix} {time.strftime('%H:%M:%S')}] {message}", flush=True)


class RedisDatabase:
    """One numbered Redis database (and the next, for the page cache), emptied before and
    after; without a server, an error when the bench needs it."""

    def __init__(self, base_url: str, number: int):
        import redis

        self.url = f"{base_url.rstrip('/')}/{number}"
        self.page_cache_db = number + 1
        self.clients = [
            redis.Redis.from_url(f"{base_url.rstrip('/')}/{n}", socket_timeout=5)
            for n in (number, number + 1)
        ]
        for client in self.clients:
            client.ping()
            client.flushdb()

    def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.flushdb()
                client.close()


def worker_environment(folder: Path, kind: str, database_url: str, sink, backend: str,
                       redis: RedisDatabase | None = None, **settings) -> dict:  # fmt: skip
    """Production settings for a worker or a phase: the run's database, the sink, the task
    backend (and its Redis database), and any DELIVERY_* settings given."""
    env = production_environment(
        DJANGO_SETTINGS_MODULE="outlet.settings.production",
        MEDIA_ROOT=str(folder / f"media-{kind}"),
        CACHE_DIR=str(folder / f"cache-{kind}"),
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}" if sink else "dummy://",
        DATABASE_URL=database_url,
        TASKS_BACKEND=backend,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if backend == "rq":
        assert redis is not None
        env.update(REDIS_URL=redis.url, REDIS_PAGE_CACHE_DB=str(redis.page_cache_db))
    env.update({key: str(value) for key, value in settings.items()})
    return env


def prepare(folder: Path, kind: str, url: str, recipients: int) -> dict:
    """migrate, load_demo_content and --recipients subscribers (fleet_worker populate). The
    demo's background tasks (search index, references) run inline, so that the workers' queue
    holds nothing but the deliveries the bench enqueues."""
    env = worker_environment(folder, kind, url, None, "immediate")
    manage = [sys.executable, ROOT / "manage.py"]
    run([*manage, "migrate", "--noinput"], env, timeout=300)
    run([*manage, "load_demo_content"], env, timeout=300)
    return phase(folder, env, "populate", "--recipients", recipients)


def phase(folder: Path, env: dict, name: str, *options, timeout: float = 300) -> dict:
    """One phase of bench/fleet_worker.py in a fresh process; its JSON result."""
    out = folder / f"{name}-{time.monotonic_ns()}.json"
    command = [sys.executable, "-m", "bench.fleet_worker", name, out, *options]
    run(command, env, timeout=timeout)
    return json.loads(out.read_text())


class Workers:
    """Worker processes of one task backend, each in a process group of its own (RQ forks a
    work horse per job), killed by that group's id: never anything this bench did not start."""

    def __init__(self, folder: Path, env: dict, backend: str, label: str = "worker"):
        self.folder = folder
        self.label = label
        self.env = env
        self.backend = backend
        self.running: list[subprocess.Popen] = []
        self.started = 0

    def start(self) -> subprocess.Popen:
        self.started += 1
        name = f"{self.label}-{self.started}-{os.getpid()}"
        if self.backend == "rq":
            args = [*RQWORKER, "--name", name]
        else:
            args = ["db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload",
                    "--worker-id", name.replace("-", "").replace("_", "")[-30:]]  # fmt: skip
        log_path = self.folder / f"worker-{name}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), *args],
                cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        process.log_path = log_path
        self.running.append(process)
        return process

    def wait_ready(self, processes: list[subprocess.Popen], timeout: float = 90) -> None:
        """Until each has said it is waiting for tasks."""
        deadline = time.monotonic() + timeout
        for process in processes:
            while READY_LINE[self.backend] not in process.log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker not ready: {self.output(process)}")
                time.sleep(0.1)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and every process it started (see runs.kill_tree)."""
        kill_tree(process)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.kill(process)

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        return process.log_path.read_text(errors="replace")[-3000:]

    def tracebacks(self) -> list[str]:
        """Worker logs (all of them, also of workers already killed) that show a traceback."""
        return [
            path.name
            for path in self.folder.glob(f"worker-{self.label}-*.log")
            if "Traceback" in path.read_text(errors="replace")
        ]


def sink_progress(sink) -> dict:
    """The sink's live counts (bench/smtp_sink.py --progress), or zeros before the first."""
    path = sink.ready.with_name(sink.ready.name.replace("-ready", "-progress"))
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text())
    return {"messages": 0}


def progress_option(folder: Path, name: str) -> list[str]:
    return ["--progress", str(folder / f"{name}-progress.json")]
