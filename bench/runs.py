"""What every benchmark script does around its measurements: run commands, record the run."""

import contextlib
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def run(args: list, env: dict, timeout: float = 120) -> str:
    """Run a command in the project folder; its output, or an error with its last lines."""
    result = subprocess.run(
        [str(a) for a in args], cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise RuntimeError(f"failed ({result.returncode}): {' '.join(map(str, args))}")
    return result.stdout


def production_environment(**overrides: str) -> dict:
    """The environment outlet.settings.production refuses to start without, for a run on
    127.0.0.1: fresh keys each run, nothing of the caller's database, cache or email."""
    keep = ("DJANGO_", "REDIS_URL", "DATABASE_URL", "EMAIL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(keep)}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        SUPPRESSION_HASH_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        WAGTAILADMIN_BASE_URL="http://127.0.0.1",
        DEFAULT_FROM_EMAIL="bench@outlet.test",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def code_state() -> dict:
    """Which code was measured: the commit, and the files changed since (figures move with them)."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted": changed}


def machine(load_before) -> dict:
    """The machine and how busy it was: figures on a shared machine mean little without it."""
    return {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM unwind through the script's finally blocks, which stop what it started."""
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)


def save(record: dict, name: str, latest: str) -> Path:
    """Write the run to bench/results/<name>.json and to <latest> (both gitignored)."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(record, indent=2, default=str))
    (RESULTS / latest).write_text(out.read_text())
    return out


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL to a worker and to every process it started: no chance to finish anything.
    The worker is stopped first, so that it starts nothing more meanwhile; each process is
    killed by itself, since RQ's work horse (which runs the task) leads a process group of
    its own."""
    if process.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            worker = psutil.Process(process.pid)
            worker.suspend()
            for each in [worker, *worker.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    each.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
