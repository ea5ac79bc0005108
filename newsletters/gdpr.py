"""A subscriber's rights: a copy of everything we hold about them, and erasure."""

from django.db import connection, transaction
from wagtail.models import ModelLogEntry

from newsletters.models import Delivery, FeedbackEvent, Subscriber, Subscription, Suppression


def export_subscriber(subscriber: Subscriber) -> dict[str, object]:
    """Every row that refers to the subscriber, as plain data."""
    return {
        "subscriber": {
            "email": subscriber.email,
            "name": subscriber.name,
            "status": subscriber.status,
            "created_at": subscriber.created_at,
            "consent_at": subscriber.consent_at,
            "consent_source": subscriber.consent_source,
            "confirmation_sent_at": subscriber.confirmation_sent_at,
        },
        "subscriptions": [
            {
                "newsletter": subscription.newsletter.title,
                "status": subscription.status,
                "source": subscription.source,
                "created_at": subscription.created_at,
                "confirmed_at": subscription.confirmed_at,
                "unsubscribed_at": subscription.unsubscribed_at,
            }
            for subscription in subscriber.subscriptions.select_related("newsletter")
        ],
        "deliveries": [
            {
                "issue": delivery.issue.subject if delivery.issue else "",
                "correction": str(delivery.correction) if delivery.correction else "",
                "status": delivery.status,
                "attempts": delivery.attempts,
                "sent_at": delivery.sent_at,
                "message_id": delivery.message_id,
            }
            for delivery in Delivery.objects.filter(subscriber=subscriber).select_related(
                "issue", "correction__article"
            )
        ],
        # Earlier subscriber records of the same mailbox, merged into this one.
        "subscriber merges": [
            {"merged subscriber id": merge.merged_id} for merge in subscriber.merged_from.all()
        ],
    }


def erase_subscriber(subscriber: Subscriber) -> None:
    """Delete the subscriber and every row about them; keep only a keyed hash that blocks
    the address from being imported again (and, if it bounced or complained, from any email)."""
    with transaction.atomic():
        Suppression.add(subscriber.email, Suppression.Reason.ERASED)  # a stronger reason stays
        if subscriber.status in Suppression.NEVER:
            Suppression.add(subscriber.email, subscriber.status)
        FeedbackEvent.objects.filter(delivery__subscriber=subscriber).delete()
        Delivery.objects.filter(subscriber=subscriber).delete()
        Subscription.objects.filter(subscriber=subscriber).delete()
        # The admin's audit log labels its entries with the address: keep what was done, not whom.
        ModelLogEntry.objects.for_instance(subscriber).update(
            label=f"Erased subscriber #{subscriber.pk}"
        )
        subscriber.delete()
        transaction.on_commit(scrub_deleted_rows)


def scrub_deleted_rows() -> None:
    """Leave no copy of erased rows in the database files.

    SQLite runs with secure_delete (deleted content is zeroed), but the write-ahead log still
    holds earlier page images until a checkpoint: TRUNCATE copies it back and empties the file.
    PostgreSQL keeps dead rows until VACUUM reclaims them (see the README).
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
