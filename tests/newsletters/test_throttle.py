"""The send-rate limits every worker shares: paced per second, capped per hour, slowed by
pushback. Time is moved by time-machine; the workers' sleeps are recorded, not slept."""

import pytest
import time_machine

from newsletters.models import SendRateWindow
from newsletters.throttle import Booking, DatabaseCounter, Limits, RedisCounter, Throttle

pytestmark = pytest.mark.django_db

START = "2026-11-29 10:15:00+00:00"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_messages_are_booked_evenly_spaced_at_the_rate(clock):
    counter, limits = DatabaseCounter(), Limits(per_second=10, per_hour=0)

    first = counter.book(2, limits)
    second = counter.book(2, limits)

    assert first == Booking(2, 0.0, 0.1)
    assert second == Booking(2, pytest.approx(0.2), pytest.approx(0.1))


def test_no_worker_books_more_than_a_second_ahead(clock):
    counter, limits = DatabaseCounter(), Limits(per_second=10, per_hour=0)
    for _ in range(6):
        counter.book(2, limits)  # 1.2 seconds' worth

    refused = counter.book(2, limits)

    assert refused.count == 0 and refused.delay == pytest.approx(0.2)
    clock.shift(0.3)
    assert counter.book(1, limits).count == 1


def test_a_full_hour_makes_everyone_wait_for_the_next(clock):
    counter, limits = DatabaseCounter(), Limits(per_second=0, per_hour=5)
    assert counter.book(4, limits).count == 4
    assert counter.book(4, limits).count == 1  # what is left of the hour

    waiting = counter.book(1, limits)

    assert waiting.count == 0
    assert waiting.delay == pytest.approx(45 * 60)  # 10:15 → 11:00
    clock.move_to("2026-11-29 11:00:01+00:00")
    assert counter.book(4, limits).count == 4


def test_a_worker_that_fell_behind_catches_up_a_quarter_second_at_most(clock):
    counter, limits = DatabaseCounter(), Limits(per_second=20, per_hour=0)
    counter.book(1, limits)
    clock.shift(5)  # nothing booked for five seconds

    catching_up = [counter.book(1, limits).delay for _ in range(7)]

    assert catching_up[:6] == [0.0] * 6  # a quarter second's worth (5) at once, and now's
    assert catching_up[6] == pytest.approx(0.05)


def test_pushback_halves_the_pace_once_a_second_and_it_recovers_when_quiet(clock):
    counter, limits = DatabaseCounter(), Limits(per_second=10, per_hour=0)
    counter.book(1, limits)

    counter.slow_down()
    counter.slow_down()  # the same burst
    assert SendRateWindow.objects.get(name="pace").factor == 0.5
    clock.shift(1.5)
    assert counter.book(1, limits).interval == pytest.approx(0.2)

    counter.slow_down()  # pushed back again, a second later
    assert SendRateWindow.objects.get(name="pace").factor == 0.25
    clock.shift(3)  # quiet
    assert counter.book(1, limits).interval == pytest.approx(1 / (10 * 0.375))


def test_the_redis_schedule_follows_the_same_rules(redis_url):
    counter, limits = RedisCounter(redis_url), Limits(per_second=10, per_hour=5)

    first, second, third = (counter.book(2, limits) for _ in range(3))
    assert (first.count, second.count, third.count) == (2, 2, 1)
    assert first.interval == pytest.approx(0.1)
    assert third.delay > 0  # past the quarter second it may catch up
    assert counter.book(1, limits).count == 0  # the hour is full

    counter.slow_down()
    assert RedisCounter(redis_url).book(1, Limits(per_second=10, per_hour=0)).interval == (
        pytest.approx(0.2)
    )


class FakeCounter:
    def __init__(self, bookings):
        self.bookings = list(bookings)
        self.asked = 0

    def book(self, want, limits):
        self.asked += 1
        return self.bookings.pop(0)

    def slow_down(self):
        pass


def test_a_worker_waits_for_its_slots_and_asks_again_when_refused():
    slept = []
    counter = FakeCounter([Booking(0, 0.4), Booking(2, 0.0, 0.05)])
    throttle = Throttle(Limits(per_second=20, per_hour=0), counter, sleep=slept.append)

    throttle.wait_for_turn()
    throttle.wait_for_turn()

    assert counter.asked == 2
    assert slept[0] == 0.4
    assert len(slept) == 2 and 0 < slept[1] <= 0.05


def test_without_limits_nothing_is_booked_and_pushback_only_pauses_the_worker():
    slept = []
    throttle = Throttle(Limits(per_second=0, per_hour=0), sleep=slept.append)

    throttle.wait_for_turn()
    throttle.server_pushed_back()
    throttle.wait_for_turn()
    throttle.server_pushed_back()
    throttle.wait_for_turn()
    throttle.went_well()
    throttle.wait_for_turn()

    assert throttle.counter is None
    assert slept == [0.5, 1.0]
