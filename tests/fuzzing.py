"""Fuzzing the running bot one update at a time: push an update as someone, wait until the bot
is done with it, and see what that person got back and whether anything stored changed."""

import asyncio
import re
from dataclasses import dataclass, field

from bot.context import RESOURCES_KEY, CoalitionApplication, Resources
from bot.i18n import load_texts
from bot.local_api import LocalBotApi, SentMessage
from models import Database
from tests.people import Someone
from tests.stories import outbox_settled, snapshot

TEXTS = load_texts()
APOLOGY = {
    str(texts.t("Something went wrong on our side and nothing was saved. Please try again later."))
    for texts in TEXTS.values()
}
# An organiser promoted by a fuzzed id may never have written to the bot: Telegram refuses a
# message to them, and the bot logs it and carries on (handlers/to_organisers.py).
NEVER_WROTE = "Bad Request: chat not found"


@dataclass
class Coalition:
    api: LocalBotApi
    bot: CoalitionApplication
    database: Database
    people: dict[str, Someone]
    # Every row after the last step: the next step's "before" (nothing runs in between).
    rows: dict[str, list[tuple[object, ...]]]
    # A message of the bot's to tap forged buttons on, per person, until an edit uses it up.
    tapped: dict[str, SentMessage] = field(default_factory=dict)


def handled(bot: CoalitionApplication) -> float:
    """How many updates the bot has finished handling, replies and error handler included."""
    resources: Resources = bot.bot_data[RESOURCES_KEY]
    counted = resources.metrics.updates.collect()
    return sum(s.value for m in counted for s in m.samples if s.name.endswith("_total"))


@dataclass
class Outcome:
    replies: list[SentMessage]
    edits: int
    changed: bool


async def outcome_of(
    coalition: Coalition, who: str, update: dict[str, object], pressed: SentMessage | None = None
) -> Outcome:
    """Push an update from `who`, wait until the bot is done with it, and see what it did."""
    person = coalition.people[who]
    seen, edits = len(person.inbox()), pressed.edits if pressed else 0
    done = handled(coalition.bot)
    coalition.api.push_update(update)
    async with asyncio.timeout(10):
        while True:
            if handled(coalition.bot) > done:
                break
            await asyncio.sleep(0.005)
    await outbox_settled(coalition.database)
    before, coalition.rows = coalition.rows, await snapshot(coalition.database)
    changed = coalition.rows != before
    edited = (pressed.edits if pressed else 0) - edits
    return Outcome(person.inbox()[seen:], edited, changed)


def message(someone: Someone, text: str, **fields: object) -> dict[str, object]:
    """A private text message from `someone` as Telegram delivers it; `fields` replace parts
    of it (the chat, an edit date…)."""
    body: dict[str, object] = {
        "message_id": 1_000_000,
        "from": someone.person.as_user(),
        "chat": someone.person.as_private_chat(),
        "date": 0,
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0]) if text.split() else 0
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {**body, **fields}


def assert_answered(coalition: Coalition, outcome: Outcome, done: str, sent: str) -> None:
    """One reply (or the pressed message rewritten), never the apology, nothing Telegram
    refused, and nothing stored unless the reply says something was done."""
    refused = [r for r in coalition.api.refused if r[1] != NEVER_WROTE]
    assert refused == [], f"{sent!r}: {refused}"
    # /export's answer is two documents: the signature list and the letter.
    documents = any(reply.document is not None for reply in outcome.replies)
    texts = [reply for reply in outcome.replies if reply.document is None]
    assert len(texts) + documents + outcome.edits == 1, f"{sent!r}: {outcome}"
    shown = [reply.text for reply in outcome.replies]
    assert not APOLOGY & set(shown), f"{sent!r} crashed the bot"
    if outcome.changed:
        assert any(re.search(done, text) for text in shown), f"{sent!r} stored: {shown}"


def callback(someone: Someone, pressed: SentMessage, data: str) -> dict[str, object]:
    """`someone` taps a button whose data is `data` on the bot's message `pressed`."""
    shown = {
        "message_id": pressed.message_id,
        "chat": someone.person.as_private_chat(),
        "date": 0,
        "text": pressed.text,
    }
    query = {
        "id": str(len(data)),
        "from": someone.person.as_user(),
        "message": shown,
        "chat_instance": "1",
        "data": data,
    }
    return {"callback_query": query}


def without_text(body: dict[str, object], *dropped: str, **fields: object) -> dict[str, object]:
    """A message with no text (a sticker, a photo…): `fields` say what it holds instead."""
    gone = {"text", "entities", *dropped}
    return {**{k: v for k, v in body.items() if k not in gone}, **fields}


async def press_forged(coalition: Coalition, who: str, data: str) -> Outcome:
    """Tap a button with `data` on a message of the bot's, as a modified client could."""
    someone = coalition.people[who]
    pressed = coalition.tapped.get(who)
    if pressed is None or pressed.edits:
        await outcome_of(coalition, who, {"message": message(someone, "/help")})
        pressed = coalition.tapped[who] = someone.inbox()[-1]
    before = len(coalition.api.calls)
    outcome = await outcome_of(coalition, who, callback(someone, pressed, data), pressed)
    answered = [m for m, _ in coalition.api.calls[before:] if m == "answerCallbackQuery"]
    assert answered, f"{data!r}: the button's spinner never stops"
    return outcome
