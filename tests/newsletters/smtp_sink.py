"""A real SMTP server on 127.0.0.1 for the delivery tests, which misbehaves on purpose.

`SmtpSink` runs aiosmtpd in a thread on a free loopback port and records every message it
accepts. Faults are injected by rule:

- `refuse(addresses)`: 550 (or another permanent code) at RCPT for those addresses;
- `refuse_sender()`: 553 (or another code) at MAIL FROM, for every message;
- `transient(fraction, codes=(451, 421), stage="RCPT")`: a seeded random share of RCPTs (or
  DATAs) answered 4xx; after a 421 the server closes the connection, as real servers do;
- `drop(fraction, stage=...)`: close the connection instead of answering;
- `delay`: answer each DATA that many seconds late (a slow server);
- `down()` / `up()`, `down_after(n)`: stop serving for a while (refusing connections, or
  accepting and hanging up at once while counting the attempts);
- `hooks[n] = callable`: run something (with Django's ORM, if need be) when the n-th message
  has been accepted, before the client hears so;
- `kill_at(point, process, when=…)`: SIGKILL a worker process at a named point of its
  conversation: "connect" (its first command on a new connection: it has claimed its batch),
  "rcpt" (after RCPT, before the server replies), "data" (the server has the message and
  keeps it, but the worker dies before the 250: the uncertain window); with `when`, only once
  that condition holds (asked with Django's ORM, if need be, for up to 30 seconds).

Every sink stops by itself after `lifetime` seconds, whatever the test does.
"""

import asyncio
import contextlib
import email
import email.policy
import itertools
import random
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

KILL_POINTS = ("connect", "rcpt", "data")


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Whether `predicate()` comes true within `timeout` seconds, asked every `interval`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One message the sink accepted, for one recipient."""

    rcpt: str
    message_id: str
    subject: str
    connection: int
    message: email.message.EmailMessage = field(repr=False)
    mail_from: str = ""  # the envelope sender (the Return-Path)
    at: float = field(default_factory=time.monotonic)  # when the server accepted it


@dataclass(frozen=True)
class Event:
    """One command the sink answered (or, for a dropped connection, did not answer)."""

    connection: int
    verb: str  # EHLO, MAIL, RCPT, DATA
    address: str
    code: int  # 0: no reply, the connection was closed
    at: float = field(default_factory=time.monotonic)


@dataclass
class Rule:
    stage: str  # MAIL, RCPT or DATA
    codes: tuple[int, ...]  # 0 means: close the connection without a reply
    fraction: float = 1.0
    addresses: frozenset[str] | None = None
    limit_per_address: int | None = None
    hits: Counter = field(default_factory=Counter)

    def decide(self, address: str, rng: random.Random) -> int | None:
        if self.addresses is not None and address not in self.addresses:
            return None
        if self.limit_per_address is not None and self.hits[address] >= self.limit_per_address:
            return None
        if self.fraction < 1 and rng.random() >= self.fraction:
            return None
        self.hits[address] += 1
        return rng.choice(self.codes)


@dataclass
class Kill:
    point: str
    process: subprocess.Popen
    after: int  # the n-th time the point is reached
    when: Callable[[], bool] | None = None  # and then only once this holds
    seen: int = 0
    done: threading.Event = field(default_factory=threading.Event)


REPLIES = {
    553: "553 5.7.1 Sender address rejected: not owned by user",
    421: "421 4.3.2 Service shutting down, closing channel",
    451: "451 4.3.0 Temporary failure, try again later",
    452: "452 4.2.2 Mailbox full",
    550: "550 5.1.1 No such user here",
    554: "554 5.7.1 Rejected",
}


class _SinkSMTP(SMTP):
    """aiosmtpd's server, numbering its connections for the sink; hangs up while it is down."""

    def __init__(self, handler, sink, **kwargs):
        super().__init__(handler, **kwargs)
        self.sink = sink

    def connection_made(self, transport):
        super().connection_made(transport)
        self.session.connection_id = self.sink._connected(self)

    def connection_lost(self, error):
        self.sink._disconnected(self)
        super().connection_lost(error)

    async def _handle_client(self):
        if self.sink.is_down:
            self.transport.close()  # before the greeting: the client learns nothing more
            return
        await super()._handle_client()


