"""Every refusal: a clear one-line reply once the bot has finished, and nothing else: no other
message to anyone, nothing stored changes (tests.people.Someone.is_refused)."""

import dataclasses
import enum
import itertools
from datetime import timedelta
from typing import Any, cast

import pytest

from bot.application import program
from foundation.i18n import load_texts
from foundation.settings import LANGUAGES
from handlers.context import CoalitionApplication
from handlers.refusals import word_refusal
from models import Database
from services import errors
from services.appeals import publish_appeal
from services.errors import Refusal
from stand.local_api import LocalBotApi
from stand.sandbox.clock import MovableClock
from tests.people import Someone, appeal_number, invite_code
from tests.stories import ORGANISER, outbox_settled


@pytest.fixture
async def coalition(
    api: LocalBotApi,
    organiser: Someone,
    database: Database,
    running_bot: CoalitionApplication,
    clock: MovableClock,
) -> dict[str, object]:
    """Memorial with one contact, one open appeal #1, one draft #2."""
    invite = await organiser.says("/invite Memorial")
    contact = Someone(api, 2001, "Irina", "en")
    await contact.says(f"/join {invite_code(invite)}")
    opened = appeal_number(await organiser.says("/newappeal Free them all\nText."))
    # Opened as /publish does it, less the progress message: its last figures come a second
    # or more later (bot/outbox.py), and would change a chat and a row while a refusal runs.
    async with database.transaction() as session:
        await publish_appeal(session=session, appeal_id=opened, now=clock(), actor_id=ORGANISER)
    program(running_bot).outbox.wake()
    assert (await contact.next_message()).text.startswith(f"New appeal #{opened}")
    await outbox_settled(database)
    draft = appeal_number(await organiser.says("/newappeal Still a draft\nText."))
    stranger = Someone(api, 3001, "Stranger", "en")
    return {"contact": contact, "stranger": stranger, "open": opened, "draft": draft}


COSIGN_USAGE = (
    "Usage: /cosign ID signs publicly; /cosign ID private names your organisation only to the "
    "addressees; /cosign ID anonymous counts it without naming it"
)
CASES = [
    # (who, what they send, the one line they get back)
    (
        "stranger",
        "/cosign 1",
        "Only contacts of member organisations can use /cosign. Ask an organiser of the coalition for an invite.",
    ),
    (
        "stranger",
        "/status 1",
        "Only contacts of member organisations can use /status. Ask an organiser of the coalition for an invite.",
    ),
    (
        "stranger",
        "/subscribe",
        "Only contacts of member organisations can use /subscribe. Ask an organiser of the coalition for an invite.",
    ),
    ("stranger", "/invite Evil Corp", "Only organisers can use /invite."),
    ("contact", "/invite Evil Corp", "Only organisers can use /invite."),
    ("contact", "/newappeal Title\nText", "Only organisers can use /newappeal."),
    ("contact", "/publish 2", "Only organisers can use /publish."),
    ("contact", "/close 1", "Only organisers can use /close."),
    ("contact", "/join abc", "You are already a contact of Memorial."),
    (
        "stranger",
        "/join not-a-real-code",
        "This invite code is not valid. Check it, or ask an organiser for a new one.",
    ),
    ("stranger", "/join", "Usage: /join CODE"),
    ("stranger", "/start a b", "Usage: /start or /start CODE"),
    ("stranger", "/language de", "Usage: /language en, fr, uk or ru"),
    ("stranger", "/language", "Usage: /language en, fr, uk or ru"),
    (
        "contact",
        "/cosign",
        COSIGN_USAGE,
    ),
    (
        "contact",
        "/cosign abc",
        COSIGN_USAGE,
    ),
    (
        "contact",
        "/cosign 1 loudly",
        COSIGN_USAGE,
    ),
    (
        "contact",
        "/cosign -1",
        COSIGN_USAGE,
    ),
    (
        "contact",
        "/cosign 99999999999999999999",
        COSIGN_USAGE,
    ),
    ("contact", "/cosign 999", "There is no appeal #999. /appeals lists them."),
    ("contact", "/cosign 2", "There is no appeal #2. /appeals lists them."),
    ("contact", "/withdraw 1", "Memorial has not signed appeal #1."),
    ("contact", "/withdraw", "Usage: /withdraw ID"),
    ("contact", "/appeal x", "Usage: /appeal ID"),
    ("contact", "/status 1 2", "Usage: /status ID"),
    ("organiser", "/invite", "Usage: /invite NAME OF THE ORGANISATION"),
    (
        "organiser",
        "/invite " + "x" * 201,
        "An organisation's name must be 1 to 200 characters long.",
    ),
    (
        "organiser",
        "/newappeal",
        "Usage: /newappeal TITLE, with the appeal's text on the following lines",
    ),
    ("organiser", "/newappeal Title only", "Write the appeal's text on the lines after the title."),
    (
        "organiser",
        "/newappeal " + "t" * 201 + "\ntext",
        "An appeal's title must be 1 to 200 characters long.",
    ),
    ("organiser", "/publish 1", "Appeal #1 is already open."),
    ("organiser", "/publish", "Usage: /publish ID"),
    ("organiser", "/close 2", "Appeal #2 is a draft: /publish it first."),
    ("organiser", "/close 42", "There is no appeal #42. /appeals lists them."),
    ("stranger", "/frobnicate", "I do not know the command /frobnicate. /help lists yours."),
    ("stranger", "hello?", "I only understand commands. /help lists yours."),
]


