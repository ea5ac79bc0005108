"""A delivery run that stops itself, and the editor who resumes it.

A run pauses when its hard-bounce or complaint rate passes DELIVERY_PAUSE_BOUNCE_RATE or
DELIVERY_PAUSE_COMPLAINT_RATE (once at least DELIVERY_PAUSE_MIN_SAMPLE messages went out: a
stale list or a misjudged audience, caught before it costs the sending domain its reputation),
or when the relay refuses our sender or the provider our account. Paused rows stay pending;
nothing is sent until an editor resumes the run, which then goes on where it stopped.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from newsletters.models import Delivery, FeedbackEvent, IssueSend

logger = logging.getLogger(__name__)

Status = Delivery.Status


def pause(issue_id: int, reason: str) -> bool:
    """Pause the issue's run if it is sending; True if this call paused it."""
    paused = IssueSend.objects.filter(issue_id=issue_id, state=IssueSend.State.SENDING).update(
        state=IssueSend.State.PAUSED, pause_reason=reason[:500]
    )
    if paused:
        logger.warning("Sending issue %s paused: %s", issue_id, reason)
    return bool(paused)


def is_paused(issue_id: int) -> bool:
    return IssueSend.objects.filter(issue_id=issue_id, state=IssueSend.State.PAUSED).exists()


def pause_if_over_thresholds(issue_id: int) -> bool:
    """Pause the run if too many of its messages (since it last resumed) bounced or drew
    complaints."""
    send = IssueSend.objects.filter(issue_id=issue_id, state=IssueSend.State.SENDING).first()
    if send is None:
        return False
    now, before = counts(issue_id), send.resumed_after
    attempted = now["attempted"] - before.get("attempted", 0)
    if attempted < settings.DELIVERY_PAUSE_MIN_SAMPLE:
        return False
    bounced = now["bounced"] - before.get("bounced", 0)
    complaints = now["complaints"] - before.get("complaints", 0)
    if bounced / attempted > settings.DELIVERY_PAUSE_BOUNCE_RATE:
        return pause(issue_id, too_many("bounced", bounced, attempted))
    if complaints / attempted > settings.DELIVERY_PAUSE_COMPLAINT_RATE:
        return pause(issue_id, too_many("were marked as spam", complaints, attempted))
    return False


def counts(issue_id: int) -> dict[str, int]:
    """Messages that went out (or bounced trying), bounced, and drew a complaint."""
    ledger = Delivery.objects.filter(issue_id=issue_id).aggregate(
        sent=Count("pk", filter=Q(status=Status.SENT)),
        bounced=Count("pk", filter=Q(status=Status.BOUNCED)),
    )
    complaints = FeedbackEvent.objects.filter(
        delivery__issue_id=issue_id, kind=FeedbackEvent.Kind.COMPLAINT
    ).count()
    return {
        "attempted": ledger["sent"] + ledger["bounced"],
        "bounced": ledger["bounced"],
        "complaints": complaints,
    }


def too_many(what: str, count: int, attempted: int) -> str:
    return (
        f"{count} of {attempted} messages {what} ({count / attempted:.1%}), more than this "
        "outlet allows: check the list (an old import?) before resuming."
    )


def resume(issue_id: int) -> bool:
    """Let a paused run go on; the caller starts the workers after the commit."""
    with transaction.atomic():
        resumed = IssueSend.objects.filter(issue_id=issue_id, state=IssueSend.State.PAUSED).update(
            state=IssueSend.State.SENDING, pause_reason="", resumed_after=counts(issue_id)
        )
        if resumed:
            # Rows given back while paused are due now.
            Delivery.objects.filter(issue_id=issue_id, status=Status.PENDING).update(
                next_attempt_at=timezone.now()
            )
    return bool(resumed)
