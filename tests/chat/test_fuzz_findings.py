"""What fuzzing the commands and buttons found (tests/chat/test_fuzz.py), each as the story of the
person who would have met it."""

from models import Appeal, Broadcast, Database, Organisation, Phase
from stand.local_api import LocalBotApi
from tests.people import Someone
from tests.stories import member, open_appeal, snapshot, stored

UNKNOWN_BUTTON = "I do not know this button. /help lists your commands."


async def test_an_unknown_time_zone_of_10000_characters_is_named_cut_in_one_message(
    api: LocalBotApi, organiser: Someone
) -> None:
    stranger = Someone(api, 3001, "Stranger")
    assert await stranger.says("/timezone " + "x" * 10_000) == (
        f"There is no time zone {'x' * 63}…. Write it as Area/City, for example "
        "/timezone Europe/Kyiv."
    )
    assert len(stranger.inbox()) == 1
    assert api.refused == []


async def test_a_time_that_not_every_zone_can_show_is_refused(
    organiser: Someone, database: Database
) -> None:
    """At the ends of the calendar a zone's clock overflows: such a time crashed the command,
    or was stored and then crashed /phases for everyone who reads times east of UTC."""
    await open_appeal(database)
    await organiser.says("/timezone Asia/Tokyo")
    before = await snapshot(database)
    for sends, written in [
        ("/phase 9999-12-31 23:59 -14:00 Talks", "9999-12-31 23:59 -14:00"),
        ("/phase 9999-12-31 20:00 Talks", "9999-12-31 20:00"),
        ("/phase 0001-01-01 00:00 +14:00 Talks", "0001-01-01 00:00 +14:00"),
        ("/deadline 1 9999-12-31 12:00", "9999-12-31 12:00"),
    ]:
        assert await organiser.says(sends) == f"There is no such date and time as {written}."
    assert await snapshot(database) == before


async def test_nul_characters_are_left_out_of_what_is_stored(
    organiser: Someone, database: Database
) -> None:
    """PostgreSQL cannot store a NUL character: it failed there with the error handler's apology."""
    assert (await organiser.says("/invite Memo\x00rial")).startswith("New organisation Memorial.")
    assert (await organiser.says("/newappeal Free\x00 them\nText\x00.")).startswith(
        "Draft appeal #1 “Free them” is saved."
    )
    assert (await organiser.says("/phase 2030-01-01 12:00 Ge\x00neva")).startswith(
        "Added phase #1 “Geneva”"
    )
    assert (await organiser.says("/broadcast Hel\x00lo")).startswith("Preview of broadcast #1")
    assert [o.name for o in await stored(database, Organisation)] == ["Memorial"]
    assert [(a.title, a.text) for a in await stored(database, Appeal)] == [("Free them", "Text.")]
    assert [p.name for p in await stored(database, Phase)] == ["Geneva"]
    assert [b.text for b in await stored(database, Broadcast)] == ["Hello"]


async def test_a_button_the_bot_never_made_is_answered_and_changes_nothing(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    """A modified client can send any data: unknown data left the spinner turning, and numbers
    out of range reached the error handler."""
    irina = Someone(api, 2001, "Irina")
    await member(database, "Memorial", 2001)
    await open_appeal(database)
    assert (await irina.next_message()).text.startswith("New appeal #1")
    for person, data in [
        (irina, ""),
        (irina, "no-such-button"),
        (irina, "cosign:0"),
        (irina, "cosign:" + "9" * 40),
        (organiser, "audit-older:0:" + "9" * 40),
    ]:
        shown = await person.says("/help")
        before = await snapshot(database)
        person.forge(person.inbox()[-1], data)
        assert (await person.next_message()).text == UNKNOWN_BUTTON, data
        assert person.inbox()[-2].text == shown
        assert await snapshot(database) == before
    assert api.refused == []
