"""What readers do: subscribe (double opt-in), confirm, change preferences, unsubscribe."""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from newsletters import tokens
from newsletters.addresses import canonical_email
from newsletters.models import (
    NewsletterPage,
    SignupAttempt,
    Subscriber,
    SubscriberMerge,
    Subscription,
    Suppression,
)
from newsletters.rendering import CSS_INLINER
from newsletters.suppression import lift_after_opt_in, may_email

logger = logging.getLogger(__name__)

Status = Subscription.Status


def subscriber_for(purpose: str, token: str) -> tuple[Subscriber, tokens.TokenClaims]:
    """The subscriber a valid, unrevoked token names; BadToken otherwise."""
    claims = tokens.read(purpose, token)
    subscriber = Subscriber.objects.filter(pk=claims.subscriber_id).first()
    if subscriber is not None and subscriber.token_version == claims.version:
        return subscriber, claims
    if subscriber is None:
        # Mailed to a spelling of a mailbox that was later merged into another subscriber.
        merge = (
            SubscriberMerge.objects.filter(
                merged_id=claims.subscriber_id, merged_token_version=claims.version
            )
            .select_related("into")
            .first()
        )
        if merge is not None:
            return merge.into, claims
    raise tokens.BadToken("Revoked token")


def ip_hash(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def signup_retry_after(ip: str) -> int:
    """Seconds this IP must wait before using the form again; 0 records the use and allows it."""
    window = timedelta(seconds=settings.SIGNUP_RATE_WINDOW_SECONDS)
    since = timezone.now() - window
    attempts = SignupAttempt.objects.filter(ip_hash=ip_hash(ip), created_at__gte=since)
    if attempts.count() >= settings.SIGNUP_RATE_LIMIT:
        oldest = attempts.earliest("created_at").created_at
        return max(1, int((oldest + window - timezone.now()).total_seconds()) + 1)
    SignupAttempt.objects.create(ip_hash=ip_hash(ip))
    return 0


@dataclass(frozen=True)
class ConfirmationDue:
    """A confirmation email to send (tasks.send_confirmation), once the request is committed."""

    subscriber_id: int
    newsletter_ids: list[int]


def request_subscription(
    email: str, newsletter_ids: list[int], source: str
) -> ConfirmationDue | None:
    """Record pending subscriptions; the confirmation email due, unless one went out lately.

    Says nothing about whether the address was known: the caller shows the same page either way.
    """
    email = canonical_email(email)
    if not may_email(email, opting_in=True):
        return None  # bounced or complained: nothing is written and nothing is sent
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(email=email)
        wanted = []
        for newsletter_id in newsletter_ids:
            subscription, _ = Subscription.objects.get_or_create(
                subscriber=subscriber, newsletter_id=newsletter_id, defaults={"source": source}
            )
            if subscription.status == Status.UNSUBSCRIBED:
                # Asked again: pending until they confirm, or confirming would change nothing.
                subscription.status = Status.PENDING
                subscription.save(update_fields=["status"])
            if subscription.status != Status.ACTIVE:
                wanted.append(newsletter_id)
        if not wanted or not claim_confirmation_slot(subscriber):
            return None
    return ConfirmationDue(subscriber.pk, wanted)


def claim_confirmation_slot(subscriber: Subscriber) -> bool:
    """At most one confirmation email per cooldown per address, whoever asks and from where."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CONFIRMATION_COOLDOWN_SECONDS)
    due = Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lt=cutoff)
    # One conditional UPDATE: of two requests at once, only one finds the slot free.
    return bool(Subscriber.objects.filter(due, pk=subscriber.pk).update(confirmation_sent_at=now))


def send_confirmation_email(subscriber_id: int, newsletter_ids: list[int]) -> None:
    """The transactional confirmation email: no bulk headers, one link to a page with a button."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or not may_email(subscriber.email, opting_in=True):
        return  # erased, or bounced since they asked
    newsletters = list(NewsletterPage.objects.filter(pk__in=newsletter_ids))
    site = newsletters[0].get_site() if newsletters else None
    root_url = site.root_url if site else settings.WAGTAILADMIN_BASE_URL
    token = tokens.make(tokens.CONFIRM, subscriber)
    context = {
        "newsletters": newsletters,
        "confirm_url": root_url + reverse("newsletters:confirm", args=[token]),
        "site_name": site.site_name if site else settings.WAGTAIL_SITE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"Confirm your subscription to {' and '.join(n.title for n in newsletters)}",
        body=render_to_string("newsletters/email/confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
    )
    html = CSS_INLINER.inline(render_to_string("newsletters/email/confirm.html", context))
    message.attach_alternative(html, "text/html")
    message.send()


def confirm(subscriber: Subscriber) -> list[NewsletterPage]:
    """Activate the subscriber's pending subscriptions; returns the newsletters confirmed."""
    now = timezone.now()
    with transaction.atomic():
        pending = Subscription.objects.select_for_update().filter(
            subscriber=subscriber, status__in=[Status.PENDING]
        )
        confirmed = list(pending.values_list("newsletter_id", "source"))
        newsletter_ids = [newsletter_id for newsletter_id, _ in confirmed]
        if not may_email(subscriber.email, opting_in=True):
            # Bounced or complained since the link went out: the page reads as for anyone,
            # and nothing is switched on.
            return list(NewsletterPage.objects.filter(pk__in=newsletter_ids))
        pending.update(status=Status.ACTIVE, confirmed_at=now, unsubscribed_at=None)
        if confirmed:
            # The consent record: when they confirmed, and the page they asked from.
            Subscriber.objects.filter(pk=subscriber.pk).update(
                consent_at=now, consent_source=confirmed[0][1][:255]
            )
            lift_after_opt_in(subscriber.email)
    return list(NewsletterPage.objects.filter(pk__in=newsletter_ids))


def unsubscribe(subscriber: Subscriber, newsletter_ids: list[int] | None = None) -> int:
    """End subscriptions (all of them when `newsletter_ids` is None). Harmless to repeat."""
    subscriptions = Subscription.objects.filter(subscriber=subscriber).exclude(
        status=Status.UNSUBSCRIBED
    )
    if newsletter_ids is not None:
        subscriptions = subscriptions.filter(newsletter_id__in=newsletter_ids)
    changed = subscriptions.update(status=Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    if newsletter_ids is None:
        Suppression.add(subscriber.email, Suppression.Reason.UNSUBSCRIBED)
    return changed


def set_preferences(subscriber: Subscriber, wanted_ids: set[int]) -> None:
    """Keep exactly the wanted newsletters, turning on any that were off."""
    now = timezone.now()
    if not may_email(subscriber.email, opting_in=True):
        wanted_ids = set()  # bounced or complained: nothing may be turned on
    with transaction.atomic():
        subscriptions = Subscription.objects.filter(subscriber=subscriber)
        subscriptions.filter(status=Status.ACTIVE).exclude(newsletter_id__in=wanted_ids).update(
            status=Status.UNSUBSCRIBED, unsubscribed_at=now
        )
        # Turning one back on is allowed here: the preference link proves the address is theirs.
        already = set(
            subscriptions.filter(status=Status.ACTIVE).values_list("newsletter_id", flat=True)
        )
        for newsletter_id in wanted_ids - already:
            Subscription.objects.update_or_create(
                subscriber=subscriber,
                newsletter_id=newsletter_id,
                defaults={"status": Status.ACTIVE, "unsubscribed_at": None, "confirmed_at": now},
                create_defaults={
                    "status": Status.ACTIVE,
                    "confirmed_at": now,
                    "source": "preferences",
                },
            )
        if wanted_ids:
            lift_after_opt_in(subscriber.email)
