"""What members see: their language, their menu, their own words shown back safely."""

import asyncio
import re
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from bench.coalition import members, open_appeals, signed
from bot.application import build_application
from bot.serving import serving
from foundation.settings import Settings
from handlers.context import CoalitionApplication
from models import Account, Database, Disclosure, Organisation, Signature
from services.accounts import set_language
from stand.local_api import LocalBotApi, scope_key
from stand.local_api.html import TEXT_LIMIT, utf16_length
from stand.sandbox.clock import MovableClock
from tests.conftest import sample
from tests.people import Someone, appeal_number, invite_code
from tests.stories import ORGANISER, menus_shown, stored


async def contact_of(
    api: LocalBotApi, organiser: Someone, name: str, user_id: int, language: str
) -> Someone:
    """A new contact of the organisation `name` (invited, then joined)."""
    person = Someone(api, user_id, f"Contact {user_id}", language)
    await person.says(f"/join {invite_code(await organiser.says(f'/invite {name}'))}")
    return person


async def open_appeal(organiser: Someone, title: str, text: str) -> int:
    appeal_id = appeal_number(await organiser.says(f"/newappeal {title}\n{text}"))
    await organiser.says(f"/publish {appeal_id}")
    return appeal_id


async def test_members_are_answered_in_their_language(api: LocalBotApi, organiser: Someone) -> None:
    appeal_id = await open_appeal(organiser, "Libérez-les", sample("statement-2025-03.fr.txt"))
    # Telegram reports each person's app language; the bot follows it.
    claire = await contact_of(api, organiser, "Ligue des droits", 2001, "fr-FR")
    assert claire.inbox()[0].text.startswith("Vous êtes maintenant contact de Ligue des droits")
    # Her /help shows the words in French, and /cosign understands them.
    assert "/cosign NUMÉRO [privé|anonyme] — " in await claire.says("/help")
    assert await claire.says(f"/cosign {appeal_id} anonyme") == (
        f"L’organisation « Ligue des droits » a cosigné l’appel #{appeal_id} « Libérez-les » "
        "anonymement : elle est comptée, sans être nommée.\n1 organisation a signé jusqu’ici."
    )
    taras = await contact_of(api, organiser, "Центр громадянських свобод", 2002, "uk")
    await taras.says(f"/cosign {appeal_id}")
    status = await taras.says(f"/status {appeal_id}")
    assert "Підписали 2 організації." in status
    # A masculine name in a sentence that agrees with "organisation", not with the name.
    assert "Організація «Центр громадянських свобод» підписала, публічно." in status
    # The anonymous signature is counted, never named.
    assert "Ligue des droits" not in status

    # /language switches, and the menu follows.
    assert await taras.says("/language ru") == "Я буду писать вам на языке: Русский."
    assert "Подписали 2 организации." in await taras.says(f"/status {appeal_id}")
    menu = api.commands[scope_key({"type": "chat", "chat_id": 2002})]
    assert {
        "command": "cosign",
        "description": "Подписать обращение от имени вашей организации",
    } in menu


async def test_whoami_tells_each_person_their_role_and_organisation(
    api: LocalBotApi, organiser: Someone
) -> None:
    stranger = Someone(api, 3001, "Stranger", "en")
    assert await stranger.says("/whoami") == (
        "You act for no member organisation: /join CODE with an invite, "
        "or /request NAME to ask the organisers."
    )
    assert (await organiser.says("/whoami")).startswith("You are an organiser of the coalition.")

    member = await contact_of(api, organiser, "Мемориал", 2001, "ru")
    assert await member.says("/whoami") == "Вы действуете от имени организации «Мемориал»."


async def test_help_and_menus_list_only_what_each_person_may_use(
    api: LocalBotApi, organiser: Someone
) -> None:
    stranger = Someone(api, 3001, "Stranger", "en")
    stranger_help = await stranger.says("/help")
    assert "/join CODE — Join your organisation with an invite code" in stranger_help
    assert "/cosign" not in stranger_help
    assert "/invite" not in stranger_help

    organiser_help = await organiser.says("/help")
    assert "/invite NAME OF THE ORGANISATION — Invite an organisation" in organiser_help
    # Each command with what it takes, and an example where it takes a date.
    example = re.search(
        r"/deadline APPEAL_ID YYYY-MM-DD HH:MM — Set an appeal's signing deadline\n"
        r"    for example /deadline 1 (\d{4}-\d\d-\d\d) 18:00\n",
        organiser_help,
    )
    assert example is not None
    assert date.fromisoformat(example[1]) > datetime.now(UTC).date()  # a date /deadline takes
    assert "/delivery BROADCAST_ID — How far a broadcast has gone" in organiser_help
    assert "/orgs — Member organisations and their contacts" in organiser_help
    assert "/publish" in organiser_help
    assert "/cosign" not in organiser_help  # an organiser signs only as a contact
    # Organisers are in the coalition already: no joining or asking to join is offered them.
    assert "/join" not in organiser_help
    assert "/request" not in organiser_help
    await organiser.says("/newappeal Free them all\nThe text.")
    assert (await organiser.says("/appeals")).endswith(
        "/appeal ID shows one in full; /status ID shows where it stands."
    )

    member = await contact_of(api, organiser, "Memorial", 2001, "en")
    member_help = await member.says("/help")
    assert "/cosign ID [private|anonymous] — Co-sign an appeal for your organisation" in member_help
    assert "/join" not in member_help
    assert "/invite" not in member_help

    def menu(scope: dict[str, object], language: str | None = None) -> list[str]:
        return [c["command"] for c in api.commands[scope_key(scope, language)]]

    strangers = [
        "start", "help", "whoami", "join", "request", "mydata", "forget", "language", "timezone",
    ]  # fmt: skip
    assert menu({"type": "default"}) == strangers
    assert menu({"type": "default"}, "uk") == strangers
    assert "invite" in menu({"type": "chat", "chat_id": ORGANISER})
    assert {"join", "request"}.isdisjoint(menu({"type": "chat", "chat_id": ORGANISER}))
    assert "cosign" in menu({"type": "chat", "chat_id": 2001})
    assert "join" not in menu({"type": "chat", "chat_id": 2001})


async def test_text_people_typed_is_shown_back_literally(
    api: LocalBotApi, organiser: Someone
) -> None:
    # Names and titles full of HTML would break the parse mode if they were not escaped:
    # the local Bot API refuses malformed HTML exactly as Telegram does.
    name = "<b>Acme</b> & Sons <script>"
    reply = await organiser.says(f"/invite {name}")
    assert f"New organisation {name}." in reply
    member = await contact_of(api, organiser, name, 2001, "en")
    appeal_id = await open_appeal(
        organiser, "Free <i>all</i> & now", "Body with <tags> & ampersands"
    )
    announcement = await member.next_message()
    assert announcement.text.startswith(f"New appeal #{appeal_id}: Free <i>all</i> & now")
    await member.says(f"/cosign {appeal_id}")
    status = await member.says(f"/status {appeal_id}")
    assert "#1 Free <i>all</i> & now" in status
    assert f"• {name}" in status
    assert "Body with <tags> & ampersands" in await member.says(f"/appeal {appeal_id}")


async def test_a_long_appeal_is_split_into_messages_that_fit(
    api: LocalBotApi, organiser: Someone
) -> None:
    long_text = "\n\n".join([sample("appeal-2025-11-27.fr.txt")] * 3)
    # As long as Telegram lets an organiser send it: 4,096 characters with the command.
    text = long_text[:4080]
    appeal_id = await open_appeal(organiser, "L", text)
    member = await contact_of(api, organiser, "Memorial", 2001, "en")
    first = await member.says(f"/appeal {appeal_id}")
    second = (await member.next_message()).text
    assert utf16_length(first) <= TEXT_LIMIT
    assert utf16_length(second) <= TEXT_LIMIT
    shown = first + "\n" + second
    assert first.startswith(
        "#1 L\nState: open for signatures\nAs written, in English.\n\nAppel du 27 novembre 2025"
    )
    assert " ".join(shown.split()).endswith(" ".join(text.split()))


