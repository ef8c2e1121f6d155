"""No update lost, none handled twice: updates are stored before Telegram hears they arrived,
and each one's effect commits together with the mark that it was handled."""

import asyncio
import json
import random
from pathlib import Path

import aiohttp
from sqlmodel import col, func, select

from bot.application import build_application
from bot.serving import serving
from bot.webhook import SECRET_HEADER, Webhook
from foundation.settings import Settings
from models import Appeal, Database, IncomingUpdate
from stand.local_api import LocalBotApi
from stand.sandbox.clock import MovableClock
from tests.operations.test_sandbox import free_port
from tests.people import Someone
from tests.processes import bot_process, wait_until
from tests.stories import ORGANISER

SECRET = "a-webhook-secret-of-32-characters"
DRAFTS = 100


async def appeal_titles(database: Database) -> list[str]:
    async with database.transaction() as session:
        return list((await session.exec(select(Appeal.title).order_by(col(Appeal.id)))).all())


async def test_an_update_delivered_twice_has_its_effect_once(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    update_id = api.push_message(organiser.person, "/newappeal Free them all\nThe text.")
    assert (await organiser.next_message()).text.startswith("Draft appeal #1")
    api.push_again(update_id)
    # The next update is answered; the repeated one before it was not handled again.
    assert await organiser.says("/appeals") == (
        "Appeals\n#1 Free them all — 0 signatures (draft)\n"
        "/appeal ID shows one in full; /status ID shows where it stands."
    )
    assert await appeal_titles(database) == ["Free them all"]
    # /appeals stored nothing: its mark is written with others', within SETTLE_WITHIN.
    await _all_handled(database)
    async with database.transaction() as session:
        stored = (await session.exec(select(IncomingUpdate))).all()
    # Handled updates keep their id (to recognise a repeat) but not what the person wrote.
    assert [(u.update_id, u.body, u.handled_at is not None) for u in stored] == [
        (update_id, None, True),
        (update_id + 1, None, True),
    ]


async def test_questions_answered_are_marked_handled_together_and_at_the_latest_at_a_stop(
    api: LocalBotApi, settings: Settings, database: Database
) -> None:
    organiser = Someone(api, ORGANISER, "Olena")
    async with serving(build_application(settings)):
        # Questions store nothing: their updates are marked handled later, several at once
        # (with the next update stored, or after SETTLE_WITHIN), and with no help from more.
        for _ in range(3):
            assert (await organiser.says("/appeals")).startswith("No appeal is open")
        await _all_handled(database)
        assert (await organiser.says("/appeals")).startswith("No appeal is open")
        assert await _unhandled(database) == 1
    # A stop does not wait for that write: it makes it, so a restart replays nothing.
    assert await _unhandled(database) == 0


async def test_updates_survive_sigkill_at_any_moment_and_take_effect_once(
    api: LocalBotApi, database: Database, database_url: str, tmp_path: Path
) -> None:
    # An organiser drafts 100 appeals; Telegram delivers every update twice.
    organiser = api.meet(ORGANISER, "Olena", "en")
    for number in range(DRAFTS):
        update_id = api.push_message(organiser, f"/newappeal Appeal {number}\nText {number}.")
        api.push_again(update_id)
    environment = dict(
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        ORGANISER_IDS=str(ORGANISER),
        DATABASE_URL=database_url,
        # One organiser's script sends all of them at once: allowances that let it through.
        FLOOD_BURST=str(DRAFTS),
        CHAT_BURST=str(2 * DRAFTS),
    )
    # The bot is killed five times while it works through them, each time once Olena has had
    # a random number of "Draft appeal" answers (each follows its draft's commit: at least that
    # many are stored, mid-stream whatever the machine's speed), all in the first half: the
    # kill comes a few milliseconds after its threshold, and a quick bot may store a dozen
    # more meanwhile.
    stored_at_kills = []
    for threshold in sorted(random.Random(7).sample(range(5, DRAFTS // 2), 5)):
        async with bot_process(tmp_path, **environment) as bot:
            async with asyncio.timeout(60):
                await api.wait_for_message(ORGANISER, threshold - 1)
            await bot.kill()
        stored_at_kills.append(len(await appeal_titles(database)))
    print(f"drafts stored at each kill: {stored_at_kills}")
    assert stored_at_kills[-1] < DRAFTS, "the kills came too late to test much"
    # Then it runs until every update is handled, and is stopped with SIGTERM.
    async with bot_process(tmp_path, **environment) as bot:

        async def all_drafted_and_handled() -> bool:
            return len(await appeal_titles(database)) >= DRAFTS and not await _unhandled(database)

        await wait_until(
            "every draft stored and every update handled",
            all_drafted_and_handled,
            within=60,
            every=0.2,
        )
        await bot.stop()

    assert sorted(await appeal_titles(database)) == sorted(f"Appeal {n}" for n in range(DRAFTS))


async def _unhandled(database: Database) -> int:
    async with database.transaction() as session:
        return (
            await session.exec(select(func.count()).where(col(IncomingUpdate.handled_at).is_(None)))
        ).one()


async def _all_handled(database: Database) -> None:
    """Wait until every update stored is marked handled."""

    async def none_unhandled() -> bool:
        return await _unhandled(database) == 0

    await wait_until("every update marked handled", none_unhandled, within=10, every=0.02)


async def test_the_webhook_takes_only_telegrams_requests(
    api: LocalBotApi, settings: Settings, database: Database
) -> None:
    olena = Someone(api, ORGANISER, "Olena", "en")
    webhook = Webhook(
        url="https://bot.example.org/telegram/webhook",
        listen="127.0.0.1",
        port=free_port(),
        secret=SECRET,
    )
    app = build_application(settings, clock=MovableClock())
    async with serving(app, webhook=webhook):
        assert api.webhook is not None
        assert (api.webhook["url"], api.webhook["secret_token"]) == (webhook.url, SECRET)
        address = f"http://127.0.0.1:{webhook.port}/telegram/webhook"
        invite = _update(1, olena, "/invite Memorial")
        help_request = _update(2, olena, "/help")
        async with aiohttp.ClientSession() as client:

            async def post(body: object, headers: dict[str, str]) -> tuple[int, str]:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                async with client.post(address, data=data, headers=headers) as response:
                    return response.status, await response.text()

            right = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
            # Someone who is not Telegram: refused, and nothing in it is stored or done.
            assert (await post(invite, {SECRET_HEADER: SECRET[:-1] + "x"}))[0] == 403
            assert (await post(invite, {}))[0] == 403
            # Malformed bodies, with the right token: 400 and one line why.
            assert await post(b"{not json", right) == (400, "the body is not JSON")
            assert await post([1, 2], right) == (400, "an update is a JSON object")
            assert (await post({"update_id": 3, "message": "text"}, right))[0] == 400
            assert (await post({"update_id": -1}, right))[0] == 400
            async with database.transaction() as session:
                assert (await session.exec(select(IncomingUpdate))).all() == []
            assert olena.inbox() == []

            # Telegram's request: stored by the time it hears 200, then handled.
            assert (await post(help_request, right))[0] == 200
            async with database.transaction() as session:
                [stored] = (await session.exec(select(IncomingUpdate))).all()
            assert stored.update_id == 2
            assert (
                "/invite NAME OF THE ORGANISATION — Invite an organisation"
                in (await olena.next_message()).text
            )


def _update(update_id: int, someone: Someone, text: str) -> dict[str, object]:
    command = text.split()[0]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": someone.person.as_private_chat(),
            "from": someone.person.as_user(),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }
