"""People who talk to the bot through the local Bot API, as they would in Telegram."""

import asyncio
import re
from dataclasses import replace

from handlers.context import CoalitionApplication
from models import Database
from stand.local_api import LocalBotApi, SentMessage
from tests.stories import handled, snapshot

REPLY_TIMEOUT = 10
# Calls by which the bot tells no one anything: it asks for updates.
NOT_TELLING = frozenset({"getUpdates"})


class Someone:
    def __init__(
        self, api: LocalBotApi, user_id: int, name: str, language_code: str | None = "en"
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.person = api.meet(user_id, name, language_code)
        self._read = 0

    async def says(self, text: str) -> str:
        """Send a message and return the text of the bot's next message to this person."""
        self.api.push_message(self.person, text)
        return (await self.next_message()).text

    async def next_message(self) -> SentMessage:
        async with asyncio.timeout(REPLY_TIMEOUT):
            message = await self.api.wait_for_message(self.user_id, self._read)
        self._read += 1
        return message

    def press(self, message: SentMessage, label: str, *, days_later: bool = False) -> None:
        """Tap the button on `message` whose label starts with `label` (`days_later`: once
        the message is over 48 hours old, when Telegram no longer sends its content)."""
        [button] = [b for b in message.buttons() if b["text"].startswith(label)]
        self.api.push_callback(self.person, message, button["callback_data"], aged=days_later)

    def forge(self, message: SentMessage, callback_data: str) -> None:
        """Send callback data of one's choosing, as a modified client could."""
        self.api.push_callback(self.person, message, callback_data)

    async def press_and_read_edit(self, message: SentMessage, label: str) -> str:
        """Tap a button that makes the bot rewrite the message; return its new text."""
        edits = message.edits
        self.press(message, label)
        async with asyncio.timeout(REPLY_TIMEOUT):
            await self.api.wait_for_edit(message, edits)
        return message.text

    async def sees_it_end(self, message: SentMessage, heading: str, timeout: float = 60) -> str:
        """The text of a message the bot keeps editing (a progress message), once it starts
        with `heading` and says nothing is still to send."""
        async with asyncio.timeout(timeout):
            while not message.text.startswith(heading) or "Still to send" in message.text:
                await self.api.wait_for_edit(message, message.edits)
        return message.text

    def inbox(self) -> list[SentMessage]:
        return self.api.messages(self.user_id)

    async def is_refused(
        self, text: str, refusal: str, *, app: CoalitionApplication, database: Database
    ) -> None:
        """Send `text`; once the bot has finished with it (its handlers returned, its outbox
        settled), this person has exactly one new message, `refusal`, as plain text; no one
        else's chat changed; the bot called Telegram for nothing else; nothing stored changed.
        A refusal that answered and then did the work anyway fails one of these."""
        await handled(app, database)
        stored = await snapshot(database)
        seen = every_chat(self.api)
        calls = len(self.api.calls)
        earlier = seen.pop(self.user_id)
        self.api.push_message(self.person, text)
        async with asyncio.timeout(REPLY_TIMEOUT):
            await self.api.wait_for_message(self.user_id, len(earlier))
        await handled(app, database)
        now = every_chat(self.api)
        mine = now.pop(self.user_id)
        self._read = len(mine)
        assert mine[: len(earlier)] == earlier, "an earlier message to them changed"
        new = mine[len(earlier) :]
        assert [m.text for m in new] == [refusal], "they got other than the one refusal"
        assert new[0].document is None, "the refusal came with a document"
        assert new[0].reply_markup is None, "the refusal came with buttons"
        others = [chat for chat in seen if now[chat] != seen[chat]]
        assert others == [], f"the chats of {others} changed"
        told = [
            (method, str(params.get("chat_id")))
            for method, params in self.api.calls[calls:]
            if method not in NOT_TELLING
        ]
        assert told == [("sendMessage", str(self.user_id))], f"the bot also called {told}"
        assert await snapshot(database) == stored, "a refusal changed what is stored"


def every_chat(api: LocalBotApi) -> dict[int, list[SentMessage]]:
    """What the bot has sent to each person, as each message stands now (copies: an edit
    changes a message in place)."""
    return {chat_id: [replace(m) for m in api.messages(chat_id)] for chat_id in api.people}


def invite_code(reply: str) -> str:
    """The code in an organiser's invite reply (from its deep link)."""
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", reply)
    assert match, f"no invite link in {reply!r}"
    return match[1]


def appeal_number(reply: str) -> int:
    match = re.search(r"#(\d+)", reply)
    assert match, f"no appeal number in {reply!r}"
    return int(match[1])
