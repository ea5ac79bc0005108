"""Bounce and complaint reports that come back by email, for sending over plain SMTP.

Each message goes out with its own Return-Path (VERP): `bounces+<delivery>-<signature>@domain`,
from BOUNCE_ADDRESS. Bounces come back to that address as delivery status notifications
(RFC 3464) and spam complaints as feedback reports (ARF, RFC 5965); `manage.py process_bounces`
reads them. Both formats are read from their structured parts with the `email` package —
the Action and Status of each recipient, the Feedback-Type — never by matching words in the
human-readable text. The delivery is found by the Return-Path it was sent with, or failing
that by the Message-ID of the returned original.
"""

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import collapse_rfc2231_value, parsedate_to_datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from newsletters.models import FeedbackEvent

Kind = FeedbackEvent.Kind
VERP = re.compile(r"\+(?P<delivery>\d+)-(?P<signature>[0-9a-f]{12})@", re.IGNORECASE)
# Where a report names the address it was sent to: ours, with the delivery in it.
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
COMPLAINT_TYPES = {"abuse", "fraud"}


def _signature(delivery_id: int) -> str:
    return salted_hmac("newsletters.bounces", str(delivery_id)).hexdigest()[:12]


def return_path(delivery_id: int) -> str | None:
    """The envelope sender for one delivery, or None when BOUNCE_ADDRESS is not set."""
    if not settings.BOUNCE_ADDRESS:
        return None
    local_part, _, domain = settings.BOUNCE_ADDRESS.rpartition("@")
    return f"{local_part}+{delivery_id}-{_signature(delivery_id)}@{domain}"


def delivery_named_by(address: str) -> int | None:
    """The delivery a VERP address names, if its signature is ours."""
    match = VERP.search(address or "")
    if match is None:
        return None
    delivery_id = int(match["delivery"])
    if not constant_time_compare(match["signature"].lower(), _signature(delivery_id)):
        return None
    return delivery_id


@dataclass(frozen=True)
class Report:
    """What one report says about one delivery."""

    kind: Kind
    event_id: str
    occurred_at: datetime
    delivery_id: int | None
    message_id: str | None
    detail: str


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def read_report(message: EmailMessage, *, recipient: str = "") -> list[Report]:
    """The reports in a DSN or ARF message; [] for anything else (a reply, an autoresponder)."""
    if message.get_content_type() != "multipart/report":
        return []
    report_type = collapse_rfc2231_value(message.get_param("report-type") or "").lower()
    delivery_id = delivery_named_by(recipient) or _delivery_in_headers(message)
    original_id = _original_message_id(message)
    reports = []
    for index, (kind, occurred_at, detail) in enumerate(_findings(message, report_type)):
        reports.append(
            Report(
                kind=kind,
                event_id=f"{_report_id(message)}#{index}",
                occurred_at=occurred_at,
                delivery_id=delivery_id,
                message_id=original_id,
                detail=detail,
            )
        )
    return reports


def _findings(message: EmailMessage, report_type: str):
    """(kind, when, detail) for each recipient a DSN reports on, or the one complaint of an
    ARF report."""
    received = _date(message) or timezone.now()
    for part in message.walk():
        content_type = part.get_content_type()
        if report_type == "delivery-status" and content_type == "message/delivery-status":
            blocks = list(part.iter_parts())
            arrived = _date(blocks[0], "Arrival-Date") if blocks else None
            for block in blocks[1:]:
                if kind := _dsn_kind(block):
                    detail = block.get("Diagnostic-Code") or block.get("Status") or ""
                    yield kind, _date(block, "Last-Attempt-Date") or arrived or received, detail
        elif report_type == "feedback-report" and content_type == "message/feedback-report":
            fields = next(part.iter_parts(), None)
            if fields is not None and fields.get("Feedback-Type", "").lower() in COMPLAINT_TYPES:
                yield Kind.COMPLAINT, _date(fields, "Arrival-Date") or received, "complaint"


def _dsn_kind(block) -> Kind | None:
    """RFC 3464: a failed 5.x.x is permanent, a failed 4.x.x gave up after temporary errors,
    a delayed one is still being tried."""
    action = (block.get("Action") or "").strip().lower()
    status = (block.get("Status") or "").strip()
    if action == "failed":
        return Kind.SOFT_BOUNCE if status.startswith("4") else Kind.HARD_BOUNCE
    if action == "delayed":
        return Kind.DEFERRED
    if action == "delivered":
        return Kind.DELIVERED
    return None  # relayed, expanded: nothing to learn


def _delivery_in_headers(message: EmailMessage) -> int | None:
    for header in ENVELOPE_HEADERS:
        for value in message.get_all(header) or []:
            if delivery_id := delivery_named_by(str(value)):
                return delivery_id
    for part in message.walk():  # an ARF report names our Return-Path, or the original does
        for header in ("Original-Mail-From", "Return-Path"):
            if delivery_id := delivery_named_by(str(part.get(header, ""))):
                return delivery_id
    return None


def _original_message_id(message: EmailMessage) -> str | None:
    """The Message-ID of the returned original (whole, or its headers only)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            headers = next(part.iter_parts(), None)
        elif content_type == "text/rfc822-headers":
            headers = email.message_from_string(part.get_content(), policy=email.policy.default)
        else:
            continue
        if headers is not None and headers.get("Message-ID"):
            return str(headers["Message-ID"]).strip()
    return None


def _report_id(message: EmailMessage) -> str:
    """The report's own Message-ID; a hash of it when it has none (a replay is the same)."""
    if message.get("Message-ID"):
        return str(message["Message-ID"]).strip()[:100]
    return hashlib.sha256(message.as_bytes()).hexdigest()


def _date(fields, header: str = "Date") -> datetime | None:
    value = fields.get(header)
    if not value:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
