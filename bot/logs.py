"""Logging that never prints the bot token, as text for people or JSON lines for a collector.

The HTTP client logs request URLs, and Telegram's URLs contain the token
(`/bot<token>/<method>`); so do some tracebacks. Every formatted line is scrubbed.
"""

import json
import logging
from datetime import UTC, datetime

from foundation.settings import LogFormat

REDACTED = "<BOT_TOKEN>"


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        """The text with every secret replaced: the one scrubbing path of both formats."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: time (ISO, UTC), level, logger, message, and exception if any."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Each value is scrubbed before encoding: a secret escaped by JSON would not match.
        return json.dumps(
            {name: self.redact(value) for name, value in entry.items()}, ensure_ascii=False
        )


def configure_logging(
    *, secrets: list[str], level: int = logging.INFO, log_format: LogFormat = "text"
) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(secrets)
        if log_format == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per request is noise at INFO; the formatter still scrubs them at DEBUG.
    logging.getLogger("httpx").setLevel(logging.WARNING)
