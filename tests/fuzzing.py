"""Fuzzing and property tests: how many examples each runs (the hypothesis profiles); the
running bot, each example on a bot of its own serving a fresh copy of the database, one update
at a time, seeing what the person got back and whether anything stored changed; and what the
bot's answer says it did, read from its own texts."""

import enum
import inspect
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from io import BytesIO
from types import ModuleType

import hypothesis
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, Phase
from pydantic import SecretStr

import handlers.fallback
import handlers.framework
import handlers.refusals
from bot.application import build_application
from bot.serving import serving
from foundation.i18n import catalog_path, load_texts
from foundation.settings import LANGUAGES, Settings
from handlers.context import CoalitionApplication, Resources, resources_of
from handlers.framework import BadInput
from models import Database
from stand.local_api import LocalBotApi, SentMessage
from stand.sandbox.clock import MovableClock
from tests.databases import DatabaseCopies
from tests.people import Someone
from tests.processes import wait_until
from tests.stories import menus_shown, outbox_settled, state_of_steps

# --- How many examples ----------------------------------------------------------------------

# HYPOTHESIS_PROFILE=ci (the default) runs the same examples on every run, as many as each test
# names: CI is reproducible and quick. HYPOTHESIS_PROFILE=deep draws new ones on each run, ten
# times as many and at least DEEP_LEAST, and tries first the failures it found before (kept in
# .hypothesis/, which git ignores).
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PROFILES = ("ci", "deep")
DEEP_LEAST = 200


def examples(count: int) -> int:
    """How many examples a property test runs: `count` on CI, more in a deep run."""
    return max(count * 10, DEEP_LEAST) if PROFILE == "deep" else count


