"""Worker processes (db_worker, rqworker, run_scheduler) pointed at the test database and an
SMTP sink, and this process playing the scheduler until an issue is sent."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings

from bench.runs import kill_tree
from newsletters.models import IssueSend
from newsletters.sweep import sweep
from tests.newsletters.sending import send_state, unfinished
from tests.newsletters.smtp_sink import SmtpSink

BASE_DIR = Path(settings.BASE_DIR)
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def database_url() -> str:
    """The test database, as a URL a worker process can open."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        assert str(db["NAME"]) != ":memory:" and "mode=memory" not in str(db["NAME"])
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def worker_env(sink: SmtpSink | None, **extra) -> dict[str, str]:
    """The environment of a worker process: the test database, the sink, short leases."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outlet.settings.test",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "DELIVERY_LEASE_SECONDS": "2",
        "DELIVERY_RETRY_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    if sink is not None:
        env["EMAIL_URL"] = sink.url
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Processes:
    """Processes a test starts; each is killed (by its own id) when the test ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, env: dict, *args: str, name: str = "worker") -> subprocess.Popen:
        log = open(self.log_dir / f"{name}-{len(self.started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(BASE_DIR / "manage.py"), *args],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )
        log.close()
        process.log_path = log.name
        self.started.append(process)
        return process

    def db_worker(self, env: dict, *extra: str) -> subprocess.Popen:
        return self.start(
            env, "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload", *extra
        )

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL to the worker and every process it started (see bench.runs.kill_tree)."""
        kill_tree(process)

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        return Path(process.log_path).read_text(errors="replace")[-4000:]

    def outputs(self) -> str:
        return "\n".join(
            f"--- {p.args[2:]} (rc {p.returncode}):\n{self.output(p)}" for p in self.started
        )

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


def finish_with_sweeps(issue, processes, timeout: float = 240, tasks=DATABASE_TASKS) -> None:
    """Act as the scheduler until the issue is sent: sweep every half second. The deadline
    only stops a send that is stuck, so it is generous: a loaded machine sends slowly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not unfinished(issue) and send_state(issue) == IssueSend.State.SENT:
            return
        with override_settings(TASKS=tasks):
            sweep()
        time.sleep(0.5)
    raise AssertionError(
        f"not finished after {timeout}s: {unfinished(issue)} rows left, "
        f"state {send_state(issue)}\n{processes.outputs()}"
    )
