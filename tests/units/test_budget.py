"""The shared Telegram budget on a fake clock: answers first, one allowance for the sum, pauses.

The limits are checked against Telegram's own (30 in any second, one a second per private chat,
20 a minute per group), not against the budget's constants, so a margin set below them fails.
"""

import asyncio
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.budget import CHAT_BURST, Lane, TelegramBudget

TELEGRAM_OVERALL = 30
TELEGRAM_CHAT_SECOND = 1.0
TELEGRAM_GROUP_MINUTE = 20


class FakeTime:
    """A monotonic clock that moves only when everyone is asleep: to the earliest wake-up."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """The budget's sleep: wait until the fake clock reads `seconds` later."""
        assert seconds > 0, "the budget slept for no time: it would spin"
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def settle(self) -> None:
        """Let every task run until it waits for this clock (or for nothing it can get)."""
        for _ in range(30):
            await asyncio.sleep(0)  # a turn of the event loop: no time passes, real or fake

    async def run(self, tasks: Iterable["asyncio.Task[Any]"], until: float | None = None) -> None:
        """Let the tasks run, moving time on, until they are done (or the clock reads `until`)."""
        pending = list(tasks)
        while True:
            await self.settle()
            if all(task.done() for task in pending):
                return
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # cancelled
            assert self._sleepers, "tasks wait for something that is not time"
            deadline, _, woken = self._sleepers[0]
            if until is not None and deadline > until:
                self.now = until
                return
            heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            woken.set_result(None)


@dataclass
class Sent:
    lane: Lane
    chat_id: int
    at: float
    paid: bool = False


