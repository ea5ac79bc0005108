"""Import subscribers from a CSV file: idempotent, and never against anyone's wishes."""

import csv
import enum
import io
from collections import Counter
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from newsletters.addresses import canonical_email
from newsletters.models import NewsletterPage, Subscriber, Subscription
from newsletters.suppression import may_email

MAX_ROWS = 100_000


class UnreadableFile(Exception):
    """The file cannot be imported at all (wrong format, no email column)."""


class Imported(enum.StrEnum):
    """What importing one row did, as the import's report counts it."""

    ADDED = "added"  # subscribed, or a pending subscription confirmed
    UNCHANGED = "unchanged"  # already subscribed
    SUPPRESSED = "suppressed"  # unsubscribed, bounced, complained or erased: left alone
    INVALID = "invalid"  # not an email address


def read_rows(data: bytes) -> list[dict[str, str | None]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile("The file is not UTF-8 text. Export it as “CSV UTF-8”.") from error
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in fields:
        raise UnreadableFile("The first line must name the columns, one of them “email”.")
    reader.fieldnames = fields
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(f"The file has more than {MAX_ROWS:,} rows; split it.")
    return rows


def import_subscribers(
    data: bytes, newsletter: NewsletterPage, source: str = "import"
) -> Counter[Imported]:
    """Subscribe each valid address to `newsletter` as confirmed, with counts of what happened.

    Someone who unsubscribed, bounced, complained or was erased is never subscribed again;
    running the same file twice changes nothing the second time.
    """
    report: Counter[Imported] = Counter()
    now = timezone.now()
    with transaction.atomic():
        for row in read_rows(data):
            report[import_one(row, newsletter, source, now)] += 1
    return report


def import_one(
    row: dict[str, str | None], newsletter: NewsletterPage, source: str, now: datetime
) -> Imported:
    try:
        email = canonical_email(row.get("email") or "")
    except ValidationError:
        return Imported.INVALID
    if not may_email(email):  # an import is nobody's opt-in
        return Imported.SUPPRESSED
    subscriber, _ = Subscriber.objects.get_or_create(
        email=email,
        defaults={
            "name": (row.get("name") or "")[:120],
            "consent_at": now,
            "consent_source": source,
        },
    )
    if subscriber.status != Subscriber.Status.ACTIVE:
        return Imported.SUPPRESSED
    subscription, made = Subscription.objects.get_or_create(
        subscriber=subscriber,
        newsletter=newsletter,
        defaults={"status": Subscription.Status.ACTIVE, "confirmed_at": now, "source": source},
    )
    if made:
        return Imported.ADDED
    if subscription.status == Subscription.Status.UNSUBSCRIBED:
        return Imported.SUPPRESSED
    if subscription.status == Subscription.Status.PENDING:
        subscription.status, subscription.confirmed_at = Subscription.Status.ACTIVE, now
        subscription.save(update_fields=["status", "confirmed_at"])
        return Imported.ADDED
    return Imported.UNCHANGED
