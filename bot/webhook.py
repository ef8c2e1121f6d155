"""Webhook mode: Telegram posts each update; it is stored before Telegram hears 200.

A request without the secret token Telegram was given is refused before its body is read,
the comparison in constant time; a body that is not an update is refused with 400.
"""

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.intake import ALLOWED_UPDATES, Intake, MalformedUpdate

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are small; a larger body is not one.
BODY_MAX = 1024 * 1024


@dataclass(frozen=True)
class Webhook:
    url: str
    listen: str
    port: int
    secret: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


class WebhookServer:
    def __init__(self, *, webhook: Webhook, intake: Intake, bot: Any) -> None:
        self.webhook = webhook
        self.intake = intake
        self.bot = bot
        self._runner: web.AppRunner | None = None
        self.port = webhook.port

    async def start(self) -> None:
        """Listen, then tell Telegram where to post (with the secret it must send back)."""
        app = web.Application(client_max_size=BODY_MAX)
        app.router.add_post(self.webhook.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.webhook.listen, self.webhook.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        await self.bot.set_webhook(
            self.webhook.url, secret_token=self.webhook.secret, allowed_updates=ALLOWED_UPDATES
        )
        log.info("webhook: listening on %s:%d%s", self.webhook.listen, self.port, self.webhook.path)

    async def stop(self) -> None:
        """Stop taking updates. The webhook stays set: another replica, or this one after a
        restart, takes what Telegram posts meanwhile (Telegram retries until it gets a 200)."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook.secret.encode()):
            log.warning("webhook: a request without the right secret token was refused")
            return web.Response(status=403, text="forbidden")
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="the body is not JSON")
        try:
            # Stored before the 200: if this process dies now, Telegram sends it again.
            await self.intake.take([update])
        except MalformedUpdate as error:
            return web.Response(status=400, text=str(error))
        return web.Response(status=200)
