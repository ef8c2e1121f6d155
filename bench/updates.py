"""Update throughput and latency of the whole bot, against the framework's floor.

Run by hand: `.venv/bin/python -m bench.updates [--database postgresql]` (about four minutes).
The project's Bot API server runs in this process and a bot beside it; 1,000 contacts (each of
its own organisation, arranged by inserting rows) and 10 open appeals. Each contact sends
/appeals, /cosign A, /status A, /cosign B, /status B, each once the previous one is answered,
with at most `--window` updates in flight altogether: the bot's own concurrency, so that the
latency is the handling and not a queue of our making. Latency runs from pushing an update to
the server accepting the reply. The same 5,000 messages go, each bot on a fresh database, to:

- the floor: a bare PTB bot that only answers "ok" (bench/floor_bot.py);
- the coalition bot with its replies not paced (bench/unpaced_bot.py): what the bot costs;
- the coalition bot as `coalition-bot run` serves it, whose replies its Telegram budget
  (bot/budget.py) paces to Telegram's 30 messages a second: what a burst gets in production.

Target: the unpaced bot >= 0.5 of the floor's updates per second on SQLite. With `--say TEXT`
(e.g. "/help", "/status 1") the coalition bot hears TEXT five times from each contact instead:
what one command costs.
"""

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.coalition import members, open_appeals
from bot import migrate
from bot.application import CONCURRENT_UPDATES
from bot.local_api import LocalBotApi
from bot.local_api.chat import Person
from models import Database
from tests.databases import PostgresServer

ORGANISER_ID = 1000
SERVED_BOT = [str(Path(sys.executable).with_name("coalition-bot")), "run"]
UNPACED_BOT = [sys.executable, "-m", "bench.unpaced_bot"]
FLOOR_BOT = [sys.executable, "-m", "bench.floor_bot"]
# The bots run in a folder of their own (no stray .env); the floor bot is imported from here.
PROJECT = str(Path(__file__).resolve().parent.parent)
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
STARTUP_TIMEOUT = 60
REPLY_TIMEOUT = 60


# Whether a reply is what the command should get when all goes well.
Answered = Callable[[str, str], bool]


@dataclass(frozen=True)
class Figures:
    updates: int
    seconds: float
    latencies: list[float]
    # Replies that were not what the command should answer (an error, a flood refusal…).
    unexpected: list[str]
    peak_rss_mib: float
    # The bot's CPU time during the run, per update.
    cpu_ms_per_update: float

    def line(self, label: str) -> str:
        p50, p95 = percentile(self.latencies, 50), percentile(self.latencies, 95)
        return (
            f"{label:<36} updates {self.updates:>5}  in {self.seconds:6.1f} s  "
            f"{self.rate:7.1f}/s  latency p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"bot CPU {self.cpu_ms_per_update:4.1f} ms/update  "
            f"unexpected replies {len(self.unexpected):>3}  peak RSS {self.peak_rss_mib:.0f} MiB"
        )

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


