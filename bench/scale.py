"""/status and /appeals on a large coalition, and the bot's peak memory.

Run by hand: `.venv/bin/python -m bench.scale` (about a minute and a half). It inserts 10,000
organisations (one contact each) and 200 open appeals with 100,000 signatures: every
organisation has signed the first appeal publicly, and the other 90,000 signatures are spread
over the other 199 appeals, public, private and anonymous in turn. A real `coalition-bot run`
serves that database through the project's Bot API server; contacts then ask, one at a time
and under Telegram's 30 messages a second, /appeals, /status of an ordinary appeal and /status
of the one all 10,000 signed. Latency runs from pushing the message to the server accepting the
reply's last message. Targets: p95 under 50 ms for each, the bot's peak RSS under 200 MB, and
/status within one message.

Every reply is checked: /appeals lists every appeal with its count, /status gives the appeal's
count and the asking organisation's line; and so is that nobody got a message more than their
replies, and that the server refused no call. Anything else ends the run with one line saying
what, and no figure (bench/checks.py).
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable
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
    shown,
)
from bench.coalition import Member, appeal_title, members, open_appeals, signed
from bench.processes import peak_rss_mib
from bench.updates import ORGANISER_ID, REPLY_TIMEOUT, SERVED_BOT, percentile
from bot import migrate
from models import Database, Disclosure
from stand.local_api import LocalBotApi
from stand.local_api.chat import Person, SentMessage

STARTUP_TIMEOUT = 60
# Samples are spaced to keep the replies under this many messages a second: past Telegram's 30,
# the bot's Telegram budget (bot/budget.py) holds them back, and that is what would be
# measured.
MESSAGES_PER_SECOND = 20
# How long the next message of a reply in several may take (the budget lets one a second to a
# chat after a burst of three), in seconds.
NEXT_MESSAGE_TIMEOUT = 10
# How /appeals ends, for a contact: its last message is the last of the reply.
APPEALS_CLOSING = "/appeal ID shows one in full; /cosign ID signs it."


@dataclass(frozen=True)
class Coalition:
    """What was stored: the members, and each appeal's id, title and signatures."""

    members: list[Member]
    titles: dict[int, str]
    signatures: dict[int, int]


@dataclass(frozen=True)
class Asked:
    """A command the benchmark times: what each contact must get, and how its reply ends
    (its one message, if `closing` is None)."""

    label: str
    command: str
    expected: Callable[[Member], Expected]
    closing: str | None = None


async def arranged(
    database_url: str, organisations: int, appeals: int, signatures: int
) -> Coalition:
    """The coalition stored."""
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    counts: dict[int, int] = {}
    try:
        found = await members(database, organisations)
        appeal_ids = await open_appeals(database, appeals, organiser_id=ORGANISER_ID)
        await signed(database, appeal_ids[0], found, [Disclosure.PUBLIC])
        counts[appeal_ids[0]] = len(found)
        each = (signatures - organisations) // (appeals - 1)
        for n, appeal_id in enumerate(appeal_ids[1:]):
            start = n * each % organisations
            signers = (found + found)[start : start + each]
            await signed(database, appeal_id, signers, list(Disclosure))
            counts[appeal_id] = len(signers)
    finally:
        await database.dispose()
    titles = {id_: appeal_title(n) for n, id_ in enumerate(appeal_ids, start=1)}
    return Coalition(found, titles, counts)


def english(n: int, one: str, more: str) -> str:
    """`one` or `more` (with {n} in it) as the bot's English texts choose between them."""
    return (one if n == 1 else more).format(n=n)


def commands(coalition: Coalition) -> list[Asked]:
    """/appeals, /status of an ordinary appeal and of the one all signed, and their replies."""
    first, ordinary = list(coalition.titles)[:2]

    def status_head(appeal_id: int) -> str:
        count = coalition.signatures[appeal_id]
        return (
            f"#{appeal_id} {coalition.titles[appeal_id]}\nState: open for signatures\n"
            + english(count, "{n} organisation has signed.\n", "{n} organisations have signed.\n")
        )

    # Newest first, over as many messages as it takes (each ends at the end of a line).
    listing = Expected(
        "\n".join(
            [
                "Appeals",
                *(
                    f"#{id_} {title} — "
                    + english(coalition.signatures[id_], "{n} signature", "{n} signatures")
                    for id_, title in reversed(coalition.titles.items())
                ),
                APPEALS_CLOSING,
            ]
        ),
        whole=True,
    )
    return [
        Asked("/appeals", "/appeals", lambda _: listing, APPEALS_CLOSING),
        Asked(
            "/status of an ordinary appeal",
            f"/status {ordinary}",
            lambda member: Expected(status_head(ordinary), (f"{member.name} has ",)),
        ),
        Asked(
            "/status of the appeal all signed",
            f"/status {first}",
            lambda member: Expected(
                status_head(first) + f"{member.name} has signed, publicly.\nSigned publicly by:\n"
            ),
        ),
    ]


