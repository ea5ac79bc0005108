"""Read bounce and complaint reports mailed back to the Return-Path (see newsletters.bounces).

From an MTA pipe, one message on stdin (Postfix: a transport `pipe` with
`argv=/srv/outlet/.venv/bin/python /srv/outlet/manage.py process_bounces --recipient ${recipient}`),
or every unread message of a Maildir, which is then marked read.
"""

import enum
import mailbox
import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from newsletters.bounces import Report, parse, read_report
from newsletters.feedback import Feedback, apply, find_delivery
from newsletters.models import FeedbackEvent


class Read(enum.Enum):
    """What became of one report, or of a message with none; each value as the summary says it."""

    APPLIED = "applied"
    REPLAYED = "already applied"
    NO_DELIVERY = "for no known delivery"
    NOT_A_REPORT = "messages that were not reports"


class Command(BaseCommand):
    help = "Apply bounce (RFC 3464) and complaint (RFC 5965) reports to the delivery ledger."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="Read the unread messages of this Maildir.")
        parser.add_argument(
            "--recipient", default="", help="The address the report was delivered to (VERP)."
        )

    def handle(self, *args, maildir=None, recipient="", **options):
        if maildir:
            totals = self.read_maildir(maildir)
        else:
            totals = self.read_one(sys.stdin.buffer.read(), recipient)
        self.stdout.write(", ".join(f"{totals[read]} {read.value}" for read in Read) + ".")

    def read_maildir(self, path: str) -> Counter[Read]:
        try:
            box = mailbox.Maildir(path, factory=None, create=False)
        except (OSError, mailbox.Error) as error:
            raise CommandError(f"Cannot open the Maildir {path}: {error}") from error
        totals: Counter[Read] = Counter()
        for key in list(box.keys()):
            message = box.get_message(key)
            if "S" in message.get_flags():
                continue  # read on an earlier run
            totals += self.read_one(box.get_bytes(key), "")
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
        return totals

    def read_one(self, raw: bytes, recipient: str) -> Counter[Read]:
        reports = read_report(parse(raw), recipient=recipient)
        if not reports:
            return Counter([Read.NOT_A_REPORT])
        return Counter(self.apply(report) for report in reports)

    def apply(self, report: Report) -> Read:
        delivery = find_delivery(delivery_id=report.delivery_id, message_id=report.message_id or "")
        if delivery is None:
            self.stderr.write(f"No delivery for report {report.event_id} ({report.kind}).")
            return Read.NO_DELIVERY
        source = "arf" if report.kind == FeedbackEvent.Kind.COMPLAINT else "dsn"
        feedback = Feedback(source, report.event_id, report.kind, report.occurred_at, report.detail)
        return Read.APPLIED if apply(feedback, delivery) else Read.REPLAYED
