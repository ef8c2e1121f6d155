"""What an operator watches: /healthz, /metrics, and log lines a collector can read."""

import json
import math
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.application import program
from bot.health import HealthServer
from bot.logs import REDACTED, JsonFormatter
from foundation.metrics import Metrics
from foundation.settings import Settings, SettingsError, load_settings
from handlers.context import CoalitionApplication, Resources, resources_of
from models import Database, OutboxKind
from services import outbox
from stand.local_api import LocalBotApi
from tests.chat.test_flood import FinishedUpdates
from tests.operations.test_cli import failed_request_record
from tests.people import Someone, invite_code
from tests.processes import bot_serving
from tests.stories import NOW, outbox_settled
from tests.units.test_local_api_limits import ServerClock

ALERT = "The hearing is moved to Friday."
UNKNOWN_CHAT = 9999  # nobody the Bot API knows: "chat not found"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual settings, serving /healthz and /metrics on any free port."""
    return settings.model_copy(update={"metrics_port": 0})


def url_of(app: CoalitionApplication) -> str:
    health = program(app).health
    assert health is not None, "METRICS_PORT was not set"
    return f"http://{health.host}:{health.port}"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Each sample of a /metrics page by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def contact_of(api: LocalBotApi, organiser: Someone, user_id: int) -> Someone:
    person = Someone(api, user_id, f"Contact {user_id}")
    await person.says(f"/join {invite_code(await organiser.says(f'/invite NGO {user_id}'))}")
    return person


# --- /healthz ------------------------------------------------------------------------------


async def test_healthz_answers_ok_with_an_empty_outbox(
    running_bot: CoalitionApplication, organiser: Someone
) -> None:
    await organiser.says("/help")
    invite_code(await organiser.says("/invite Memorial"))
    status, body = await get(f"{url_of(running_bot)}/healthz")
    assert status == 200
    assert json.loads(body) == {"database": "ok", "backlog": 0, "oldest_pending_seconds": None}


@pytest.fixture
async def health(database: Database) -> AsyncIterator[HealthServer]:
    """The server alone, on a database no worker sends from, at a clock 90 s after NOW."""
    server = HealthServer(
        database=database,
        metrics=Metrics(),
        clock=lambda: NOW + timedelta(seconds=90),
        host="127.0.0.1",
        port=0,
    )
    await server.start()
    yield server
    await server.stop()


async def queue_for(database: Database, recipients: set[int], now: datetime) -> None:
    async with database.transaction() as session:
        await outbox.enqueue_to(
            session=session,
            kind=OutboxKind.PHASE_START,
            recipients=frozenset(recipients),
            payload={"phase": "Round three"},
            now=now,
        )


async def test_healthz_tells_the_backlog_and_how_long_its_oldest_message_waits(
    health: HealthServer, database: Database
) -> None:
    await queue_for(database, {2001, 2002}, NOW)
    await queue_for(database, {2003}, NOW + timedelta(seconds=60))
    async with database.transaction() as session:
        [first, *_] = await outbox.due(session=session, now=NOW, limit=1, skip=set())
        await outbox.mark_sent(session=session, message_ids=[first.id], now=NOW)

    status, body = await get(f"http://127.0.0.1:{health.port}/healthz")
    assert status == 200
    assert json.loads(body) == {"database": "ok", "backlog": 2, "oldest_pending_seconds": 90.0}
    status, page = await get(f"http://127.0.0.1:{health.port}/metrics")
    assert samples(page)[("coalition_outbox_backlog", ())] == 2
    assert samples(page)[("coalition_outbox_oldest_pending_seconds", ())] == 90