async def test_status_lists_as_many_public_signatories_as_fit_and_counts_the_rest(
    api: LocalBotApi, running_bot: CoalitionApplication, database: Database
) -> None:
    # 300 organisations signed publicly: their names alone would fill three messages.
    signers = await members(database, 300)
    [appeal_id] = await open_appeals(database, 1, organiser_id=ORGANISER)
    await signed(database, appeal_id, signers, [Disclosure.PUBLIC])
    contact = Someone(api, signers[0].contact_id, "Irina", "en")

    status = await contact.says(f"/status {appeal_id}")

    lines = status.split("\n")
    assert lines[:5] == [
        f"#{appeal_id} Appeal 1: free the detainees of list 1",
        "State: open for signatures",
        "300 organisations have signed.",
        "Human Rights Group 00001 has signed, publicly.",
        "Signed publicly by:",
    ]
    names = lines[5:-1]
    assert 100 < len(names) < 300
    assert names == [f"• Human Rights Group {n:05d}" for n in range(1, len(names) + 1)]
    # The count closes the one message: nothing was left for a second.
    assert lines[-1] == f"…and {300 - len(names)} more."
    assert utf16_length(status) <= TEXT_LIMIT
    assert api.refused == []


async def signed_publicly_as(database: Database, names: list[str]) -> tuple[int, int]:
    """Organisations so named have signed an appeal publicly, in that order; returns the
    appeal's id and the first one's contact."""
    signers = await members(database, len(names))
    async with database.transaction() as session:
        connection = await session.connection()
        await connection.execute(
            update(Organisation)
            .where(col(Organisation.id) == bindparam("organisation_id"))
            .values(name=bindparam("new_name")),
            [
                {"organisation_id": signer.organisation_id, "new_name": name}
                for signer, name in zip(signers, names, strict=True)
            ],
        )
    [appeal_id] = await open_appeals(database, 1, organiser_id=ORGANISER)
    await signed(database, appeal_id, signers, [Disclosure.PUBLIC])
    return appeal_id, signers[0].contact_id


async def test_status_counts_names_to_fit_as_telegram_counts_them(
    api: LocalBotApi, running_bot: CoalitionApplication, database: Database
) -> None:
    # Short names, more of them than /status fetches at first, with characters escaped in
    # HTML and one that takes two UTF-16 units.
    names = [f"🕊<{n}&\"'>" for n in range(1, 1201)]
    appeal_id, contact_id = await signed_publicly_as(database, names)

    status = await Someone(api, contact_id, "Irina", "en").says(f"/status {appeal_id}")

    lines = status.split("\n")
    assert lines[:5] == [
        f"#{appeal_id} Appeal 1: free the detainees of list 1",
        "State: open for signatures",
        "1200 organisations have signed.",
        "🕊<1&\"'> has signed, publicly.",
        "Signed publicly by:",
    ]
    shown = lines[5:-1]
    assert len(shown) > 200
    assert shown == [f"• {name}" for name in names[: len(shown)]]
    assert lines[-1] == f"…and {1200 - len(shown)} more."
    assert utf16_length(status) <= TEXT_LIMIT
    # Room is kept for the count at its longest ("…and 1200 more."): the next name did not fit.
    longest = "\n".join([*lines[:-1], "…and 1200 more."])
    assert utf16_length(longest) <= TEXT_LIMIT < utf16_length(f"{longest}\n• {names[len(shown)]}")
    assert api.refused == []


async def test_status_names_everyone_when_all_fit(
    api: LocalBotApi, running_bot: CoalitionApplication, database: Database
) -> None:
    # More than /status fetches at first, all short enough to fit.
    names = [f"G{n}" for n in range(1, 401)]
    appeal_id, contact_id = await signed_publicly_as(database, names)

    status = await Someone(api, contact_id, "Irina", "en").says(f"/status {appeal_id}")

    assert status.split("\n")[4:] == ["Signed publicly by:", *(f"• {name}" for name in names)]