@pytest.mark.parametrize(("who", "sends", "reply"), CASES)
async def test_refused_commands_say_why_and_change_nothing(
    coalition: dict[str, object],
    organiser: Someone,
    database: Database,
    running_bot: CoalitionApplication,
    who: str,
    sends: str,
    reply: str,
) -> None:
    person = organiser if who == "organiser" else coalition[who]
    assert isinstance(person, Someone)
    await person.is_refused(sends, reply, app=running_bot, database=database)


async def test_a_used_invite_is_refused(
    api: LocalBotApi, organiser: Someone, database: Database, running_bot: CoalitionApplication
) -> None:
    code = invite_code(await organiser.says("/invite Memorial"))
    await Someone(api, 2001, "Irina").says(f"/join {code}")
    late = Someone(api, 2002, "Oleg")
    await late.is_refused(
        f"/start {code}",
        "This invite code has already been used. Ask an organiser for a new one.",
        app=running_bot,
        database=database,
    )


async def test_an_expired_invite_is_refused(
    api: LocalBotApi,
    organiser: Someone,
    clock: MovableClock,
    database: Database,
    running_bot: CoalitionApplication,
) -> None:
    code = invite_code(await organiser.says("/invite Memorial"))
    clock.advance(timedelta(days=7, seconds=1))
    await Someone(api, 2001, "Irina").is_refused(
        f"/join {code}",
        "This invite code has expired. Ask an organiser for a new one.",
        app=running_bot,
        database=database,
    )


async def test_a_closed_appeal_is_not_reopened(
    coalition: dict[str, object],
    organiser: Someone,
    database: Database,
    running_bot: CoalitionApplication,
) -> None:
    await organiser.says("/close 1")
    closed = "Appeal #1 is closed; a closed appeal stays closed."
    await organiser.is_refused("/publish 1", closed, app=running_bot, database=database)
    await organiser.is_refused("/close 1", closed, app=running_bot, database=database)


def every_refusal() -> list[Refusal]:
    """Each kind of refusal that services/errors.py declares for the chat, once for each value
    of its enumerated and yes-or-no fields (a wording may depend on them), other fields sample
    values. (The import's row refusal is the command line's, which words it itself.)"""
    kinds: list[type[Refusal]] = []
    waiting: list[type[Refusal]] = [Refusal]
    while waiting:
        found = waiting.pop().__subclasses__()
        kinds += found
        waiting += found
    samples: dict[object, list[object]] = {int: [7], str: ["Memorial"], bool: [True, False]}
    refusals: list[Refusal] = []
    for kind in (kind for kind in kinds if kind.__module__ == errors.__name__):
        choices = []
        for field in dataclasses.fields(cast(Any, kind)):
            values = samples.get(field.type) or list(cast(type[enum.Enum], field.type))
            choices.append([(field.name, value) for value in values])
        refusals += [kind(**dict(chosen)) for chosen in itertools.product(*choices)]
    return refusals


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_the_services_raise_has_a_one_line_wording(language: str) -> None:
    texts = load_texts()[language]
    unworded = []
    for refusal in every_refusal():
        try:
            wording = word_refusal(texts, refusal)
        except TypeError:
            unworded.append(repr(refusal))
            continue
        assert wording.strip(), repr(refusal)
        assert "\n" not in wording, repr(refusal)
    assert not unworded, f"no wording in handlers/refusals.py for {unworded}"
    assert len(every_refusal()) > 30  # every kind was found
