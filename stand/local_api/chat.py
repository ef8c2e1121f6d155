"""The chats the local Bot API server keeps: who talks to the bot and what each side said."""

import asyncio
from dataclasses import dataclass, field

from stand.local_api.protocol import Document, Json


@dataclass
class SentMessage:
    """A message the bot sent, as the recipient sees it."""

    message_id: int
    chat_id: int
    text: str
    source: str
    parse_mode: str | None
    reply_markup: Json | None = None
    document: Document | None = None
    edits: int = 0
    # When the server accepted it (monotonic seconds), to measure send rates.
    accepted_at: float = 0.0
    # Whether it was sent as a paid broadcast (allow_paid_broadcast).
    paid: bool = False
    # When it was sent, by the server's clock (Unix seconds), as Telegram dates it.
    date: int = 0

    def buttons(self) -> list[Json]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class Person:
    """A Telegram user as the server knows them."""

    user_id: int
    first_name: str
    language_code: str | None = None

    def as_user(self) -> Json:
        user: Json = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_private_chat(self) -> Json:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}


@dataclass(frozen=True)
class SaidMessage:
    """A message a person sent the bot (message ids are shared with the bot's, so in order)."""

    message_id: int
    text: str
    date: int


@dataclass
class Chat:
    messages: list[SentMessage] = field(default_factory=list)
    said: list[SaidMessage] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