class _SinkController(Controller):
    def __init__(self, sink, **kwargs):
        super().__init__(sink, **kwargs)
        self.sink = sink

    def factory(self):
        return _SinkSMTP(self.handler, self.sink, **self.SMTP_kwargs)


class SmtpSink:
    """A loopback SMTP server that records what it accepts and injects faults by rule."""

    def __init__(self, *, seed: int = 1, lifetime: float = 150.0, port: int | None = None):
        self.port = port or free_port()
        self.rng = random.Random(seed)
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.rules: list[Rule] = []
        self.kills: list[Kill] = []
        self.messages: list[Received] = []
        self.events: list[Event] = []
        self._connection_ids = itertools.count(1)
        self.attempts_while_down = 0
        self.is_down = False
        self.delay = 0.0  # seconds before answering each DATA: a slow server
        self.max_open = 0  # the most connections open at once
        self.hooks: dict[int, object] = {}  # n-th accepted message → callable
        self._down_after: tuple[int, str] | None = None
        self._open: set[_SinkSMTP] = set()
        self._controller = None
        self._stopping = None
        self._timer = None

    # Running ---------------------------------------------------------------------------

    def start(self) -> "SmtpSink":
        self._serve()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._stop_serving()

    def _stop_serving(self) -> None:
        if self._controller is None:
            return
        controller, self._controller = self._controller, None
        if threading.current_thread() is controller._thread:
            # Called from a hook: the server's own thread cannot wait for itself to end.
            self._stopping = threading.Thread(target=controller.stop, kwargs={"no_assert": True})
            self._stopping.start()
        else:
            controller.stop(no_assert=True)

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """For EMAIL_URL: a worker process's Django settings pointed at this sink."""
        return f"smtp://127.0.0.1:{self.port}?timeout=10"

    @property
    def django_settings(self) -> dict:
        """For override_settings: this process's Django email backend pointed at the sink."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 10,
        }

    def _serve(self) -> None:
        if self._stopping is not None:
            self._stopping.join(10)  # the port is free again
        self._controller = _SinkController(
            self, hostname="127.0.0.1", port=self.port, ready_timeout=10, timeout=30
        )
        self._controller.start()

    def down(self, *, mode: str = "hangup") -> None:
        """Stop serving and drop every open connection. "hangup": accept each new connection
        and close it before the greeting, counting them in `attempts_while_down`; "refuse":
        nothing listens any more (connection refused)."""
        with self.lock:
            self.is_down = True
            protocols = list(self._open)
        if self._controller is not None:
            for protocol in protocols:
                if protocol.transport is not None:
                    self._controller.loop.call_soon_threadsafe(protocol.transport.close)
        if mode == "refuse":
            self._stop_serving()

    def up(self) -> None:
        with self.lock:
            self.is_down = False
        if self._controller is None:
            self._serve()

    def down_after(self, count: int, *, mode: str = "hangup") -> None:
        """Go down as soon as the `count`-th message has been accepted (and acknowledged)."""
        self._down_after = (count, mode)

    # Faults ----------------------------------------------------------------------------

    def refuse(self, addresses, code: int = 550) -> None:
        self.rules.append(Rule("RCPT", (code,), addresses=frozenset(addresses)))

    def refuse_sender(self, code: int = 553) -> None:
        """Refuse MAIL FROM: the server will not take mail from us (a relay misconfigured)."""
        self.rules.append(Rule("MAIL", (code,)))

    def transient(
        self,
        fraction: float,
        *,
        codes=(451, 421),
        stage: str = "RCPT",
        limit_per_address: int | None = 2,
        addresses=None,
    ) -> None:
        self.rules.append(
            Rule(
                stage,
                tuple(codes),
                fraction=fraction,
                limit_per_address=limit_per_address,
                addresses=frozenset(addresses) if addresses is not None else None,
            )
        )

    def drop(self, fraction: float, *, stage: str = "RCPT", limit_per_address: int = 1) -> None:
        self.rules.append(Rule(stage, (0,), fraction, limit_per_address=limit_per_address))

    def kill_at(
        self,
        point: str,
        process: subprocess.Popen,
        *,
        after: int = 1,
        when: Callable[[], bool] | None = None,
    ) -> Kill:
        """SIGKILL `process` the `after`-th time the conversation reaches `point` (once
        `when()` holds, if given)."""
        assert point in KILL_POINTS, point
        kill = Kill(point, process, after, when)
        with self.lock:
            self.kills.append(kill)
        return kill

    def _maybe_kill(self, point: str) -> None:
        for kill in self.kills:
            if kill.point != point or kill.done.is_set():
                continue
            kill.seen += 1
            if kill.seen >= kill.after:
                if kill.when is not None:  # (which must not take self.lock, held here)
                    self._in_a_thread(lambda when=kill.when: wait_until(when, 30))
                # Blocks the server until the worker is gone: no reply reaches it.
                kill.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    kill.process.wait(10)
                kill.done.set()

    def _fault(self, stage: str, address: str) -> int | None:
        for rule in self.rules:
            if rule.stage == stage and (code := rule.decide(address, self.rng)) is not None:
                return code
        return None

    # aiosmtpd hooks --------------------------------------------------------------------

    def _connected(self, protocol) -> int:
        with self.lock:
            if self.is_down:
                self.attempts_while_down += 1
            else:
                self._open.add(protocol)
                self.max_open = max(self.max_open, len(self._open))
            return next(self._connection_ids)

    def _disconnected(self, protocol) -> None:
        with self.lock:
            self._open.discard(protocol)

    @property
    def connections(self) -> int:
        """Connections on which a client started a session (EHLO or HELO)."""
        with self.lock:
            return len({e.connection for e in self.events if e.verb in ("EHLO", "HELO")})

    def _log(self, session, verb: str, address: str, code: int) -> None:
        with self.lock:
            self.events.append(Event(session.connection_id, verb, address, code))

    def _reply(self, server, session, verb: str, address: str, code: int) -> str:
        """A faulty reply; 421 and "drop" (code 0) close the connection as well."""
        self._log(session, verb, address, code)
        if code == 0:
            server.transport.close()  # before any reply: the client never hears one
            return "250 never sent"
        if code == 421:
            # After the reply has been written (push writes at once, then awaits).
            asyncio.get_running_loop().call_soon(server.transport.close)
        return REPLIES.get(code, f"{code} Injected")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self._log(session, "EHLO", hostname, 250)
        with self.lock:
            self._maybe_kill("connect")
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self._log(session, "HELO", hostname, 250)
        with self.lock:
            self._maybe_kill("connect")
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            code = self._fault("MAIL", address)
        if code is not None:
            return self._reply(server, session, "MAIL", address, code)
        self._log(session, "MAIL", address, 250)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            code = self._fault("RCPT", address)
        if code is not None:
            return self._reply(server, session, "RCPT", address, code)
        with self.lock:
            self._maybe_kill("rcpt")
        self._log(session, "RCPT", address, 250)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpts = list(envelope.rcpt_tos)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            code = next(filter(None, (self._fault("DATA", rcpt) for rcpt in rcpts)), None)
        if code is not None:
            return self._reply(server, session, "DATA", ",".join(rcpts), code)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            for rcpt in rcpts:
                self.messages.append(
                    Received(
                        rcpt=rcpt,
                        message_id=str(message["Message-ID"]),
                        subject=str(message["Subject"]),
                        connection=session.connection_id,
                        message=message,
                        mail_from=envelope.mail_from,
                    )
                )
            # The server has the message; the worker dies before it hears so.
            self._maybe_kill("data")
            hook = self.hooks.pop(len(self.messages), None)
            down = self._down_after and self._down_after[0] == len(self.messages)
        self._log(session, "DATA", ",".join(rcpts), 250)
        if hook is not None:
            self._in_a_thread(hook)  # the client waits for the reply meanwhile
        if down:
            self.down(mode=self._down_after[1])  # after this reply: it is written at once
        return "250 OK: queued"

    @staticmethod
    def _in_a_thread(function: Callable[[], object]) -> None:
        """Run `function` in a thread of its own, which may use Django's ORM (not from an
        event loop), and wait for it (at most 40 seconds)."""
        from django.db import connections

        def run():
            try:
                function()
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(40)

    # Observations ----------------------------------------------------------------------

    def counts(self) -> Counter:
        """How many times each recipient was sent a message."""
        with self.lock:
            return Counter(received.rcpt for received in self.messages)

    def received_count(self) -> int:
        with self.lock:
            return len(self.messages)
