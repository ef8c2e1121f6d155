"""The Bot API's wire format: reading a request's parameters, writing Telegram's errors."""

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

Json = dict[str, Any]
# Fields PTB sends JSON-encoded inside a form body.
_JSON_FIELDS = {
    "reply_markup", "entities", "caption_entities", "link_preview_options", "commands",
    "scope", "reply_parameters", "allowed_updates",
}  # fmt: skip


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Document:
    file_name: str
    content: bytes


def scope_key(scope: Json | None, language_code: str | None = None) -> str:
    """How the server files a command list: by scope (type and chat) and language."""
    scope = scope or {"type": "default"}
    chat = f":{scope['chat_id']}" if "chat_id" in scope else ""
    return f"{scope.get('type', 'default')}{chat}/{language_code or ''}"


def scope_key_of(params: Json) -> str:
    return scope_key(params.get("scope"), params.get("language_code") or None)


def leading_command_length(text: str) -> int:
    """Length of a `/command` or `/command@bot` at the start of the text, as Telegram marks it."""
    if not text.startswith("/"):
        return 0
    end = 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_@"):
        end += 1
    return end if end > 1 else 0


async def read_params(request: web.Request) -> Json:
    if request.method == "GET":
        raw: Json = dict(request.query)
    elif request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        return body
    elif request.content_type == "multipart/form-data":
        raw = {}
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                raw[part.name] = Document(part.filename, bytes(await part.read()))
            else:
                raw[part.name] = await part.text()
    else:
        raw = dict(await request.post())
    for name in _JSON_FIELDS & raw.keys():
        if isinstance(raw[name], str):
            try:
                raw[name] = json.loads(raw[name])
            except json.JSONDecodeError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return raw


def error_response(error: ApiError) -> web.Response:
    body: Json = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)
