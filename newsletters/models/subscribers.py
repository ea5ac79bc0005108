"""Readers who subscribe: their consent, their subscriptions, and addresses never to mail.

Wagtail's reference index leaves these models out: they are nobody's content.
"""

import hashlib
import hmac
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from newsletters.addresses import display_form, stored_form


def normalize_email(address: str) -> str:
    """The one spelling an address is stored, compared and hashed under (see addresses)."""
    return stored_form(address)


def email_hash(address: str) -> str:
    """A keyed hash of an address: lets us recognise it again without keeping it."""
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, normalize_email(address).encode(), hashlib.sha256).hexdigest()


class Subscriber(models.Model):
    """One mailbox and its consent record."""

    wagtail_reference_index_ignore = True

    # Whether the mailbox takes our email at all; whether its owner wants a newsletter is each
    # subscription's status. "Deliverable", not "Active": an address awaiting confirmation is
    # deliverable and still gets no newsletter.
    class Status(models.TextChoices):
        ACTIVE = "active", "Deliverable"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    email = models.EmailField(max_length=254, unique=True)
    # The suppression hash of `email`, so that the audience of an issue can leave out
    # suppressed addresses in the database, in one query.
    email_hash = models.CharField(max_length=64, editable=False, db_index=True)
    name = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        "address", max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
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
        return display_form(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        self.email_hash = email_hash(self.email)
        if (
            self.pk
            and self.email
            != type(self).objects.filter(pk=self.pk).values_list("email", flat=True).first()
        ):
            # Links already mailed to the old address must not manage the new one.
            self.token_version += 1
            SubscriberMerge.objects.filter(into=self).delete()
        if kwargs.get("update_fields") is not None and "email" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "email_hash", "token_version"}
        super().save(*args, **kwargs)


class SubscriberMerge(models.Model):
    """A subscriber folded into another because both were spellings of one mailbox.

    Keeps the links already mailed to the merged row (which name its id) working.
    """

    wagtail_reference_index_ignore = True

    merged_id = models.BigIntegerField(unique=True)
    merged_token_version = models.PositiveIntegerField()
    into = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="merged_from")

    def __str__(self):
        return f"#{self.merged_id} → #{self.into_id}"


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def mailable(self, newsletter_id: int) -> Self:
        """Confirmed subscriptions of a newsletter whose subscriber may be mailed right now."""
        return self.filter(
            newsletter_id=newsletter_id,
            status=Subscription.Status.ACTIVE,
            subscriber__status=Subscriber.Status.ACTIVE,
        ).exclude(
            subscriber__email_hash__in=Suppression.objects.filter(
                reason__in=Suppression.BLOCKS_BULK
            ).values("email_hash")
        )


class Subscription(models.Model):
    """A subscriber's membership of one newsletter."""

    wagtail_reference_index_ignore = True

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting confirmation"
        ACTIVE = "active", "Confirmed"
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
    # When the newsletter's welcome letter went to them: once, however often they confirm.
    welcomed_at = models.DateTimeField(null=True, blank=True, editable=False)

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
    """An address we must not mail, kept only as a keyed hash, and why.

    The one rule every path that can lead to an email consults (see `newsletters.suppression`):
    - bounced or complained: no email of any kind, ever, whatever anyone asks;
    - unsubscribed from everything, or erased: nothing without the reader's own new opt-in
      (subscribe form and confirmation link, or their preference link), which lifts it.
    """

    wagtail_reference_index_ignore = True

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed from everything"
        BOUNCED = "bounced", "Bounced permanently"
        COMPLAINED = "complained", "Marked as spam"
        ERASED = "erased", "Erased on request"

    # Strongest first: when two reasons meet (an erase after a bounce), the stronger stays.
    STRENGTH: list[str] = [Reason.COMPLAINED, Reason.BOUNCED, Reason.UNSUBSCRIBED, Reason.ERASED]
    NEVER = frozenset({Reason.BOUNCED, Reason.COMPLAINED})
    BLOCKS_BULK = frozenset(Reason)

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.get_reason_display()} ({self.email_hash[:12]}…)"

    @classmethod
    def stronger(cls, one: str, other: str) -> str:
        return min(one, other, key=cls.STRENGTH.index)

    @classmethod
    def add(cls, address: str, reason: str) -> None:
        """Suppress the address for `reason`, unless it is suppressed for a stronger one."""
        suppression, made = cls.objects.get_or_create(
            email_hash=email_hash(address), defaults={"reason": reason}
        )
        if not made and cls.stronger(suppression.reason, reason) != suppression.reason:
            cls.objects.filter(pk=suppression.pk).update(reason=reason)

    @classmethod
    def reason_for(cls, address: str) -> str | None:
        return (
            cls.objects.filter(email_hash=email_hash(address))
            .values_list("reason", flat=True)
            .first()
        )

    @classmethod
    def covers(cls, address: str) -> bool:
        return cls.reason_for(address) is not None


class SignupAttempt(models.Model):
    """A use of the public subscribe form, by keyed hash of the IP: the per-IP rate limit."""

    wagtail_reference_index_ignore = True

    ip_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip_hash", "created_at"])]

    def __str__(self):
        return f"{self.ip_hash[:12]}… at {self.created_at:%Y-%m-%d %H:%M}"
