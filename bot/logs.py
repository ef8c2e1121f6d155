"""Logging that never prints the bot token.

The HTTP client logs request URLs, and Telegram's URLs contain the token
(`/bot<token>/<method>`); so do some tracebacks. Every formatted line is scrubbed.
"""

import logging

REDACTED = "<BOT_TOKEN>"


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return line


def configure_logging(*, secrets: list[str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per request is noise at INFO; the formatter still scrubs them at DEBUG.
    logging.getLogger("httpx").setLevel(logging.WARNING)
