"""A local SMTP sink for bench/send.py: accepts every message on 127.0.0.1 and discards it.

    python -m bench.smtp_sink READY.json COUNTS.json [--max-seconds 900]

It runs in a process of its own (so that it does not share the GIL with the sender), binds
a free port on 127.0.0.1 and writes {"port": ..., "pid": ...} to READY.json once it listens.
It counts what it accepted (messages, recipients, bytes) and writes the counts to
COUNTS.json when it gets SIGTERM or SIGINT, so that send.py can check that every message it
sent arrived. It stops by itself after --max-seconds, whatever happens to its parent.

The server is aiosmtpd's SMTP protocol (the reference asyncio implementation), with a
handler that keeps nothing but the counts.
"""

import argparse
import asyncio
import json
import os
import signal
from pathlib import Path

from aiosmtpd.smtp import SMTP


class CountingSink:
    """aiosmtpd handler: 250 for every message, which is then dropped."""

    def __init__(self):
        self.messages = 0
        self.recipients = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        self.recipients += len(envelope.rcpt_tos)
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ready", type=Path)
    parser.add_argument("counts", type=Path)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()

    handler = CountingSink()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = loop.create_future()

    def finish(*_):
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, finish)
    loop.call_later(args.max_seconds, finish)

    server = loop.run_until_complete(
        loop.create_server(
            # hostname given: aiosmtpd would otherwise call socket.getfqdn() per connection.
            lambda: SMTP(handler, hostname="bench-sink", ident="bench sink", loop=loop),
            host="127.0.0.1",
            port=0,
        )
    )
    port = server.sockets[0].getsockname()[1]
    args.ready.write_text(json.dumps({"port": port, "pid": os.getpid()}))
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        counts = {
            "messages": handler.messages,
            "recipients": handler.recipients,
            "bytes": handler.bytes,
        }
        args.counts.write_text(json.dumps(counts))
        loop.close()


if __name__ == "__main__":
    main()
