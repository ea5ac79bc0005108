"""Send-rate limits shared by every worker: DELIVERY_RATE_PER_SECOND and DELIVERY_RATE_PER_HOUR.

Providers cap how fast an account may send, and a relay that is pushed too hard answers 421 or
451. All workers book their messages on one shared schedule, kept in the database on the
embedded default and in Redis when the workers run on RQ (TASKS_BACKEND=rq), so that the limit
holds across machines:

- per second, messages are spaced evenly: each booking moves a shared "next free slot" on by
  one interval per message (the generic cell rate algorithm), and a worker waits for its slot;
- per hour, a counter per clock hour; a full hour makes everyone wait for the next.

A worker that fell behind (a slow message, a busy machine) may catch up on at most a quarter
of a second of missed slots, so that the rate holds on average without bursts. A burst of 421/451
(or HTTP 429) halves the per-second rate, at most once a second; it comes back by half every
two quiet seconds. With neither limit set nothing is booked, and a worker that is pushed back
only waits a little before its next message (`Backoff`).
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletters.models import SendRateWindow

SLOWEST = 0.1  # the per-second rate never drops below a tenth of its setting
SLOW_DOWN = 0.5
RECOVER = 1.5
QUIET_SECONDS = 2
AHEAD_SECONDS = 1.0  # how far ahead of now a worker may book
BEHIND_SECONDS = 0.25  # how far behind now the schedule may stay, for catching up


@dataclass(frozen=True)
class Limits:
    per_second: int
    per_hour: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(settings.DELIVERY_RATE_PER_SECOND, settings.DELIVERY_RATE_PER_HOUR)

    @property
    def any(self) -> bool:
        return bool(self.per_second or self.per_hour)

    def chunk(self) -> int:
        """How many messages a worker books at once: a fifth of a second's worth, so that
        booking costs little beside sending and the slots still spread across workers."""
        return max(1, self.per_second // 5) if self.per_second else 50


@dataclass(frozen=True)
class Booking:
    """`count` messages may go, the first after `delay` seconds and the rest at `interval`.
    A count of 0: none may, ask again after `delay`."""

    count: int
    delay: float
    interval: float = 0.0


def hour_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


class DatabaseCounter:
    """The shared schedule as two rows, changed one transaction at a time."""

    def book(self, want: int, limits: Limits) -> Booking:
        now = timezone.now()
        with transaction.atomic():
            pace, hour = self._rows(now)
            allowed = min(want, limits.per_hour - hour.used) if limits.per_hour else want
            if allowed <= 0:
                return Booking(0, (hour.started_at + timedelta(hours=1) - now).total_seconds())
            booking = Booking(allowed, 0.0)
            if limits.per_second:
                booking = self._pace(pace, limits, allowed, now)
                pace.save(update_fields=["started_at", "factor", "slowed_at"])
            if booking.count:
                hour.used += booking.count
                hour.save(update_fields=["started_at", "used"])
        return booking

    def slow_down(self) -> None:
        now = timezone.now()
        with transaction.atomic():
            pace, _ = self._rows(now)
            if pace.slowed_at and now - pace.slowed_at < timedelta(seconds=1):
                return  # one burst, one step down
            pace.factor = max(SLOWEST, pace.factor * SLOW_DOWN)
            pace.slowed_at = now
            pace.save(update_fields=["factor", "slowed_at"])

    @staticmethod
    def _rows(now: datetime) -> tuple[SendRateWindow, SendRateWindow]:
        # "pace": started_at is the next free slot. "hour": the clock hour and its count.
        pace, _ = SendRateWindow.objects.select_for_update().get_or_create(
            name="pace", defaults={"started_at": now}
        )
        hour, _ = SendRateWindow.objects.select_for_update().get_or_create(
            name="hour", defaults={"started_at": hour_start(now)}
        )
        if hour.started_at != hour_start(now):
            hour.started_at, hour.used = hour_start(now), 0
        return pace, hour

    @staticmethod
    def _pace(pace: SendRateWindow, limits: Limits, want: int, now: datetime) -> Booking:
        quiet = pace.slowed_at is None or (now - pace.slowed_at).total_seconds() >= QUIET_SECONDS
        if pace.factor < 1 and quiet:
            pace.factor = min(1.0, pace.factor * RECOVER)
            pace.slowed_at = now
        interval = 1 / max(limits.per_second * pace.factor, 0.1)
        first = max(pace.started_at, now - timedelta(seconds=BEHIND_SECONDS))
        delay = max((first - now).total_seconds(), 0.0)
        if delay > AHEAD_SECONDS:
            return Booking(0, delay - AHEAD_SECONDS)
        pace.started_at = first + timedelta(seconds=interval * want)
        return Booking(want, delay, interval)


# The same rules in one Lua script, so that Redis applies them atomically for every machine,
# on its own clock. KEYS: the pace state, the hour's counter prefix.
# ARGV: want, per_second (0: none), per_hour (0: none), AHEAD_SECONDS, BEHIND_SECONDS.
# Returns {count, delay in µs, interval in µs}.
BOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local want, per_second, per_hour = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ahead, behind = tonumber(ARGV[4]), tonumber(ARGV[5])
local hour_key = KEYS[2] .. ':' .. math.floor(now / 3600)
local allowed = want
if per_hour > 0 then
  allowed = math.min(want, per_hour - tonumber(redis.call('GET', hour_key) or '0'))
  if allowed <= 0 then return {0, math.ceil((3600 - now % 3600) * 1e6), 0} end
end
local delay, interval = 0, 0
if per_second > 0 then
  local factor = tonumber(redis.call('HGET', KEYS[1], 'factor') or '1')
  local slowed = tonumber(redis.call('HGET', KEYS[1], 'slowed') or '0')
  if factor < 1 and now - slowed >= 2 then
    factor = math.min(1, factor * 1.5)
    slowed = now
  end
  interval = 1 / math.max(per_second * factor, 0.1)
  local first = math.max(tonumber(redis.call('HGET', KEYS[1], 'next') or '0'), now - behind)
  delay = math.max(first - now, 0)
  if delay > ahead then return {0, math.ceil((delay - ahead) * 1e6), 0} end
  redis.call('HSET', KEYS[1], 'next', first + interval * allowed, 'factor', factor,
             'slowed', slowed)
  redis.call('EXPIRE', KEYS[1], 86400)
end
if per_hour > 0 then
  redis.call('INCRBY', hour_key, allowed)
  redis.call('EXPIRE', hour_key, 7300)
end
return {allowed, math.floor(delay * 1e6), math.floor(interval * 1e6)}
"""

SLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local slowed = tonumber(redis.call('HGET', KEYS[1], 'slowed') or '0')
if now - slowed < 1 then return 0 end
local factor = tonumber(redis.call('HGET', KEYS[1], 'factor') or '1')
redis.call('HSET', KEYS[1], 'factor', math.max(0.1, factor * 0.5), 'slowed', now)
return 1
"""


class RedisCounter:
    """The shared schedule in Redis, for workers on several machines."""

    PREFIX = "outlet:send-rate"

    def __init__(self, url: str):
        import redis

        client = redis.Redis.from_url(url)
        self._book = client.register_script(BOOK)
        self._slow = client.register_script(SLOW)
        self.keys = [f"{self.PREFIX}:pace", f"{self.PREFIX}:hour"]

    def book(self, want: int, limits: Limits) -> Booking:
        count, delay, interval = self._book(
            keys=self.keys,
            args=[want, limits.per_second, limits.per_hour, AHEAD_SECONDS, BEHIND_SECONDS],
        )
        return Booking(int(count), int(delay) / 1e6, int(interval) / 1e6)

    def slow_down(self) -> None:
        self._slow(keys=[self.keys[0]])


def shared_counter() -> DatabaseCounter | RedisCounter:
    if settings.TASKS_BACKEND == "rq":
        return RedisCounter(str(settings.RQ_QUEUES["default"]["URL"]))
    return DatabaseCounter()


class Throttle:
    """One worker's side of the shared limits: it books a few messages at a time."""

    def __init__(self, limits: Limits | None = None, counter=None, sleep=time.sleep):
        self.limits = limits or Limits.from_settings()
        self.counter = counter or (shared_counter() if self.limits.any else None)
        self.sleep = sleep
        self.booked: list[float] = []  # when each booked message may go (monotonic clock)
        self.backoff = Backoff(sleep)

    def wait_for_turn(self) -> None:
        """Return when this worker may send one more message."""
        self.backoff.wait()
        if self.counter is None:
            return
        while not self.booked:
            booking = self.counter.book(self.limits.chunk(), self.limits)
            if booking.count == 0:
                self.sleep(max(booking.delay, 0.01))
                continue
            start = time.monotonic() + booking.delay
            self.booked = [start + n * booking.interval for n in range(booking.count)]
        slot = self.booked.pop(0)
        if (wait := slot - time.monotonic()) > 0:
            self.sleep(wait)

    def server_pushed_back(self) -> None:
        """The server answered 421/451 (or the provider 429): send more slowly, all workers
        together where there is a shared schedule, else this one."""
        if self.counter is not None:
            self.counter.slow_down()
        else:
            self.backoff.pushed_back()

    def went_well(self) -> None:
        self.backoff.reset()


class Backoff:
    """A worker's own pause after a server pushed back: half a second, doubling while pushback
    continues (at most 4 s), none once a message goes through."""

    def __init__(self, sleep=time.sleep):
        self.sleep = sleep
        self.seconds = 0.0

    def pushed_back(self) -> None:
        self.seconds = min(4.0, self.seconds * 2 or 0.5)

    def reset(self) -> None:
        self.seconds = 0.0

    def wait(self) -> None:
        if self.seconds:
            self.sleep(self.seconds)
