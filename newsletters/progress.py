"""How far an issue's delivery has got, as editors see it."""

from dataclasses import dataclass

from django.db.models import Count, Q

from newsletters.models import Delivery, IssueSend

Status = Delivery.Status


@dataclass(frozen=True)
class DeliveryProgress:
    recipients: int
    pending: int
    sent: int
    failed: int
    bounced: int
    skipped: int
    uncertain: int
    state: str | None
    state_label: str
    pause_reason: str = ""  # why the run is paused, or waiting (see newsletters.pausing)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.bounced + self.skipped

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.recipients) if self.recipients else 100


def progress_of(issue) -> DeliveryProgress:
    """Counts straight from the ledger; pending includes rows being sent right now."""
    send = IssueSend.objects.filter(issue=issue).first()
    counts = Delivery.objects.filter(issue=issue).aggregate(
        recipients=Count("pk"),
        pending=Count("pk", filter=Q(status__in=[Status.PENDING, Status.SENDING])),
        sent=Count("pk", filter=Q(status=Status.SENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        bounced=Count("pk", filter=Q(status=Status.BOUNCED)),
        skipped=Count("pk", filter=Q(status=Status.SKIPPED)),
        uncertain=Count("pk", filter=Q(uncertain=True)),
    )
    return DeliveryProgress(
        **counts,
        state=send.state if send else None,
        state_label=send.get_state_display() if send else "Not sent",
        pause_reason=send.pause_reason if send else "",
    )
