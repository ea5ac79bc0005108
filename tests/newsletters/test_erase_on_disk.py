"""An erased subscriber leaves no copy of their address in the embedded database's files.

Run against a SQLite database of its own, set up as `make demo` sets one up (the development
settings over the base settings' SQLite options), whatever database the suite itself uses:
the promise is about the embedded default's files.
"""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from outlet.settings.base import BASE_DIR

ADDRESS = "erase.me.completely@example.org"
NAME = "Zebedee Quillfeather"

# The subscriber among others, so that the pages holding them stay in use after the erase.
SUBSCRIBE = f"""
from wagtail.log_actions import log
from newsletters.models import Subscriber
for number in range(40):
    other = Subscriber.objects.create(email=f"reader{{number}}@example.org", name="Someone")
    log(other, "wagtail.create")
    if number == 20:
        subscriber = Subscriber.objects.create(email="{ADDRESS}", name="{NAME}")
        log(subscriber, "wagtail.create")
        log(subscriber, "wagtail.edit")
"""

# Erased from a process that stays up afterwards with its connection open, as a web server
# does: its write-ahead log is not folded back and removed by a process exiting.
ERASE = f"""
import sys
from newsletters.gdpr import erase_subscriber
from newsletters.models import Subscriber
erase_subscriber(Subscriber.objects.get(email="{ADDRESS}"))
print("erased", flush=True)
sys.stdin.read()
"""


def environment(database: Path) -> dict:
    variables = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outlet.settings.dev",
        "DATABASE_URL": f"sqlite:///{database}",
        "CACHE_DIR": str(database.parent / "cache"),
    }
    variables.pop("REDIS_URL", None)
    return variables


def manage(database: Path, *arguments: str) -> None:
    subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=environment(database),
        check=True,
        capture_output=True,
        timeout=300,
    )


def on_disk(database: Path) -> bytes:
    """The database file and its write-ahead log, as raw bytes."""
    files = [database, database.with_name(database.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_an_erased_address_is_nowhere_in_the_database_files(tmp_path):
    database = tmp_path / "outlet.sqlite3"
    manage(database, "migrate", "--no-input")
    manage(database, "shell", "-c", SUBSCRIBE)
    assert ADDRESS.encode() in on_disk(database)  # the check sees the address while it is held

    with subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "shell", "-c", ERASE],
        cwd=BASE_DIR,
        env=environment(database),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as web_server:
        try:
            for line in web_server.stdout:  # the shell may say other things first
                if line.strip() == "erased":
                    break
            raw = on_disk(database)
        finally:
            web_server.communicate("", timeout=60)

    assert web_server.returncode == 0
    assert ADDRESS.encode() not in raw
    assert NAME.encode() not in raw
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT count(*) FROM newsletters_subscriber").fetchone() == (40,)
