"""Deliver an issue, or a correction, from its ledger: claim rows in batches, send each,
record each while the next one's envelope goes (its data waits for that record).

The promise (see shared/reliability.md): no subscriber is ever missed, and a crash duplicates
at most the message in flight. Rows are claimed under a lease; a worker that dies leaves its
rows to be reclaimed when the lease runs out, the one it may have had in flight (accepted by
the server, not yet recorded: at most one, see Recorder) flagged `uncertain`.
"""

import contextlib
import enum
import functools
import logging
import smtplib
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parseaddr

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, connections, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from newsletters import pausing
from newsletters.bounces import return_path
from newsletters.models import (
    Delivery,
    IssuePage,
    IssueSend,
    Ledger,
    Subscriber,
    Subscription,
    Suppression,
)
from newsletters.outcomes import NotTheReadersFault, Outcome, Verdict, classify
from newsletters.rendering import RenderedIssue, WireMessage, render_issue
from newsletters.smtp import send_held
from newsletters.suppression import suppress
from newsletters.throttle import Throttle

logger = logging.getLogger(__name__)

Status = Delivery.Status
SEND_ERRORS = (smtplib.SMTPException, OSError, AnymailError)


def claimable(now: datetime) -> Q:
    """Rows due for sending, and rows whose worker's lease ran out."""
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def claimable_ids(
    rows: QuerySet[Delivery], now: datetime, size: int, *, lock: bool = True
) -> tuple[list[int], list[int]]:
    """Up to `size` of a run's ledger `rows` to lease (locked, inside the claim's
    transaction): first those whose worker's lease ran out, then the due ones in order, as
    two lists. Two queries, each along a partial index of the few rows it looks for (see
    Delivery.Meta), however many rows of the run were sent already."""
    if lock:
        rows = rows.select_for_update(skip_locked=True)
    expired = rows.filter(status=Status.SENDING, claimed_until__lt=now).order_by("pk")
    left_by_the_dead = list(expired.values_list("pk", flat=True)[:size])
    due: list[int] = []
    if len(left_by_the_dead) < size:
        pending = rows.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by("pk")
        due += pending.values_list("pk", flat=True)[: size - len(left_by_the_dead)]
    return left_by_the_dead, due


def claim_batch(rows: QuerySet[Delivery], size: int) -> tuple[str, list[Delivery]]:
    """Lease up to `size` due rows of a run's ledger to this worker; other workers skip them."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        left_by_the_dead, due = claimable_ids(rows, now, size)
        ids = left_by_the_dead + due
        if not ids:
            return token, []
        if left_by_the_dead:
            # A batch is sent in order and each row recorded as soon as it is sent, so only
            # the first row a dead worker left can have been in flight: the server may have
            # accepted it. The others were never tried.
            dead = Delivery.objects.filter(pk__in=left_by_the_dead)
            in_flight = (
                Delivery.objects.filter(
                    status=Status.SENDING, claim_token__in=dead.values("claim_token")
                )
                .values("claim_token")
                .annotate(first=Min("pk"))
                .values("first")
            )
            dead.filter(pk__in=in_flight).update(uncertain=True, attempts=F("attempts") + 1)
        # Re-checking the condition makes the claim safe where SKIP LOCKED is not available.
        Delivery.objects.filter(claimable(now), pk__in=ids).update(
            status=Status.SENDING,
            claim_token=token,
            claimed_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
        )
    rows = (
        Delivery.objects.filter(pk__in=ids, claim_token=token)
        .select_related("subscriber")
        # What sending reads of a row and its reader (converting each field read costs).
        .only("attempts", "subscriber__email", "subscriber__token_version")
        .order_by("pk")
    )
    return token, list(rows)


# Whether each reader is still subscribed and mailable is asked for this many messages at a
# time, just before they go out (while the message before them is with the server): a reader
# who leaves while their batch is being sent is not mailed once the messages ahead of theirs
# have gone, at most RECHECK_EVERY of them (a few hundredths of a second of sending).
RECHECK_EVERY = 10


def still_wanted(rows: list[Delivery], newsletter_id: int) -> set[int]:
    """Which of the rows' subscribers (RECHECK_EVERY at most) are still subscribed and
    mailable right now."""
    sql, params, slots = _still_wanted_query(connection.vendor, newsletter_id)
    ids = [row.subscriber_id for row in rows]
    values: list[str | int] = list(params)
    for slot, subscriber_id in zip(slots, ids + [0] * (len(slots) - len(ids)), strict=True):
        values[slot] = subscriber_id  # 0 is no subscriber's id
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return {subscriber_id for (subscriber_id,) in cursor.fetchall()}


@functools.lru_cache(maxsize=128)
def _still_wanted_query(
    vendor: str, newsletter_id: int
) -> tuple[str, tuple[str | int, ...], tuple[int, ...]]:
    """The query of still_wanted() compiled once per newsletter (compiling it cost ten times
    running it): its SQL, its parameters, and which of them are the subscribers' ids."""
    stand_ins = [-n for n in range(1, RECHECK_EVERY + 1)]  # no subscriber has a negative id
    # From the few subscribers to their subscription (an index lookup each), however many
    # readers the newsletter has.
    subscribed = Subscription.objects.mailable(newsletter_id).filter(subscriber=OuterRef("pk"))
    queryset = (
        Subscriber.objects.filter(Exists(subscribed), pk__in=stand_ins)
        .order_by()
        .values_list("pk", flat=True)
    )
    sql, params = queryset.query.sql_with_params()
    if any(list(params).count(stand_in) != 1 for stand_in in stand_ins):
        raise RuntimeError(f"cannot tell the subscribers' ids among {params!r}")
    return sql, tuple(params), tuple(params.index(stand_in) for stand_in in stand_ins)


