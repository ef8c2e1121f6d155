"""One budget for everything the bot sends to Telegram: answers to people first, bulk after.

Telegram allows a bot about 30 messages a second in all, one a second to a private chat (a
short burst is tolerated), 20 a minute to a group, and answers a 429 with `retry_after` when a
bot asks for more, stopping the whole bot for that long. Both bots of the process (the one that
answers people and the outbox worker's) share one `TelegramBudget`, python-telegram-bot's rate
limiter extension point, so the two together keep those limits.

Bulk sends (the outbox worker passes `rate_limit_args=Lane.BULK`) are spaced evenly at the
broadcast rate and take only what answers leave free: while an answer waits for room in the
overall allowance, no unpaid bulk send takes it. Bulk sends carrying `allow_paid_broadcast`
(Telegram's paid broadcasts) have an allowance of their own, up to the broadcast rate, and
leave the ordinary one to answers. A 429 on either lane pauses both for its `retry_after`.
"""

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# A margin on Telegram's windows: a request leaves here a little before it arrives there.
WINDOW = 1.02
PER_CHAT_INTERVAL = 1.02
# Messages Telegram lets through to one private chat at once before its one a second applies
# (a tap's answer right after an announcement to the same person), unless CHAT_BURST says.
CHAT_BURST = 3
GROUP_RATE = 20
GROUP_WINDOW = 61.0
# An answer refused with 429 is sent again after the pause; a bulk send is not, since its
# outbox row stays pending and is taken again.
ANSWER_RETRIES = 3
# The most a grant loop sleeps before looking again, whatever it computed.
LONGEST_NAP = 5.0
# Naps shorter than this are not cut short by an arrival: watching for one costs more than it
# saves at a thousand sends a second.
SHORT_NAP = 0.005
# Waits shorter than this count as none: float rounding must not make the loop spin on a wait
# that adding it to the clock cannot end.
EPSILON = 1e-6


class Lane(StrEnum):
    """Who a request is for: a person waiting for an answer, or the outbox."""

    ANSWER = "answer"
    BULK = "bulk"


@dataclass(eq=False)
class _Sent:
    """A message counted in a window: while it is on its way, and then a window's length
    from when Telegram answered it, since it reached Telegram somewhere in between."""

    at: float
    answered: bool = False


@dataclass(eq=False)
class _Request:
    lane: Lane
    chat_id: int | str | None
    paid: bool
    granted: asyncio.Future[None] = field(repr=False)
    sent: _Sent | None = None  # once granted


@dataclass
class _Chat:
    """A private chat's allowance: tokens refilled one per PER_CHAT_INTERVAL, up to a burst."""

    tokens: float
    last: float
    burst: int
    last_bulk: float | None = None  # bulk sends keep to one a second among themselves
    on_the_way: _Sent | None = None  # the last message granted, until Telegram answers it

    def tokens_at(self, now: float) -> float:
        if self.on_the_way is not None and not self.on_the_way.answered:
            # No refill before the answer (which sets `last`): however long the message takes
            # to reach Telegram, the next one cannot arrive less than a second after it.
            return self.tokens
        return min(self.burst, self.tokens + (now - self.last) / PER_CHAT_INTERVAL)


Sleep = Callable[[float], Awaitable[None]]


