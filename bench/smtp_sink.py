"""A local SMTP sink for the benchmarks: accepts every message on 127.0.0.1 and discards it.

    python -m bench.smtp_sink READY.json COUNTS.json [--max-seconds 900] [--delay 0.05]
        [--per-address] [--transient 0.02] [--progress PROGRESS.json]

It runs in a process of its own (so that it does not share the GIL with the sender), binds
a free port on 127.0.0.1 and writes {"port": ..., "pid": ...} to READY.json once it listens.
It counts what it accepted (messages, recipients, bytes) and writes the counts to
COUNTS.json when it gets SIGTERM or SIGINT, so that the bench can check that every message
it sent arrived. It stops by itself after --max-seconds, whatever happens to its parent.

Options, for the worker and soak benches:
- --delay S: answer each DATA S seconds late (an asyncio sleep: a slow server that serves
  any number of connections at once);
- --ack-delay S: count the message first, then answer S seconds late (a server that has
  queued the message but is slow to say so: a client that dies meanwhile sends it again);
- --per-address: also count the messages each recipient got ("by_address" in COUNTS.json);
- --transient F: answer a seeded random share F of RCPTs "451" (try again later);
- --progress PATH: rewrite the counts (without by_address) to PATH every 0.2 s, so that a
  bench can follow the send while it runs.

The server is aiosmtpd's SMTP protocol (the reference asyncio implementation), with a
handler that keeps nothing but the counts.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP


class CountingSink:
    """aiosmtpd handler: 250 for every message (after `delay`), which is then dropped."""

    def __init__(
        self,
        delay: float = 0.0,
        per_address: bool = False,
        transient: float = 0.0,
        ack_delay: float = 0.0,
    ):
        self.delay = delay
        self.ack_delay = ack_delay
        self.transient = transient
        self.rng = random.Random(1)
        self.by_address: Counter | None = Counter() if per_address else None
        self.messages = 0
        self.recipients = 0
        self.bytes = 0
        self.deferred = 0
        self.open = 0
        self.max_open = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.transient and self.rng.random() < self.transient:
            self.deferred += 1
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        # Counted once the server has the message, before the client hears the 250: a client
        # killed now never learns that it was accepted (the uncertain window).
        self.messages += 1
        self.recipients += len(envelope.rcpt_tos)
        self.bytes += len(envelope.original_content or b"")
        if self.by_address is not None:
            self.by_address.update(address.lower() for address in envelope.rcpt_tos)
        self.last_at = time.time()
        if self.first_at is None:
            self.first_at = self.last_at
        if self.ack_delay:
            await asyncio.sleep(self.ack_delay)
        return "250 OK"

    def counts(self, by_address: bool = True) -> dict:
        counts = {
            "messages": self.messages,
            "recipients": self.recipients,
            "bytes": self.bytes,
            "deferred": self.deferred,
            "max_open_connections": self.max_open,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }
        if by_address and self.by_address is not None:
            counts["by_address"] = dict(self.by_address)
        return counts


class CountedSMTP(SMTP):
    """aiosmtpd's server, counting the connections open at once."""

    def connection_made(self, transport):
        super().connection_made(transport)
        self.event_handler.open += 1
        self.event_handler.max_open = max(self.event_handler.max_open, self.event_handler.open)

    def connection_lost(self, error):
        self.event_handler.open -= 1
        super().connection_lost(error)


def write(path: Path, data: dict) -> None:
    """Replace the file in one step, so that a reader never sees half of it."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    partial.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ready", type=Path)
    parser.add_argument("counts", type=Path)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--per-address", action="store_true")
    parser.add_argument("--transient", type=float, default=0.0)
    parser.add_argument("--progress", type=Path)
    parser.add_argument("--ack-delay", type=float, default=0.0)
    args = parser.parse_args()

    handler = CountingSink(args.delay, args.per_address, args.transient, args.ack_delay)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = loop.create_future()

    def finish(*_):
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, finish)
    loop.call_later(args.max_seconds, finish)

    if args.progress:

        def progress():
            write(args.progress, handler.counts(by_address=False))
            loop.call_later(0.2, progress)

        loop.call_soon(progress)

    server = loop.run_until_complete(
        loop.create_server(
            # hostname given: aiosmtpd would otherwise call socket.getfqdn() per connection.
            lambda: CountedSMTP(handler, hostname="bench-sink", ident="bench sink", loop=loop),
            host="127.0.0.1",
            port=0,
            backlog=256,
        )
    )
    port = server.sockets[0].getsockname()[1]
    args.ready.write_text(json.dumps({"port": port, "pid": os.getpid()}))
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        write(args.counts, handler.counts())
        loop.close()


if __name__ == "__main__":
    main()