async def test_an_unreachable_database_is_a_503_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Not a missing folder: aiosqlite's failed open finishes in a thread after the test's loop.
    damaged = tmp_path / "coalition.db"
    damaged.write_bytes(b"not a database" * 512)
    database = Database(f"sqlite:///{damaged}")
    server = HealthServer(
        database=database, metrics=Metrics(), clock=lambda: NOW, host="127.0.0.1", port=0
    )
    await server.start()
    try:
        status, body = await get(f"http://127.0.0.1:{server.port}/healthz")
        metrics_status, page = await get(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        await server.stop()
        await database.dispose()
    assert status == 503
    assert json.loads(body) == {
        "database": "unreachable",
        "backlog": None,
        "oldest_pending_seconds": None,
    }
    # The counters are still served; the backlog is unknown rather than stale.
    assert metrics_status == 200
    assert math.isnan(samples(page)[("coalition_outbox_backlog", ())])
    assert "the database did not answer (" in caplog.text
    assert "Traceback" not in caplog.text


async def test_a_taken_port_is_named_in_one_line(database: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HealthServer(
            database=database, metrics=Metrics(), clock=lambda: NOW, host="127.0.0.1", port=port
        )
        with pytest.raises(
            SettingsError, match=rf"^METRICS_PORT: cannot listen on 127\.0\.0\.1:{port} \("
        ):
            await server.start()


# --- /metrics ------------------------------------------------------------------------------


async def test_metrics_count_what_the_outbox_sent_throttled_blocked_and_failed(
    api: LocalBotApi,
    organiser: Someone,
    running_bot: CoalitionApplication,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = [await contact_of(api, organiser, 4000 + n) for n in range(12)]
    api.limits.overall_rate = 5  # below the bot's 25 a second: Telegram will say 429
    # Telegram's clock stands still until its first 429, however slow the machine.
    ServerClock(starts_when=lambda: api.limits.throttled > 0).install(monkeypatch)
    api.limits.blocked.add(members[0].user_id)

    await organiser.says(f"/broadcast {ALERT}")
    await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    report = await organiser.sees_it_end(await organiser.next_message(), "Broadcast #1 is done.")
    assert report == "Broadcast #1 is done.\nDelivered: 11\nBlocked the bot: 1\nFailed: 0"
    resources: Resources = resources_of(running_bot)
    await queue_for(database, {UNKNOWN_CHAT}, resources.clock())
    resources.wake_outbox()
    await outbox_settled(database)

    status, page = await get(f"{url_of(running_bot)}/metrics")
    assert status == 200
    found = samples(page)
    assert found[("coalition_messages_sent_total", (("kind", "broadcast"),))] == 11
    assert found[("coalition_recipients_blocked_total", ())] == 1
    assert found[("coalition_messages_failed_total", ())] == 1
    # Some of the server's 429s answered replies and the report; the outbox counts its own.
    assert 1 <= found[("coalition_telegram_429_total", ())] <= api.limits.throttled
    assert found[("coalition_outbox_backlog", ())] == 0


async def test_metrics_are_in_the_prometheus_text_format(
    running_bot: CoalitionApplication,
) -> None:
    resources_of(running_bot).metrics.observe_update("help", 0.25)
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{url_of(running_bot)}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        page = await response.text()
    found = samples(page)
    assert found[("coalition_updates_handled_total", (("command", "help"),))] == 1
    assert found[("coalition_handler_seconds_count", (("command", "help"),))] == 1
    assert found[("coalition_handler_seconds_sum", (("command", "help"),))] == 0.25


async def test_updates_are_counted_by_command_never_by_what_was_typed(
    running_bot: CoalitionApplication, organiser: Someone, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = FinishedUpdates(running_bot, monkeypatch)
    await organiser.says("/help")
    await organiser.says("/help@coalition_local_bot")
    await organiser.says("/invite Memorial")
    await organiser.says("/no_such_command <b>secret</b>")
    await organiser.says("hello")
    # An update is counted once its handler returns, just after its reply went out.
    await finished.number(5)

    _, page = await get(f"{url_of(running_bot)}/metrics")
    found = samples(page)
    counted = {
        dict(labels)["command"]: value
        for (name, labels), value in found.items()
        if name == "coalition_updates_handled_total"
    }
    assert counted == {"help": 2, "invite": 1, "other": 2}
    assert found[("coalition_handler_seconds_count", (("command", "invite"),))] == 1


def test_each_application_has_a_registry_of_its_own() -> None:
    first, second = Metrics(), Metrics()
    first.throttled.inc()
    assert b"coalition_telegram_429_total 1.0" in first.exposition()
    assert b"coalition_telegram_429_total 0.0" in second.exposition()


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"metrics_port": 70000}, "METRICS_PORT: Input should be less than or equal to 65535"),
        ({"log_format": "xml"}, "LOG_FORMAT: Input should be 'text' or 'json'"),
    ],
)
def test_an_invalid_setting_is_named(overrides: dict[str, object], line: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(**overrides)
    assert str(refused.value) == line


# --- JSON logs -----------------------------------------------------------------------------


def test_a_json_line_has_its_fields_and_never_the_token() -> None:
    token = "123456:SECRET-token"
    formatter = JsonFormatter([token])
    line = formatter.format(failed_request_record(token))
    assert "\n" not in line
    assert token not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "exception"}
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert (entry["level"], entry["logger"]) == ("ERROR", "httpx")
    assert entry["message"] == f"HTTP Request: /bot{REDACTED}/x"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert f"bot{REDACTED}/getUpdates failed" in entry["exception"]


async def test_the_real_process_logs_json_and_serves_healthz(
    tmp_path: Path, api: LocalBotApi, empty_database_url: str
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with bot_serving(
        tmp_path,
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        ORGANISER_IDS="1000",
        DATABASE_URL=empty_database_url,
        METRICS_PORT=str(port),
        LOG_FORMAT="json",
    ) as process:
        organiser = Someone(api, 1000, "Olena", "en")
        await organiser.says("/help")
        status, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert (status, json.loads(body)["database"]) == (200, "ok")
    lines = [json.loads(line) for _, line in process.lines]
    messages = [entry["message"] for entry in lines]
    assert "serving as @coalition_local_bot" in messages
    assert any(
        message.startswith("health and metrics on http://127.0.0.1:") for message in messages
    )
    assert api.token not in process.log
    assert not [entry for entry in lines if "exception" in entry]
