"""The sandbox: `coalition-bot sandbox` as a person uses it, in a real browser (headless
Chromium driven by Playwright), and its page's refusals."""

import asyncio
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, ViewportSize, async_playwright, expect

from stand.local_api.html import browser_html
from tests.processes import EXECUTABLE, clean_environment, run_cli

# The sandbox keeps its own SQLite file, whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_free

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# `.ci/run` installs Chromium and sets this, so that there the browser test cannot be skipped.
BROWSER_REQUIRED = bool(os.environ.get("REQUIRE_BROWSER"))
# Without these, Chromium tries to reach Google's services, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SEEN_WITHIN_MS = 15_000
Json = dict[str, Any]
BANNER = re.compile(r"Sandbox: open (http://127\.0\.0\.1:\d+) in a browser\.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """A sandbox process and the first line it printed."""
    process = subprocess.Popen(
        [EXECUTABLE, *args],
        cwd=tmp_path,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline()


def stop(process: subprocess.Popen[str]) -> str:
    """Ctrl+C, as a person stops it; returns what it wrote to stderr."""
    process.send_signal(2)
    _, stderr = process.communicate(timeout=30)
    return stderr


@contextmanager
def running_sandbox(tmp_path: Path) -> Iterator[str]:
    """`coalition-bot sandbox` on a free port, stopped cleanly after; the page's address."""
    process, banner = start_sandbox(tmp_path, "sandbox", "--port", str(free_port()))
    match = BANNER.match(banner)
    assert match, f"no banner, got {banner!r}"
    assert "nothing leaves it" in banner
    yield match[1]
    stderr = stop(process)
    assert process.returncode == 0
    assert "Traceback" not in stderr


@asynccontextmanager
async def browsing(address: str, viewport: ViewportSize) -> AsyncIterator[Page]:
    """Chromium showing the sandbox's page in a window of `viewport`'s size."""
    if CHROMIUM is None and not BROWSER_REQUIRED:
        pytest.skip("Chromium is not installed (`apt-get install chromium`; .ci/run does it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport=viewport)
        expect.set_options(timeout=SEEN_WITHIN_MS)
        await page.goto(address)
        yield page
        await browser.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with running_sandbox(tmp_path) as address:
        yield address


@pytest.fixture
async def page(sandbox: str) -> AsyncIterator[Page]:
    async with browsing(sandbox, {"width": 1280, "height": 900}) as page:
        yield page


async def be(page: Page, name: str) -> None:
    """Switch the page to `name`'s Telegram."""
    await page.locator(".person", has_text=name).click()
    await expect(page.locator("#chat-title")).to_have_text(name)


async def send(page: Page, text: str) -> None:
    box = page.locator("#compose textarea")
    await box.fill(text)
    await box.press("Enter")


def from_bot(page: Page) -> Locator:
    return page.locator(".message.bot")


async def test_an_organiser_and_a_new_contact_run_an_appeal_in_the_browser(page: Page) -> None:
    # The coalition is there already: the organiser and three members in three languages.
    people = page.locator(".person")
    await expect(people).to_have_count(4)
    await expect(people.nth(1)).to_contain_text("Comité Liberté pour les détenus")

    # The organiser invites a new organisation.
    await be(page, "Olena")
    await send(page, "/invite Mémorial Lyon")
    invite = from_bot(page).last
    await expect(invite).to_contain_text("New organisation Mémorial Lyon.")

    # A new simulated person, in French, opens the invite link the organiser passed on.
    await page.locator("#add-person input[name=name]").fill("Nadia")
    await page.locator("#add-person select").select_option("fr")
    await page.locator("#add-person button").click()
    await expect(page.locator("#chat-title")).to_have_text("Nadia")
    await be(page, "Olena")
    await invite.locator("a[href*='?start=']").click()
    await page.locator("#open-as-people button", has_text="Nadia").click()
    await expect(page.locator("#chat-title")).to_have_text("Nadia")
    await expect(from_bot(page).last).to_contain_text("Mémorial Lyon")
    await expect(page.locator(".person", has_text="Nadia")).to_contain_text("Mémorial Lyon")

    # The organiser drafts and publishes an appeal.
    await be(page, "Olena")
    await send(page, "/newappeal Libérez-les\nNous demandons la libération de tous les détenus.")
    await expect(from_bot(page).last).to_contain_text("Draft appeal #2")
    await send(page, "/publish 2")
    await expect(from_bot(page).last).to_contain_text("is open for signatures")

    # The announcement reaches Nadia live, in French, with its button; she co-signs.
    await expect(page.locator(".person", has_text="Nadia").locator(".unread")).to_have_text("1")
    await be(page, "Nadia")
    announcement = from_bot(page).last
    await expect(announcement).to_contain_text("Nouvel appel #2")
    await announcement.get_by_role("button", name="Cosigner").click()
    question = from_bot(page).last
    await expect(question).to_contain_text("Cosigner l’appel #2")
    await question.get_by_role("button", name="Confirmer").click()
    await expect(question).to_contain_text("L’organisation « Mémorial Lyon » a cosigné l’appel #2")

    # /status on the page shows one signature.
    await send(page, "/status 2")
    await expect(from_bot(page).last).to_contain_text("1 organisation a signé.")

    # Jumping to the next moment on the timeline (three days before the negotiation round):
    # a member who has not signed the coalition's first appeal is reminded of it at once.
    await be(page, "Amélie")
    await expect(from_bot(page)).to_have_count(2)  # the announcements of #1 and #2
    await page.get_by_role("button", name="Jump to next moment").click()
    await expect(from_bot(page)).to_have_count(3)
    reminder = from_bot(page).last
    await expect(reminder).to_contain_text("Negotiation round in Geneva commence le")
    await expect(reminder).to_contain_text("n’a pas encore signé")
    await expect(reminder.get_by_role("button")).to_have_text("Cosigner #1")

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sandbox.png", full_page=True)


async def chat(client: aiohttp.ClientSession, person: int, *, messages: int) -> list[Json]:
    """`person`'s chat on the page, once it holds `messages` messages: looked at again each
    time the page's event stream says something changed, as the page itself does."""
    async with client.get("/sandbox/events") as events, asyncio.timeout(SEEN_WITHIN_MS / 1000):
        while True:
            async with client.get(f"/sandbox/chat/{person}") as response:
                shown: list[Json] = (await response.json())["messages"]
            if len(shown) >= messages:
                return shown
            # The next event; keep-alives and the blank lines that end events say nothing.
            while not (line := await events.content.readline()).startswith(b"data: "):
                assert line, "the page's event stream ended"


async def test_the_page_refuses_what_makes_no_sense_in_one_line(sandbox: str) -> None:
    async with aiohttp.ClientSession(sandbox) as client:
        [announcement] = await chat(client, 2001, messages=1)
        refusals = [
            ({"person": 1001, "text": "  "}, "/sandbox/say", "the message is empty"),
            ({"person": 42, "text": "/help"}, "/sandbox/say", "no such person"),
            ({"person": 2001, "message": announcement["id"], "data": "cosign:9"},
             "/sandbox/press",
             "that message has no such button (any more)"),
            ({"name": "", "language": "fr"}, "/sandbox/people", "a name is 1 to 64 characters"),
            ({"name": "Nadia", "language": "de"}, "/sandbox/people",
             "the language is one of en, fr, uk, ru"),
            ({"hours": -1}, "/sandbox/jump", "a jump is more than 0 and at most 60 days"),
            ({"hours": "soon"}, "/sandbox/jump",
             "say how far: a number of hours, or to the next moment"),
        ]  # fmt: skip
        for body, path, reason in refusals:
            async with client.post(path, json=body) as response:
                assert (response.status, await response.json()) == (400, {"error": reason})
        async with client.post("/sandbox/say", data="person=1001&text=hi") as response:
            assert (response.status, await response.json()) == (400, {"error": "send JSON"})
        async with client.get("/sandbox/state") as response:
            state = await response.json()
        assert [p["name"] for p in state["people"]] == ["Olena", "Amélie", "Taras", "Irina"]


async def test_the_seeded_people_have_the_menus_of_their_roles(sandbox: str) -> None:
    def menus(state: dict[str, Any]) -> dict[str, set[str]]:
        return {p["name"]: {c["command"] for c in p["commands"]} for p in state["people"]}

    async with aiohttp.ClientSession(sandbox) as client, asyncio.timeout(10):
        while True:  # set in the background as the bot starts
            async with client.get("/sandbox/state") as response:
                shown = menus(await response.json())
            if all("cosign" in shown[contact] for contact in ("Amélie", "Taras", "Irina")):
                break
    for contact in ("Amélie", "Taras", "Irina"):
        assert {"appeals", "cosign", "status", "phases"} <= shown[contact], contact
        assert {"join", "request"}.isdisjoint(shown[contact]), contact
    assert {"invite", "publish", "broadcast"} <= shown["Olena"]
    assert {"join", "request", "cosign"}.isdisjoint(shown["Olena"])


async def test_an_export_is_downloadable_from_the_page(sandbox: str) -> None:
    async with aiohttp.ClientSession(sandbox) as client:
        async with client.post("/sandbox/say", json={"person": 1001, "text": "/export 1"}):
            pass
        # The welcome, the command, the CSV and the letter.
        shown = await chat(client, 1001, messages=4)
        documents = [message["document"] for message in shown if "document" in message]
        [csv] = [document for document in documents if document["name"].endswith(".csv")]
        assert len(documents) == 2
        async with client.get(csv["href"]) as response:
            body = await response.text()
            disposition = response.headers["Content-Disposition"]
        assert disposition == f'attachment; filename="{csv["name"]}"'
        # No organisation has signed yet: the list has its header only.
        assert body.count("\n") == 1


def test_make_run_without_a_token_starts_the_sandbox(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [EXECUTABLE, "run", "--or-sandbox"],
        cwd=tmp_path,
        env=clean_environment(SANDBOX_PORT=str(free_port())),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert BANNER.match(process.stdout.readline())
    stop(process)
    assert process.returncode == 0


def test_a_port_in_use_is_said_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "sandbox", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (
        f"SANDBOX_PORT: 127.0.0.1:{port} is in use; choose another with --port\n"
    )


def test_the_page_shows_the_bots_formatting_and_nothing_that_could_run() -> None:
    source = (
        '<b>Appeal #1</b> &lt;script&gt; <a href="javascript:alert(1)">here</a> '
        '<a href="https://example.org/?a=1&amp;b=2">site</a> <tg-spoiler>hidden</tg-spoiler>\n'
        "Invite: https://t.me/coalition_local_bot?start=abc"
    )
    assert browser_html(source, "HTML") == (
        "<b>Appeal #1</b> &lt;script&gt; <a>here</a> "
        '<a href="https://example.org/?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">'
        'site</a> <span class="spoiler">hidden</span>\nInvite: '
        '<a href="https://t.me/coalition_local_bot?start=abc" rel="noopener noreferrer" '
        'target="_blank">https://t.me/coalition_local_bot?start=abc</a>'
    )
    # A text sent without a parse mode is shown as typed, tags and all.
    assert browser_html("<b>x</b>", None) == "&lt;b&gt;x&lt;/b&gt;"
