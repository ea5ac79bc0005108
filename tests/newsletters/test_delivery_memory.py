"""Memory stays flat from 1,000 to 100,000 recipients (reliability.md, "Sending", 9).

The audience is streamed into the ledger and the ledger is claimed a batch at a time, so the
peak memory of creating a ledger, or of claiming, rendering and sending from it, must not grow
with the number of recipients. Under CI the large audience is 100,000; elsewhere 20,000, to
keep the test quick. The ledger's chunk is made smaller than the small audience, so that both
sizes measure streaming rather than the chunk's size.

- Creating the ledger: in a fresh worker process for each size, so that no memory freed
  earlier can hide a rise, the resident high-water mark (VmHWM, reset through
  /proc/self/clear_refs after a warm-up) above the resident memory before the call.
  tracemalloc would be exact, but slows 100,000 inserts down tenfold.
- Claiming, rendering and sending a fixed number of batches from a small and a large ledger:
  the peak of Python allocations (tracemalloc), in this process. Sending goes to an email
  backend that builds each message's bytes and drops them: SMTP to a real server is covered
  by the other delivery tests, and 100,000 messages over it would take minutes.
"""

import gc
import json
import os
import subprocess
import sys
import tracemalloc

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings

from newsletters import delivery, ledger
from newsletters.models import Delivery, IssueSend
from tests.newsletters.sending import add_subscribers, make_article, make_issue, make_newsletter
from tests.newsletters.workers import BASE_DIR, DUMMY_TASKS, worker_env

SMALL = 1_000
LARGE = 100_000 if os.environ.get("CI") == "true" else 20_000
BATCHES = 6  # claimed, rendered and sent from each ledger, of 50 each
MAX_RATIO = 1.5
# Resident memory moves by whole pages and allocator arenas, whatever the code does; a
# ledger held in memory would take about a kilobyte per row (20 MB for 20,000).
RSS_NOISE = 4 * 2**20


class DiscardingBackend(BaseEmailBackend):
    """Serialises each message as SMTP would, and keeps nothing."""

    def send_messages(self, email_messages):
        for message in email_messages:
            message.message().as_bytes(linesep="\r\n")
        return len(email_messages)


def traced_peak(function) -> int:
    """Peak Python memory allocated while `function` runs, above what was there before."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


MEASURE_LEDGER = """
import gc, json, sys
from pathlib import Path
from newsletters import ledger
from newsletters.models import Delivery

def resident(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

warm_issue, warm_newsletter, issue, newsletter = map(int, sys.argv[1:])
ledger.create_ledger(warm_issue, warm_newsletter)  # load and fill everything once
Delivery.objects.filter(issue_id=warm_issue).delete()
gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
before = resident("VmRSS")
rows = ledger.create_ledger(issue, newsletter)
print(json.dumps({"rows": rows, "peak": resident("VmHWM") - before}))
"""


def ledger_peak(warm, measured) -> int:
    """Create `measured`'s ledger in a fresh process: how far its resident memory rose."""
    (warm_issue, warm_newsletter), (issue, newsletter) = warm, measured
    script = BASE_DIR / "var" / f"measure-ledger-{os.getpid()}.py"
    script.write_text(MEASURE_LEDGER)
    try:
        done = subprocess.run(  # noqa: S603
            [sys.executable, str(BASE_DIR / "manage.py"), "shell", "-c",
             f"import sys; sys.argv = ['x', '{warm_issue.pk}', '{warm_newsletter.pk}', "
             f"'{issue.pk}', '{newsletter.pk}']; exec(open({str(script)!r}).read())"],
            cwd=BASE_DIR, env=worker_env(None), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == Delivery.objects.filter(issue=issue).count()
    return result["peak"]


def deliver_some(issue_id: int, monkeypatch) -> None:
    """deliver(), stopped after BATCHES batches (as if the ledger were empty then)."""
    claimed = []

    def claim_batch(issue_id, size):
        if len(claimed) == BATCHES:
            return "", []
        token, rows = real_claim_batch(issue_id, size)
        if rows:
            claimed.append(len(rows))
        return token, rows

    real_claim_batch = delivery.claim_batch
    with monkeypatch.context() as patch:
        patch.setattr(delivery, "claim_batch", claim_batch)
        delivery.deliver(issue_id)
    assert len(claimed) == min(
        BATCHES, -(-Delivery.objects.filter(issue_id=issue_id).count() // 50)
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(
    EMAIL_BACKEND=f"{__name__}.DiscardingBackend", TASKS=DUMMY_TASKS, DELIVERY_BATCH_SIZE=50
)
def test_memory_stays_flat_from_a_thousand_recipients_to_a_hundred_thousand(monkeypatch):
    article = make_article()
    issues = {}
    for size in (10, SMALL, LARGE):  # 10: a warm-up, so that caches fill before measuring
        newsletter = make_newsletter()
        add_subscribers(newsletter, size, prefix=f"n{size}")
        issue = make_issue(newsletter, article)
        IssueSend.objects.create(issue=issue)
        issues[size] = (issue, newsletter)

    ledger_peaks = {size: ledger_peak(issues[10], issues[size]) for size in (SMALL, LARGE)}
    ledger.create_ledger(*(page.pk for page in issues[10]))

    deliver_peaks = {}
    for size, (issue, _) in issues.items():
        deliver_peaks[size] = traced_peak(lambda issue=issue: deliver_some(issue.pk, monkeypatch))
    sent = Delivery.objects.filter(issue=issues[LARGE][0], status=Delivery.Status.SENT).count()
    assert sent == BATCHES * 50

    report = (
        f"ledger: resident peaks {ledger_peaks}; deliver: traced peaks {deliver_peaks} "
        f"(bytes), for {SMALL:,} and {LARGE:,} recipients"
    )
    print(report)
    assert ledger_peaks[LARGE] < MAX_RATIO * ledger_peaks[SMALL] + RSS_NOISE, report
    assert deliver_peaks[LARGE] < MAX_RATIO * deliver_peaks[SMALL], report