async def reply_to(api: LocalBotApi, person: Person, asked: Asked, read: int) -> list[SentMessage]:
    """The messages the bot answers `asked` with, its `read`-th message the first."""
    what = f"{asked.command} from contact {person.user_id}"
    replies = [await message_to(api, person.user_id, read, timeout=REPLY_TIMEOUT, what=what)]
    while asked.closing is not None and not replies[-1].text.endswith(asked.closing):
        try:
            async with asyncio.timeout(NEXT_MESSAGE_TIMEOUT):
                replies.append(await api.wait_for_message(person.user_id, read + len(replies)))
        except TimeoutError:
            so_far = "\n".join(message.text for message in replies)
            raise Wrong(
                f"{what}: expected a reply ending {shown(asked.closing)}, got {shown(so_far)} "
                f"and nothing more within {NEXT_MESSAGE_TIMEOUT} s"
            ) from None
    return replies


async def latencies(
    api: LocalBotApi,
    people: "itertools.cycle[tuple[Person, Member]]",
    asked: Asked,
    samples: int,
    sent: Counter[int],
) -> tuple[list[float], set[int], int]:
    """Ask `samples` times (after once unmeasured, to warm up), each by the next person once
    the last reply is in, checking each reply and counting in `sent` the messages each person
    should have; returns the latencies, the messages in each reply and the longest one's
    length."""
    measured: list[float] = []
    pages: set[int] = set()
    longest = 0
    for sample in range(samples + 1):
        person, member = next(people)
        read = len(api.messages(person.user_id))
        pushed = time.monotonic()
        api.push_message(person, asked.command)
        replies = await reply_to(api, person, asked, read)
        text = "\n".join(message.text for message in replies)
        check_reply(f"{asked.command} from contact {person.user_id}", asked.expected(member), text)
        sent[person.user_id] += len(replies)
        if sample > 0:
            measured.append(replies[-1].accepted_at - pushed)
            pages.add(len(replies))
            longest = max([longest, *(len(message.text) for message in replies)])
        await asyncio.sleep(
            max(0.0, pushed + len(replies) / MESSAGES_PER_SECOND - time.monotonic())
        )
    return measured, pages, longest


async def measured(arguments: argparse.Namespace) -> list[str]:
    """Arrange, serve, ask; returns the lines of figures, once every reply was right."""
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    database_url = f"sqlite:///{folder / 'scale.db'}"
    api = LocalBotApi()
    await api.start()
    lines = [f"load average at start: {os.getloadavg()[0]:.2f}"]
    try:
        progress("arranging the coalition")
        started = time.monotonic()
        coalition = await arranged(
            database_url, arguments.organisations, arguments.appeals, arguments.signatures
        )
        lines.append(
            f"arranged {arguments.organisations} organisations, {arguments.appeals} appeals, "
            f"{arguments.signatures} signatures in {time.monotonic() - started:.1f} s"
        )
        organiser = api.meet(ORGANISER_ID, "Organiser", "en")
        met = [(api.meet(m.contact_id, "Contact", "en"), m) for m in coalition.members]
        environment = {
            **os.environ,
            "BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
            "ORGANISER_IDS": str(ORGANISER_ID),
            "DATABASE_URL": database_url,
        }
        progress("asking")
        bot = await asyncio.create_subprocess_exec(
            *SERVED_BOT, cwd=folder, env=environment, stderr=asyncio.subprocess.DEVNULL
        )
        sent: Counter[int] = Counter()
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                api.push_message(organiser, "/help")
                await api.wait_for_message(ORGANISER_ID, 0)
            people = itertools.cycle(met)
            for asked in commands(coalition):
                times, pages, longest = await latencies(api, people, asked, arguments.samples, sent)
                p50, p95 = percentile(times, 50), percentile(times, 95)
                lines.append(
                    f"{asked.label:<33} p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
                    f"(target < 50)  messages per reply {', '.join(map(str, sorted(pages)))}  "
                    f"longest {longest} characters (limit 4,096)"
                )
            rss = peak_rss_mib(bot.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                bot.send_signal(signal.SIGINT)
            await bot.wait()
        # The bot has stopped: a message sent twice, or one nobody asked for, is there by now.
        for person, _ in met:
            check_messages(
                api, person.user_id, sent[person.user_id], what=f"contact {person.user_id}"
            )
        check_nothing_refused(api)
    finally:
        await api.stop()
        shutil.rmtree(folder)
    return [
        *lines,
        f"every reply checked; bot peak RSS {rss:.0f} MiB = {rss * 1.048576:.0f} MB "
        f"(target < 200 MB)  load average at end: {os.getloadavg()[0]:.2f}",
    ]


def arguments_parsed() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--appeals", type=int, default=200)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    return parser.parse_args()


if __name__ == "__main__":
    report(measured(arguments_parsed()))
