"""A plain HTTP client's view of the stand's Bot API server: what it answers, what it refuses,\nand the calls it has received."""

import asyncio
from typing import Any

import httpx

from tests.people import REPLY_TIMEOUT

Json = dict[str, Any]


async def ok(response: httpx.Response) -> Any:
    """The result of a successful call, checked to be in Telegram's success format."""
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert set(body) == {"ok", "result"}
    return body["result"]


def refused(response: httpx.Response, code: int) -> str:
    """The description of a refused call, checked to be in Telegram's error format."""
    body = response.json()
    assert response.status_code == code, body
    assert set(body) - {"parameters"} == {"ok", "error_code", "description"}
    assert body["ok"] is False
    assert body["error_code"] == code
    description = body["description"]
    assert isinstance(description, str)
    assert description
    return description


async def send(client: httpx.AsyncClient, chat_id: int, text: str, **params: Any) -> Json:
    result: Json = await ok(
        await client.post("sendMessage", json={"chat_id": chat_id, "text": text, **params})
    )
    return result


class CallLog(list[tuple[str, Json]]):
    """The server's record of the calls it received (`api.calls`), which also tells a test the
    moment one arrives."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = asyncio.Event()

    def append(self, call: tuple[str, Json]) -> None:
        super().append(call)
        self._arrived.set()

    async def arrival_of(self, method: str) -> None:
        """Once the server has received a call of `method` (it handles it at once, up to its
        first wait: a long poll is then waiting for updates)."""
        async with asyncio.timeout(REPLY_TIMEOUT):
            while all(name != method for name, _ in self):
                self._arrived.clear()
                await self._arrived.wait()
