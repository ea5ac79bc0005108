"""Every minute: publish what is scheduled (which starts due newsletter sends), then sweep."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from newsletters.sweep import sweep


class Command(BaseCommand):
    help = (
        "Run Wagtail's publish_scheduled and the delivery sweep every --interval seconds; "
        "with --once, run them once and exit (for cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between ticks.")

    def handle(self, *args, once, interval, **options):
        while True:
            self.tick()
            if once:
                return
            time.sleep(interval)

    def tick(self) -> None:
        call_command("publish_scheduled", stdout=self.stdout)
        if enqueued := sweep():
            self.stdout.write(f"Delivery resumed for issues {enqueued}")