def record(row: Delivery, token: str, **fields: object) -> None:
    """Save one row's outcome, only if this worker still holds its lease."""
    Delivery.objects.filter(pk=row.pk, claim_token=token).update(claim_token="", **fields)


def record_sent(row: Delivery, token: str, message_id: str, provider_message_id: str) -> None:
    """record(row, token, status=SENT, …) for the message just accepted, once per message
    sent: one prepared UPDATE, without building the same query with the ORM every time (which
    cost four times as much as running it)."""
    values = [
        Status.SENT,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        message_id,
        provider_message_id,
        row.pk,
        token,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_record_sent_sql(connection.vendor), values)


@functools.cache
def _record_sent_sql(vendor: str) -> str:
    name = connection.ops.quote_name
    table = name(Delivery._meta.db_table)
    fields = ("status", "sent_at", "message_id", "provider_message_id")
    sets = ", ".join(f"{name(field)} = %s" for field in fields)
    # Names quoted by the database backend, every value a parameter.
    return (
        f"UPDATE {table} SET {sets}, {name('last_error')} = '', {name('claim_token')} = ''"  # noqa: S608
        f" WHERE {name('id')} = %s AND {name('claim_token')} = %s"
    )


class LedgerUnwritable(Exception):
    """A sent message could not be recorded: sending stops (the database is in trouble)."""


