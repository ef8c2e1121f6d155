"""The stand's Bot API server speaks Telegram's protocol: the bot, its messages and their\nlimits, as a plain HTTP client sees them."""

import json

import httpx
import pytest
from telegram import Message

from stand.local_api import LocalBotApi, Person
from tests.units.bot_api_client import ok, refused, send

# The bot and the protocol ----------------------------------------------------------------


async def test_get_me_returns_the_bot_with_its_username(
    api: LocalBotApi, client: httpx.AsyncClient
) -> None:
    me = await ok(await client.post("getMe"))
    assert me["is_bot"] is True
    assert me["username"] == "coalition_local_bot"
    assert me["id"] == int(api.token.split(":")[0])
    # GET works as well, as it does on Telegram.
    assert await ok(await client.get("getMe")) == me


async def test_a_wrong_token_is_unauthorized(api: LocalBotApi, client: httpx.AsyncClient) -> None:
    response = await client.post(f"{api.url}/bot123456:not-the-token/getMe")
    assert refused(response, 401) == "Unauthorized"
    assert api.calls == []


async def test_an_unknown_method_is_not_found(client: httpx.AsyncClient) -> None:
    description = refused(await client.post("sendTelepathicMessage", json={}), 404)
    assert description.startswith("Not Found")


# sendMessage -------------------------------------------------------------------------------


async def test_send_message_with_a_json_body(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    markup = {"inline_keyboard": [[{"text": "Signer", "callback_data": "sign:7"}]]}
    result = await send(
        client, irina.user_id, "Bonjour <b>Irina</b>", parse_mode="HTML", reply_markup=markup
    )

    assert result["chat"] == {"id": 2001, "type": "private", "first_name": "Irina"}
    assert result["from"]["username"] == "coalition_local_bot"
    assert result["text"] == "Bonjour Irina"
    assert result["reply_markup"] == markup
    message = Message.de_json(result)
    assert message.text == "Bonjour Irina"
    assert message.chat.id == irina.user_id
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "sign:7"

    [sent] = api.messages(irina.user_id)
    assert sent.message_id == result["message_id"]
    assert sent.source == "Bonjour <b>Irina</b>"
    assert sent.buttons() == [{"text": "Signer", "callback_data": "sign:7"}]


async def test_send_message_with_a_form_body(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    """PTB's way: every field a string, reply_markup JSON-encoded inside the form."""
    markup = {"inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}]]}
    response = await client.post(
        "sendMessage",
        data={
            "chat_id": str(irina.user_id),
            "text": "Voulez-vous signer ?",
            "reply_markup": json.dumps(markup),
        },
    )
    result = await ok(response)

    message = Message.de_json(result)
    assert message.chat.id == irina.user_id
    assert message.text == "Voulez-vous signer ?"
    assert result["reply_markup"] == markup
    [sent] = api.messages(irina.user_id)
    assert sent.chat_id == irina.user_id
    assert sent.reply_markup == markup


async def test_message_ids_increase(client: httpx.AsyncClient, irina: Person) -> None:
    first = await send(client, irina.user_id, "un")
    second = await send(client, irina.user_id, "deux")
    assert second["message_id"] > first["message_id"]


async def test_send_message_to_a_stranger_is_refused(
    api: LocalBotApi, client: httpx.AsyncClient
) -> None:
    response = await client.post("sendMessage", json={"chat_id": 777, "text": "Bonjour"})
    assert refused(response, 400) == "Bad Request: chat not found"
    assert api.messages(777) == []


@pytest.mark.parametrize(
    "text",
    [
        "Une lettre <b>non fermée",
        "Quand 1 < 2 sans échappement",
        "Une balise <blink>inconnue</blink>",
        "Droits & libertés",
    ],
    ids=["unclosed-b", "raw-lt", "unknown-tag", "bare-ampersand"],
)
async def test_malformed_html_is_refused(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person, text: str
) -> None:
    response = await client.post(
        "sendMessage", json={"chat_id": irina.user_id, "text": text, "parse_mode": "HTML"}
    )
    assert refused(response, 400).startswith("Bad Request: can't parse entities")
    assert api.messages(irina.user_id) == []


async def test_the_same_texts_pass_without_a_parse_mode(
    client: httpx.AsyncClient, irina: Person
) -> None:
    result = await send(client, irina.user_id, "Droits & libertés, 1 < 2")
    assert result["text"] == "Droits & libertés, 1 < 2"


async def test_a_text_over_4096_characters_is_too_long(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person
) -> None:
    response = await client.post(
        "sendMessage", json={"chat_id": irina.user_id, "text": "x" * 4097, "parse_mode": "HTML"}
    )
    assert refused(response, 400) == "Bad Request: message is too long"
    assert api.messages(irina.user_id) == []


async def test_the_limit_counts_visible_characters_not_markup(
    client: httpx.AsyncClient, irina: Person
) -> None:
    # 4,096 entities of five characters each: 20,480 characters of source, 4,096 shown.
    result = await send(client, irina.user_id, "&amp;" * 4096, parse_mode="HTML")
    assert result["text"] == "&" * 4096
    # One more is one too many.
    response = await client.post(
        "sendMessage",
        json={"chat_id": irina.user_id, "text": "&amp;" * 4097, "parse_mode": "HTML"},
    )
    assert refused(response, 400) == "Bad Request: message is too long"
