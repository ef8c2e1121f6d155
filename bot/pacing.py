"""Pacing bulk sends to Telegram's limits: so many a second overall, one a second per chat."""

import asyncio
import time
from collections import deque
from collections.abc import Callable

# A margin on Telegram's one-second windows: a request leaves here a little before it arrives.
WINDOW = 1.02
PER_CHAT_INTERVAL = 1.02
CATCH_UP = 0.0


class Pacer:
    """Sends spaced 1/rate apart, never more than `rate` in a sliding window, and a pause
    after a 429."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._window: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._paused_until = 0.0
        self._next_take = 0.0

    def chat_ready(self, chat_id: int) -> bool:
        """Whether a message to this chat now keeps to one a second."""
        last = self._chat_last.get(chat_id)
        return last is None or self._clock() - last >= PER_CHAT_INTERVAL

    def pause(self, seconds: float) -> None:
        """Telegram said 429 with retry_after: nothing more is sent for that long."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def take(self, chat_id: int) -> None:
        """Wait for a free place in the window (and the end of any pause), then take it."""
        while True:
            now = self._clock()
            while self._window and self._window[0] + WINDOW <= now:
                self._window.popleft()
            # Evenly spaced, not in bursts: a burst arrives bunched and trips Telegram's window.
            wait = max(self._paused_until, self._next_take) - now
            if len(self._window) >= self.rate:
                wait = max(wait, self._window[0] + WINDOW - now)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._window.append(now)
        # Scheduled on an ideal timeline: the event loop wakes on whole milliseconds, so a sleep
        # runs a little late, and the next sends make that up (never by more than CATCH_UP).
        self._next_take = max(self._next_take, now - CATCH_UP) + 1 / self.rate
        self._chat_last[chat_id] = now
        if len(self._chat_last) > 10_000:
            self._forget_quiet_chats(now)

    def _forget_quiet_chats(self, now: float) -> None:
        self._chat_last = {
            chat: last for chat, last in self._chat_last.items() if now - last < PER_CHAT_INTERVAL
        }