class Recorder:
    """Records each message sent, one message behind the sending.

    A message is recorded on a thread of its own, with its own database connection, while
    the next one's envelope goes to the server; the next one's data is not sent (see
    newsletters.smtp) until that record has landed. So the ledger's wait for the disk
    overlaps the conversation with the mail server, and it is still true at every moment that
    at most one message the server has accepted is not yet recorded as sent: a crash
    duplicates at most that one, and it is the first unrecorded row of its batch (which is
    how the next claim knows which row to flag `uncertain`).

    Inside a caller's transaction the records are written on its connection at once instead,
    so that they are part of it.
    """

    def __init__(self) -> None:
        self.pool = None if connection.in_atomic_block else ThreadPoolExecutor(1, "ledger")
        self.pending: Future[None] | None = None

    def sent(self, row: Delivery, token: str, message_id: str, provider_message_id: str) -> None:
        """Record `row` as sent (after the record before it has landed)."""
        self.wait()
        if self.pool is None:
            record_sent(row, token, message_id, provider_message_id)
        else:
            self.pending = self.pool.submit(
                record_sent, row, token, message_id, provider_message_id
            )

    def wait(self) -> None:
        """Return once every message handed over is recorded; raise if one could not be."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        try:
            pending.result()
        except Exception as error:
            raise LedgerUnwritable(f"a sent message could not be recorded: {error}") from error

    def close(self) -> None:
        """Wait for the last record, then close the thread and its database connection."""
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.submit(connections.close_all).result()
                self.pool.shutdown()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.DELIVERY_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


class BatchSender:
    """Sends one claimed batch over one connection (SMTP, or a provider's API), reconnecting
    when it must, at the pace the shared send-rate limits allow."""

    def __init__(
        self,
        rendered: RenderedIssue,
        token: str,
        throttle: Throttle,
        recorder: Recorder,
        wire: WireMessage | None = None,
    ):
        self.rendered = rendered
        self.token = token
        self.throttle = throttle
        self.recorder = recorder
        self.connection = get_connection()
        # Django's SMTP backend keeps its smtplib connection as `connection`: the serialized
        # issue (`wire`) goes straight to it; any other backend gets an EmailMessage.
        self.wire = wire if isinstance(self.connection, SmtpBackend) else None
        self.sender = parseaddr(rendered.from_email)[1]
        # Over SMTP, bounces come back to a Return-Path of their own (see newsletters.bounces);
        # providers report them by webhook.
        self.verp = not settings.EMAIL_PROVIDER
        self.bounced = 0
        self.stopped_because = ""  # why sending stopped through no reader's fault
        self.made_ahead: dict[int, tuple[str, bytes]] = {}  # row id -> (Message-ID, bytes)
        self.checked_ahead: dict[int, set[int]] = {}  # index of a row -> still_wanted() from it

    def send(self, rows: list[Delivery]) -> bool:
        """Send every row; False if sending stopped through no reader's fault (the rest wait)."""
        # A slow server can make a batch outlive its lease, and another worker would then
        # send its rows again: past half its lease, a batch gives the rest back instead.
        give_back_at = timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS / 2)
        try:
            wanted: set[int] = set()
            for index, row in enumerate(rows):
                if timezone.now() >= give_back_at:
                    self.release(rows[index:], retry_in=0)
                    return True
                if index % RECHECK_EVERY == 0:
                    wanted = (
                        self.checked_ahead.pop(index)
                        if index in self.checked_ahead
                        else self.check(rows, index)
                    )
                self.throttle.wait_for_turn()
                if row.subscriber_id not in wanted:
                    record(row, self.token, status=Status.SKIPPED)
                    continue
                try:
                    self.connect()
                    self.send_one(row, functools.partial(self.get_ahead, rows, index + 1, wanted))
                except NotTheReadersFault as fault:
                    retry_in = settings.DELIVERY_RETRY_SECONDS
                    self.release(rows[index:], retry_in=retry_in, reason=f"{fault}; will retry")
                    self.stopped_because = str(fault)
                    return False
        finally:
            self.disconnect()
            self.recorder.wait()
        return True

    def connect(self) -> None:
        """Open the batch's connection unless it is open.

        Opened here, not by send_messages(), which would open and close one per message.
        """
        try:
            self.connection.open()
        except SEND_ERRORS as error:
            self.disconnect()
            raise NotTheReadersFault(f"the mail server is unreachable: {error}") from error

    def disconnect(self) -> None:
        with contextlib.suppress(*SEND_ERRORS):
            self.connection.close()

    def check(self, rows: list[Delivery], start: int) -> set[int]:
        """still_wanted() of the RECHECK_EVERY rows from `start`."""
        return still_wanted(rows[start : start + RECHECK_EVERY], self.rendered.newsletter_id)

    def get_ahead(self, rows: list[Delivery], index: int, wanted: set[int]) -> None:
        """While a message is with the server, the work of the next row's turn: the check of
        the next RECHECK_EVERY rows when it is due, the next message. Should either fail,
        the row's turn does it again, and the error is raised there."""
        self.made_ahead.clear()
        if index >= len(rows):
            return
        with contextlib.suppress(Exception):
            if index % RECHECK_EVERY == 0:
                wanted = self.checked_ahead[index] = self.check(rows, index)
            row = rows[index]
            if row.subscriber_id in wanted and self.wire and row.subscriber.email.isascii():
                self.made_ahead[row.pk] = self.wire_message(self.wire, row)

    def send_one(self, row: Delivery, meanwhile: Callable[[], None] | None = None) -> None:
        """Send `row`'s message and record the outcome; `meanwhile()` is called while the
        message is with the server, if the way it is sent leaves such a moment."""
        try:
            message_id, provider_id = self.transmit(row, meanwhile)
        except smtplib.SMTPSenderRefused as error:
            # About us (a relay misconfigured, a rate limit), never about this reader.
            detail = classify(error).detail
            raise NotTheReadersFault(f"the server refused our sender: {detail}") from error
        except SEND_ERRORS as error:
            self.failed(row, classify(error))
            return
        self.throttle.went_well()
        self.recorder.sent(row, self.token, message_id, provider_id)

    def transmit(
        self, row: Delivery, meanwhile: Callable[[], None] | None = None
    ) -> tuple[str, str]:
        """Send the row's email: its Message-ID, and the provider's id for it if any."""
        address = row.subscriber.email
        envelope = return_path(row.pk) if self.verp else None
        if self.wire is not None and address.isascii():
            # Over SMTP: its envelope sent while the previous message is being recorded, its
            # data once it is, and the next one made while the server reads this one.
            made = self.made_ahead.pop(row.pk, None)
            message_id, data = made or self.wire_message(self.wire, row)
            send_held(
                self.connection.connection,
                envelope or self.sender,
                address,
                data,
                before_data=self.recorder.wait,
                meanwhile=meanwhile,
            )
            return message_id, ""
        message = self.rendered.message_for(row.subscriber, connection=self.connection)
        if envelope:
            message.extra_headers["From"] = message.from_email
            message.from_email = envelope
        self.recorder.wait()  # a message that goes in one piece waits for the last record
        self.connection.send_messages([message])
        status = getattr(message, "anymail_status", None)
        return message.extra_headers["Message-ID"], (status and status.message_id) or ""

    def wire_message(self, wire: WireMessage, row: Delivery) -> tuple[str, bytes]:
        """(Message-ID, bytes) of the row's email: the issue serialized once, this reader's
        parts replaced."""
        links = self.rendered.personal_links(row.subscriber)
        return wire.for_reader(row.subscriber.email, links)

    def failed(self, row: Delivery, outcome: Outcome) -> None:
        if outcome.reconnect:
            self.disconnect()  # the next message opens a fresh connection
        if outcome.verdict is Verdict.REFUSED:
            record(row, self.token, status=Status.BOUNCED, last_error=outcome.detail)
            suppress(row.subscriber, Suppression.Reason.BOUNCED)
            self.bounced += 1
            return
        if outcome.verdict is Verdict.PUSHED_BACK:
            self.throttle.server_pushed_back()
        attempts = row.attempts + 1
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            record(
                row, self.token, status=Status.FAILED, attempts=attempts, last_error=outcome.detail
            )
        else:
            record(
                row,
                self.token,
                status=Status.PENDING,
                attempts=attempts,
                next_attempt_at=timezone.now() + backoff(attempts),
                last_error=outcome.detail,
            )

    def release(self, rows: list[Delivery], *, retry_in: float, reason: str = "") -> None:
        """Give rows back untried (sending stopped, the lease runs short): no attempt is
        counted."""
        later = timezone.now() + timedelta(seconds=retry_in)
        Delivery.objects.filter(pk__in=[row.pk for row in rows], claim_token=self.token).update(
            status=Status.PENDING,
            claim_token="",
            next_attempt_at=later,
            **({"last_error": reason} if reason else {}),
        )