def percentile(values: Sequence[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def conversation(index: int, appeal_ids: Sequence[int]) -> list[str]:
    """What the `index`-th contact says: two appeals of their own, signed and looked at."""
    first = appeal_ids[index % len(appeal_ids)]
    second = appeal_ids[(index + 1) % len(appeal_ids)]
    return [
        "/appeals",
        f"/cosign {first}",
        f"/status {first}",
        f"/cosign {second}",
        f"/status {second}",
    ]


def coalition_answers(command: str, reply: str) -> bool:
    """Whether `reply` is what the coalition bot answers `command` with when all goes well."""
    expected = {"/appeals": "Appeals", "/cosign": "co-signed", "/status": "have signed"}
    return expected[command.split()[0]] in reply


def floor_answers(_command: str, reply: str) -> bool:
    return reply == "ok"


def any_reply(_command: str, _reply: str) -> bool:
    return True


async def drive(
    api: LocalBotApi,
    conversations: list[tuple[Person, list[str]]],
    window: int,
    answered: Answered,
) -> tuple[float, list[float], list[str]]:
    """Play every conversation, each message after the reply to the previous one, with at
    most `window` in flight; returns the seconds taken, the latencies and what was unexpected."""
    in_flight = asyncio.Semaphore(window)
    latencies: list[float] = []
    unexpected: list[str] = []

    async def talk(person: Person, commands: list[str]) -> None:
        read = len(api.messages(person.user_id))
        for command in commands:
            async with in_flight:
                pushed = time.monotonic()
                api.push_message(person, command)
                async with asyncio.timeout(REPLY_TIMEOUT):
                    reply = await api.wait_for_message(person.user_id, read)
            read += 1
            latencies.append(reply.accepted_at - pushed)
            if not answered(command, reply.text):
                unexpected.append(f"{command} -> {reply.text}")

    started = time.monotonic()
    await asyncio.gather(*(talk(person, commands) for person, commands in conversations))
    return time.monotonic() - started, latencies, unexpected


async def serve_and_drive(
    command: list[str],
    environment: dict[str, str],
    folder: Path,
    scripts: list[tuple[int, list[str]]],
    window: int,
    answered: Answered,
) -> Figures:
    """Start a Bot API server of its own (no update left over from another run) and the bot,
    wait until the bot answers the organiser, play the scripts (Telegram id, what that
    contact says), stop both."""
    api = LocalBotApi()
    await api.start()
    organiser = api.meet(ORGANISER_ID, "Organiser", "en")
    conversations = [(api.meet(user_id, "Contact", "en"), said) for user_id, said in scripts]
    log = folder / "bot.log"
    with log.open("wb") as stderr:
        bot = await asyncio.create_subprocess_exec(
            *command,
            cwd=folder,
            env={**environment, "BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url},
            stderr=stderr,
        )
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            api.push_message(organiser, "/appeals")
            await api.wait_for_message(ORGANISER_ID, 0)
        cpu_before = cpu_seconds(bot.pid)
        seconds, latencies, unexpected = await drive(api, conversations, window, answered)
        cpu = cpu_seconds(bot.pid) - cpu_before
        rss = peak_rss_mib(bot.pid)
    except BaseException:
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have died
            bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    if api.refused:
        unexpected.append(f"{len(api.refused)} calls refused, first {api.refused[0]}")
    return Figures(len(latencies), seconds, latencies, unexpected, rss, cpu * 1000 / len(latencies))


async def arranged(database_url: str, contacts: int, appeals: int) -> list[tuple[int, list[str]]]:
    """A migrated database with the coalition; returns what each contact will say."""
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    try:
        found = await members(database, contacts)
        appeal_ids = await open_appeals(database, appeals, organiser_id=ORGANISER_ID)
    finally:
        await database.dispose()
    return [(m.contact_id, conversation(n, appeal_ids)) for n, m in enumerate(found)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--appeals", type=int, default=10)
    parser.add_argument("--window", type=int, default=CONCURRENT_UPDATES)
    parser.add_argument(
        "--say",
        metavar="TEXT",
        help="every contact says TEXT five times instead of the mix (what one command costs; "
        "replies are not checked)",
    )
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    server = PostgresServer(POSTGRES_SERVER)
    created: list[str] = []

    def fresh_database(name: str) -> str:
        # Each bot on a coalition of its own: nobody has signed yet.
        if arguments.database == "sqlite":
            return f"sqlite:///{folder / name}.db"
        created.append(server.create())
        return created[-1]

    async def run(name: str, label: str, command: list[str], answered: Answered) -> Figures:
        database_url = fresh_database(name)
        scripts = await arranged(database_url, arguments.contacts, arguments.appeals)
        if arguments.say is not None and command is not FLOOR_BOT:
            scripts = [(contact_id, [arguments.say] * 5) for contact_id, _ in scripts]
            answered = any_reply
        environment = {
            **os.environ,
            "ORGANISER_IDS": str(ORGANISER_ID),
            "DATABASE_URL": database_url,
            "PYTHONPATH": PROJECT,
        }
        figures = await serve_and_drive(
            command, environment, folder, scripts, arguments.window, answered
        )
        print(figures.line(label), flush=True)
        for example in figures.unexpected[:3]:
            print(f"  unexpected: {example!r}")
        return figures

    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        floor = await run("floor", "floor: bare PTB bot answering ok", FLOOR_BOT, floor_answers)
        on = arguments.database
        unpaced = await run(
            "unpaced", f"unpaced coalition bot on {on}", UNPACED_BOT, coalition_answers
        )
        served = await run("served", f"served coalition bot on {on}", SERVED_BOT, coalition_answers)
        print(
            f"ratio to the floor: unpaced {unpaced.rate / floor.rate:.3f} (target >= 0.5 on "
            f"SQLite), as served {served.rate / floor.rate:.3f}  "
            f"load average at end: {os.getloadavg()[0]:.2f}"
        )
    finally:
        for database_url in created:
            server.drop(database_url)
        shutil.rmtree(folder)


if __name__ == "__main__":
    asyncio.run(main())
