"""The stand's Bot API server's other methods, as a plain HTTP client sees them: updates,\ndocuments, command menus, edits."""

import asyncio
import json
import time

import httpx
import pytest
from telegram import Message

from stand.local_api import LocalBotApi, Person
from tests.people import REPLY_TIMEOUT
from tests.units.bot_api_client import CallLog, ok, refused, send

# getUpdates ----------------------------------------------------------------------------------


async def test_get_updates_returns_pushed_messages_until_confirmed(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    oleg = api.meet(2002, "Oleg", "en")
    api.push_message(irina, "/start x")
    api.push_message(oleg, "Bonjour")

    updates = await ok(await client.post("getUpdates", json={"timeout": 0}))
    assert [u["message"]["text"] for u in updates] == ["/start x", "Bonjour"]
    first, second = updates
    assert second["update_id"] > first["update_id"]
    assert first["message"]["from"]["id"] == irina.user_id
    assert first["message"]["from"]["language_code"] == "fr"
    assert first["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert "entities" not in second["message"]
    assert Message.de_json(first["message"]).text == "/start x"

    # Not confirmed yet: asked again, the same updates come back.
    again = await ok(await client.post("getUpdates", json={"timeout": 0}))
    assert [u["update_id"] for u in again] == [first["update_id"], second["update_id"]]

    # An offset past the last one confirms them; they never come back.
    offset = second["update_id"] + 1
    assert await ok(await client.post("getUpdates", json={"offset": offset, "timeout": 0})) == []
    assert await ok(await client.post("getUpdates", json={"timeout": 0})) == []

    # The next update continues the numbering.
    api.push_message(oleg, "Encore")
    [third] = await ok(await client.post("getUpdates", json={"offset": offset, "timeout": 0}))
    assert third["update_id"] == offset
    assert third["message"]["text"] == "Encore"


async def test_get_updates_with_an_offset_confirms_only_earlier_updates(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    first = api.push_message(irina, "un")
    second = api.push_message(irina, "deux")
    updates = await ok(await client.post("getUpdates", data={"offset": str(second)}))
    assert [u["update_id"] for u in updates] == [second]
    assert first < second


async def test_get_updates_long_polls_until_an_update_arrives(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    calls = api.calls = CallLog()
    # Held open far longer than the test waits for the answer: only the update can end it.
    poll = asyncio.create_task(client.post("getUpdates", json={"timeout": 60}, timeout=90))
    await calls.arrival_of("getUpdates")
    assert not poll.done(), "getUpdates answered before anything happened"

    api.push_message(irina, "Me voici")

    async with asyncio.timeout(REPLY_TIMEOUT):
        updates = await ok(await poll)
    assert [u["message"]["text"] for u in updates] == ["Me voici"]


async def test_get_updates_returns_nothing_after_its_timeout(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    updates = await ok(await client.post("getUpdates", json={"timeout": 1}))
    assert updates == []
    assert time.monotonic() - started >= 0.99  # not before its timeout


# sendDocument --------------------------------------------------------------------------------


async def test_send_document_stores_the_uploaded_file(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    content = "organisation;signée\nMemorial;oui\n".encode()
    response = await client.post(
        "sendDocument",
        data={
            "chat_id": str(irina.user_id),
            "caption": "Les <b>signataires</b>",
            "parse_mode": "HTML",
        },
        files={"document": ("signataires.csv", content, "text/csv")},
    )
    result = await ok(response)

    assert result["document"]["file_name"] == "signataires.csv"
    assert result["document"]["file_size"] == len(content)
    assert result["caption"] == "Les signataires"
    assert "text" not in result
    message = Message.de_json(result)
    assert message.document is not None
    assert message.document.file_name == "signataires.csv"

    [sent] = api.messages(irina.user_id)
    assert sent.document is not None
    assert sent.document.file_name == "signataires.csv"
    assert sent.document.content == content


async def test_send_document_without_a_file_is_refused(
    client: httpx.AsyncClient, irina: Person
) -> None:
    response = await client.post(
        "sendDocument", data={"chat_id": str(irina.user_id), "document": "not-a-file"}
    )
    assert refused(response, 400).startswith("Bad Request:")


# Commands ------------------------------------------------------------------------------------

DEFAULT_COMMANDS = [
    {"command": "start", "description": "Start"},
    {"command": "appeals", "description": "Open appeals"},
]
FRENCH_COMMANDS = [{"command": "appeals", "description": "Appels ouverts"}]
ORGANISER_COMMANDS = [
    {"command": "invite", "description": "Invite an organisation"},
    {"command": "new_appeal", "description": "Draft an appeal"},
]


async def test_commands_are_kept_per_scope_and_language(client: httpx.AsyncClient) -> None:
    chat_scope = {"type": "chat", "chat_id": 1000}
    assert await ok(await client.post("setMyCommands", json={"commands": DEFAULT_COMMANDS}))
    assert await ok(
        await client.post(
            "setMyCommands", json={"commands": FRENCH_COMMANDS, "language_code": "fr"}
        )
    )
    # Form-encoded as PTB sends it: commands and scope are JSON inside the form.
    assert await ok(
        await client.post(
            "setMyCommands",
            data={"commands": json.dumps(ORGANISER_COMMANDS), "scope": json.dumps(chat_scope)},
        )
    )

    assert await ok(await client.post("getMyCommands", json={})) == DEFAULT_COMMANDS
    assert (
        await ok(await client.post("getMyCommands", json={"scope": {"type": "default"}}))
        == DEFAULT_COMMANDS
    )
    assert (
        await ok(await client.post("getMyCommands", json={"language_code": "fr"}))
        == FRENCH_COMMANDS
    )
    assert (
        await ok(await client.post("getMyCommands", json={"scope": chat_scope}))
        == ORGANISER_COMMANDS
    )
    # Nothing was set for the chat in French, nor for another chat.
    assert (
        await ok(
            await client.post("getMyCommands", json={"scope": chat_scope, "language_code": "fr"})
        )
        == []
    )
    other_chat = {"type": "chat", "chat_id": 1001}
    assert await ok(await client.post("getMyCommands", json={"scope": other_chat})) == []

    assert await ok(await client.post("deleteMyCommands", json={"scope": chat_scope}))
    assert await ok(await client.post("getMyCommands", json={"scope": chat_scope})) == []
    assert await ok(await client.post("getMyCommands", json={})) == DEFAULT_COMMANDS


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/start",
        "new appeal",
        "new-appeal",
        "x" * 33,
        "newAppeal",
        "подписать",
    ],
    ids=["empty", "slash", "space", "dash", "too-long", "upper-case", "cyrillic"],
)
async def test_an_invalid_command_name_is_refused(client: httpx.AsyncClient, name: str) -> None:
    assert await ok(await client.post("setMyCommands", json={"commands": DEFAULT_COMMANDS}))
    commands = [{"command": "start", "description": "Start"}, {"command": name, "description": "?"}]
    response = await client.post("setMyCommands", json={"commands": commands})
    assert refused(response, 400).startswith("Bad Request:")
    # The refused list replaced nothing.
    assert await ok(await client.post("getMyCommands", json={})) == DEFAULT_COMMANDS


async def test_a_valid_command_name_of_32_characters_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    commands = [{"command": "a_1" + "x" * 29, "description": "Longest name"}]
    assert await ok(await client.post("setMyCommands", json={"commands": commands}))
    assert await ok(await client.post("getMyCommands", json={})) == commands


# editMessageText -----------------------------------------------------------------------------


async def test_edit_message_text_changes_the_text(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    sent = await send(client, irina.user_id, "Appel <b>ouvert</b>", parse_mode="HTML")
    assert "edit_date" not in sent

    edited = await ok(
        await client.post(
            "editMessageText",
            json={
                "chat_id": irina.user_id,
                "message_id": sent["message_id"],
                "text": "Appel <i>clos</i>",
                "parse_mode": "HTML",
            },
        )
    )
    assert edited["message_id"] == sent["message_id"]
    assert edited["text"] == "Appel clos"
    assert "edit_date" in edited
    [message] = api.messages(irina.user_id)
    assert message.text == "Appel clos"
    assert message.source == "Appel <i>clos</i>"
    assert message.edits == 1


async def test_an_identical_edit_is_refused(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    sent = await send(client, irina.user_id, "Appel ouvert")
    response = await client.post(
        "editMessageText",
        data={
            "chat_id": str(irina.user_id),
            "message_id": str(sent["message_id"]),
            "text": "Appel ouvert",
        },
    )
    assert refused(response, 400).startswith("Bad Request: message is not modified")
    [message] = api.messages(irina.user_id)
    assert message.edits == 0


async def test_an_edit_of_the_buttons_alone_is_a_modification(
    client: httpx.AsyncClient, irina: Person
) -> None:
    sent = await send(client, irina.user_id, "Appel ouvert")
    markup = {"inline_keyboard": [[{"text": "Signer", "callback_data": "sign:1"}]]}
    edited = await ok(
        await client.post(
            "editMessageText",
            json={
                "chat_id": irina.user_id,
                "message_id": sent["message_id"],
                "text": "Appel ouvert",
                "reply_markup": markup,
            },
        )
    )
    assert edited["reply_markup"] == markup


async def test_editing_a_message_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, irina: Person
) -> None:
    response = await client.post(
        "editMessageText", json={"chat_id": irina.user_id, "message_id": 999, "text": "?"}
    )
    assert refused(response, 400) == "Bad Request: message to edit not found"
