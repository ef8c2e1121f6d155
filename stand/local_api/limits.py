"""Telegram's flood limits and failures, emulated: 429, 403, 5xx and migrated chats."""

import math
from collections import deque
from dataclasses import dataclass, field

from stand.local_api.protocol import ApiError


@dataclass
class Limits:
    """What the server refuses, as a test or the sandbox sets it. Off by default."""

    # Messages a second to all chats together (Telegram: about 30), over a sliding second;
    # paid broadcasts do not count here.
    overall_rate: int | None = None
    # Seconds between two messages to one chat (Telegram: about 1), once its burst is used.
    per_chat_interval: float | None = None
    # Messages one chat may take at once before per_chat_interval applies.
    per_chat_burst: int = 1
    # Messages a second that carry allow_paid_broadcast (Telegram: up to 1,000, paid in Stars).
    paid_rate: int = 1000
    # Chats whose person blocked the bot: 403.
    blocked: set[int] = field(default_factory=set)
    # Chat -> how many of its next sends fail with 500 before one succeeds.
    server_errors: dict[int, int] = field(default_factory=dict)
    # Chat -> the chat it was migrated to: 400 with migrate_to_chat_id.
    migrated: dict[int, int] = field(default_factory=dict)
    # How many 429s were answered, to show a test that throttling happened, and why.
    throttled: int = 0
    throttled_why: list[str] = field(default_factory=list)
    _window: deque[float] = field(default_factory=deque)
    _paid_window: deque[float] = field(default_factory=deque)
    # Chat -> (its tokens after its last message, when that was).
    _chat_tokens: dict[int, tuple[float, float]] = field(default_factory=dict)

    def admit(self, chat_id: int, now: float, *, paid: bool = False) -> None:
        """Refuse a new message to `chat_id` as Telegram would, or count it as sent at `now`."""
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
        self.count(chat_id, now, paid=paid)

    def count(self, chat_id: int, now: float, *, paid: bool = False) -> None:
        """Count a message or an edit against the flood limits, or answer 429."""
        window = self._paid_window if paid else self._window
        rate = self.paid_rate if paid else self.overall_rate
        while window and now - window[0] >= 1:
            window.popleft()
        if rate is not None and len(window) >= rate:
            self._throttle(window[0] + 1 - now, f"over {rate} a second")
        tokens = self._tokens(chat_id, now)
        interval = self.per_chat_interval
        if interval is not None and tokens < 1 - 1e-9:
            self._throttle((1 - tokens) * interval, f"too fast to chat {chat_id}")
        window.append(now)
        self._chat_tokens[chat_id] = (tokens - 1, now)

    def _tokens(self, chat_id: int, now: float) -> float:
        burst = self.per_chat_burst
        if chat_id not in self._chat_tokens or self.per_chat_interval is None:
            return burst
        tokens, last = self._chat_tokens[chat_id]
        return min(burst, tokens + (now - last) / self.per_chat_interval)

    def _throttle(self, wait: float, why: str) -> None:
        self.throttled += 1
        self.throttled_why.append(why)
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
