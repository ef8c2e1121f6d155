"""People who talk to the bot through the local Bot API, as they would in Telegram."""

import asyncio
import re

from bot.local_api import LocalBotApi, SentMessage

REPLY_TIMEOUT = 10


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


def invite_code(reply: str) -> str:
    """The code in an organiser's invite reply (from its deep link)."""
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", reply)
    assert match, f"no invite link in {reply!r}"
    return match[1]


def appeal_number(reply: str) -> int:
    match = re.search(r"#(\d+)", reply)
    assert match, f"no appeal number in {reply!r}"
    return int(match[1])
