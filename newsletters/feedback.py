"""What the receiving side says later about a message, applied to the ledger once.

Providers accept a message with a 200 and report minutes later (tracking webhooks); SMTP
relays accept with a 250 and mail back bounce and complaint reports. Both end here:

- a hard bounce: the delivery bounced, and the address is suppressed;
- a soft bounce: counted; BOUNCE_SOFT_LIMIT of them within BOUNCE_SOFT_DAYS suppress it;
- a complaint: unsubscribed from every newsletter, and suppressed;
- an unsubscribe at the provider: unsubscribed from that newsletter;
- a deferral: counted on the delivery; a delivery: recorded.

Each event is recorded once (by its source and id), so a replayed webhook or report changes
nothing twice, and events arriving out of order never undo a stronger one (a late "delivered"
does not un-bounce a delivery).
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from newsletters import pausing, subscribing
from newsletters.models import Delivery, FeedbackEvent, Suppression
from newsletters.suppression import suppress

logger = logging.getLogger(__name__)

Kind = FeedbackEvent.Kind
Status = Delivery.Status


@dataclass(frozen=True)
class Feedback:
    source: str  # the provider's name, or "dsn" / "arf"
    event_id: str
    kind: Kind
    occurred_at: datetime
    detail: str = ""


def find_delivery(
    *, delivery_id: int | None = None, provider_id: str = "", message_id: str = ""
) -> Delivery | None:
    """The delivery an event is about: by our Return-Path, the provider's id or Message-ID."""
    deliveries = Delivery.objects.select_related("subscriber")
    if delivery_id:
        return deliveries.filter(pk=delivery_id).first()
    # Each id is looked for where the index of ids holds it (rows with an id: see Delivery).
    if provider_id:
        return (
            deliveries.exclude(provider_message_id="")
            .filter(provider_message_id=provider_id)
            .first()
        )
    if message_id:
        return deliveries.exclude(message_id="").filter(message_id=message_id).first()
    return None


def apply(feedback: Feedback, delivery: Delivery) -> bool:
    """Apply one event to its delivery; False if it was applied before."""
    try:
        with transaction.atomic():
            FeedbackEvent.objects.create(
                delivery=delivery,
                source=feedback.source[:40],
                event_id=feedback.event_id[:128],
                kind=feedback.kind,
                occurred_at=feedback.occurred_at,
                detail=without_address(feedback.detail, delivery.subscriber.email),
            )
            HANDLERS[feedback.kind](delivery, feedback)
    except IntegrityError:
        return False  # the same event again: a replay
    if delivery.issue_id and feedback.kind in (Kind.HARD_BOUNCE, Kind.COMPLAINT, Kind.SOFT_BOUNCE):
        pausing.pause_if_over_thresholds(delivery.issue_id)
    return True


def without_address(detail: str, address: str) -> str:
    """Diagnostics often quote the address; the ledger keeps them without it."""
    return re.sub(re.escape(address), "<recipient>", detail or "", flags=re.IGNORECASE)[:500]


def _hard_bounce(delivery: Delivery, feedback: Feedback) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENT).update(
        status=Status.BOUNCED, last_error=f"bounced later: {feedback.kind}"
    )
    suppress(delivery.subscriber, Suppression.Reason.BOUNCED)


def _soft_bounce(delivery: Delivery, feedback: Feedback) -> None:
    since = timezone.now() - timedelta(days=settings.BOUNCE_SOFT_DAYS)
    recent = FeedbackEvent.objects.filter(
        kind=Kind.SOFT_BOUNCE, delivery__subscriber=delivery.subscriber, occurred_at__gte=since
    ).count()
    if recent >= settings.BOUNCE_SOFT_LIMIT:
        suppress(delivery.subscriber, Suppression.Reason.BOUNCED)


def _complaint(delivery: Delivery, feedback: Feedback) -> None:
    suppress(delivery.subscriber, Suppression.Reason.COMPLAINED)


def _unsubscribe(delivery: Delivery, feedback: Feedback) -> None:
    if delivery.correction is not None:
        newsletter_id = delivery.correction.newsletter_id
    elif delivery.issue is not None:
        newsletter_id = delivery.issue.get_parent().pk
    else:
        return  # never: a check constraint gives every row an issue or a correction
    subscribing.unsubscribe(delivery.subscriber, [newsletter_id])


def _deferred(delivery: Delivery, feedback: Feedback) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(deferrals=F("deferrals") + 1)


def _delivered(delivery: Delivery, feedback: Feedback) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENT, delivered_at=None).update(
        delivered_at=feedback.occurred_at
    )


HANDLERS = {
    Kind.HARD_BOUNCE: _hard_bounce,
    Kind.SOFT_BOUNCE: _soft_bounce,
    Kind.COMPLAINT: _complaint,
    Kind.UNSUBSCRIBE: _unsubscribe,
    Kind.DEFERRED: _deferred,
    Kind.DELIVERED: _delivered,
}
