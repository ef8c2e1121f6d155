"""The pacer on a fake clock: sleeping moves the clock instead of waiting, so nothing waits."""

import itertools
from collections.abc import Callable

import pytest

from bot.pacing import PER_CHAT_INTERVAL, WINDOW, Pacer

RATE = 30


class FakeClock:
    """A monotonic clock that moves only when the pacer sleeps (or a test moves it)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the pacer slept for no time: it would spin"
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], FakeClock]:
    """A fake clock reading `start`, whose sleep stands in for the pacer's asyncio.sleep."""

    def install(start: float) -> FakeClock:
        clock = FakeClock(start)
        monkeypatch.setattr("bot.pacing.asyncio.sleep", clock.sleep)
        return clock

    return install


def most_in_one_window(times: list[float]) -> int:
    """The most takes in any window [t, t + WINDOW) that starts at a take."""
    return max(sum(1 for u in times if start <= u < start + WINDOW) for start in times)


async def takes(pacer: Pacer, clock: FakeClock, chats: range) -> list[float]:
    """Take a place for each chat in turn, as the worker does; the clock reading at each."""
    times = []
    for chat_id in chats:
        await pacer.take(chat_id)
        times.append(clock.now)
    return times


# --- The overall rate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    # Starting times at which float rounding once let a full window through.
    [
        0.0,
        1000.0,
        12345.678,
    ],
)
async def test_three_hundred_sends_keep_to_thirty_a_window(
    clock_at: Callable[[float], FakeClock], start: float
) -> None:
    clock = clock_at(start)
    pacer = Pacer(RATE, clock=clock)

    times = await takes(pacer, clock, range(300))

    assert most_in_one_window(times) == RATE
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(1 / RATE, rel=1e-9)  # evenly spaced, never a burst
    # Spaced 1/30 s apart, each thirty-first take waits for the window: 300 in ten windows.
    assert times[-1] - start == pytest.approx(9 * WINDOW + 29 / RATE, rel=1e-9)


async def test_sends_are_spaced_evenly_rather_than_sent_in_a_burst(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(12345.678)
    pacer = Pacer(RATE, clock=clock)

    times = await takes(pacer, clock, range(RATE))

    assert times == [pytest.approx(12345.678 + n / RATE, rel=1e-12) for n in range(RATE)]


async def test_a_full_window_holds_the_next_send_until_its_oldest_leaves(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(0.0)
    pacer = Pacer(3, clock=clock)
    await takes(pacer, clock, range(3))  # at 0, 1/3 and 2/3: the window is full

    await pacer.take(4)

    # Spacing alone would allow 1.0; the window keeps it until the take at 0.0 has left.
    assert clock.now == pytest.approx(WINDOW)


# --- One a second per chat ----------------------------------------------------------------


async def test_a_chat_is_ready_again_a_per_chat_interval_after_its_last_send(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(0.0)
    pacer = Pacer(RATE, clock=clock)
    assert pacer.chat_ready(7)  # never sent to

    await pacer.take(7)

    assert not pacer.chat_ready(7)
    assert pacer.chat_ready(8)  # other chats are not held up
    clock.now = PER_CHAT_INTERVAL - 0.001
    assert not pacer.chat_ready(7)
    clock.now = PER_CHAT_INTERVAL
    assert pacer.chat_ready(7)
    clock.now = PER_CHAT_INTERVAL + 5
    assert pacer.chat_ready(7)


async def test_a_chat_counts_from_its_latest_send(clock_at: Callable[[float], FakeClock]) -> None:
    clock = clock_at(0.0)
    pacer = Pacer(RATE, clock=clock)
    await pacer.take(7)
    clock.now = 2.0
    await pacer.take(7)

    clock.now = 2.0 + PER_CHAT_INTERVAL / 2

    assert not pacer.chat_ready(7)


# --- Pauses after a 429 ---------------------------------------------------------------------


async def test_a_pause_holds_the_next_send_until_it_ends(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(100.0)
    pacer = Pacer(RATE, clock=clock)
    await pacer.take(1)

    pacer.pause(5.0)
    await pacer.take(2)

    assert clock.now == 105.0
    assert not pacer.chat_ready(2)  # it counts as sent at the end of the pause


async def test_a_shorter_pause_does_not_shorten_a_longer_one(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(100.0)
    pacer = Pacer(RATE, clock=clock)
    pacer.pause(10.0)  # until 110
    clock.now = 101.0

    pacer.pause(2.0)  # until 103: within the first
    await pacer.take(1)

    assert clock.now == 110.0


async def test_a_later_pause_that_ends_later_extends_it(
    clock_at: Callable[[float], FakeClock],
) -> None:
    clock = clock_at(100.0)
    pacer = Pacer(RATE, clock=clock)
    pacer.pause(3.0)  # until 103
    clock.now = 102.0

    pacer.pause(4.0)  # until 106
    await pacer.take(1)

    assert clock.now == 106.0


async def test_a_pause_that_has_ended_holds_nothing(clock_at: Callable[[float], FakeClock]) -> None:
    clock = clock_at(100.0)
    pacer = Pacer(RATE, clock=clock)
    pacer.pause(3.0)
    clock.now = 104.0

    await pacer.take(1)

    assert clock.now == 104.0
    assert clock.sleeps == []
