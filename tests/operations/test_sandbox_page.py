"""The sandbox's page in its first minutes, in Chromium at desktop and at phone width: the
welcome, the command menu, answers brought into view, used buttons, unread counts, times."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect

from tests.operations.test_sandbox import ARTIFACTS, be, browsing, from_bot, running_sandbox, send

# The sandbox keeps its own SQLite file, whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_free

WIDE: ViewportSize = {"width": 1280, "height": 800}
NARROW: ViewportSize = {"width": 400, "height": 800}


@pytest.fixture(params=[WIDE, NARROW], ids=["1280px", "400px"])
async def page(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Page]:
    """The sandbox's page in Chromium, at each width in turn."""
    with running_sandbox(tmp_path) as address:
        async with browsing(address, request.param) as page:
            yield page


async def sandbox_now(page: Page) -> datetime:
    """The sandbox clock's time, as the server has it."""
    state: dict[str, Any] = await page.evaluate("fetch('/sandbox/state').then(r => r.json())")
    return datetime.fromisoformat(state["now"])


def day_line(moment: datetime) -> str:
    """The line the page shows where the day changes, e.g. "Monday 7 December 2026"."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def times_around(moment: datetime) -> list[str]:
    """How a message sent just before `moment` may show its time (the minute may turn)."""
    return [f"{moment:%H:%M}", f"{moment - timedelta(minutes=1):%H:%M}"]


def width_of(page: Page) -> int:
    assert page.viewport_size is not None
    return page.viewport_size["width"]


async def area(locator: Locator) -> float:
    box = await locator.bounding_box()
    assert box is not None
    return box["width"] * box["height"]


async def test_the_organiser_is_welcomed_with_times_and_a_menu_that_closes(page: Page) -> None:
    """Olena's chat opens on the bot's welcome, dated; the menu closes; the chat fits."""
    # The bot greets Olena before anyone does anything, with what she can do first.
    await expect(page.locator("#chat-title")).to_have_text("Olena")
    welcome = from_bot(page).first
    await expect(welcome).to_contain_text("Welcome, organiser.")
    await expect(welcome).to_contain_text("/help")
    await expect(welcome).to_contain_text("/appeals")
    await expect(welcome).to_be_in_viewport()
    await expect(page.locator("#page-hint")).to_contain_text("You are Olena, the organiser")
    await expect(page.locator("#page-hint")).to_be_in_viewport()
    # At any width, the page says that nothing leaves the machine.
    await expect(page.get_by_text("nothing leaves it").locator("visible=true")).to_have_count(1)

    # The welcome is dated by the sandbox's clock, under a line naming the day.
    now = await sandbox_now(page)
    assert await welcome.locator(".time").inner_text() in times_around(now)
    await expect(page.locator(".day").first).to_have_text(day_line(now))

    # The command menu closes on Escape, on a click elsewhere, and once a command is sent.
    menu, menu_button = page.locator("#menu"), page.locator("#menu-button")
    await menu_button.click()
    await expect(menu).to_be_visible()
    await expect(menu).to_contain_text("/help")
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await menu_button.click()
    await expect(menu).to_be_visible()
    await page.locator("#chat-title").click()
    await expect(menu).to_be_hidden()
    await menu_button.click()
    await expect(menu).to_be_visible()
    await send(page, "/help")
    await expect(menu).to_be_hidden()
    await expect(from_bot(page)).to_have_count(2)

    # The answer, the field to write in and most of the screen are the chat's, at any width.
    await expect(from_bot(page).last).to_be_in_viewport()
    await expect(page.locator("#compose textarea")).to_be_in_viewport(ratio=1)
    await expect(page.locator("#compose button[type=submit]")).to_be_in_viewport(ratio=1)
    screen = width_of(page) * 800
    assert await area(page.locator("#people-pane")) <= screen / 4
    assert await area(page.locator("#messages")) >= screen / 2
    await expect(page.locator(".person", has_text="Irina")).to_be_in_viewport()

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"sandbox-welcome-{width_of(page)}px.png")

    # Adding a person stays at hand; at phone width it folds away behind "+".
    name_field = page.get_by_placeholder("Name")
    if width_of(page) == NARROW["width"]:
        await expect(name_field).to_be_hidden()
        await page.get_by_role("button", name="Add a person").click()
    await expect(name_field).to_be_in_viewport()


async def test_answers_come_into_view_used_buttons_go_and_counts_survive_a_reload(
    page: Page,
) -> None:
    """What the bot answers is brought into view, used buttons vanish, counts are kept."""
    # Each member has the appeal's announcement unread; reading Amélie's clears hers, and a
    # reload of the page keeps both what was read and what was not.
    amelie, taras = (
        page.locator(".person", has_text="Amélie"),
        page.locator(".person", has_text="Taras"),
    )
    await expect(amelie.locator(".unread")).to_have_text("1")
    await expect(taras.locator(".unread")).to_have_text("1")
    await be(page, "Amélie")
    await be(page, "Olena")
    await expect(amelie.locator(".unread")).to_have_count(0)
    await page.reload()
    await expect(page.locator("#chat-title")).to_have_text("Olena")
    await expect(taras.locator(".unread")).to_have_text("1")
    await expect(amelie.locator(".unread")).to_have_count(0)

    # Amélie's chat grows past the screen; she scrolls back up to the announcement.
    await be(page, "Amélie")
    for asked in range(3):
        await send(page, "/help")
        await expect(from_bot(page)).to_have_count(2 + asked)
    announcement = from_bot(page).first
    await expect(announcement).not_to_be_in_viewport()
    await announcement.scroll_into_view_if_needed()
    await expect(from_bot(page).last).not_to_be_in_viewport()

    # The clock jumps days ahead: the reminder that comes is below, and a cue says so.
    first_day = await page.locator(".day").first.inner_text()
    await page.get_by_role("button", name="Jump to next moment").click()
    await expect(from_bot(page)).to_have_count(5)
    reminder = from_bot(page).last
    cue = page.get_by_role("button", name="New messages ↓")
    await expect(cue).to_be_in_viewport()
    await expect(reminder).not_to_be_in_viewport()
    await cue.click()
    await expect(reminder).to_be_in_viewport()
    await expect(cue).to_be_hidden()
    # It is dated by the moved clock, under a line for its new day.
    now = await sandbox_now(page)
    assert await reminder.locator(".time").inner_text() in times_around(now)
    await expect(page.locator(".day").last).to_have_text(day_line(now))
    assert day_line(now) != first_day

    # Co-sign pressed far up: the question it brings is scrolled into view.
    await announcement.scroll_into_view_if_needed()
    await announcement.get_by_role("button", name="Cosigner").click()
    await expect(from_bot(page)).to_have_count(6)
    question = from_bot(page).last
    await expect(question).to_be_in_viewport()
    # Cancel: the question becomes the answer, in view, its buttons gone.
    await question.get_by_role("button", name="Annuler").click()
    await expect(question.get_by_role("button")).to_have_count(0)
    await expect(question).to_contain_text("/cosign 1")
    await expect(question).to_contain_text("edited")
    await expect(question).to_be_in_viewport()

    # And again, confirmed this time: no Confirm or Cancel is left to press.
    await announcement.scroll_into_view_if_needed()
    await announcement.get_by_role("button", name="Cosigner").click()
    await expect(from_bot(page)).to_have_count(7)
    question = from_bot(page).last
    await expect(question).to_be_in_viewport()
    await question.get_by_role("button", name="Confirmer").click()
    await expect(question).to_contain_text("a cosigné l’appel #1")
    await expect(question).to_be_in_viewport()
    await expect(page.get_by_role("button", name="Confirmer")).to_have_count(0)
    await expect(page.get_by_role("button", name="Annuler")).to_have_count(0)

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"sandbox-answers-{width_of(page)}px.png")
