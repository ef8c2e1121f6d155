"""A Telegram Bot API server on loopback, for the end-to-end tests and the sandbox.

It speaks the real protocol: `POST <root>/bot<token>/<method>` with form-encoded, multipart or
JSON bodies, answers `{"ok": true, "result": …}` or Telegram's error format, and holds
`getUpdates` open as long polling does. People's messages are pushed in as Telegram would
deliver them; what the bot sends is kept per chat, checked as Telegram checks it.
"""

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from stand.local_api.chat import Chat, Person, SaidMessage, SentMessage
from stand.local_api.html import CAPTION_LIMIT, ParseError, message_text
from stand.local_api.limits import Limits
from stand.local_api.protocol import (
    ApiError,
    Document,
    Json,
    error_response,
    leading_command_length,
    read_params,
    scope_key_of,
)


class LocalBotApi:
    """The server and its state. `start()` binds a free loopback port unless one is given."""

    def __init__(
        self,
        *,
        token: str = "123456:local-api-token",
        bot_username: str = "coalition_local_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_user: Json = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Coalition",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.host = host
        self.port = port
        self.clock = clock
        self.people: dict[int, Person] = {}
        self.limits = Limits()
        self.calls: list[tuple[str, Json]] = []
        # Every call refused, as (method, description): a test of the bot expects none.
        self.refused: list[tuple[str, str]] = []
        self.commands: dict[str, list[Json]] = {}
        # What setWebhook was last given (url, secret_token, …); None while polling.
        self.webhook: Json | None = None
        self._pushed: dict[int, Json] = {}
        self._chats: dict[int, Chat] = {}
        self._updates: list[Json] = []
        self._update_id = 0
        self._message_id = 0
        self._callback_id = 0
        self._updates_arrived = asyncio.Event()
        # Bumped on every change a chat window would show (the sandbox's page follows it).
        self.version = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[Json], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "close": self._accept,
            "logOut": self._accept,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "answerCallbackQuery": self._accept,
            "sendDocument": self._send_document,
            "sendChatAction": self._accept,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
        }

    @property
    def url(self) -> str:
        """The root to give the bot as TELEGRAM_API_URL."""
        return f"http://{self.host}:{self.port}"

    async def start(self, extend: Callable[[web.Application], None] | None = None) -> None:
        """Serve the Bot API; `extend` adds routes of its own (the sandbox's page)."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        if extend is not None:
            extend(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._updates_arrived.set()
        self.touch()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def closing(self) -> bool:
        return self._closing

    def touch(self) -> None:
        """Tell whoever follows the server (`changes`) that something changed."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def changes(self, seen: int, timeout: float) -> int:
        """The version once it is past `seen`, or after `timeout` seconds, or at closing."""
        if self.version == seen and not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version

    # What people do -------------------------------------------------------------------

    def meet(self, user_id: int, first_name: str, language_code: str | None = None) -> Person:
        """A Telegram user who can talk to the bot."""
        person = Person(user_id, first_name, language_code)
        self.people[user_id] = person
        self._chats.setdefault(user_id, Chat())
        self.touch()
        return person

    def push_message(self, person: Person, text: str) -> int:
        """A private message from `person`, delivered to the bot; returns its update_id."""
        self._message_id += 1
        date = int(self.clock())
        message: Json = {
            "message_id": self._message_id,
            "from": person.as_user(),
            "chat": person.as_private_chat(),
            "date": date,
            "text": text,
        }
        self._chat(person.user_id).said.append(SaidMessage(self._message_id, text, date))
        self.touch()
        command_length = leading_command_length(text)
        if command_length:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command_length}]
        return self._push({"message": message})

    def push_update(self, update: Json) -> int:
        """Any update, as Telegram would send it (without update_id)."""
        return self._push(update)

    def push_callback(
        self, person: Person, message: SentMessage, data: str, *, aged: bool = False
    ) -> int:
        """`person` taps an inline button whose callback data is `data` on `message`.

        `aged`: the message is over 48 hours old, and Telegram sends only its chat and id.
        """
        self._callback_id += 1
        shown = self._as_telegram_message(message)
        if aged:
            shown = {"chat": shown["chat"], "message_id": message.message_id, "date": 0}
        query: Json = {
            "id": str(self._callback_id),
            "from": person.as_user(),
            "message": shown,
            "chat_instance": str(message.chat_id),
            "data": data,
        }
        return self._push({"callback_query": query})

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self._chat(chat_id).messages)

    def said(self, chat_id: int) -> list[SaidMessage]:
        return list(self._chat(chat_id).said)

    async def wait_for_message(self, chat_id: int, index: int) -> SentMessage:
        """The chat's `index`-th message from the bot, once it is there."""
        chat = self._chat(chat_id)
        async with chat.changed:
            await chat.changed.wait_for(lambda: len(chat.messages) > index)
            return chat.messages[index]

    async def wait_for_edit(self, message: SentMessage, edits: int) -> SentMessage:
        """`message` once the bot has edited it more than `edits` times."""
        chat = self._chat(message.chat_id)
        async with chat.changed:
            await chat.changed.wait_for(lambda: message.edits > edits)
            return message

    # The protocol -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        handler = self._methods.get(method)
        if handler is None:
            return error_response(ApiError(404, "Not Found: method not found"))
        try:
            params = await read_params(request)
            self.calls.append((method, params))
            result = await handler(params)
        except ParseError as error:
            return self._refuse(method, ApiError(400, f"Bad Request: {error}"))
        except ApiError as error:
            return self._refuse(method, error)
        return web.json_response({"ok": True, "result": result})

    def _refuse(self, method: str, error: ApiError) -> web.Response:
        self.refused.append((method, error.description))
        return error_response(error)

    def push_again(self, update_id: int) -> None:
        """Deliver an update a second time, as Telegram does when it is unsure it arrived."""
        self._updates.append(self._pushed[update_id])
        self._updates_arrived.set()

    def _push(self, update: Json) -> int:
        self._update_id += 1
        self._pushed[self._update_id] = {"update_id": self._update_id, **update}
        self._updates.append(self._pushed[self._update_id])
        self._updates_arrived.set()
        return self._update_id

    def _chat(self, chat_id: int) -> Chat:
        return self._chats.setdefault(chat_id, Chat())

    async def _get_me(self, _: Json) -> Json:
        return self.bot_user

    async def _accept(self, _: Json) -> bool:
        return True

    async def _set_webhook(self, params: Json) -> bool:
        if not str(params.get("url") or "").startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook = params
        return True

    async def _delete_webhook(self, _: Json) -> bool:
        self.webhook = None
        return True

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        # Asking from an offset confirms every earlier update, as Telegram does.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._updates and not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._updates_arrived.clear()
            try:
                await asyncio.wait_for(self._updates_arrived.wait(), remaining)
            except TimeoutError:
                break
        return self._updates[:limit]

    def _known_chat(self, params: Json) -> int:
        raw = params.get("chat_id")
        try:
            chat_id = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self.people:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    async def _record(self, message: SentMessage, params: Json) -> Json:
        now = time.monotonic()
        paid = params.get("allow_paid_broadcast") in (True, "true", "True")
        self.limits.admit(message.chat_id, now, paid=paid)
        message.paid = paid
        message.accepted_at = now
        message.date = int(self.clock())
        chat = self._chat(message.chat_id)
        async with chat.changed:
            chat.messages.append(message)
            chat.changed.notify_all()
        self.touch()
        return self._as_telegram_message(message)

    async def _edited(self, message: SentMessage) -> Json:
        chat = self._chat(message.chat_id)
        async with chat.changed:
            message.edits += 1
            chat.changed.notify_all()
        self.touch()
        return self._as_telegram_message(message)

    async def _send_message(self, params: Json) -> Json:
        chat_id = self._known_chat(params)
        source = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        self._message_id += 1
        return await self._record(
            SentMessage(
                message_id=self._message_id,
                chat_id=chat_id,
                text=message_text(source, parse_mode),
                source=source,
                parse_mode=parse_mode,
                reply_markup=params.get("reply_markup"),
            ),
            params,
        )

    async def _send_document(self, params: Json) -> Json:
        chat_id = self._known_chat(params)
        document = params.get("document")
        if not isinstance(document, Document):
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = str(params.get("caption") or "")
        parse_mode = params.get("parse_mode")
        shown = message_text(caption, parse_mode, CAPTION_LIMIT) if caption else ""
        self._message_id += 1
        return await self._record(
            SentMessage(
                message_id=self._message_id,
                chat_id=chat_id,
                text=shown,
                source=caption,
                parse_mode=parse_mode,
                reply_markup=params.get("reply_markup"),
                document=document,
            ),
            params,
        )

    def _find(self, params: Json) -> SentMessage:
        chat_id = self._known_chat(params)
        message_id = int(params.get("message_id") or 0)
        for message in self._chat(chat_id).messages:
            if message.message_id == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    async def _edit_message_text(self, params: Json) -> Json:
        message = self._find(params)
        source = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        shown = message_text(source, parse_mode)
        new_markup = params.get("reply_markup")
        if shown == message.text and new_markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        # Telegram counts edits against the same flood limits as new messages.
        self.limits.count(message.chat_id, time.monotonic())
        message.text, message.source, message.parse_mode = shown, source, parse_mode
        message.reply_markup = new_markup
        return await self._edited(message)

    async def _edit_reply_markup(self, params: Json) -> Json:
        message = self._find(params)
        if params.get("reply_markup") == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        self.limits.count(message.chat_id, time.monotonic())
        message.reply_markup = params.get("reply_markup")
        return await self._edited(message)

    async def _set_my_commands(self, params: Json) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(description) <= 256):
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands[scope_key_of(params)] = commands
        return True

    async def _get_my_commands(self, params: Json) -> list[Json]:
        return self.commands.get(scope_key_of(params), [])

    async def _delete_my_commands(self, params: Json) -> bool:
        self.commands.pop(scope_key_of(params), None)
        return True

    def _as_telegram_message(self, message: SentMessage) -> Json:
        person = self.people[message.chat_id]
        result: Json = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": person.as_private_chat(),
            "date": message.date,
        }
        if message.document is not None:
            result["document"] = {
                "file_id": f"document-{message.message_id}",
                "file_unique_id": f"d{message.message_id}",
                "file_name": message.document.file_name,
                "file_size": len(message.document.content),
            }
            if message.text:
                result["caption"] = message.text
        else:
            result["text"] = message.text
        if message.reply_markup:
            result["reply_markup"] = message.reply_markup
        if message.edits:
            result["edit_date"] = int(self.clock())
        return result
