"""Telegram's flood limits and failures, emulated: 429, 403, 5xx and migrated chats."""

import math
from collections import deque
from dataclasses import dataclass, field

from bot.local_api.protocol import ApiError


@dataclass
class Limits:
    """What the server refuses, as a test or the sandbox sets it. Off by default."""

    # Messages a second to all chats together (Telegram: about 30), over a sliding second.
    overall_rate: int | None = None
    # Seconds between two messages to one chat (Telegram: about 1).
    per_chat_interval: float | None = None
    # Chats whose person blocked the bot: 403.
    blocked: set[int] = field(default_factory=set)
    # Chat -> how many of its next sends fail with 500 before one succeeds.
    server_errors: dict[int, int] = field(default_factory=dict)
    # Chat -> the chat it was migrated to: 400 with migrate_to_chat_id.
    migrated: dict[int, int] = field(default_factory=dict)
    # How many 429s were answered, to show a test that throttling happened.
    throttled: int = 0
    _window: deque[float] = field(default_factory=deque)
    _chat_last: dict[int, float] = field(default_factory=dict)

    def admit(self, chat_id: int, now: float) -> None:
        """Refuse a message to `chat_id` as Telegram would, or count it as sent at `now`."""
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if self.server_errors.get(chat_id, 0) > 0:
            self.server_errors[chat_id] -= 1
            raise ApiError(500, "Internal Server Error")
        while self._window and now - self._window[0] >= 1:
            self._window.popleft()
        if self.overall_rate is not None and len(self._window) >= self.overall_rate:
            self._throttle(self._window[0] + 1 - now)
        last = self._chat_last.get(chat_id)
        interval = self.per_chat_interval
        if interval is not None and last is not None and now - last < interval:
            self._throttle(last + interval - now)
        self._window.append(now)
        self._chat_last[chat_id] = now

    def _throttle(self, wait: float) -> None:
        self.throttled += 1
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
