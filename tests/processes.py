"""Real `coalition-bot` processes as tests drive them: the command line with a clean
environment, and `coalition-bot run` started, waited for by its log lines, then killed (SIGKILL)
or stopped (SIGTERM), with a check that the signal, and not the bot on its own, ended it."""

import asyncio
import contextlib
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.serving import STOP_WITHIN
from foundation.settings import Settings

EXECUTABLE = str(Path(sys.executable).with_name("coalition-bot"))
# What the bot logs once it serves (bot/application.py), and once SIGTERM reached it
# (bot/serving.py).
SERVING = "serving as @"
STOPPING = "stopping: no new updates"
# A bot's start-up on a busy two-core machine: imports, migrations, the first calls to the API.
START_WITHIN = 60.0


def clean_environment(**values: str) -> dict[str, str]:
    """The machine's environment without any coalition-bot setting, plus `values`."""
    names = {name.upper() for name in Settings.model_fields}
    environment = {k: v for k, v in os.environ.items() if k not in names}
    return environment | values


class BotProcess:
    """A running `coalition-bot run` whose log (stderr) is read as it comes, each line with the
    moment it arrived (time.monotonic, the clock of the local Bot API's `accepted_at`)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[tuple[float, str]] = []
        self._ended = False
        self._grew = asyncio.Condition()
        self._reading = asyncio.create_task(self._read(), name="bot log")

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            async with self._grew:
                self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip()))
                self._grew.notify_all()
        async with self._grew:
            self._ended = True
            self._grew.notify_all()

    @property
    def log(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def _found(self, words: str) -> float | None:
        return next((at for at, line in self.lines if words in line), None)

    async def logged(self, words: str, *, within: float = START_WITHIN) -> float:
        """Wait for a log line holding `words`; the moment it arrived. Fails at once, with the
        log, if the bot exits first."""
        try:
            async with asyncio.timeout(within), self._grew:
                await self._grew.wait_for(lambda: self._ended or self._found(words) is not None)
        except TimeoutError:
            raise AssertionError(
                f"no {words!r} in the log within {within} s:\n{self.log}"
            ) from None
        found = self._found(words)
        if found is None:
            code = await self.process.wait()
            raise AssertionError(f"the bot exited ({code}) before logging {words!r}:\n{self.log}")
        return found

    async def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer; fails if the bot had already exited."""
        with contextlib.suppress(ProcessLookupError):  # it exited and was reaped meanwhile
            self.process.send_signal(signal.SIGKILL)
        code = await self.finished()
        assert code == -signal.SIGKILL, f"the bot was not killed: it exited ({code}):\n{self.log}"

    async def stop(self) -> None:
        """SIGTERM, as systemd sends: the bot must say it stops and exit 0 within STOP_WITHIN."""
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_WITHIN):
                code = await self.finished()
        except TimeoutError:
            raise AssertionError(
                f"still running {STOP_WITHIN} s after SIGTERM:\n{self.log}"
            ) from None
        assert STOPPING in self.log, f"exited ({code}) without taking SIGTERM:\n{self.log}"
        assert code == 0, f"exited {code} after SIGTERM:\n{self.log}"

    async def finished(self) -> int:
        """The exit code, once the process and its log have ended."""
        code = await self.process.wait()
        await self._reading  # the log's last lines
        return code


@asynccontextmanager
async def bot_process(cwd: Path, **environment: str) -> AsyncIterator[BotProcess]:
    """`coalition-bot run` with `environment` over a clean one; killed at the end if the test
    left it running (a failed test), without the checks of `kill`."""
    process = await asyncio.create_subprocess_exec(
        EXECUTABLE,
        "run",
        cwd=cwd,
        env=clean_environment(**environment),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = BotProcess(process)
    try:
        yield bot
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await bot.finished()


@asynccontextmanager
async def bot_serving(cwd: Path, **environment: str) -> AsyncIterator[BotProcess]:
    """`coalition-bot run` from the moment it logs that it serves, stopped by SIGTERM at the end
    (and checked to stop as it should) unless the test ended it."""
    async with bot_process(cwd, **environment) as bot:
        await bot.logged(SERVING)
        yield bot
        if bot.process.returncode is None:
            await bot.stop()


async def wait_until(
    what: str,
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    within: float,
    every: float = 0.01,
) -> None:
    """Wait until `condition` holds, looking every `every` seconds, for a state no event
    announces (a count of rows or of messages); fails after `within` seconds, saying `what`
    was awaited."""
    try:
        async with asyncio.timeout(within):
            while True:
                holds = condition()
                if await holds if inspect.isawaitable(holds) else holds:
                    return
                # The pause between two looks at a state no event announces, not a wait for it.
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


def run_cli(tmp_path: Path, *args: str, **values: str) -> subprocess.CompletedProcess[str]:
    """`coalition-bot ARGS` run to its end in `tmp_path`, with `values` as its settings."""
    return subprocess.run(
        [EXECUTABLE, *args],
        cwd=tmp_path,
        env=clean_environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
