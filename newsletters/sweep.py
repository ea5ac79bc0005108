"""The scheduler's sweep: make sure every unfinished delivery run has a worker coming."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from newsletters.delivery import claimable_ids, finish_if_done
from newsletters.models import IssueSend, SignupAttempt
from newsletters.tasks import deliver_issue


def sweep() -> list[int]:
    """Enqueue delivery for runs with rows due (lost tasks, retries, expired leases);
    close runs with nothing left. Returns the issues enqueued."""
    now = timezone.now()
    enqueued = []
    for issue_id in IssueSend.objects.filter(state=IssueSend.State.SENDING).values_list(
        "issue_id", flat=True
    ):
        if finish_if_done(issue_id):
            continue
        if claimable_ids(issue_id, now, 1, lock=False):
            deliver_issue.enqueue(issue_id)
            enqueued.append(issue_id)
    forget_old_signup_attempts(now)
    return enqueued


def forget_old_signup_attempts(now) -> None:
    cutoff = now - timedelta(seconds=settings.SIGNUP_RATE_WINDOW_SECONDS)
    SignupAttempt.objects.filter(created_at__lt=cutoff).delete()
