"""The project's own Telegram Bot API server, on loopback."""

from bot.local_api.server import Document, LocalBotApi, Person, SentMessage, scope_key

__all__ = ["Document", "LocalBotApi", "Person", "SentMessage", "scope_key"]
