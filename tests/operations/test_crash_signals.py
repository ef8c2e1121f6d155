"""The checks on real processes in tests/processes.py fail when they should: a bot that
exited by itself is not taken for a killed one, and a line it never logged is not waited for."""

import time
from pathlib import Path

import pytest

from tests.processes import SERVING, START_WITHIN, bot_process

pytestmark = pytest.mark.database_free


async def test_a_bot_that_exits_by_itself_is_not_taken_for_a_killed_one(tmp_path: Path) -> None:
    # Without a token `run` exits at once with 2: a crash of its own, not the test's kill.
    async with bot_process(tmp_path) as bot:
        await bot.process.wait()
        with pytest.raises(AssertionError, match=r"the bot was not killed: it exited \(2\)"):
            await bot.kill()


async def test_waiting_for_a_line_from_a_bot_that_exited_fails_at_once_with_its_log(
    tmp_path: Path,
) -> None:
    async with bot_process(tmp_path) as bot:
        started = time.monotonic()
        with pytest.raises(AssertionError, match="BOT_TOKEN is not set") as failure:
            await bot.logged(SERVING)
    assert "the bot exited (2) before logging 'serving as @'" in str(failure.value)
    assert time.monotonic() - started < START_WITHIN / 2
