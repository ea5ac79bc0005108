"""Readers who subscribe: their consent, their subscriptions, and addresses never to mail."""

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.utils import timezone


def normalize_email(address: str) -> str:
    """The one spelling an address is stored and compared under."""
    return address.strip().lower()


def email_hash(address: str) -> str:
    """A keyed hash of an address: lets us recognise it again without keeping it."""
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, normalize_email(address).encode(), hashlib.sha256).hexdigest()


class Subscriber(models.Model):
    """One email address and its consent record."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(
        max_length=255, blank=True, help_text="Where consent was given: a page URL or 'import'."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped to revoke every link already sent to this address.
    token_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        if (
            self.pk
            and self.email
            != type(self).objects.filter(pk=self.pk).values_list("email", flat=True).first()
        ):
            # Links already mailed to the old address must not manage the new one.
            self.token_version += 1
        super().save(*args, **kwargs)


class SubscriptionQuerySet(models.QuerySet):
    def mailable(self, newsletter_id: int):
        """Confirmed subscriptions of a newsletter whose subscriber may be mailed right now."""
        return self.filter(
            newsletter_id=newsletter_id,
            status=Subscription.Status.ACTIVE,
            subscriber__status=Subscriber.Status.ACTIVE,
        )


class Subscription(models.Model):
    """A subscriber's membership of one newsletter."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    newsletter = models.ForeignKey(
        "newsletters.NewsletterPage", on_delete=models.CASCADE, related_name="subscriptions"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "newsletter"], name="one_subscription_per_newsletter"
            )
        ]
        indexes = [models.Index(fields=["newsletter", "status"])]

    def __str__(self):
        return f"{self.subscriber} → {self.newsletter}"


class Suppression(models.Model):
    """An address that must never be mailed or re-imported, kept only as a keyed hash."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed from everything"
        BOUNCED = "bounced", "Bounced permanently"
        COMPLAINED = "complained", "Marked as spam"
        ERASED = "erased", "Erased on request"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.get_reason_display()} ({self.email_hash[:12]}…)"

    @classmethod
    def add(cls, address: str, reason: str) -> None:
        cls.objects.get_or_create(email_hash=email_hash(address), defaults={"reason": reason})

    @classmethod
    def covers(cls, address: str) -> bool:
        return cls.objects.filter(email_hash=email_hash(address)).exists()


class SignupAttempt(models.Model):
    """A use of the public subscribe form, by keyed hash of the IP: the per-IP rate limit."""

    ip_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip_hash", "created_at"])]

    def __str__(self):
        return f"{self.ip_hash[:12]}… at {self.created_at:%Y-%m-%d %H:%M}"
