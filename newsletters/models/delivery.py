"""The delivery ledger: a row per (issue, subscriber). The ledger, not the queue, is the truth."""

from django.db import models
from django.utils import timezone


class IssueSend(models.Model):
    """The one delivery run of an issue, kept outside the page's revisions."""

    class State(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        MISSED = "missed", "Missed its schedule: not sent"

    issue = models.OneToOneField(
        "newsletters.IssuePage", on_delete=models.CASCADE, related_name="send"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    recipients = models.PositiveIntegerField(default=0)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.issue} ({self.get_state_display()})"


class Delivery(models.Model):
    """One email of one issue to one subscriber, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        SKIPPED = "skipped", "Skipped"

    issue = models.ForeignKey(
        "newsletters.IssuePage", on_delete=models.CASCADE, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        "newsletters.Subscriber", on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when a worker died while this message was in flight: it was sent again, and the
    # subscriber may have received it twice. The admin counts these.
    uncertain = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue")
        ]
        indexes = [
            models.Index(fields=["issue", "status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_until"]),
        ]

    def __str__(self):
        return f"{self.issue} → {self.subscriber}: {self.get_status_display()}"