async def test_concurrent_taps_leave_one_signature(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    appeal_id = await open_appeal(organiser, "One voice per organisation", "Text.")
    contacts = [await contact_of(api, organiser, "Memorial", 2000 + n, "en") for n in range(12)]
    replies = await asyncio.gather(*(c.says(f"/cosign {appeal_id}") for c in contacts))
    assert sum(r.startswith("Memorial co-signed") for r in replies) == 1
    assert replies.count(f"Memorial has already signed appeal #{appeal_id}.") == 11
    async with database.transaction() as session:
        assert len((await session.exec(select(Signature))).all()) == 1


async def test_a_new_persons_first_two_commands_at_once_make_one_account(
    database: Database,
) -> None:
    """Updates are handled concurrently: neither of two first commands may be refused."""

    async def choose(language: str) -> None:
        async with database.transaction() as session:
            await set_language(session=session, telegram_id=2600, language=language)

    await asyncio.gather(choose("fr"), choose("uk"))

    [account] = await stored(database, Account)
    assert (account.telegram_id, account.language in {"fr", "uk"}) == (2600, True)


async def test_a_private_signature_is_counted_but_named_to_no_member(
    api: LocalBotApi, organiser: Someone
) -> None:
    appeal_id = await open_appeal(organiser, "Free them all", "Text.")
    at_risk = await contact_of(api, organiser, "Crimean Human Rights Group", 2001, "en")
    other = await contact_of(api, organiser, "Memorial", 2002, "en")
    assert await at_risk.says(f"/cosign {appeal_id} private") == (
        f"Crimean Human Rights Group co-signed appeal #{appeal_id} “Free them all”: it is "
        "named only in the letter to the addressees, never to other members.\n"
        "1 organisation has signed so far."
    )
    own = await at_risk.says(f"/status {appeal_id}")
    assert "Crimean Human Rights Group has signed, named only to the addressees." in own
    seen_by_others = await other.says(f"/status {appeal_id}")
    assert "1 organisation has signed." in seen_by_others
    assert "Crimean" not in seen_by_others


async def test_menus_match_roles_however_they_were_got_and_are_set_once(
    api: LocalBotApi, database: Database, settings: Settings, clock: MovableClock
) -> None:
    # Contacts and a promoted organiser written straight into the database, as a restored
    # backup or an import leaves them: nobody ever set their menus.
    [member, promoted] = await members(database, 2)
    async with database.transaction() as session:
        await session.exec(
            update(Account)
            .where(col(Account.telegram_id) == promoted.contact_id)
            .values(organiser=True, language="uk")
        )
    for user_id in (member.contact_id, promoted.contact_id, ORGANISER):
        api.meet(user_id, f"Person {user_id}")

    def menu(user_id: int, language: str | None = None) -> list[str]:
        return [c["command"] for c in api.commands.get(scope_key(chat(user_id), language), [])]

    def chat(user_id: int) -> dict[str, object]:
        return {"type": "chat", "chat_id": user_id}

    def menus_set() -> int:
        return sum(1 for method, _ in api.calls if method == "setMyCommands")

    async with serving(build_application(settings, clock=clock)) as app:
        await menus_shown(app)  # set in the background at start-up

    assert {"appeals", "cosign", "status", "phases"} <= set(menu(member.contact_id))
    assert {"join", "request", "invite"}.isdisjoint(menu(member.contact_id))
    # An organiser who is also a contact: both sets of commands, in their language.
    assert {"cosign", "invite", "publish"} <= set(menu(promoted.contact_id))
    assert "join" not in menu(promoted.contact_id)
    assert {"invite", "publish"} <= set(menu(ORGANISER))
    assert {"cosign", "join", "request"}.isdisjoint(menu(ORGANISER))

    # A restart sets only what changed since: here, nobody's role.
    before = menus_set()
    async with serving(build_application(settings, clock=clock)) as app:
        await menus_shown(app)
    after = menus_set()
    default_menus = 5  # strangers' default menu, in each language and none
    assert after - before == default_menus + 1  # and the organiser's, who has no account
