"""Random sequences of chat commands from the organiser, the contacts of three organisations and
a stranger, through the real Application and the local Bot API. After every message: the person
got one reply; a refused command changed nothing; what /status and /appeals show is what the
database holds; nothing reached the error handler; Telegram accepted every message the bot sent
(HTML and length); and there is at most one signature per organisation and appeal.

Each example serves a fresh bot on its own copy of the coalition (tests.stories).
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from prometheus_client import Counter
from sqlmodel import SQLModel, select

from bot.application import build_application
from bot.serving import serving
from handlers.context import CoalitionApplication, resources_of
from models import AppealState, Database, Delivery, Disclosure, OutboxMessage
from models.appeal import TITLE_MAX
from stand.local_api import LocalBotApi, SentMessage
from stand.sandbox.clock import MovableClock
from tests.chat_rules import ChatModel, ModelAppeal, Outcome, arranged
from tests.databases import DatabaseCopies
from tests.fuzzing import examples, settings_for
from tests.people import REPLY_TIMEOUT, Someone
from tests.processes import wait_until
from tests.stories import (
    CONTACTS,
    ORGANISER,
    STRANGER,
    CoalitionTemplate,
    menus_shown,
    outbox_settled,
    state_of_steps,
)

NAMES = {ORGANISER: "Olena", 2001: "Irina", 2002: "Oleg", 2003: "Ales", 2004: "Marta"}
NAMES |= {2005: "Taras", 2006: "Amélie", STRANGER: "Stranger"}
SOMETHING_WENT_WRONG = (
    "Something went wrong on our side and nothing was saved. Please try again later."
)
# What the outbox worker records while it sends: it works beside the commands, not for them.
Snapshot = dict[str, list[tuple[object, ...]]]


# --- What people send ------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    person: int
    text: str
    # Another contact of the same organisation, who sends the same at the same moment.
    together_with: int | None = None

    @property
    def senders(self) -> list[int]:
        return [self.person] if self.together_with is None else [self.person, self.together_with]


Says = st.SearchStrategy[Say]


def says(people: st.SearchStrategy[int], template: str, *parts: st.SearchStrategy[str]) -> Says:
    return st.builds(
        lambda person, *values: Say(person, template.format(*values).strip()), people, *parts
    )


# Appeal ids as typed: the coalition's three (the open #1 most), those the steps may draft, and
# odd ones.
IDS = st.sampled_from(
    ["1", "1", "1", "2", "3", "4", "5", "0", "-1", "99999", "x", "4294967296", "٣"]
)
TITLES = st.sampled_from(
    ["Free all detainees", "Free <all> & every   one", "T" * TITLE_MAX, "T" * 201, " "]
)
# The long one fills most of a message: under a long title, /appeal shows it in two.
LONG = "We ask <you> & your governments to act now. " * 86
WORDINGS = st.sampled_from(["Your Excellencies,\nFree them.", LONG, "  "])
ORGANISER_OR_NOT = st.sampled_from([ORGANISER, ORGANISER, ORGANISER, ORGANISER, 2003, STRANGER])
CONTACT_OR_NOT = st.sampled_from([*CONTACTS, ORGANISER, STRANGER])
OPTIONS = st.sampled_from(
    ["", "private", "anonymous", "Anonymous", "loudly", "Privé", "анонімно", "приватно", "privée"]
)
ODD = ["hello", "/frobnicate", "/cosign", "/status 1 2", "/withdraw 1 2", "/revoke"]
# Two contacts of one organisation who co-sign or withdraw at the same moment.
AT_ONCE = st.builds(
    lambda pair, command, appeal: Say(pair[0], f"/{command} {appeal}", together_with=pair[1]),
    st.sampled_from([(2001, 2002), (2003, 2004), (2005, 2006)]),
    st.sampled_from(["cosign", "withdraw"]),
    IDS,
)
# How often each comes, relatively: co-signing most, and enough drafting and publishing that
# there is something open to sign. (st.one_of would merge repeated strategies into one.)
WEIGHTED: list[tuple[int, Says]] = [
    (4, says(CONTACT_OR_NOT, "/cosign {} {}", IDS, OPTIONS)),
    (2, says(CONTACT_OR_NOT, "/withdraw {}", IDS)),
    (2, says(CONTACT_OR_NOT, "/status {}", IDS)),
    (1, says(CONTACT_OR_NOT, "/appeals")),
    (1, says(CONTACT_OR_NOT, "/appeal {}", IDS)),
    (2, says(ORGANISER_OR_NOT, "/newappeal {}\n{}", TITLES, WORDINGS)),
    (2, says(ORGANISER_OR_NOT, "/publish {}", IDS)),
    (1, says(ORGANISER_OR_NOT, "/close {}", IDS)),
    (1, says(ORGANISER_OR_NOT, "/edit {} {}\n{}", IDS, TITLES, WORDINGS)),
    (1, says(ORGANISER_OR_NOT, "/revoke {}", st.sampled_from(["2001", "2004", "3001", "0"]))),
    (1, says(CONTACT_OR_NOT, "/{}", st.sampled_from(["subscribe", "unsubscribe"]))),
    (1, says(st.sampled_from(list(NAMES)), "{}", st.sampled_from(ODD))),
    (2, AT_ONCE),
]
STEPS: Says = st.sampled_from([step for weight, step in WEIGHTED for _ in range(weight)]).flatmap(
    lambda step: step
)


# --- The property ---------------------------------------------------------------------------


@pytest.fixture
def people(api: LocalBotApi) -> dict[int, Someone]:
    return {user_id: Someone(api, user_id, name) for user_id, name in NAMES.items()}


@settings(max_examples=examples(25))
@given(steps=st.lists(STEPS, min_size=6, max_size=24))
async def test_any_conversation_keeps_the_rules(
    api: LocalBotApi,
    people: dict[int, Someone],
    coalition_template: CoalitionTemplate,
    database_copies: DatabaseCopies,
    caplog: pytest.LogCaptureFixture,
    steps: list[Say],
) -> None:
    with database_copies.copy_of(coalition_template.url) as url:
        database = Database(url)
        clock = MovableClock()
        try:
            # Before the bot starts, so that what it sends from its first moment is counted.
            conversation = Conversation(
                api, database, people, caplog, arranged(coalition_template.coalition)
            )
            bot = build_application(settings_for(api, url, ORGANISER), clock=clock)
            async with serving(bot) as app:
                await conversation.begin(app)
                for number, step in enumerate(steps, start=1):
                    clock.advance(timedelta(seconds=1))  # a second apart, as people type
                    await conversation.take(step, f"step {number}, {step}")
                await outbox_settled(database)
            await conversation.assert_every_message_accounted()
        finally:
            await database.dispose()


@dataclass
class Conversation:
    """One example's exchanges, each checked against the model and the database."""

    api: LocalBotApi
    database: Database
    people: dict[int, Someone]
    caplog: pytest.LogCaptureFixture
    model: ChatModel
    app: CoalitionApplication = field(init=False)
    stored: Snapshot = field(init=False)
    # Messages in each chat before this example, and the replies counted in it.
    earlier: dict[int, int] = field(init=False)
    replies: dict[int, int] = field(init=False)
    # Where this example's calls refused by the server, and its log records, begin.
    first_refused: int = field(init=False)
    first_record: int = field(init=False)
    # Outbox messages that were sent before it (the coalition's announcements).
    announced: set[int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.earlier = {person: len(self.api.messages(person)) for person in NAMES}
        self.replies = dict.fromkeys(NAMES, 0)
        self.first_refused = len(self.api.refused)
        self.first_record = len(self.caplog.records)

    async def begin(self, app: CoalitionApplication) -> None:
        self.app = app
        await menus_shown(app)  # the menus due at start-up, which it records
        self.stored = await state_of_steps(self.database)
        async with self.database.transaction() as session:
            self.announced = set((await session.exec(select(OutboxMessage.id))).all())

    async def take(self, step: Say, where: str) -> None:
        """Send one message (or two at once); check the replies, what is stored, and what the
        bot sent."""
        outcomes = {person: self.model.expect(person, step.text) for person in step.senders}
        # Of two at once, the first the database lets through takes effect; the other is
        # refused, as it would be after it.
        doers = [person for person, outcome in outcomes.items() if outcome is Outcome.CHANGED]
        expected = Outcome.CHANGED if doers else outcomes[step.person]
        together = " (two at once)" if step.together_with else ""
        event(f"{step.text.split()[0][:12]}{together}: {expected.value}")
        got = await exchange(self.app, [self.people[person] for person in step.senders], step.text)
        before, after = self.stored, await state_of_steps(self.database)
        self.stored = after
        assert self.api.refused[self.first_refused :] == [], where
        assert not self.errors_handled(), where
        for person, messages in got.items():
            self.replies[person] += len(messages)
            # One reply each; /appeal of a long text may fill two messages.
            assert 1 <= len(messages) <= (2 if step.text.startswith("/appeal ") else 1), where
        replies = {person: "\n".join(m.text for m in messages) for person, messages in got.items()}
        reply = replies[step.person]
        assert all(SOMETHING_WENT_WRONG not in text for text in replies.values()), where
        changed = after != before
        assert changed == (expected is Outcome.CHANGED), f"{where}: {expected.value}: {replies}"
        if expected is Outcome.REFUSED:
            assert all("\n" not in text for text in replies.values()), f"{where}: {replies}"
        if expected is Outcome.CHANGED:
            self.model.apply(doers[0], step.text, replies[doers[0]])
        assert_stored_as_modelled(after, self.model)
        if expected is Outcome.UNCHANGED and step.text.startswith("/status"):
            assert_status_as_stored(reply, after, self.model, step.person)
        if expected is Outcome.UNCHANGED and step.text == "/appeals":
            assert_list_as_stored(reply, after, self.model, step.person)

    async def assert_every_message_accounted(self) -> None:
        """Each person received the replies counted step by step and the outbox messages
        queued for them, every one of which was sent: nothing more, nothing lost."""
        async with self.database.transaction() as session:
            every = (await session.exec(select(OutboxMessage))).all()
        queued = [message for message in every if message.id not in self.announced]
        assert {message.delivery for message in queued} <= {Delivery.SENT}
        for person, before in self.earlier.items():
            outboxed = sum(1 for message in queued if message.chat_id == person)
            received = len(self.api.messages(person)) - before
            assert received == self.replies[person] + outboxed, person
        assert self.api.refused[self.first_refused :] == []

    def errors_handled(self) -> list[str]:
        """What reached the error handler (handlers/errors.py) in this example."""
        return [
            record.getMessage()
            for record in self.caplog.records[self.first_record :]
            if record.levelno >= logging.ERROR and "unhandled error" in record.getMessage()
        ]


async def exchange(
    app: CoalitionApplication, senders: list[Someone], text: str
) -> dict[int, list[SentMessage]]:
    """Each sender sends `text` at the same moment; once the bot has handled them all, the
    messages it sent each meanwhile that answer them (announcements and requests to re-confirm,
    which may arrive too, carry buttons; the news that an appeal closed starts with 🔒)."""
    metrics = resources_of(app).metrics
    done = handled(metrics.updates)
    seen = {sender.user_id: len(sender.inbox()) for sender in senders}
    for sender in senders:
        sender.api.push_message(sender.person, text)
    await wait_until(
        "the bot handled every sender's message",
        lambda: handled(metrics.updates) >= done + len(senders),
        within=REPLY_TIMEOUT,
        every=0.005,
    )
    return {
        sender.user_id: [
            m
            for m in sender.inbox()[seen[sender.user_id] :]
            if not m.buttons() and not m.text.startswith(CLOSED_MARK)
        ]
        for sender in senders
    }


CLOSED_MARK = "🔒"


def handled(counter: Counter) -> float:
    """Updates the bot has finished with, its error handler included."""
    return sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))


