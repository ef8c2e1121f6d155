"""What every benchmark does with what it counts: it checks each reply and each delivery, and
prints its figures only once all of them are right. Anything wrong ends the run with exit
status 1 and one line saying what (which command, what was expected, what came) instead of
any figure: a refusal timed as an answer, or a copy sent twice, would make a figure lie."""

import asyncio
import sys
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from stand.local_api import LocalBotApi
from stand.local_api.chat import SentMessage

# How much of a wrong reply the one line shows, in characters.
SHOWN = 200
# How many of a reply's expected parts the one line names.
FIRST_PARTS = 3
# How the local Bot API words a 429 (Telegram's throttling, which a benchmark counts).
THROTTLED = "Too Many Requests"


class Wrong(Exception):
    """A reply, a delivery or a result that is not what it should be: no figure stands."""


@dataclass(frozen=True)
class Expected:
    """What a reply must say: it begins with `start`, then holds each of `parts` once, in this
    order; with `whole`, it is `start` and nothing more."""

    start: str
    parts: tuple[str, ...] = ()
    whole: bool = False

    def met_by(self, text: str) -> bool:
        """Whether `text` says what is expected."""
        if self.whole:
            return text == self.start
        if not text.startswith(self.start):
            return False
        at = len(self.start)
        for part in self.parts:
            found = text.find(part, at)
            if found < 0 or text.count(part) != 1:
                return False
            at = found + len(part)
        return True

    def __str__(self) -> str:
        if self.whole:
            return f"exactly {shown(self.start)}"
        said = f"a reply starting {shown(self.start)}"
        if self.parts:
            first = ", ".join(shown(part) for part in self.parts[:FIRST_PARTS])
            more = len(self.parts) - FIRST_PARTS
            said += f" then, once each and in this order, {first}"
            said += f" and {more} more" if more > 0 else ""
        return said


def shown(value: object) -> str:
    """`value` (a text: quoted) on one line, cut to SHOWN characters."""
    quoted = repr(value)
    return quoted if len(quoted) <= SHOWN else f"{quoted[:SHOWN]}…"


def check_reply(what: str, expected: Expected, text: str) -> None:
    """Wrong unless `text`, the reply to `what`, is what was expected."""
    if expected.met_by(text):
        return
    wanted = expected.start
    if expected.whole and len(repr(wanted)) > SHOWN:
        # Too long to show whole: where the two part ways is what tells.
        at = next(
            (n for n, (one, other) in enumerate(zip(wanted, text, strict=False)) if one != other),
            min(len(wanted), len(text)),
        )
        raise Wrong(
            f"{what}: expected exactly {len(wanted)} characters, got {len(text)}, which differ "
            f"from character {at} on: expected {shown(wanted[at : at + SHOWN // 2])}, got "
            f"{shown(text[at : at + SHOWN // 2])}"
        )
    raise Wrong(f"{what}: expected {expected}, got {shown(text)}")


async def message_to(
    api: LocalBotApi, chat_id: int, index: int, *, timeout: float, what: str
) -> SentMessage:
    """The chat's `index`-th message from the bot; Wrong if none comes within `timeout` s."""
    try:
        async with asyncio.timeout(timeout):
            return await api.wait_for_message(chat_id, index)
    except TimeoutError:
        raise Wrong(f"{what}: expected a reply within {timeout:g} s, none came") from None


def check_messages(api: LocalBotApi, chat_id: int, count: int, *, what: str) -> None:
    """Wrong unless the bot sent exactly `count` messages to the chat (once it has stopped:
    a copy sent twice, or an answer nobody asked for, shows here)."""
    sent = api.messages(chat_id)
    if len(sent) != count:
        extra = f", the last {shown(sent[-1].text)}" if sent else ""
        messages = "message" if count == 1 else "messages"
        raise Wrong(f"{what}: expected {count} {messages}, got {len(sent)}{extra}")


def check_nothing_refused(api: LocalBotApi, *, throttling_counted: bool = False) -> None:
    """Wrong if the Bot API server refused a call (a 429 aside where the benchmark counts
    them: the bot sends again after it, and the delivery is checked)."""
    refused = [
        (method, why)
        for method, why in api.refused
        if not (throttling_counted and why.startswith(THROTTLED))
    ]
    if refused:
        method, why = refused[0]
        calls = "call" if len(refused) == 1 else "calls"
        raise Wrong(
            f"the Bot API server refused {len(refused)} {calls}: expected none, the first "
            f"was {method}: {shown(why)}"
        )


async def together(coroutines: Iterable[Coroutine[Any, Any, object]]) -> None:
    """Run them at once; the first to fail stops the others, and its error is raised as is."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def progress(text: str) -> None:
    """What the benchmark is doing, on stderr: its figures wait until everything is checked."""
    print(text, file=sys.stderr, flush=True)


def report(measured: Coroutine[Any, Any, list[str]]) -> None:
    """Run a benchmark: print its lines of figures if everything it counted was right, or else
    one line saying what was wrong, and exit with status 1."""
    try:
        lines = asyncio.run(measured)
    except Wrong as wrong:
        print(f"no figures: {wrong}", file=sys.stderr)
        sys.exit(1)
    print("\n".join(lines), flush=True)
