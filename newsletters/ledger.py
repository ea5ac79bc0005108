"""Open an issue's delivery run when it first goes live: one ledger row per recipient."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletters.models import Delivery, IssueSend, Subscription

logger = logging.getLogger(__name__)

LEDGER_CHUNK = 5000


def audience(newsletter_id: int):
    """Confirmed, mailable subscribers of a newsletter at this moment, streamed by id."""
    return (
        Subscription.objects.mailable(newsletter_id)
        .order_by("subscriber_id")
        .values_list("subscriber_id", flat=True)
        .iterator(chunk_size=LEDGER_CHUNK)
    )


def open_send(issue, scheduled_for=None) -> IssueSend | None:
    """Create the issue's one delivery run and its ledger; None if it already has one.

    A schedule missed by more than DELIVERY_MAX_LATENESS (the scheduler was down) is not sent
    silently late: the run is recorded as missed, for an editor to decide.
    """
    now = timezone.now()
    late = scheduled_for and now - scheduled_for > timedelta(
        seconds=settings.DELIVERY_MAX_LATENESS_SECONDS
    )
    try:
        with transaction.atomic():
            send = IssueSend.objects.create(
                issue=issue,
                scheduled_for=scheduled_for,
                state=IssueSend.State.MISSED if late else IssueSend.State.SENDING,
            )
            if not late:
                send.recipients = create_ledger(issue.pk, issue.get_parent().pk)
                send.save(update_fields=["recipients"])
    except IntegrityError:
        return None  # another publish of the same issue got there first
    if late:
        logger.warning("Issue %s missed its schedule (%s); not sent", issue.pk, scheduled_for)
    return send


def create_ledger(issue_id: int, newsletter_id: int) -> int:
    """Insert a pending row per recipient, in chunks, without holding them all in memory."""
    total = 0
    chunk = []
    for subscriber_id in audience(newsletter_id):
        chunk.append(Delivery(issue_id=issue_id, subscriber_id=subscriber_id))
        if len(chunk) == LEDGER_CHUNK:
            total += len(Delivery.objects.bulk_create(chunk))
            chunk = []
    if chunk:
        total += len(Delivery.objects.bulk_create(chunk))
    return total
