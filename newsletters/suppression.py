"""Who may be emailed: the one rule every path that can lead to an email consults.

Paths: the subscribe form and the confirmation email it sends, confirming, re-ticking a
newsletter in the preference centre, CSV import, the subscriber admin, the audience of an
issue (`Subscription.objects.mailable`) and test sends to anyone who is not staff.

- An address that bounced or complained gets no email of any kind, ever. Readers still see
  the same pages as anyone else, so the form tells nobody what became of an address.
- An address that unsubscribed from everything, or was erased, gets nothing until its owner
  opts in again by their own hand (a confirmed subscription, or their preference link);
  that opt-in lifts the suppression. Import and the admin never lift it.
"""

from django.db import transaction
from django.utils import timezone

from newsletters.models import (
    Subscriber,
    Subscription,
    Suppression,
    email_hash,
    normalize_email,
)

Reason = Suppression.Reason


def may_email(address: str, *, opting_in: bool = False) -> bool:
    """Whether `address` may be sent anything; `opting_in` when its owner is asking now."""
    reason = reason_not_to_email(address)
    if reason is None:
        return True
    return opting_in and reason not in Suppression.NEVER


def reason_not_to_email(address: str) -> str | None:
    """Why the address is suppressed, if it is: its hash, or its subscriber's bounce or
    complaint (the statuses are named as the reasons)."""
    reason = Suppression.reason_for(address)
    status = (
        Subscriber.objects.filter(email=normalize_email(address))
        .values_list("status", flat=True)
        .first()
    )
    if status in Suppression.NEVER:
        return Suppression.stronger(status, reason) if reason else status
    return reason


def lift_after_opt_in(address: str) -> None:
    """They opted in again by their own hand: an earlier unsubscribe-all or erasure is over."""
    Suppression.objects.filter(
        email_hash=email_hash(address), reason__in=[Reason.UNSUBSCRIBED, Reason.ERASED]
    ).delete()


def suppress(subscriber: Subscriber, reason: str) -> None:
    """The mailbox refused us (bounced) or its owner reported us (complained): never again.

    A complaint also ends every confirmed subscription, as an unsubscribe from everything
    would (a request still awaiting confirmation can never be confirmed now).
    """
    subscribers = Subscriber.objects.filter(pk=subscriber.pk)
    if reason == Reason.BOUNCED:
        subscribers = subscribers.exclude(status=Subscriber.Status.COMPLAINED)  # the stronger
    with transaction.atomic():
        subscribers.update(status=reason)  # the statuses are named as the reasons
        Suppression.add(subscriber.email, reason)
        if reason == Reason.COMPLAINED:
            Subscription.objects.filter(
                subscriber=subscriber, status=Subscription.Status.ACTIVE
            ).update(status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
