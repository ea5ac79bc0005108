"""The scheduler's sweep: make sure every unfinished delivery run has a worker coming."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from newsletters.delivery import claimable_ids, finish_if_done
from newsletters.models import CorrectionSend, IssueSend, Ledger, SignupAttempt
from newsletters.tasks import deliver_correction, deliver_issue


def sweep() -> list[int]:
    """Enqueue delivery for runs with rows due (lost tasks, retries, expired leases);
    close runs with nothing left. Returns the issues enqueued."""
    now = timezone.now()
    enqueued = []
    for issue_id in IssueSend.objects.filter(state=IssueSend.State.SENDING).values_list(
        "issue_id", flat=True
    ):
        if needs_a_worker(Ledger.of_issue(issue_id), now):
            deliver_issue.enqueue(issue_id)
            enqueued.append(issue_id)
    for send_id in CorrectionSend.objects.filter(state=CorrectionSend.State.SENDING).values_list(
        "pk", flat=True
    ):
        if needs_a_worker(Ledger.of_correction(send_id), now):
            deliver_correction.enqueue(send_id)
    forget_old_signup_attempts(now)
    return enqueued


def needs_a_worker(ledger: Ledger, now) -> bool:
    """Close the run if nothing is left; else whether a row is due."""
    if finish_if_done(ledger):
        return False
    return any(claimable_ids(ledger.rows, now, 1, lock=False))


def forget_old_signup_attempts(now) -> None:
    cutoff = now - timedelta(seconds=settings.SIGNUP_RATE_WINDOW_SECONDS)
    SignupAttempt.objects.filter(created_at__lt=cutoff).delete()
