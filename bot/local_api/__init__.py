"""The project's own Telegram Bot API server, on loopback."""

from bot.local_api.chat import Person, SaidMessage, SentMessage
from bot.local_api.protocol import Document, scope_key
from bot.local_api.server import LocalBotApi

__all__ = ["Document", "LocalBotApi", "Person", "SaidMessage", "SentMessage", "scope_key"]
