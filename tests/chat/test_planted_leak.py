"""A test of the authorization matrix's test: with a fault planted in the bot (a person refused
at the door is told so, and then the command runs all the same), the matrix's check of each
cell so refused fails; without the fault, the same check of the same cell passes.

The commands that only read matter most: the member list, the audit log or an export shown
after a refusal stores nothing, so only what people are sent can show the leak.
"""

import pytest
from markupsafe import Markup
from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from handlers import framework
from handlers.context import CoalitionApplication, Context
from handlers.framework import Body, Call
from handlers.menu import ENTRIES, Audience, MenuEntry, may_use
from models import Database
from tests.authorization_matrix import MATRIX, ROLES, Allowed, Refused, Row
from tests.chat import test_authorization as matrix
from tests.chat.test_authorization import MatrixCoalition, check_cell
from tests.people import Someone

# The matrix's own stand, for the same cells: its coalition, a copy of it per cell, its people.
coalition = matrix.coalition
database_url = matrix.database_url
people = matrix.people

# Who each role of the matrix is to the access rules (the revoked contact is a stranger again).
AUDIENCE = {
    "organiser": Audience.ORGANISER,
    "contact": Audience.CONTACT,
    "other-contact": Audience.CONTACT,
    "revoked": Audience.STRANGER,
    "stranger": Audience.STRANGER,
}


def command_of(row: Row) -> str:
    return row.label.split()[0].removeprefix("/")


# Commands that, wherever the matrix allows them, change nothing stored.
ONLY_READING = {command_of(row) for row in MATRIX} - {
    command_of(row)
    for row in MATRIX
    for outcome in row.outcomes.values()
    if isinstance(outcome, Allowed) and outcome.changes
}
REFUSED_AT_THE_DOOR = [
    pytest.param(row, role, id=f"{role}-{row.label}")
    for row in MATRIX
    if command_of(row) in ONLY_READING
    for role in ROLES
    if not ENTRIES[command_of(row)].audience & AUDIENCE[role]
]


def test_the_planted_cells_are_refusals_of_the_matrix() -> None:
    """Each cell chosen here is one the matrix expects refused; among them are those the
    review found leaking when the fault was planted by hand."""
    assert sorted(AUDIENCE) == sorted(ROLES)
    for param in REFUSED_AT_THE_DOOR:
        row, role = param.values
        assert isinstance(row, Row)
        assert isinstance(row.outcomes[str(role)], Refused), param.id
    found = {"contact-/orgs", "stranger-/audit", "contact-/export", "stranger-/delivery"}
    assert found | {"stranger-/appeal draft"} <= {param.id for param in REFUSED_AT_THE_DOOR}


class UnheardCall(Call):
    """A call whose answers to the caller are dropped: a leak done out of the caller's sight,
    seen only by others, in what the bot asks of Telegram, or in what is stored."""

    async def reply(
        self, text: Markup, buttons: InlineKeyboardMarkup | None = None, *, protect: bool = False
    ) -> Message:
        return Message(0, self.now(), Chat(self.chat_id, ChatType.PRIVATE))


def plant_leak(monkeypatch: pytest.MonkeyPatch, call: type[Call] = Call) -> None:
    """The fault: every command's frame (handlers.framework) refuses whom it must, then runs the
    command for them anyway (as a `call`), as a forgotten `return` after the refusal would."""
    answer = framework.answer_call

    async def refused_then_run(
        update: Update,
        context: Context,
        where: tuple[int, int],
        name: str,
        arguments: list[str],
        body: Body,
        entry: MenuEntry | None,
        question: bool,
    ) -> None:
        await answer(update, context, where, name, arguments, body, entry, question)
        who, texts = await framework.identify(update, context)
        if not may_use(who, name):
            chat_id, message_id = where
            await body(call(update, context, chat_id, message_id, who, texts, arguments))

    # Looked up at each call by the frame's callbacks: the running bot takes it at once.
    monkeypatch.setattr(framework, "answer_call", refused_then_run)


@pytest.mark.parametrize(("row", "role"), REFUSED_AT_THE_DOOR)
async def test_the_matrix_catches_a_refusal_that_runs_the_command_anyway(
    row: Row,
    role: str,
    people: dict[str, Someone],
    coalition: MatrixCoalition,
    database: Database,
    running_bot: CoalitionApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refused cell changes nothing, so the same bot can be asked twice: first as it is.
    await check_cell(row, role, people, coalition, database, running_bot)
    plant_leak(monkeypatch)
    with pytest.raises(AssertionError):
        await check_cell(row, role, people, coalition, database, running_bot)


ROWS = {row.label: row for row in MATRIX}


@pytest.mark.parametrize(
    ("label", "role", "caught"),
    [
        # Irina is told the appeal she could not close is closed, as every member is.
        pytest.param("/close", "contact", "they got other than the one refusal", id="own chat"),
        # The stranger's announcement goes to the members.
        pytest.param("/publish", "stranger", "the chats of .* changed", id="others' chats"),
        # Irina unlinks herself: no message, but her command menu is set again.
        pytest.param("/revoke", "contact", "the bot also called", id="Telegram"),
        pytest.param("/newappeal", "contact", "changed what is stored", id="the database"),
    ],
)
async def test_each_part_of_the_check_catches_a_leak_out_of_the_callers_sight(
    label: str,
    role: str,
    caught: str,
    people: dict[str, Someone],
    coalition: MatrixCoalition,
    database: Database,
    running_bot: CoalitionApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await check_cell(ROWS[label], role, people, coalition, database, running_bot)
    plant_leak(monkeypatch, UnheardCall)
    with pytest.raises(AssertionError, match=caught):
        await check_cell(ROWS[label], role, people, coalition, database, running_bot)
