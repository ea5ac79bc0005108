"""Providers' tracking webhooks, through django-anymail's normalised `tracking` signal.

Anymail receives each provider's webhook at /email/<provider>/tracking/, checks its secret
(ANYMAIL_WEBHOOK_SECRET, and the provider's own signature where it has one) and sends one
`tracking` signal per event. Here each event becomes Feedback for the delivery that the
provider's message id names. Anymail calls a soft bounce a bounce for some providers; the
provider's own event says which it was.
"""

import hashlib
import logging

from anymail.signals import EventType, RejectReason, tracking
from django.dispatch import receiver
from django.utils import timezone

from newsletters.feedback import Feedback, apply, find_delivery
from newsletters.models import FeedbackEvent

logger = logging.getLogger(__name__)

Kind = FeedbackEvent.Kind

KINDS = {
    EventType.DELIVERED: Kind.DELIVERED,
    EventType.DEFERRED: Kind.DEFERRED,
    EventType.COMPLAINED: Kind.COMPLAINT,
    EventType.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
}
# The provider refused to send, because of what it knows of the address.
REJECTIONS = {
    RejectReason.INVALID: Kind.HARD_BOUNCE,
    RejectReason.BOUNCED: Kind.HARD_BOUNCE,
    RejectReason.TIMED_OUT: Kind.SOFT_BOUNCE,
    RejectReason.SPAM: Kind.COMPLAINT,
    RejectReason.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
}


def kind_of(event, esp_name: str) -> Kind | None:
    """The Feedback kind of an anymail tracking event; None for what we do not act on."""
    if event.event_type == EventType.BOUNCED:
        return Kind.SOFT_BOUNCE if is_soft(event, esp_name) else Kind.HARD_BOUNCE
    if event.event_type == EventType.REJECTED:
        return REJECTIONS.get(event.reject_reason)
    return KINDS.get(event.event_type)


def is_soft(event, esp_name: str) -> bool:
    """Whether a bounce was temporary, as the provider's raw event says."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if esp_name == "Amazon SES":
        return raw.get("bounce", {}).get("bounceType") != "Permanent"
    if esp_name == "Postmark":
        return raw.get("Type") in ("SoftBounce", "Transient", "DnsError")
    return False


@receiver(tracking)
def provider_event(sender, event, esp_name, **kwargs):
    kind = kind_of(event, esp_name)
    if kind is None:
        return
    delivery = find_delivery(provider_id=event.message_id or "")
    if delivery is None:
        # Not ours (another system on the same account), or a row erased since.
        logger.warning(
            "%s %s event for unknown message %r", esp_name, event.event_type, event.message_id
        )
        return
    recipient = hashlib.sha256((event.recipient or "").lower().encode()).hexdigest()[:12]
    apply(
        Feedback(
            source=esp_name.lower().replace(" ", "_"),
            event_id=f"{event.event_id or event_key(event)}:{recipient}",
            kind=kind,
            occurred_at=event.timestamp or timezone.now(),
            detail=event.mta_response or event.description or "",
        ),
        delivery,
    )


def event_key(event) -> str:
    """An id for an event whose provider gives none: the same event hashes the same."""
    parts = [event.event_type, event.message_id, str(event.timestamp), event.description]
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
