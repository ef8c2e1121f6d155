"""The local Bot API's flood limits, as Telegram counts them: on the server's own clock, which
these tests hold still, so that a slow machine cannot spread a burst over more than a second."""

import time
from collections.abc import Callable

import httpx
import pytest

from stand.local_api import LocalBotApi, Person
from tests.units.bot_api_client import refused, send


class ServerClock:
    """The clock the local Bot API server counts its flood limits on, in the test's hands: it
    stands still (every send falls in the same second, however slow the machine), moves when
    told to, and runs on at the real pace once `starts_when()` is true."""

    def __init__(self, starts_when: Callable[[], bool] = lambda: False) -> None:
        self.starts_when = starts_when
        self._reading = time.monotonic()
        self._running_since: float | None = None  # the real time it started to run

    def monotonic(self) -> float:
        if self._running_since is None:
            if not self.starts_when():
                return self._reading
            self._running_since = time.monotonic()
        return self._reading + time.monotonic() - self._running_since

    def advance(self, seconds: float) -> None:
        self._reading += seconds

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make it the server's: stand/local_api/server.py reads `time.monotonic()` when it counts
        a send or an edit. The bot's own clock is not touched."""
        monkeypatch.setattr("stand.local_api.server.time", self)


@pytest.fixture
def still(monkeypatch: pytest.MonkeyPatch) -> ServerClock:
    """The server's clock, standing still until the test moves it."""
    clock = ServerClock()
    clock.install(monkeypatch)
    return clock


async def test_beyond_thirty_a_second_only_paid_broadcasts_are_accepted(
    api: LocalBotApi, client: httpx.AsyncClient, still: ServerClock
) -> None:
    people = [api.meet(3000 + n, f"Contact {n}") for n in range(61)]
    api.limits.overall_rate = 30
    api.limits.paid_rate = 1000
    for person in people[:30]:
        await send(client, person.user_id, "…")

    unpaid = await client.post("sendMessage", json={"chat_id": people[30].user_id, "text": "…"})
    assert refused(unpaid, 429).startswith("Too Many Requests: retry after")
    assert unpaid.json()["parameters"]["retry_after"] >= 1
    for person in people[30:60]:  # paid broadcasts have an allowance of their own
        await send(client, person.user_id, "…", allow_paid_broadcast=True)
    assert [m.paid for p in people for m in api.messages(p.user_id)] == [False] * 30 + [True] * 30

    still.advance(1.0)  # the next second: room again
    await send(client, people[60].user_id, "…")


async def test_a_chat_takes_a_short_burst_then_one_a_second(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person, still: ServerClock
) -> None:
    api.limits.per_chat_interval = 1.0
    api.limits.per_chat_burst = 3
    for _ in range(3):
        await send(client, irina.user_id, "…")

    fourth = await client.post("sendMessage", json={"chat_id": irina.user_id, "text": "…"})
    assert refused(fourth, 429).startswith("Too Many Requests")
    assert api.limits.throttled == 1

    still.advance(0.9)
    early = await client.post("sendMessage", json={"chat_id": irina.user_id, "text": "…"})
    assert refused(early, 429).startswith("Too Many Requests")
    still.advance(0.1)  # a second after the burst: one more, and only one
    await send(client, irina.user_id, "…")
    sixth = await client.post("sendMessage", json={"chat_id": irina.user_id, "text": "…"})
    assert refused(sixth, 429).startswith("Too Many Requests")
    assert len(api.messages(irina.user_id)) == 4


async def test_edits_count_against_a_chats_limit(
    api: LocalBotApi, client: httpx.AsyncClient, irina: Person, still: ServerClock
) -> None:
    api.limits.per_chat_interval = 1.0
    sent = await send(client, irina.user_id, "Appel ouvert")

    edit = await client.post(
        "editMessageText",
        json={"chat_id": irina.user_id, "message_id": sent["message_id"], "text": "Appel clos"},
    )

    assert refused(edit, 429).startswith("Too Many Requests")
    assert api.messages(irina.user_id)[0].text == "Appel ouvert"  # refused: unchanged
