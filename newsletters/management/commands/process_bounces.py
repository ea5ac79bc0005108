"""Read bounce and complaint reports mailed back to the Return-Path (see newsletters.bounces).

From an MTA pipe, one message on stdin (Postfix: a transport `pipe` with
`argv=/srv/outlet/.venv/bin/python /srv/outlet/manage.py process_bounces --recipient ${recipient}`),
or every unread message of a Maildir, which is then marked read.
"""

import mailbox
import sys

from django.core.management.base import BaseCommand, CommandError

from newsletters.bounces import Report, parse, read_report
from newsletters.feedback import Feedback, apply, find_delivery
from newsletters.models import FeedbackEvent


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
        applied, replayed, unknown, other = totals
        self.stdout.write(
            f"{applied} applied, {replayed} already applied, {unknown} for no known delivery, "
            f"{other} messages that were not reports."
        )

    def read_maildir(self, path: str) -> list[int]:
        try:
            box = mailbox.Maildir(path, factory=None, create=False)
        except (OSError, mailbox.Error) as error:
            raise CommandError(f"Cannot open the Maildir {path}: {error}") from error
        totals = [0, 0, 0, 0]
        for key in list(box.keys()):
            message = box.get_message(key)
            if "S" in message.get_flags():
                continue  # read on an earlier run
            outcome = self.read_one(box.get_bytes(key), "")
            totals = [total + count for total, count in zip(totals, outcome, strict=True)]
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
        return totals

    def read_one(self, raw: bytes, recipient: str) -> list[int]:
        reports = read_report(parse(raw), recipient=recipient)
        if not reports:
            return [0, 0, 0, 1]
        totals = [0, 0, 0, 0]
        for report in reports:
            totals[self.apply(report)] += 1
        return totals

    def apply(self, report: Report) -> int:
        """0: applied, 1: a replay, 2: no delivery of ours."""
        delivery = find_delivery(delivery_id=report.delivery_id, message_id=report.message_id or "")
        if delivery is None:
            self.stderr.write(f"No delivery for report {report.event_id} ({report.kind}).")
            return 2
        source = "arf" if report.kind == FeedbackEvent.Kind.COMPLAINT else "dsn"
        feedback = Feedback(source, report.event_id, report.kind, report.occurred_at, report.detail)
        return 0 if apply(feedback, delivery) else 1
