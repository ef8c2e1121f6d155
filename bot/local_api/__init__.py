"""The project's own Telegram Bot API server, on loopback."""

from bot.local_api.protocol import Document, scope_key
from bot.local_api.server import LocalBotApi, Person, SentMessage

__all__ = ["Document", "LocalBotApi", "Person", "SentMessage", "scope_key"]
