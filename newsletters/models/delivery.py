"""The delivery ledger: a row per (issue, subscriber), or per (correction, subscriber) for the
correction emails that follow an issue. The ledger, not the queue, is the truth.

None of these models is a page's content: Wagtail's reference index (the "Usage" of a page)
leaves them out, so that saving or deleting ledger rows costs no index work and an issue's
usage does not list its thousands of deliveries.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone


class IssueSend(models.Model):
    """The one delivery run of an issue, kept outside the page's revisions."""

    wagtail_reference_index_ignore = True

    class State(models.TextChoices):
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
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
    # Why the run paused itself (too many bounces or complaints, the provider refused our
    # account), for the editor who resumes it.
    pause_reason = models.CharField(max_length=500, blank=True)
    # The counts when an editor last resumed it: bounce and complaint rates are judged on
    # what was sent since.
    resumed_after = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"{self.issue} ({self.get_state_display()})"


class CorrectionSend(models.Model):
    """A correction email: one notice of an article, mailed to the readers one newsletter
    sent the article to. A delivery run of its own, as IssueSend is an issue's.

    Holds the notice as it was mailed: the article's notice may be edited or removed later.
    """

    wagtail_reference_index_ignore = True

    State = IssueSend.State

    notice = models.ForeignKey(
        "articles.ArticleNotice", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    article = models.ForeignKey(
        "articles.ArticlePage", on_delete=models.CASCADE, related_name="correction_sends"
    )
    newsletter = models.ForeignKey(
        "newsletters.NewsletterPage", on_delete=models.CASCADE, related_name="correction_sends"
    )
    kind = models.CharField(max_length=10)
    noticed_at = models.DateTimeField()
    text = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    recipients = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "newsletter"], name="one_correction_email_per_newsletter"
            )
        ]

    def __str__(self):
        return f"{self.kind.capitalize()} to {self.article} ({self.get_state_display()})"


class Delivery(models.Model):
    """One email of one issue, or of one correction, to one subscriber, and what became of it."""

    wagtail_reference_index_ignore = True

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"
        SKIPPED = "skipped", "Skipped"

    # What the email is: an issue, or a correction that follows one (then issue is empty).
    # Each is found through the unique constraint that starts with it (see Meta): an index of
    # its own would be one more entry for each of a million new rows.
    issue = models.ForeignKey(
        "newsletters.IssuePage",
        null=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    correction = models.ForeignKey(
        CorrectionSend,
        null=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
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
    # The id the email provider gave the message, which its webhooks name it by.
    provider_message_id = models.CharField(max_length=255, blank=True)
    # What the receiving side said later (provider webhooks, bounce reports).
    delivered_at = models.DateTimeField(null=True, blank=True)
    deferrals = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue"),
            models.UniqueConstraint(
                fields=["correction", "subscriber"],
                condition=Q(correction__isnull=False),
                name="one_delivery_per_correction",
            ),
            models.CheckConstraint(
                condition=Q(issue__isnull=False, correction__isnull=True)
                | Q(issue__isnull=True, correction__isnull=False),
                name="delivery_of_an_issue_or_a_correction",
            ),
        ]
        # The claim looks for an issue's due rows and its rows whose lease ran out: partial
        # indexes hold just those, and stay small however many rows were sent.
        indexes = [
            models.Index(
                fields=["issue", "id"], condition=models.Q(status="pending"), name="delivery_due"
            ),
            models.Index(
                fields=["issue", "claimed_until"],
                condition=models.Q(status="sending"),
                name="delivery_leased",
            ),
            models.Index(fields=["issue", "status"], name="delivery_issue_status"),
            models.Index(
                fields=["correction", "id"],
                condition=models.Q(status="pending", correction__isnull=False),
                name="correction_due",
            ),
            models.Index(
                fields=["correction", "claimed_until"],
                condition=models.Q(status="sending"),
                name="correction_leased",
            ),
            # Ids arrive once a message is sent; feedback looks them up (newsletters.feedback).
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="delivery_message_id"
            ),
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="delivery_provider_message_id",
            ),
        ]

    def __str__(self):
        return f"{self.issue or self.correction} → {self.subscriber}: {self.get_status_display()}"


class FeedbackEvent(models.Model):
    """Something the receiving side said about a delivered message, after the fact: a bounce,
    a complaint, a provider-side unsubscribe, a deferral, a delivery.

    One row per event, so that a replayed webhook or bounce report changes nothing twice. It
    names no address: an erase deletes it with the delivery.
    """

    wagtail_reference_index_ignore = True

    class Kind(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        DEFERRED = "deferred", "Deferred"
        SOFT_BOUNCE = "soft_bounce", "Soft bounce"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Complaint"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed at the provider"

    # Deleted with its delivery, but by whoever deletes deliveries in bulk (see
    # newsletters.signal_handlers), so that the ledger itself can go in one statement.
    delivery = models.ForeignKey(Delivery, on_delete=models.DO_NOTHING, related_name="feedback")
    source = models.CharField(max_length=40, help_text="The provider, or dsn/arf for reports.")
    event_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="one_row_per_event")
        ]
        indexes = [models.Index(fields=["kind", "occurred_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.source}) for delivery {self.delivery_id}"


class SendRateWindow(models.Model):
    """The send-rate schedule all workers share on the embedded default (Redis keeps it when
    they run on RQ): "pace" holds the next free slot for evenly spaced messages, "hour" the
    clock hour and how many were booked in it; see newsletters/throttle.py."""

    wagtail_reference_index_ignore = True

    name = models.CharField(max_length=20, unique=True)
    started_at = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)
    # Lowered by bursts of 421/451 from the server, restored as sending goes well again.
    factor = models.FloatField(default=1.0)
    slowed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name}: {self.used} from {self.started_at:%H:%M:%S}"


@dataclass(frozen=True)
class Ledger:
    """One delivery run's ledger rows and its own row (an IssueSend or a CorrectionSend):
    what the delivery machinery claims, sends and closes, whichever kind of email it is."""

    rows: QuerySet
    run: QuerySet
    issue_id: int | None = None  # an issue's run; None for a correction's

    @classmethod
    def of_issue(cls, issue_id: int) -> "Ledger":
        return cls(
            Delivery.objects.filter(issue_id=issue_id),
            IssueSend.objects.filter(issue_id=issue_id),
            issue_id,
        )

    @classmethod
    def of_correction(cls, send_id: int) -> "Ledger":
        return cls(
            Delivery.objects.filter(correction_id=send_id),
            CorrectionSend.objects.filter(pk=send_id),
        )

    def is_paused(self) -> bool:
        return self.run.filter(state=IssueSend.State.PAUSED).exists()


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
    """How far an issue's delivery has got, as editors see it: counts straight from the ledger
    (pending includes rows being sent right now)."""
    Status = Delivery.Status
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