def rows(tables: Snapshot, table: str) -> list[dict[str, Any]]:
    names = list(SQLModel.metadata.tables[table].columns.keys())
    return [dict(zip(names, row, strict=True)) for row in tables[table]]


def assert_stored_as_modelled(tables: Snapshot, model: ChatModel) -> None:
    signed = rows(tables, "signature")
    pairs = [(row["appeal_id"], row["organisation_id"]) for row in signed]
    assert len(pairs) == len(set(pairs)), "two signatures of one organisation on one appeal"
    assert dict(zip(pairs, [Disclosure(r["disclosure"]) for r in signed], strict=True)) == (
        model.signatures
    )
    assert {
        row["id"]: ModelAppeal(AppealState(row["state"]), row["title"])
        for row in rows(tables, "appeal")
    } == model.appeals
    assert {
        row["telegram_id"]: (row["organisation_id"], row["subscribed"])
        for row in rows(tables, "contact")
    } == {
        person: (organisation, model.subscribed[person])
        for person, organisation in model.contacts.items()
    }


def assert_status_as_stored(reply: str, tables: Snapshot, model: ChatModel, person: int) -> None:
    """/status names the appeal and counts its signatures as the database holds them."""
    lines = reply.split("\n")
    appeal_id = int(re.findall(r"\d+", lines[0])[0])
    assert lines[0] == f"#{appeal_id} {model.appeals[appeal_id].title}"
    [version] = [row["version"] for row in rows(tables, "appeal") if row["id"] == appeal_id]
    signed = [row for row in rows(tables, "signature") if row["appeal_id"] == appeal_id]
    current = [row for row in signed if row["version"] == version]
    total = re.search(r"^(\d+) organisations? ha(?:s|ve) signed\.$", reply, re.MULTILINE)
    assert total, reply
    assert int(total[1]) == len(signed), reply
    apart = re.search(r"^(\d+) on the current text; (\d+) await", reply, re.MULTILINE)
    awaiting = (len(current), len(signed) - len(current)) if len(current) < len(signed) else None
    assert (apart and (int(apart[1]), int(apart[2]))) == awaiting, reply
    if person in model.contacts:
        name = model.names[model.contacts[person]]
        own = {
            None: f"{name} has not signed.",
            Disclosure.PUBLIC: f"{name} has signed, publicly.",
            Disclosure.PRIVATE: f"{name} has signed, named only to the addressees.",
            Disclosure.ANONYMOUS: f"{name} has signed, anonymously.",
        }[model.signatures.get((appeal_id, model.contacts[person]))]
        assert own in lines, reply
    public = sorted(
        f"• {model.names[row['organisation_id']]}"
        for row in current
        if Disclosure(row["disclosure"]) is Disclosure.PUBLIC
    )
    assert sorted(line for line in lines if line.startswith("• ")) == public, reply


def assert_list_as_stored(reply: str, tables: Snapshot, model: ChatModel, person: int) -> None:
    """/appeals lists what this person may see, each with its count on the current text."""
    versions = {row["id"]: row["version"] for row in rows(tables, "appeal")}
    on_current = [
        row["appeal_id"]
        for row in rows(tables, "signature")
        if row["version"] == versions[row["appeal_id"]]
    ]
    line = re.compile(r"^#(\d+) (.*) — (\d+) signatures?( \(draft\))?$", re.MULTILINE)
    listed = {int(m[1]): (m[2], int(m[3]), bool(m[4])) for m in line.finditer(reply)}
    assert listed == {
        appeal_id: (appeal.title, on_current.count(appeal_id), appeal.state is AppealState.DRAFT)
        for appeal_id, appeal in model.appeals.items()
        if appeal.state is not AppealState.CLOSED and model.shown(appeal_id, person)
    }, reply
