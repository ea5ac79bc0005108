"""One mailbox, one subscriber: bring every stored address to its canonical form, and merge
subscribers that turn out to be spellings of one mailbox.

The merged subscriber keeps the strongest state of the group: a complaint or bounce beats an
active status, and per newsletter an unsubscription beats a confirmation, which beats a pending
request. Links already mailed to a merged-away row keep working through SubscriberMerge.
"""

import hashlib
import hmac

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from newsletters.addresses import stored_form

SUBSCRIBER_STRENGTH = ["complained", "bounced", "active"]
SUBSCRIPTION_STRENGTH = ["unsubscribed", "active", "pending"]
DELIVERY_STRENGTH = ["sent", "sending", "bounced", "failed", "pending", "skipped"]
SUPPRESSION_STRENGTH = ["complained", "bounced", "unsubscribed", "erased"]


def keyed_hash(address: str) -> str:
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def strongest(values, order):
    return min(values, key=order.index)


def canonicalise(apps, schema_editor):
    Subscriber = apps.get_model("newsletters", "Subscriber")
    Suppression = apps.get_model("newsletters", "Suppression")
    groups: dict[str, list] = {}
    for subscriber in Subscriber.objects.order_by("pk").iterator():
        groups.setdefault(stored_form(subscriber.email), []).append(subscriber)
    for canonical, members in groups.items():
        survivor, *others = members
        # Hashes taken under the old spelling (strip + lower) follow the address.
        rehash_suppressions(Suppression, [m.email for m in members], canonical)
        for other in others:
            merge(apps, other, into=survivor)
        if survivor.email != canonical or not survivor.email_hash:
            Subscriber.objects.filter(pk=survivor.pk).update(
                email=canonical, email_hash=keyed_hash(canonical)
            )
        if survivor.status in ("bounced", "complained"):
            # A bounce or complaint is a suppression, whatever becomes of the row.
            suppress(Suppression, keyed_hash(canonical), survivor.status)


def suppress(Suppression, hashed, reason):
    row, made = Suppression.objects.get_or_create(email_hash=hashed, defaults={"reason": reason})
    if not made and strongest([row.reason, reason], SUPPRESSION_STRENGTH) != row.reason:
        Suppression.objects.filter(pk=row.pk).update(reason=reason)


def rehash_suppressions(Suppression, spellings, canonical):
    old = {keyed_hash(spelling.strip().lower()) for spelling in spellings}
    new = keyed_hash(canonical)
    rows = list(Suppression.objects.filter(email_hash__in=old | {new}))
    if not rows:
        return
    keep = min(rows, key=lambda row: SUPPRESSION_STRENGTH.index(row.reason))
    Suppression.objects.filter(pk__in=[row.pk for row in rows if row.pk != keep.pk]).delete()
    Suppression.objects.filter(pk=keep.pk).update(email_hash=new)


def merge(apps, other, into):
    Subscriber = apps.get_model("newsletters", "Subscriber")
    SubscriberMerge = apps.get_model("newsletters", "SubscriberMerge")
    into.status = strongest([into.status, other.status], SUBSCRIBER_STRENGTH)
    into.name = into.name or other.name
    if into.consent_at is None:
        into.consent_at, into.consent_source = other.consent_at, other.consent_source
    sent = [at for at in (into.confirmation_sent_at, other.confirmation_sent_at) if at]
    into.confirmation_sent_at = max(sent) if sent else None
    Subscriber.objects.filter(pk=into.pk).update(
        status=into.status,
        name=into.name,
        consent_at=into.consent_at,
        consent_source=into.consent_source,
        confirmation_sent_at=into.confirmation_sent_at,
    )
    merge_rows(
        apps.get_model("newsletters", "Subscription"),
        other,
        into,
        "newsletter_id",
        "status",
        SUBSCRIPTION_STRENGTH,
    )
    merge_rows(
        apps.get_model("newsletters", "Delivery"),
        other,
        into,
        "issue_id",
        "status",
        DELIVERY_STRENGTH,
    )
    SubscriberMerge.objects.filter(into_id=other.pk).update(into_id=into.pk)
    SubscriberMerge.objects.create(
        merged_id=other.pk, merged_token_version=other.token_version, into_id=into.pk
    )
    Subscriber.objects.filter(pk=other.pk).delete()


def merge_rows(Model, other, into, key, status_field, order):
    """Move `other`'s rows to `into`; where both have one for the same `key`, keep the
    stronger row."""
    kept = {getattr(row, key): row for row in Model.objects.filter(subscriber_id=into.pk)}
    for row in Model.objects.filter(subscriber_id=other.pk):
        mine = kept.get(getattr(row, key))
        if mine is None:
            Model.objects.filter(pk=row.pk).update(subscriber_id=into.pk)
        elif strongest([getattr(mine, status_field), getattr(row, status_field)], order) == getattr(
            mine, status_field
        ):
            Model.objects.filter(pk=row.pk).delete()
        else:
            Model.objects.filter(pk=mine.pk).delete()
            Model.objects.filter(pk=row.pk).update(subscriber_id=into.pk)


class Migration(migrations.Migration):
    dependencies = [("newsletters", "0002_editors_manage_newsletters")]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="email_hash",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="subscription",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Awaiting confirmation"),
                    ("active", "Confirmed"),
                    ("unsubscribed", "Unsubscribed"),
                ],
                default="pending",
                max_length=12,
            ),
        ),
        migrations.CreateModel(
            name="SubscriberMerge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("merged_id", models.BigIntegerField(unique=True)),
                ("merged_token_version", models.PositiveIntegerField()),
                (
                    "into",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="merged_from",
                        to="newsletters.subscriber",
                    ),
                ),
            ],
        ),
        migrations.RunPython(canonicalise, migrations.RunPython.noop),
    ]
