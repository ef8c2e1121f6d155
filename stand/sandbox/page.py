"""The sandbox's web page: a Telegram-like chat with the bot, as any of the simulated people.

The page talks JSON to these routes, served beside the Bot API on the same loopback port, and
follows `/sandbox/events` (server-sent events) to refresh as soon as the bot sends or edits.
Reading a person's chat marks it read, as opening it in Telegram does, so the unread counts
survive a reload of the page.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from foundation.settings import LANGUAGES
from models import Database
from services import accounts, reminders
from stand.local_api import LocalBotApi, SentMessage, scope_key
from stand.local_api.html import browser_html
from stand.sandbox.clock import MovableClock
from stand.sandbox.coalition import FIRST_NEW_PERSON

STATIC = Path(__file__).parent / "static"
NAME_MAX = 64
TEXT_MAX = 4096
# The longest jump at once: enough to pass any deadline a test coalition sets.
JUMP_MAX = timedelta(days=60)
# How long an events stream waits before a keep-alive comment (proxies close idle streams).
KEEP_ALIVE = 15.0

Json = dict[str, Any]


class BadRequest(Exception):
    """What the page asked for makes no sense; said to it in one line."""


@dataclass
class TheBot:
    """What the page needs of the running bot, known once the bot is built."""

    database: Database
    default_language: str
    organiser_ids: frozenset[int]
    offsets: tuple[timedelta, ...]
    # Do what is now due on the timeline (after the clock moved).
    timeline_changed: Callable[[], Awaitable[None]]


class SandboxPage:
    def __init__(self, api: LocalBotApi, clock: MovableClock) -> None:
        self.api = api
        self.clock = clock
        self.bot: TheBot | None = None
        # How many of the bot's messages each person has had on the screen.
        self.read: dict[int, int] = {}

    def install(self, app: web.Application) -> None:
        """Add the page's routes to the Bot API server's application."""
        app.middlewares.append(bad_requests)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/sandbox/state", self._state)
        app.router.add_get("/sandbox/chat/{person}", self._chat)
        app.router.add_get("/sandbox/document/{person}/{message}", self._document)
        app.router.add_get("/sandbox/events", self._events)
        app.router.add_post("/sandbox/say", self._say)
        app.router.add_post("/sandbox/press", self._press)
        app.router.add_post("/sandbox/people", self._add_person)
        app.router.add_post("/sandbox/jump", self._jump)

    # Reading -----------------------------------------------------------------------------

    async def _index(self, _: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _state(self, _: web.Request) -> web.Response:
        bot = self._running()
        now = self.clock()
        people = []
        async with bot.database.transaction() as session:
            moments = await reminders.next_moments(session=session, now=now, offsets=bot.offsets)
            for person in self.api.people.values():
                caller = await accounts.identify(
                    session=session,
                    telegram_id=person.user_id,
                    fallback_language=bot.default_language,
                    organiser_ids=bot.organiser_ids,
                )
                role = (
                    "Organiser"
                    if caller.is_organiser
                    else caller.organisation_name or "Not a member yet"
                )
                people.append(
                    {
                        "id": person.user_id,
                        "name": person.first_name,
                        "language": person.language_code or "",
                        "role": role,
                        "unread": len(self.api.messages(person.user_id))
                        - self.read.get(person.user_id, 0),
                        "commands": self._commands(person.user_id, person.language_code),
                    }
                )
        return web.json_response(
            {
                "version": self.api.version,
                "now": now.isoformat(),
                "next": moments[0].isoformat() if moments else None,
                "bot": self.api.bot_user["username"],
                "people": people,
            }
        )

    def _commands(self, user_id: int, language: str | None) -> list[Json]:
        """The person's command menu, looked up as a Telegram client does."""
        for key in (
            scope_key({"type": "chat", "chat_id": user_id}),
            scope_key(None, language),
            scope_key(None),
        ):
            if key in self.api.commands:
                return self.api.commands[key]
        return []

    async def _chat(self, request: web.Request) -> web.Response:
        person = self._person(request.match_info["person"])
        sent = self.api.messages(person)
        self.read[person] = len(sent)
        shown: list[tuple[int, Json]] = [
            (
                said.message_id,
                {"mine": True, "html": browser_html(said.text, None), "date": said.date},
            )
            for said in self.api.said(person)
        ]
        shown += [(message.message_id, self._shown(message)) for message in sent]
        shown.sort(key=lambda pair: pair[0])
        return web.json_response({"messages": [{"id": i, **fields} for i, fields in shown]})

    def _shown(self, message: SentMessage) -> Json:
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        shown: Json = {
            "mine": False,
            "html": browser_html(message.source, message.parse_mode) if message.text else "",
            "edited": message.edits > 0,
            "date": message.date,
            "buttons": [
                [
                    {"text": button.get("text", ""), "data": button.get("callback_data")}
                    | ({"url": button["url"]} if "url" in button else {})
                    for button in row
                ]
                for row in rows
            ],
        }
        if message.document is not None:
            shown["document"] = {
                "name": message.document.file_name,
                "href": f"/sandbox/document/{message.chat_id}/{message.message_id}",
            }
        return shown

    async def _document(self, request: web.Request) -> web.Response:
        person = self._person(request.match_info["person"])
        message = self._message(person, request.match_info["message"])
        if message.document is None:
            raise web.HTTPNotFound(text="that message has no document")
        return web.Response(
            body=message.document.content,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{message.document.file_name}"'},
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """One event each time something changed, so the page refreshes without polling."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        while not self.api.closing:
            version = await self.api.changes(seen, KEEP_ALIVE)
            message = f"data: {version}\n\n" if version != seen else ": still here\n\n"
            seen = version
            try:
                await response.write(message.encode())
            except ConnectionError:
                break
        return response

    # Acting ------------------------------------------------------------------------------

    async def _say(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        person = self._person(body.get("person"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise BadRequest("the message is empty")
        if len(text) > TEXT_MAX:
            raise BadRequest(f"a message is at most {TEXT_MAX} characters")
        self.api.push_message(self.api.people[person], text)
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        person = self._person(body.get("person"))
        message = self._message(person, body.get("message"))
        data = body.get("data")
        if data not in [button.get("callback_data") for button in message.buttons()]:
            raise BadRequest("that message has no such button (any more)")
        self.api.push_callback(self.api.people[person], message, str(data))
        return web.json_response({"ok": True})

    async def _add_person(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = " ".join(str(body.get("name") or "").split())
        language = str(body.get("language") or "")
        if not name or len(name) > NAME_MAX:
            raise BadRequest(f"a name is 1 to {NAME_MAX} characters")
        if language not in LANGUAGES:
            raise BadRequest(f"the language is one of {', '.join(LANGUAGES)}")
        user_id = max([FIRST_NEW_PERSON - 1, *self.api.people]) + 1
        self.api.meet(user_id, name, language)
        return web.json_response({"id": user_id})

    async def _jump(self, request: web.Request) -> web.Response:
        """Move the clock forward, by some hours or to the next moment on the timeline."""
        bot = self._running()
        body = await self._body(request)
        now = self.clock()
        if body.get("to") == "next":
            async with bot.database.transaction() as session:
                moments = await reminders.next_moments(
                    session=session, now=now, offsets=bot.offsets
                )
            if not moments:
                raise BadRequest("nothing is scheduled: no phase or deadline ahead")
            # A second past it, so that it is due however the clock's microseconds fall.
            delta = moments[0] - now + timedelta(seconds=1)
        else:
            try:
                delta = timedelta(hours=float(body.get("hours")))  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                raise BadRequest("say how far: a number of hours, or to the next moment") from None
            if not timedelta() < delta <= JUMP_MAX:
                raise BadRequest(f"a jump is more than 0 and at most {JUMP_MAX.days} days")
        self.clock.advance(delta)
        await bot.timeline_changed()
        self.api.touch()
        return web.json_response({"now": self.clock().astimezone(UTC).isoformat()})

    # Checking what the page sent -----------------------------------------------------------

    def _running(self) -> TheBot:
        if self.bot is None:
            raise web.HTTPServiceUnavailable(text="the bot is still starting")
        return self.bot

    async def _body(self, request: web.Request) -> Json:
        # JSON only: another site's page cannot send it here without the browser asking first.
        if request.content_type != "application/json":
            raise BadRequest("send JSON")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body is not a JSON object")
        return body

    def _person(self, raw: object) -> int:
        user_id = int(raw) if isinstance(raw, int | str) and str(raw).isdecimal() else None
        if user_id is None or user_id not in self.api.people:
            raise BadRequest("no such person")
        return user_id

    def _message(self, person: int, raw: object) -> SentMessage:
        for message in self.api.messages(person):
            if str(message.message_id) == str(raw):
                return message
        raise BadRequest("no such message in this chat")


@web.middleware
async def bad_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A page request that makes no sense gets 400 and one line saying why."""
    try:
        return await handler(request)
    except BadRequest as error:
        return web.json_response({"error": str(error)}, status=400)
