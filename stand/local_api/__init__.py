"""The project's own Telegram Bot API server, on loopback."""

from stand.local_api.chat import Person, SaidMessage, SentMessage
from stand.local_api.protocol import Document, scope_key
from stand.local_api.server import LocalBotApi

__all__ = ["Document", "LocalBotApi", "Person", "SaidMessage", "SentMessage", "scope_key"]
