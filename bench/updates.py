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

Every reply is checked (the list of appeals, the co-signature in the contact's organisation's
name, the status that shows it; "ok" from the floor), and so is that each contact got one reply
per message and that the server refused no call; anything else ends the run with one line
saying what, and no figure (bench/checks.py). CPU is the bot's process's and, on PostgreSQL,
that of the server's processes serving the bot's connections (bench/server_cpu.py).

Target: the unpaced bot answers at least three times Telegram's 30 replies a second (90
updates a second; the bot is one process, one core). Every update earns a reply, and Telegram
lets a bot send about 30 a second, so this is the headroom that matters; the ratio to the
floor is printed for comparison with earlier runs. With `--say TEXT`
(e.g. "/help", "/appeals", "/status 1") the coalition bots hear TEXT five times from each
contact instead: what one command costs. Other texts need `--expect START`, what every reply
to them begins with.
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.checks import (
    Expected,
    Wrong,
    check_messages,
    check_nothing_refused,
    check_reply,
    message_to,
    progress,
    report,
    together,
)
from bench.coalition import Member, appeal_title, members, open_appeals
from bench.processes import cpu_seconds, peak_rss_mib
from bench.server_cpu import ServerCpu
from bot import migrate
from bot.application import CONCURRENT_UPDATES
from foundation.settings import FREE_BROADCAST_LIMIT
from models import Database
from stand.local_api import LocalBotApi
from stand.local_api.chat import Person
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
# How often the PostgreSQL server's backends are looked at, in seconds.
SERVER_LOOKS = 0.02


@dataclass(frozen=True)
class Said:
    """One message a contact sends, and what the bot must answer to it."""

    command: str
    expected: Expected


@dataclass(frozen=True)
class Figures:
    """What one bot's run measured, every reply checked."""

    updates: int
    seconds: float
    latencies: list[float]
    peak_rss_mib: float
    # The bot's CPU time during the run, per update.
    cpu_ms_per_update: float
    # That of the PostgreSQL server's backends serving the bot; None on SQLite, whose work is
    # in the bot's process, and where /proc does not show them.
    server_cpu_ms_per_update: float | None
    server_note: str

    def line(self, label: str) -> str:
        p50, p95 = percentile(self.latencies, 50), percentile(self.latencies, 95)
        server = (
            ""
            if self.server_cpu_ms_per_update is None
            else f" + PostgreSQL {self.server_cpu_ms_per_update:4.1f}"
        )
        return (
            f"{label:<36} updates {self.updates:>5}  in {self.seconds:6.1f} s  "
            f"{self.rate:7.1f}/s  latency p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"CPU: bot {self.cpu_ms_per_update:4.1f}{server} ms/update{self.server_note}  "
            f"peak RSS {self.peak_rss_mib:.0f} MiB"
        )

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


def percentile(values: Sequence[float], p: int) -> float:
    """The `p`-th percentile of `values`."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def listed(titles: dict[int, str]) -> Expected:
    """/appeals as a contact sees it: every open appeal, newest first, with its count (which
    the others' co-signatures change meanwhile)."""
    return Expected(
        "Appeals\n",
        (
            *(f"#{id_} {title} — " for id_, title in reversed(titles.items())),
            "/cosign ID signs it.",
        ),
    )


def status_of(appeal_id: int, title: str, shown: str) -> Expected:
    """/status of an open appeal, with `shown` (the caller's organisation's line) in it."""
    return Expected(f"#{appeal_id} {title}\nState: open for signatures\n", (shown,))


def conversation(index: int, member: Member, titles: dict[int, str]) -> list[Said]:
    """What the `index`-th contact says: two appeals of their own, signed and looked at."""
    ids = list(titles)
    saying = [Said("/appeals", listed(titles))]
    for appeal_id in (ids[index % len(ids)], ids[(index + 1) % len(ids)]):
        title = titles[appeal_id]
        saying += [
            Said(
                f"/cosign {appeal_id}",
                Expected(f"{member.name} co-signed appeal #{appeal_id} “{title}”.\n"),
            ),
            Said(
                f"/status {appeal_id}",
                status_of(appeal_id, title, f"{member.name} has signed, publicly."),
            ),
        ]
    return saying


def said_alone(text: str, expect: str | None, member: Member, titles: dict[int, str]) -> Said:
    """`--say TEXT`: what the bot answers TEXT with, for the commands this benchmark knows,
    or what `--expect` says every reply begins with."""
    if expect is not None:
        return Said(text, Expected(expect))
    match text.split():
        case ["/appeals"]:
            return Said(text, listed(titles))
        case ["/help"]:
            return Said(text, Expected("What you can do\n", ("/cosign",)))
        case ["/status", number] if number.isdigit() and int(number) in titles:
            return Said(text, status_of(int(number), titles[int(number)], f"{member.name} has "))
    raise ValueError(text)


def knows(text: str, appeals: int) -> bool:
    """Whether `said_alone` knows the reply to `text` without `--expect`."""
    try:
        said_alone(text, None, Member(0, 0, ""), {n: "" for n in range(1, appeals + 1)})
    except ValueError:
        return False
    return True


async def drive(
    api: LocalBotApi, conversations: list[tuple[Person, list[Said]]], window: int
) -> tuple[float, list[float]]:
    """Play every conversation, each message after the reply to the previous one, with at
    most `window` in flight, checking each reply; returns the seconds taken and the latencies."""
    in_flight = asyncio.Semaphore(window)
    latencies: list[float] = []

    async def talk(person: Person, saying: list[Said]) -> None:
        read = len(api.messages(person.user_id))
        for said in saying:
            what = f"{said.command} from contact {person.user_id}"
            async with in_flight:
                pushed = time.monotonic()
                api.push_message(person, said.command)
                reply = await message_to(
                    api, person.user_id, read, timeout=REPLY_TIMEOUT, what=what
                )
            read += 1
            check_reply(what, said.expected, reply.text)
            latencies.append(reply.accepted_at - pushed)

    started = time.monotonic()
    await together(talk(person, saying) for person, saying in conversations)
    return time.monotonic() - started, latencies


async def serve_and_drive(
    command: list[str],
    environment: dict[str, str],
    folder: Path,
    scripts: list[tuple[int, list[Said]]],
    window: int,
    server: ServerCpu | None,
) -> Figures:
    """Start a Bot API server of its own (no update left over from another run) and the bot,
    wait until the bot answers the organiser, play the scripts (Telegram id, what that
    contact says), stop both, and check that each contact got one reply per message. `server`
    follows the PostgreSQL backends serving the bot, if it has any."""
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
    following: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            api.push_message(organiser, "/appeals")
            await api.wait_for_message(ORGANISER_ID, 0)
        if server is not None:
            await server.start()
            following = asyncio.create_task(server.follow(SERVER_LOOKS))
        bot_cpu_before = cpu_seconds(bot.pid) or 0.0
        seconds, latencies = await drive(api, conversations, window)
        bot_cpu = (cpu_seconds(bot.pid) or 0.0) - bot_cpu_before
        if server is not None:
            server.look()
        rss = peak_rss_mib(bot.pid)
    except Wrong:
        raise
    except BaseException:
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if following is not None:
            following.cancel()
        with contextlib.suppress(ProcessLookupError):  # it may have died
            bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    # The bot has stopped: a reply sent twice, or one nobody asked for, is there by now.
    for person, saying in conversations:
        check_messages(api, person.user_id, len(saying), what=f"contact {person.user_id}'s replies")
    check_nothing_refused(api)
    updates = len(latencies)
    server_ms, note = (None, "") if server is None else await server_figures(server, updates)
    return Figures(updates, seconds, latencies, rss, bot_cpu * 1000 / updates, server_ms, note)


async def server_figures(server: ServerCpu, updates: int) -> tuple[float | None, str]:
    """The PostgreSQL backends' CPU per update, and what it leaves out, once the bot stopped."""
    if not server.visible:
        return None, " (PostgreSQL's not counted: /proc does not show its processes)"
    unseen = await server.unseen()
    notes = []
    if server.ended:
        notes.append(f"{server.ended} backends ended, each counted to its last look")
    if unseen:
        notes.append(f"{unseen} connections came and went between looks, not counted")
    note = f" (PostgreSQL: {'; '.join(notes)})" if notes else ""
    return server.seconds() * 1000 / updates, note


async def arranged(
    database_url: str, contacts: int, appeals: int
) -> tuple[list[Member], dict[int, str]]:
    """A migrated database with the coalition; returns its members and its appeals' titles."""
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    try:
        found = await members(database, contacts)
        appeal_ids = await open_appeals(database, appeals, organiser_id=ORGANISER_ID)
    finally:
        await database.dispose()
    return found, {id_: appeal_title(n) for n, id_ in enumerate(appeal_ids, start=1)}


def arguments_parsed() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--appeals", type=int, default=10)
    parser.add_argument("--window", type=int, default=CONCURRENT_UPDATES)
    parser.add_argument(
        "--say",
        metavar="TEXT",
        help="every contact says TEXT five times instead of the mix (what one command costs)",
    )
    parser.add_argument(
        "--expect",
        metavar="START",
        help="what every reply to --say TEXT begins with (known for /appeals, /help, /status N)",
    )
    arguments = parser.parse_args()
    if (
        arguments.say is not None
        and arguments.expect is None
        and not knows(arguments.say, arguments.appeals)
    ):
        parser.error(f"--say {arguments.say!r}: say what each reply begins with (--expect)")
    if arguments.expect is not None and arguments.say is None:
        parser.error("--expect goes with --say")
    if arguments.appeals < 2:
        parser.error("--appeals: at least 2 (each contact co-signs two)")
    return arguments


async def measured(arguments: argparse.Namespace) -> list[str]:
    """Run the three bots; returns the lines of figures, once every reply was right."""
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    server = PostgresServer(POSTGRES_SERVER)
    created: list[str] = []

    on_sqlite = arguments.database == "sqlite"

    def fresh_database(name: str) -> str:
        # Each bot on a coalition of its own: nobody has signed yet.
        if on_sqlite:
            return f"sqlite:///{folder / name}.db"
        created.append(server.create())
        return created[-1]

    async def run(name: str, label: str, command: list[str]) -> Figures:
        progress(f"{label}: running")
        database_url = fresh_database(name)
        found, titles = await arranged(database_url, arguments.contacts, arguments.appeals)
        if command is FLOOR_BOT:
            ok = Expected("ok", whole=True)
            scripts = [
                (m.contact_id, [Said(s.command, ok) for s in conversation(n, m, titles)])
                for n, m in enumerate(found)
            ]
        elif arguments.say is not None:
            scripts = [
                (m.contact_id, [said_alone(arguments.say, arguments.expect, m, titles)] * 5)
                for m in found
            ]
        else:
            scripts = [(m.contact_id, conversation(n, m, titles)) for n, m in enumerate(found)]
        environment = {
            **os.environ,
            "ORGANISER_IDS": str(ORGANISER_ID),
            "DATABASE_URL": database_url,
            "PYTHONPATH": PROJECT,
        }
        # The floor bot has no database; the others, on PostgreSQL, have the server's backends.
        server = None if command is FLOOR_BOT or on_sqlite else ServerCpu(database_url)
        return await serve_and_drive(
            command, environment, folder, scripts, arguments.window, server
        )

    try:
        lines = [f"load average at start: {os.getloadavg()[0]:.2f}"]
        floor_label = "floor: bare PTB bot answering ok"
        floor = await run("floor", floor_label, FLOOR_BOT)
        on = arguments.database
        unpaced_label = f"unpaced coalition bot on {on}"
        unpaced = await run("unpaced", unpaced_label, UNPACED_BOT)
        served_label = f"served coalition bot on {on}"
        served = await run("served", served_label, SERVED_BOT)
    finally:
        for database_url in created:
            server.drop(database_url)
        shutil.rmtree(folder)
    return [
        *lines,
        floor.line(floor_label),
        unpaced.line(unpaced_label),
        served.line(served_label),
        f"every reply checked; unpaced {unpaced.rate / FREE_BROADCAST_LIMIT:.1f} times Telegram's "
        f"{FREE_BROADCAST_LIMIT} replies a second (target >= 3); ratio to the floor: unpaced "
        f"{unpaced.rate / floor.rate:.3f}, as served {served.rate / floor.rate:.3f}  "
        f"load average at end: {os.getloadavg()[0]:.2f}",
    ]


if __name__ == "__main__":
    report(measured(arguments_parsed()))