class Telegram:
    """What reaches Telegram through the budget, with when; `refuse` answers 429 once."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.sent: list[Sent] = []
        self.refuse_next: float | None = None

    async def call(self, lane: Lane, chat_id: int, paid: bool) -> bool:
        if self.refuse_next is not None:
            seconds, self.refuse_next = self.refuse_next, None
            raise RetryAfter(timedelta(seconds=seconds))
        self.sent.append(Sent(lane, chat_id, self.time.now, paid))
        return True


def budget_on(time: FakeTime, *, overall: float = 30, bulk: float = 25) -> TelegramBudget:
    return TelegramBudget(overall_rate=overall, bulk_rate=bulk, clock=time, sleep=time.sleep)


def send(
    budget: TelegramBudget, telegram: Telegram, lane: Lane, chat_id: int, *, paid: bool = False
) -> "asyncio.Task[Any]":
    data: dict[str, Any] = {"chat_id": chat_id, "text": "…"}
    if paid:
        data["allow_paid_broadcast"] = True
    return asyncio.create_task(
        budget.process_request(
            callback=telegram.call,
            args=(lane, chat_id, paid),
            kwargs={},
            endpoint="sendMessage",
            data=data,
            rate_limit_args=lane,
        )
    )


def most_in_any_second(times: list[float]) -> int:
    return max((sum(1 for u in times if start <= u < start + 1.0) for start in times), default=0)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


async def test_bulk_sends_alone_go_evenly_at_the_broadcast_rate(time: FakeTime) -> None:
    budget, telegram = budget_on(time, bulk=25), Telegram(time)

    await time.run([send(budget, telegram, Lane.BULK, chat) for chat in range(1, 301)])

    times = [s.at for s in telegram.sent]
    assert len(times) == 300
    assert most_in_any_second(times) <= 25
    assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(1 / 25)
    assert 300 / (times[-1] - times[0]) > 0.95 * 25  # and no slower than the rate


async def test_answers_go_before_bulk_sends_already_waiting(time: FakeTime) -> None:
    # The broadcast alone may use the whole allowance; answers then take the next room in it.
    budget, telegram = budget_on(time, overall=30, bulk=30), Telegram(time)
    bulk = [send(budget, telegram, Lane.BULK, chat) for chat in range(1, 201)]
    await time.run(bulk, until=time.now + 2.5)  # the window is full of bulk sends
    asked_at = time.now

    answers = [send(budget, telegram, Lane.ANSWER, 5000 + n) for n in range(5)]
    await time.run(answers)

    answered = [s for s in telegram.sent if s.lane is Lane.ANSWER]
    after = [s for s in telegram.sent if s.at >= asked_at]
    assert [s.lane for s in after[:5]] == [Lane.ANSWER] * 5, "a bulk send went first"
    assert max(s.at for s in answered) - asked_at < 0.25
    await time.run(bulk)
    unpaid = [s.at for s in telegram.sent]
    assert most_in_any_second(unpaid) <= TELEGRAM_OVERALL  # the sum keeps the allowance


async def test_answers_and_bulk_together_keep_one_allowance(time: FakeTime) -> None:
    budget, telegram = budget_on(time, overall=30, bulk=25), Telegram(time)
    bulk = [send(budget, telegram, Lane.BULK, chat) for chat in range(1, 251)]
    answers = []
    for n in range(60):  # twelve answers a second for five seconds, to different people
        await time.run(bulk, until=time.now + 1 / 12)
        answers.append(send(budget, telegram, Lane.ANSWER, 7000 + n))

    await time.run(bulk + answers)

    assert most_in_any_second([s.at for s in telegram.sent]) <= TELEGRAM_OVERALL
    in_storm = [s for s in telegram.sent if s.lane is Lane.BULK and s.at <= 1000.0 + 5]
    assert len(in_storm) / 5 >= 17  # bulk takes what answers leave: 30 - 12 a second, near


async def test_one_chat_gets_a_short_burst_of_answers_then_one_a_second(time: FakeTime) -> None:
    budget, telegram = budget_on(time), Telegram(time)

    await time.run([send(budget, telegram, Lane.ANSWER, 42) for _ in range(6)])

    times = [s.at for s in telegram.sent]
    assert times[:CHAT_BURST] == [times[0]] * CHAT_BURST
    assert all(b - a >= TELEGRAM_CHAT_SECOND for a, b in itertools.pairwise(times[2:]))
    others = [send(budget, telegram, Lane.ANSWER, 43)]  # another chat is not held up
    before = time.now
    await time.run(others)
    assert telegram.sent[-1].at == before


async def test_bulk_sends_to_one_chat_keep_to_one_a_second(time: FakeTime) -> None:
    budget, telegram = budget_on(time), Telegram(time)
    await time.run([send(budget, telegram, Lane.ANSWER, 42)])
    assert budget.bulk_ready(42)  # an answer just went: within the chat's short burst

    await time.run([send(budget, telegram, Lane.BULK, 42) for _ in range(3)])

    bulk = [s.at for s in telegram.sent if s.lane is Lane.BULK]
    assert bulk[0] == telegram.sent[0].at
    assert all(b - a >= TELEGRAM_CHAT_SECOND for a, b in itertools.pairwise(bulk))
    assert not budget.bulk_ready(42)
    assert budget.bulk_ready(7)


async def test_a_group_gets_twenty_a_minute(time: FakeTime) -> None:
    budget, telegram = budget_on(time), Telegram(time)

    await time.run([send(budget, telegram, Lane.ANSWER, -100123) for _ in range(22)])

    times = [s.at for s in telegram.sent]
    assert times[TELEGRAM_GROUP_MINUTE - 1] - times[0] < 60
    assert times[TELEGRAM_GROUP_MINUTE] - times[0] >= 60


async def test_a_429_on_a_bulk_send_pauses_answers_for_exactly_its_retry_after(
    time: FakeTime,
) -> None:
    budget, telegram = budget_on(time), Telegram(time)
    telegram.refuse_next = 7.0
    refused = send(budget, telegram, Lane.BULK, 1)
    await time.run([refused])
    assert isinstance(refused.exception(), RetryAfter)  # the outbox takes its row again
    paused_at = time.now

    await time.run([send(budget, telegram, Lane.ANSWER, 2), send(budget, telegram, Lane.BULK, 3)])

    assert [(s.lane, s.at - paused_at) for s in telegram.sent] == [
        (Lane.ANSWER, 7.0),
        (Lane.BULK, 7.0),
    ]


async def test_a_429_on_an_answer_pauses_bulk_and_the_answer_is_sent_after_it(
    time: FakeTime,
) -> None:
    budget, telegram = budget_on(time), Telegram(time)
    telegram.refuse_next = 3.0
    answer = send(budget, telegram, Lane.ANSWER, 2)
    await time.settle()
    bulk = send(budget, telegram, Lane.BULK, 3)

    await time.run([answer, bulk])

    assert answer.result() is True  # sent again after the pause, not lost
    assert [(s.lane, s.at) for s in telegram.sent] == [
        (Lane.ANSWER, 1003.0),
        (Lane.BULK, 1003.0),
    ]


async def test_paid_bulk_sends_have_their_own_allowance_and_answers_keep_theirs(
    time: FakeTime,
) -> None:
    budget, telegram = budget_on(time, overall=30, bulk=100), Telegram(time)
    bulk = [send(budget, telegram, Lane.BULK, chat, paid=True) for chat in range(1, 401)]
    await time.run(bulk, until=time.now + 1.5)
    asked_at = time.now

    answers = [send(budget, telegram, Lane.ANSWER, 9000 + n) for n in range(30)]
    await time.run(answers)
    await time.run(bulk)

    assert [s.at for s in telegram.sent if s.lane is Lane.ANSWER] == [asked_at] * 30
    paid = [s.at for s in telegram.sent if s.paid]
    assert most_in_any_second(paid) <= 100
    assert 400 / (paid[-1] - paid[0]) > 0.95 * 100


async def test_a_sender_that_gives_up_takes_no_room(time: FakeTime) -> None:
    budget, telegram = budget_on(time), Telegram(time)
    await time.run([send(budget, telegram, Lane.ANSWER, 42) for _ in range(CHAT_BURST)])
    given_up = send(budget, telegram, Lane.ANSWER, 42)  # waits for the chat's second
    await time.settle()

    given_up.cancel()
    await time.run([send(budget, telegram, Lane.ANSWER, 42)])

    assert len(telegram.sent) == CHAT_BURST + 1


class SlowTelegram(Telegram):
    """Requests take their time to reach Telegram: the first ones slowly, the later ones at
    once, as on a machine that was busy a moment ago."""

    def __init__(self, time: FakeTime, slow: int, on_the_way: float) -> None:
        super().__init__(time)
        self.slow = slow
        self.on_the_way = on_the_way
        self.calls = 0

    async def call(self, lane: Lane, chat_id: int, paid: bool) -> bool:
        self.calls += 1
        if self.calls <= self.slow:
            await self.time.sleep(self.on_the_way)  # on the fake clock: a slow network, modelled
        return await super().call(lane, chat_id, paid)


async def test_messages_that_reach_telegram_late_do_not_crowd_the_next_second(
    time: FakeTime,
) -> None:
    budget = budget_on(time, overall=30, bulk=30)
    # The first 30 arrive half a second after they were let go: the next 30 must wait for them.
    telegram = SlowTelegram(time, slow=30, on_the_way=0.5)

    await time.run([send(budget, telegram, Lane.ANSWER, chat) for chat in range(1, 91)])

    assert len(telegram.sent) == 90
    assert most_in_any_second([s.at for s in telegram.sent]) <= TELEGRAM_OVERALL


async def test_a_message_on_its_way_longer_than_a_second_still_counts(time: FakeTime) -> None:
    budget = budget_on(time, overall=30, bulk=30)
    telegram = SlowTelegram(time, slow=30, on_the_way=1.5)

    await time.run([send(budget, telegram, Lane.ANSWER, chat) for chat in range(1, 61)])

    assert most_in_any_second([s.at for s in telegram.sent]) <= TELEGRAM_OVERALL


async def test_a_message_to_a_chat_on_its_way_longer_than_a_second_holds_the_next_one(
    time: FakeTime,
) -> None:
    # No burst in the chat: Telegram's one message a second, strictly. (Found by
    # tests/chat/test_sending_budget.py measuring the sends on a busy machine.)
    budget = TelegramBudget(
        overall_rate=30, bulk_rate=25, chat_burst=1, clock=time, sleep=time.sleep
    )
    telegram = SlowTelegram(time, slow=1, on_the_way=1.5)
    first = send(budget, telegram, Lane.BULK, 42)
    await time.settle()

    await time.run([first, send(budget, telegram, Lane.ANSWER, 42)])

    sooner, later = sorted(s.at for s in telegram.sent)
    assert later - sooner >= TELEGRAM_CHAT_SECOND