class TelegramBudget(BaseRateLimiter[Lane]):
    """The process's allowance for sending: `overall_rate` a sliding second for answers and
    unpaid bulk sends together, bulk sends paced to `bulk_rate`, per-chat and group limits."""

    def __init__(
        self,
        *,
        overall_rate: float,
        bulk_rate: float,
        chat_burst: int = CHAT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_throttled: Callable[[], None] = lambda: None,
    ) -> None:
        self.overall_rate = overall_rate
        self.bulk_rate = bulk_rate
        self.chat_burst = chat_burst
        self._clock = clock
        self._sleep = sleep
        self._on_throttled = on_throttled
        self._sent: deque[_Sent] = deque()  # answers and unpaid bulk sends, last WINDOW
        self._bulk_sent: deque[_Sent] = deque()  # bulk sends, paid or not, last WINDOW
        self._next_bulk = 0.0
        self._chats: dict[int, _Chat] = {}
        self._groups: dict[int | str, deque[float]] = {}
        self._paused_until = 0.0
        self._answers: list[_Request] = []
        self._bulk: list[_Request] = []
        self._arrived = asyncio.Event()
        self._granter: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        """Nothing to set up: the grant loop runs only while requests wait."""

    async def shutdown(self) -> None:
        """Nothing to release: both bots call this, and the loop ends with the last waiter."""

    # What the outbox worker asks before it takes a row ------------------------------------

    def bulk_ready(self, chat_id: int) -> bool:
        """Whether a bulk send to this chat could go now as far as the chat's own limit goes."""
        return self._chat_wait(Lane.BULK, chat_id, self._clock()) <= EPSILON

    # The extension point ---------------------------------------------------------------

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        lane = rate_limit_args or Lane.ANSWER
        chat_id = _chat_of(data)
        paid = lane is Lane.BULK and bool(data.get("allow_paid_broadcast"))
        retries = ANSWER_RETRIES if lane is Lane.ANSWER else 0
        for attempt in range(retries + 1):
            request = None
            if chat_id is None:  # not a message (a callback's answer, the menu): only pauses
                await self._wait_out_pause()
            else:
                request = await self._acquire(lane, chat_id, paid)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = _seconds(error.retry_after)
                self.pause(seconds)
                log.warning(
                    "Telegram asked to wait %.0f s (%s, %s); everything the bot sends waits",
                    seconds,
                    endpoint,
                    lane.value,
                )
                if attempt == retries:
                    raise
            finally:
                if request is not None:
                    self._answered(request)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent, on either lane, for `seconds`."""
        self._on_throttled()
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    # Granting --------------------------------------------------------------------------

    async def _wait_out_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > EPSILON:
            await self._sleep(left)

    async def _acquire(self, lane: Lane, chat_id: int | str, paid: bool) -> _Request:
        request = _Request(lane, chat_id, paid, asyncio.get_running_loop().create_future())
        now = self._clock()
        if not self._answers and not self._bulk and self._wait(request, now) <= EPSILON:
            self._take(request, now)  # nobody waits and there is room: no loop involved
            return request
        (self._answers if request.lane is Lane.ANSWER else self._bulk).append(request)
        self._arrived.set()
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant(), name="telegram budget")
        try:
            await request.granted
        except asyncio.CancelledError:
            self._withdraw(request)
            self._answered(request)  # granted just before: it will never be on its way
            raise
        return request

    def _answered(self, request: _Request) -> None:
        """Telegram answered (or the request failed): the message's place in the windows now
        counts from here. Requests granted a moment apart may reach Telegram closer together
        when the machine is busy; counted from the answer, none is early in the overall window
        or its chat's (the bulk pace and group windows count from the grant)."""
        if request.sent is None:
            return  # never granted
        now = self._clock()
        request.sent.at = max(request.sent.at, now)
        request.sent.answered = True
        self._arrived.set()  # room in a window may be free now
        chat = self._chats.get(request.chat_id) if isinstance(request.chat_id, int) else None
        if chat is not None and chat.last < now:
            # The refill counts from the answer: a token is never back before a second has
            # passed where Telegram counts it.
            chat.last = now

    def _withdraw(self, request: _Request) -> None:
        for queue in (self._answers, self._bulk):
            if request in queue:
                queue.remove(request)

    async def _grant(self) -> None:
        """Hand out room to waiting requests, answers first, until nobody waits."""
        while self._answers or self._bulk:
            wait = self._grant_one(self._clock())
            if wait > EPSILON:
                self._arrived.clear()
                await self._nap(min(wait, LONGEST_NAP))

    def _grant_one(self, now: float) -> float:
        """Grant the first request that may go now (0 returned), or say how long until one
        might (an arrival may change that, and wakes the loop)."""
        if (paused := self._paused_until - now) > EPSILON:
            return paused
        soonest = math.inf
        answer_held_by_allowance = False
        for request in self._answers:
            if (own := self._chat_wait(request.lane, request.chat_id, now)) > EPSILON:
                soonest = min(soonest, own)
                continue
            if (shared := self._shared_wait(request, now)) <= EPSILON:
                return self._give(request, self._answers, now)
            answer_held_by_allowance = True
            soonest = min(soonest, shared)
        for request in self._bulk:
            if (own := self._chat_wait(request.lane, request.chat_id, now)) > EPSILON:
                soonest = min(soonest, own)
                continue
            if answer_held_by_allowance and not request.paid:
                continue  # the answer takes the next room in the allowance, not this send
            if (shared := self._shared_wait(request, now)) <= EPSILON:
                return self._give(request, self._bulk, now)
            soonest = min(soonest, shared)
        return soonest

    def _give(self, request: _Request, queue: list[_Request], now: float) -> float:
        queue.remove(request)
        if not request.granted.done():  # else its sender gave up (cancelled) meanwhile
            self._take(request, now)
            request.granted.set_result(None)
        return 0.0

    async def _nap(self, seconds: float) -> None:
        """Sleep, or less if a request arrives (it may be an answer that can go at once)."""
        if seconds < SHORT_NAP:  # between paced bulk sends: no answer waits noticeably longer
            await self._sleep(seconds)
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        arrival = asyncio.ensure_future(self._arrived.wait())
        try:
            await asyncio.wait({sleeper, arrival}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            arrival.cancel()

    # The rules -------------------------------------------------------------------------

    def _wait(self, request: _Request, now: float) -> float:
        return max(
            self._paused_until - now,
            self._chat_wait(request.lane, request.chat_id, now),
            self._shared_wait(request, now),
        )

    def _chat_wait(self, lane: Lane, chat_id: int | str | None, now: float) -> float:
        """How long the chat's own limit holds a message to it (0: not at all)."""
        if chat_id is None:
            return 0.0
        if isinstance(chat_id, str) or chat_id < 0:  # a group, supergroup or channel
            sent = self._group_window(chat_id, now)
            return sent[0] + GROUP_WINDOW - now if len(sent) >= GROUP_RATE else 0.0
        chat = self._chats.get(chat_id)
        if chat is None:
            return 0.0
        wait = (1 - chat.tokens_at(now)) * PER_CHAT_INTERVAL
        if lane is Lane.BULK and chat.last_bulk is not None:
            # One bulk message a second to a chat: the burst is for a tap's answer after one.
            wait = max(wait, chat.last_bulk + PER_CHAT_INTERVAL - now)
        return max(wait, 0.0)

    def _shared_wait(self, request: _Request, now: float) -> float:
        """How long the overall allowance and the bulk pace hold this request."""
        _expire(self._sent, now)
        wait = 0.0
        if not request.paid and len(self._sent) >= self.overall_rate:
            wait = _room_in(self._sent, now)
        if request.lane is Lane.BULK:
            _expire(self._bulk_sent, now)
            # Evenly spaced, not in bursts: a burst arrives bunched and trips Telegram's window.
            wait = max(wait, self._next_bulk - now)
            if len(self._bulk_sent) >= self.bulk_rate:
                wait = max(wait, _room_in(self._bulk_sent, now))
        return wait

    def _take(self, request: _Request, now: float) -> None:
        request.sent = _Sent(now)
        if not request.paid:
            self._sent.append(request.sent)
        if request.lane is Lane.BULK:
            self._bulk_sent.append(request.sent)
            self._next_bulk = max(self._next_bulk, now) + 1 / self.bulk_rate
        chat_id = request.chat_id
        if isinstance(chat_id, str) or (chat_id is not None and chat_id < 0):
            self._group_window(chat_id, now).append(now)
        elif chat_id is not None:
            chat = self._chats.get(chat_id)
            tokens = self.chat_burst if chat is None else chat.tokens_at(now)
            last_bulk = chat.last_bulk if chat is not None else None
            if request.lane is Lane.BULK:
                last_bulk = now
            self._chats[chat_id] = _Chat(
                tokens - 1, now, self.chat_burst, last_bulk, on_the_way=request.sent
            )
            if len(self._chats) > 10_000:
                self._forget_quiet_chats(now)

    def _group_window(self, group: int | str, now: float) -> deque[float]:
        sent = self._groups.setdefault(group, deque())
        while sent and sent[0] + GROUP_WINDOW <= now + EPSILON:
            sent.popleft()
        return sent

    def _forget_quiet_chats(self, now: float) -> None:
        """A chat whose allowance is full again is as good as one never written to."""
        self._chats = {
            chat_id: chat
            for chat_id, chat in self._chats.items()
            if chat.tokens_at(now) < chat.burst or now - chat.last < PER_CHAT_INTERVAL
        }


def _expire(sent: deque[_Sent], now: float) -> None:
    while sent and sent[0].answered and sent[0].at + WINDOW <= now + EPSILON:
        sent.popleft()


def _room_in(sent: deque[_Sent], now: float) -> float:
    """How long until a full window has room: until its oldest message leaves it, or, while
    that one is on its way, until it is answered (which wakes the grant loop)."""
    oldest = sent[0]
    return oldest.at + WINDOW - now if oldest.answered else LONGEST_NAP


def _chat_of(data: dict[str, Any]) -> int | str | None:
    """The chat a request writes to; None for requests that write to none."""
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # @channelusername


def _seconds(retry_after: timedelta | int | float) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