def stopped(ledger: Ledger, reason: str) -> None:
    """Say on the run why it is waiting, for the editor's delivery panel."""
    logger.warning("Sending %s stopped: %s", ledger.run.first(), reason)
    ledger.run.filter(state=IssueSend.State.SENDING).update(pause_reason=reason[:500])


class Stopped(enum.StrEnum):
    """Why deliver() returned."""

    DONE = "done"  # no row is due now: the run is finished, or the rest waits (retries, leases)
    WAITING = "waiting"  # sending stopped through no reader's fault: the sweep tries again
    PAUSED = "paused"  # an editor resumes it


def deliver(issue_id: int) -> Stopped:
    """Send every due row of an issue, batch by batch; returns why it stopped."""
    return deliver_run(Ledger.of_issue(issue_id), render_issue(IssuePage.objects.get(pk=issue_id)))


def deliver_run(ledger: Ledger, rendered: RenderedIssue) -> Stopped:
    """Send every due row of a run's ledger, each reader the `rendered` email, batch by
    batch; returns why it stopped."""
    wire = rendered.wire()
    throttle = Throttle()
    recorder = Recorder()
    try:
        while True:
            if ledger.is_paused():
                return Stopped.PAUSED  # an editor resumes it
            token, rows = claim_batch(ledger.rows, settings.DELIVERY_BATCH_SIZE)
            if not rows:
                finish_if_done(ledger)
                return Stopped.DONE
            sender = BatchSender(rendered, token, throttle, recorder, wire)
            if not sender.send(rows):  # returns with every row it sent recorded
                stopped(ledger, sender.stopped_because)
                return Stopped.WAITING  # the sweep tries again
            ledger.run.filter(state=IssueSend.State.SENDING).exclude(pause_reason="").update(
                pause_reason=""
            )
            if sender.bounced and ledger.issue_id is not None:
                pausing.pause_if_over_thresholds(ledger.issue_id)
    finally:
        recorder.close()


def finish_if_done(ledger: Ledger) -> bool:
    """Mark the run finished once no row is left to send; never while any is pending.

    One conditional UPDATE, so that rows put back to pending meanwhile ("retry failed")
    keep the run open for the sweep.
    """
    unfinished = ledger.rows.filter(status__in=[Status.PENDING, Status.SENDING])
    finished = ledger.run.filter(state=IssueSend.State.SENDING).exclude(Exists(unfinished))
    return bool(finished.update(state=IssueSend.State.SENT, finished_at=timezone.now()))
