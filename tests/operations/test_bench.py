"""The benchmarks refuse to print figures for work that went wrong: a reply changed on its way,
or a message delivered twice, ends a run with one line saying what, and no figure."""

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import bench.broadcast
import bench.scale
import bench.transactions
import bench.updates
from bench.checks import report
from services import appeals
from stand.local_api import LocalBotApi
from stand.local_api.protocol import Json
from tests.databases import BACKEND, ON_POSTGRES, SERVER_URL

# What a planted wrong reply says instead: a refusal, which a benchmark must not time as an
# answer.
REFUSAL = "Too many requests from you: try again in a minute."


def lying_api(victim: int, *, replaced_by: str | None = None) -> type[LocalBotApi]:
    """The local Bot API, except that the first message the bot sends `victim` arrives with
    `replaced_by` in its place or, without it, twice."""

    class LyingBotApi(LocalBotApi):
        told = False

        async def _send_message(self, params: Json) -> Json:
            if self.told or str(params.get("chat_id")) != str(victim):
                return await super()._send_message(params)
            self.told = True
            if replaced_by is None:
                await super()._send_message(params)
                return await super()._send_message(params)
            return await super()._send_message({"chat_id": victim, "text": replaced_by})

    return LyingBotApi


def outcome(
    capsys: pytest.CaptureFixture[str],
    measured: Callable[[Any], Coroutine[Any, Any, list[str]]],
    parse: Callable[[], Any],
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[object, str, str]:
    """Run a benchmark as its command line does; returns its exit status, what it printed on
    stdout (its figures) and the last line it printed on stderr."""
    monkeypatch.setattr(sys, "argv", ["bench", *argv])
    status: object = 0
    try:
        report(measured(parse()))
    except SystemExit as exit_:
        status = exit_.code
    printed = capsys.readouterr()
    return status, printed.out, printed.err.strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def same_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' PostgreSQL server is the suite's."""
    monkeypatch.setattr(bench.updates, "POSTGRES_SERVER", SERVER_URL)
    monkeypatch.setattr(bench.transactions, "POSTGRES_SERVER", SERVER_URL)


def test_updates_prints_no_figure_when_a_reply_is_not_the_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The floor bot answers the first contact's /appeals, and a refusal arrives instead.
    monkeypatch.setattr(bench.updates, "LocalBotApi", lying_api(10_000, replaced_by=REFUSAL))

    status, figures, said = outcome(
        capsys,
        bench.updates.measured,
        bench.updates.arguments_parsed,
        ["--database", BACKEND, "--contacts", "3", "--appeals", "2"],
        monkeypatch,
    )

    assert status == 1
    assert figures == ""
    assert (
        said == f"no figures: /appeals from contact 10000: expected exactly 'ok', got {REFUSAL!r}"
    )


def test_updates_prints_no_figure_when_a_reply_comes_twice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every reply of the floor bot reads "ok": only the count shows the one sent twice.
    monkeypatch.setattr(bench.updates, "LocalBotApi", lying_api(10_002))

    status, figures, said = outcome(
        capsys,
        bench.updates.measured,
        bench.updates.arguments_parsed,
        ["--database", BACKEND, "--contacts", "3", "--appeals", "2"],
        monkeypatch,
    )

    assert status == 1
    assert figures == ""
    assert said == "no figures: contact 10002's replies: expected 5 messages, got 6, the last 'ok'"


@pytest.mark.skipif(ON_POSTGRES, reason="bench.broadcast runs on SQLite only")
def test_broadcast_prints_no_figure_when_a_recipient_gets_two_copies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.broadcast, "LocalBotApi", lying_api(10_003))

    status, figures, said = outcome(
        capsys,
        bench.broadcast.measured,
        bench.broadcast.arguments_parsed,
        ["--slow-recipients", "5", "--fast-recipients", "5"],
        monkeypatch,
    )

    assert status == 1
    assert figures == ""
    assert said == (
        "no figures: recipient 10003's copies: expected 1 message, got 2, the last "
        '"📣 From the coalition\'s organisers\\n\\nBenchmark alert."'
    )


def test_transactions_prints_no_figure_when_a_read_misses_an_appeal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = appeals.list_appeals

    async def newest_missing(**arguments: Any) -> list[appeals.AppealSummary]:
        return (await listed(**arguments))[1:]

    monkeypatch.setattr(appeals, "list_appeals", newest_missing)

    status, figures, said = outcome(
        capsys,
        bench.transactions.measured,
        bench.transactions.arguments_parsed,
        # Few contacts, but enough co-signatures for the warm-up and the repeats.
        ["--database", BACKEND, "--contacts", "60", "--appeals", "2", "--repeats", "5"],
        monkeypatch,
    )

    assert status == 1
    assert figures == ""
    assert said.startswith(
        "no figures: /appeals' reads (appeal, title, state, signatures): expected "
        "[(2, 'Appeal 2: free the "
    )
    assert said.endswith(
        ", got [(1, 'Appeal 1: free the detainees of list 1', <AppealState.OPEN: 'open'>, 0)]"
    )


@pytest.mark.skipif(ON_POSTGRES, reason="bench.scale runs on SQLite only")
def test_scale_prints_no_figure_when_a_status_is_not_the_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Contacts ask in turn: the fourth asks /status of an ordinary appeal, and is refused.
    monkeypatch.setattr(bench.scale, "LocalBotApi", lying_api(10_003, replaced_by=REFUSAL))

    status, figures, said = outcome(
        capsys,
        bench.scale.measured,
        bench.scale.arguments_parsed,
        ["--organisations", "5", "--appeals", "3", "--signatures", "9", "--samples", "2"],
        monkeypatch,
    )

    assert status == 1
    assert figures == ""
    assert said == (
        "no figures: /status 2 from contact 10003: expected a reply starting "
        "'#2 Appeal 2: free the detainees of list 2\\nState: open for signatures\\n"
        "2 organisations have signed.\\n' then, once each and in this order, "
        "'Human Rights Group 00004 has ', "
        f"got {REFUSAL!r}"
    )