# Both: no deadline on a machine shared with others, fixtures that are function-scoped on
# purpose (each example makes what it needs afresh), and no explain phase (it runs a failing
# example a hundred times more). A test that names no count runs hypothesis's 100, scaled.
SHARED = hypothesis.settings(
    deadline=None,
    max_examples=examples(100),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
hypothesis.settings.register_profile(
    "ci",
    SHARED,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
hypothesis.settings.register_profile(
    "deep",
    SHARED,
    derandomize=False,
    print_blob=True,  # a failure prints the @reproduce_failure that replays it
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


def load_profile() -> None:
    """The profile HYPOTHESIS_PROFILE names, or a usage error in one line."""
    if PROFILE not in PROFILES:
        raise pytest.UsageError(f"HYPOTHESIS_PROFILE: must be one of {', '.join(PROFILES)}")
    hypothesis.settings.load_profile(PROFILE)


# --- The bot's texts ------------------------------------------------------------------------

TEXTS = load_texts()
APOLOGY = {
    str(texts.t("Something went wrong on our side and nothing was saved. Please try again later."))
    for texts in TEXTS.values()
}
# An organiser promoted by a fuzzed id may never have written to the bot: Telegram refuses a
# message to them, and the bot logs it and carries on (handlers/to_organisers.py).
NEVER_WROTE = "Bad Request: chat not found"


# --- What the bot's answer says it did -------------------------------------------------------


class Effect(enum.Enum):
    """What a command or a button does when the bot does not refuse it."""

    READS = "reads"  # shows, asks or greets: stores nothing
    STORES = "stores"  # stores something
    # Sets what the person asks for (a language, a time zone…), which may already be so: then
    # it truthfully says so and stores nothing.
    SETS = "sets"


# The names `make messages` extracts the bot's texts by (foundation/i18n.py's Texts, handlers/menu.py).
KEYWORDS = {"t": None, "tn": (1, 2), "plain": None, "plain_n": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"\{\w*(?:[!:][^{}]*)?\}")


def texts_in(source: str) -> list[str | tuple[str, ...]]:
    """The texts a piece of the bot's code says, as Babel extracts them for the catalogs."""
    found = extract("python", BytesIO(source.encode()), keywords=KEYWORDS)
    return [message for _, message, _, _ in found]


def catalogs() -> list[Catalog]:
    """The bot's catalog in each language."""
    every = []
    for language in LANGUAGES:
        with catalog_path(language).open("rb") as po:
            every.append(read_po(po, locale=language))
    return every


def wordings(message: str | tuple[str, ...], every: list[Catalog]) -> set[str]:
    """Each language's wording of one of the bot's texts, each plural form (HTML, with
    placeholders)."""
    forms = {message} if isinstance(message, str) else set(message)
    key = message if isinstance(message, str) else message[0]
    for catalog in every:
        entry = catalog.get(key)
        translated = (entry and entry.string) or ()
        forms |= {translated} if isinstance(translated, str) else set(translated)
    return {form for form in forms if form}


@dataclass(frozen=True)
class Wording:
    """One wording of one of the bot's texts, as a message's HTML shows it."""

    pattern: re.Pattern[str]
    # Its longest part that is not a placeholder, and how many such characters it has: the
    # more, the surer a match ("{organisation} has not signed appeal #{id}." also matches
    # "Reminded 1 organisation that has not signed appeal #1.", whose own text is longer).
    clue: str
    literal: int
    refusal: bool

    @classmethod
    def of(cls, wording: str, *, refusal: bool) -> "Wording":
        literals = PLACEHOLDER.split(wording)
        pattern = re.compile("(?s:.*?)".join(re.escape(literal) for literal in literals))
        return cls(pattern, max(literals, key=len), sum(map(len, literals)), refusal)


def refusal_code() -> list[ModuleType | type]:
    """The bot's code that words a refusal: the services' refusals, the frame around every
    command (its usage, who may use it, a button it never made), the fallback (a command it
    does not know), and each handler's own BadInput."""
    bad_inputs: list[type] = []
    waiting: list[type] = [BadInput]
    while waiting:
        found: list[type] = waiting.pop().__subclasses__()
        bad_inputs += found
        waiting += found
    return [handlers.refusals, handlers.framework, handlers.fallback, *bad_inputs]


def every_wording() -> list[Wording]:
    """Every text the bot has (its catalogs), in every language, each marked a refusal or
    not by where the bot's code says it."""
    every = catalogs()
    refusals = {m for code in refusal_code() for m in texts_in(inspect.getsource(code))}
    ids = (message.id for message in every[0] if message.id)
    messages = {key if isinstance(key, str) else tuple(key) for key in ids}
    assert refusals <= messages, f"not in the catalogs: {refusals - messages}"
    return [
        Wording.of(wording, refusal=message in refusals)
        for message in messages
        for wording in wordings(message, every)
    ]


WORDINGS = every_wording()


def refused(answer: SentMessage) -> bool:
    """Whether a message of the bot's is one of its refusals: the text it is most surely
    (see Wording) is one."""
    source = answer.source
    matches = [w for w in WORDINGS if w.clue in source and w.pattern.fullmatch(source)]
    return bool(matches) and max(matches, key=lambda w: w.literal).refusal


def says_done(effect: Effect, answers: list[SentMessage]) -> bool:
    """Whether the bot's answer says it did what was asked: a command or button that does
    something, answered, and not with a refusal."""
    return effect is not Effect.READS and bool(answers) and not any(map(refused, answers))


# --- One example's coalition ----------------------------------------------------------------


@dataclass
class FuzzedBot:
    """A bot serving its own database, the people who write to it, and what it stored."""

    api: LocalBotApi
    bot: CoalitionApplication
    database: Database
    people: dict[str, Someone]
    # Every row after the last step: the next step's "before" (nothing runs in between).
    rows: dict[str, list[tuple[object, ...]]]
    # Where this coalition's calls refused by the server begin.
    first_refused: int
    # A message of the bot's to tap forged buttons on, per person, until an edit uses it up.
    tapped: dict[str, SentMessage] = field(default_factory=dict)

    def refused_calls(self) -> list[tuple[str, str]]:
        """What Telegram refused the bot since this coalition began, but for a message to an
        organiser who never wrote to it."""
        return [call for call in self.api.refused[self.first_refused :] if call[1] != NEVER_WROTE]


@dataclass
class Stand:
    """What the examples of one test share: Telegram (the local Bot API, whose chats outlive a
    bot, as Telegram's do), the people in it, and the database each example copies."""

    api: LocalBotApi
    people: dict[str, Someone]
    template: str
    copies: DatabaseCopies


def settings_for(api: LocalBotApi, database_url: str, organiser: int) -> Settings:
    """The bot's settings on the local Bot API and this database, with one organiser."""
    return Settings(
        bot_token=SecretStr(api.token),
        telegram_api_url=api.url,
        database_url=database_url,
        organiser_ids=frozenset({organiser}),
        default_language="en",
    )


@asynccontextmanager
async def serving_coalition(
    api: LocalBotApi, people: dict[str, Someone], database_url: str
) -> AsyncIterator[FuzzedBot]:
    """A bot of its own serving the database, ready (its menus due at start-up set)."""
    organiser = people["organiser"].user_id
    app = build_application(settings_for(api, database_url, organiser), clock=MovableClock())
    async with serving(app) as bot:
        await menus_shown(bot)
        database = resources_of(bot).database
        rows = await state_of_steps(database)
        yield FuzzedBot(api, bot, database, people, rows, len(api.refused))


@asynccontextmanager
async def fresh_coalition(stand: Stand) -> AsyncIterator[FuzzedBot]:
    """A bot of its own serving a copy of the template: nothing that an earlier example
    stored, or that an earlier bot held in memory (chat data, flood control, the budget)."""
    with stand.copies.copy_of(stand.template) as url:
        async with serving_coalition(stand.api, stand.people, url) as coalition:
            yield coalition


# --- Pushing updates ------------------------------------------------------------------------


def handled(bot: CoalitionApplication) -> float:
    """How many updates the bot has finished handling, replies and error handler included."""
    resources: Resources = resources_of(bot)
    counted = resources.metrics.updates.collect()
    return sum(s.value for m in counted for s in m.samples if s.name.endswith("_total"))


@dataclass
class Outcome:
    """What one update got back, and whether anything stored changed."""

    replies: list[SentMessage]
    # The pressed message, if the bot rewrote it (an answer to a button).
    edited: SentMessage | None
    changed: bool

    @property
    def answers(self) -> list[SentMessage]:
        return self.replies + ([self.edited] if self.edited else [])


async def outcome_of(
    coalition: FuzzedBot, who: str, update: dict[str, object], pressed: SentMessage | None = None
) -> Outcome:
    """Push an update from `who`, wait until the bot is done with it, and see what it did."""
    person = coalition.people[who]
    seen, edits = len(person.inbox()), pressed.edits if pressed else 0
    done = handled(coalition.bot)
    coalition.api.push_update(update)
    await wait_until(
        "the bot handled the update", lambda: handled(coalition.bot) > done, within=10, every=0.005
    )
    await outbox_settled(coalition.database)
    before, coalition.rows = coalition.rows, await state_of_steps(coalition.database)
    edited = pressed if pressed and pressed.edits > edits else None
    return Outcome(person.inbox()[seen:], edited, coalition.rows != before)


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


def assert_answered(coalition: FuzzedBot, outcome: Outcome, effect: Effect, sent: str) -> bool:
    """One reply (or the pressed message rewritten), never the apology, nothing Telegram
    refused; and something stored changed if, and (unless it only sets what may already be
    so) only if, the answer says it was done. Returns whether it says so."""
    assert coalition.refused_calls() == [], f"{sent!r}: {coalition.refused_calls()}"
    # /export's answer is two documents: the signature list and the letter.
    documents = any(reply.document is not None for reply in outcome.replies)
    texts = [reply for reply in outcome.replies if reply.document is None]
    assert len(texts) + documents + bool(outcome.edited) == 1, f"{sent!r}: {outcome}"
    shown = [answer.text for answer in outcome.answers]
    assert not APOLOGY & set(shown), f"{sent!r} crashed the bot"
    done = says_done(effect, outcome.answers)
    if outcome.changed:
        assert done, f"{sent!r} stored something, but the answer does not say so: {shown}"
    if done and effect is Effect.STORES:
        assert outcome.changed, f"{sent!r}: the answer says it was done, but nothing is: {shown}"
    return done


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


async def press_forged(coalition: FuzzedBot, who: str, data: str) -> Outcome:
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
