"""Four eyes: with APPROVALS_REQUIRED=2 a broadcast and a promotion wait for a second
organiser; every organiser hears of each privileged action."""

import pytest
from pydantic import SecretStr

from foundation.settings import Settings
from models import Broadcast, BroadcastState, Database, OutboxMessage
from stand.local_api import LocalBotApi
from tests.chat.test_broadcasts import contact_of
from tests.people import Someone
from tests.stories import ORGANISER, outbox_settled, stored

SECOND_ID = 1001
ALERT = "The hearing moved to Friday."


@pytest.fixture
def approvals_required() -> int:
    return 2


@pytest.fixture
def settings(api: LocalBotApi, database_url: str, approvals_required: int) -> Settings:
    return Settings(
        bot_token=SecretStr(api.token),
        telegram_api_url=api.url,
        database_url=database_url,
        organiser_ids=frozenset({ORGANISER, SECOND_ID}),
        default_language="en",
        approvals_required=approvals_required,
    )


@pytest.fixture
def second(api: LocalBotApi, organiser: Someone) -> Someone:
    return Someone(api, SECOND_ID, "Mykola", "en")


async def ask_to_send(organiser: Someone, second: Someone) -> tuple[str, Someone]:
    """Preview and tap Send; returns the edited preview and leaves the ask in second's inbox."""
    await organiser.says(f"/broadcast {ALERT}")
    waiting = await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    return waiting, second


async def test_a_broadcast_goes_out_only_once_a_second_organiser_approves(
    api: LocalBotApi, organiser: Someone, second: Someone, database: Database
) -> None:
    member = await contact_of(api, organiser, "Memorial", 2001)
    waiting, _ = await ask_to_send(organiser, second)
    assert waiting == (
        "Broadcast #1 is waiting for a second organiser to approve it. "
        "I will tell you what they decide."
    )
    ask = await second.next_message()
    assert ask.text == (
        "Approval #1\nOlena (id 1000) asks to send broadcast #1 to 1 member:\n\n" + ALERT
    )
    assert [b["text"] for b in ask.buttons()] == ["Approve", "Reject"]
    assert await stored(database, OutboxMessage) == []
    assert len(member.inbox()) == 1  # only the welcome

    approved = await second.press_and_read_edit(ask, "Approve")
    assert approved == (
        "Approval #1: Mykola (id 1001) approved broadcast #1; it is queued for 1 recipient."
    )
    assert (await member.next_message()).text.endswith(ALERT)
    # The decision and the delivery report reach the requester in either order.
    told = {(await organiser.next_message()).text for _ in range(2)}
    assert told == {approved, "Broadcast #1 is done.\nDelivered: 1\nBlocked the bot: 0\nFailed: 0"}
    await outbox_settled(database)
    assert [m.text for m in member.inbox()].count(member.inbox()[-1].text) == 1

    # A second tap, after the decision, is refused and sends nothing more.
    second.forge(ask, "approval-approve:1")
    assert (await second.next_message()).text == "Approval #1 has already been approved."
    assert len(await stored(database, OutboxMessage)) == 1


async def test_the_requester_cannot_approve_their_own_request(
    api: LocalBotApi, organiser: Someone, second: Someone, database: Database
) -> None:
    await contact_of(api, organiser, "Memorial", 2001)
    await ask_to_send(organiser, second)
    await second.next_message()
    organiser.forge(organiser.inbox()[-1], "approval-approve:1")
    assert (await organiser.next_message()).text == (
        "You asked for approval #1: a second organiser must approve it."
    )
    assert await stored(database, OutboxMessage) == []
    [broadcast] = await stored(database, Broadcast)
    assert broadcast.state == BroadcastState.DRAFT


async def test_a_rejected_broadcast_is_not_sent(
    api: LocalBotApi, organiser: Someone, second: Someone, database: Database
) -> None:
    member = await contact_of(api, organiser, "Memorial", 2001)
    await ask_to_send(organiser, second)
    ask = await second.next_message()
    rejected = await second.press_and_read_edit(ask, "Reject")
    assert rejected == "Approval #1: Mykola (id 1001) rejected broadcast #1; nothing was sent."
    assert (await organiser.next_message()).text == rejected
    second.forge(ask, "approval-approve:1")
    assert (await second.next_message()).text == "Approval #1 has already been rejected."
    organiser.forge(organiser.inbox()[0], "broadcast-send:1")
    assert await stored(database, OutboxMessage) == []
    assert len(member.inbox()) == 1


async def test_a_promotion_waits_for_a_second_organiser(
    api: LocalBotApi, organiser: Someone, second: Someone
) -> None:
    newcomer = Someone(api, 3001, "Newcomer")
    assert await organiser.says("/promote 3001") == (
        "Making 3001 an organiser is waiting for a second organiser to approve it. "
        "I will tell you what they decide."
    )
    ask = await second.next_message()
    assert ask.text == "Approval #1\nOlena (id 1000) asks to make 3001 an organiser."
    assert (await newcomer.says("/orgs")).startswith("Only organisers can use /orgs.")

    approved = await second.press_and_read_edit(ask, "Approve")
    assert approved == "Approval #1: Mykola (id 1001) approved: 3001 is now an organiser."
    assert (await organiser.next_message()).text == approved
    assert (await newcomer.says("/orgs")).startswith("No organisation has been invited yet.")


@pytest.mark.parametrize("approvals_required", [1])
async def test_with_one_approval_the_other_organisers_are_told(
    api: LocalBotApi, organiser: Someone, second: Someone, database: Database
) -> None:
    await contact_of(api, organiser, "Memorial", 2001)
    await organiser.says(f"/broadcast {ALERT}")
    sent = await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    assert sent.startswith("Broadcast #1:\n\n📣 From the coalition's organisers")
    assert (await second.next_message()).text == "Olena (id 1000) queued broadcast #1 to 1 member."
    progress = await organiser.next_message()
    assert progress.text.startswith("Broadcast #1 is going out to 1 recipient.")
    await organiser.sees_it_end(progress, "Broadcast #1 is done.")

    assert await organiser.says("/promote 3001") == "3001 is now an organiser."
    assert (await second.next_message()).text == "Olena (id 1000) promoted 3001 to organiser."
