"""`coalition-bot import-orgs FILE.csv`: member organisations from a list, a fresh invite each."""

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.import_orgs import MalformedFile, parse_rows
from models import Contact, Database, Invite, Organisation
from services.imports import ImportRow
from stand.local_api import LocalBotApi
from tests.databases import sqlite_files, table_names
from tests.people import Someone
from tests.processes import EXECUTABLE, clean_environment
from tests.stories import snapshot

CENTRE = "Центр громадянських свобод (Centre pour les libertés civiles)"
MEMORIAL = "Мемориал (Mémorial), Москва"
CRIMEA = "Кримська правозахисна група"
# A note names a person: it must be read and dropped, never stored.
NOTE = "Olha Kovalenko, +380 44 000 00 00"

THREE = (
    "name,country,note\n"
    f"{CENTRE},Україна,Prix Nobel de la paix 2022\n"
    f'"{MEMORIAL}",Россия,"{NOTE}"\n'
    f"{CRIMEA},,\n"
)
LINK = re.compile(r"https://t\.me/coalition_local_bot\?start=([A-Za-z0-9_-]{32})")


async def import_orgs(
    tmp_path: Path, *arguments: str, **values: str
) -> tuple[int, list[list[str]], list[str]]:
    """`coalition-bot import-orgs …`: its exit code, the CSV it printed, its stderr lines."""
    process = await asyncio.create_subprocess_exec(
        EXECUTABLE, "import-orgs", *arguments, cwd=tmp_path, env=clean_environment(**values),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    rows = list(csv.reader(io.StringIO(out.decode("utf-8"), newline="")))
    return process.returncode, rows, err.decode().splitlines()


def settings(api: LocalBotApi, database_url: str) -> dict[str, str]:
    return {"BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url, "DATABASE_URL": database_url}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return str(path)


def code_of(link: str) -> str:
    match = LINK.fullmatch(link)
    assert match, link
    return match[1]


async def everything_stored(database: Database, database_url: str) -> bytes:
    """Every row of every table and, on SQLite, the database's files (write-ahead log and
    freed pages included)."""
    rows = repr(await snapshot(database)).encode()
    return rows + b"".join(path.read_bytes() for path in sqlite_files(database_url))


async def organisations(database: Database) -> list[tuple[int | None, str, str | None]]:
    async with database.transaction() as session:
        found = await session.exec(select(Organisation).order_by(col(Organisation.id)))
        return [(o.id, o.name, o.country) for o in found]


async def invites(database: Database) -> list[Invite]:
    async with database.transaction() as session:
        return list(await session.exec(select(Invite)))


@pytest.mark.usefixtures("running_bot")
async def test_each_organisation_gets_a_link_that_makes_a_contact(
    api: LocalBotApi, database: Database, database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "members.csv", THREE, encoding="utf-8-sig")  # as Excel saves it
    code, rows, errors = await import_orgs(tmp_path, path, **settings(api, database_url))
    assert code == 0, errors
    assert [row[:2] for row in rows] == [
        ["name", "country"],
        [CENTRE, "Україна"],
        [MEMORIAL, "Россия"],
        [CRIMEA, ""],
    ]
    assert rows[0][2] == "invite_link"
    assert len(errors) == 1
    assert errors[0].startswith("Imported 3 organisations (3 new): a new single-use invite")

    for user_id, (name, _, link) in enumerate(rows[1:], start=2001):
        person = Someone(api, user_id, f"Person {user_id}")
        reply = await person.says(f"/start {code_of(link)}")
        assert reply.startswith(f"You are now a contact of {name}:")
    async with database.transaction() as session:
        contacts = list(await session.exec(select(Contact).order_by(col(Contact.telegram_id))))
    assert [c.organisation_id for c in contacts] == [o[0] for o in await organisations(database)]
    assert all(invite.created_by is None for invite in await invites(database))

    stored = await everything_stored(database, database_url)
    assert b"Olha" not in stored
    assert b"Nobel" not in stored


@pytest.mark.usefixtures("running_bot")
async def test_a_second_run_reuses_the_organisations_and_issues_new_links(
    api: LocalBotApi, database: Database, database_url: str, tmp_path: Path
) -> None:
    first = write(tmp_path, "members.csv", THREE)
    code, first_rows, _ = await import_orgs(tmp_path, first, **settings(api, database_url))
    assert code == 0
    before = await organisations(database)

    # Other case and spacing, no note column, no BOM; Crimea listed twice.
    again = write(
        tmp_path,
        "again.csv",
        "Name,Country\n"
        "  центр громадянських   свобод (centre pour les libertés civiles) ,Ukraine\n"
        f'"{MEMORIAL.upper()}",россия\n'
        "\n"
        f"{CRIMEA},Україна\n"
        f"{CRIMEA.lower()},Ukraine\n",
    )
    code, rows, errors = await import_orgs(tmp_path, again, **settings(api, database_url))
    assert code == 0, errors
    assert [row[:2] for row in rows[1:]] == [
        [CENTRE, "Україна"],
        [MEMORIAL, "Россия"],
        [CRIMEA, "Україна"],  # it had none: set from the file
    ]
    assert errors[:2] == [
        f"{again} line 2: {CENTRE} already has the country Україна; kept it, not Ukraine",
        f"{again} line 6: {CRIMEA} already has the country Україна; kept it, not Ukraine",
    ]
    assert errors[2].startswith("Imported 3 organisations (0 new)")
    assert len(errors) == 3

    after = await organisations(database)
    assert [o[:2] for o in after] == [o[:2] for o in before]
    assert [o[2] for o in after] == ["Україна", "Россия", "Україна"]
    assert len(await invites(database)) == 6
    new_codes = {code_of(row[2]) for row in rows[1:]}
    old_codes = [code_of(row[2]) for row in first_rows[1:]]
    assert new_codes.isdisjoint(old_codes)

    # The first run's links still work: they are single-use and expire, nothing else.
    person = Someone(api, 2001, "Oksana")
    assert (await person.says(f"/start {old_codes[1]}")).startswith(
        f"You are now a contact of {MEMORIAL}:"
    )


@pytest.mark.parametrize(
    ("line_3", "problem"),
    [
        (
            "Memorial,Russia,note,extra",
            "4 fields where the header has 3 (name,country,note); "
            "a name that contains a comma goes in double quotes",
        ),
        (" ,Ukraine,a note without a name", "the organisation's name is missing"),
        ("Я" * 201 + ",Ukraine,", "the name is over 200 characters (201)"),
        (
            "Memorial,Russia,",
            "some bytes are not UTF-8 text; save the file as UTF-8 (“CSV UTF-8” in spreadsheet programs)",
        ),
    ],
)
async def test_a_malformed_line_is_named_and_nothing_is_imported(
    api: LocalBotApi,
    database: Database,
    database_url: str,
    tmp_path: Path,
    line_3: str,
    problem: str,
) -> None:
    path = write(tmp_path, "existing.csv", f"name,country\n{CRIMEA},\n")
    assert (await import_orgs(tmp_path, path, **settings(api, database_url)))[0] == 0
    before = await organisations(database)

    data = f"name,country,note\n{CRIMEA},Україна,\n{line_3}\n{CENTRE},Україна,\n".encode()
    if "bytes" in problem:
        data = data.replace(b"Russia", "Россия".encode("cp1251"))  # a file saved as Windows-1251
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)
    code, rows, errors = await import_orgs(tmp_path, str(bad), **settings(api, database_url))
    assert (code, rows, errors) == (1, [], [f"{bad} line 3: {problem}"])
    assert await organisations(database) == before
    assert len(await invites(database)) == 1


async def test_a_missing_file_or_token_is_one_line_and_touches_nothing(
    api: LocalBotApi, tmp_path: Path, empty_database_url: str
) -> None:
    database_url = empty_database_url
    missing = str(tmp_path / "missing.csv")
    code, rows, errors = await import_orgs(tmp_path, missing, **settings(api, database_url))
    assert (code, rows, errors) == (2, [], [f"{missing}: there is no such file"])

    path = write(tmp_path, "members.csv", THREE)
    code, rows, errors = await import_orgs(tmp_path, path, DATABASE_URL=database_url)
    assert (code, rows) == (2, [])
    assert len(errors) == 1
    assert errors[0].startswith("BOT_TOKEN is not set: create a bot with @BotFather")
    assert sqlite_files(database_url) == []  # on SQLite, not even the file was created
    assert await table_names(database_url) == set()

    # Without the bot's name no link can be printed, so nothing is imported either.
    values = settings(api, database_url) | {"BOT_TOKEN": "999:wrong"}
    code, rows, errors = await import_orgs(tmp_path, path, **values)
    assert (code, rows, errors) == (
        2,
        [],
        [f"BOT_TOKEN: the Bot API at {api.url} does not accept it"],
    )
    assert not await _has_organisations(database_url)


async def _has_organisations(database_url: str) -> bool:
    database = Database(database_url)
    try:
        return bool(await organisations(database))
    finally:
        await database.dispose()


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers() -> None:
    data = (
        b'\r\nname,country,note\r\n\r\n"Memorial\r\nInternational",,\r\n,,\r\nOVD-Info,Russia,x\r\n'
    )
    assert parse_rows(data, label="f.csv") == [
        ImportRow(line=4, name="Memorial\r\nInternational", country=None),
        ImportRow(line=7, name="OVD-Info", country="Russia"),
    ]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (
            b"",
            "f.csv line 1: the file is empty; its first line must be the header name,country,note",
        ),
        (
            b"organisation,country\nMemorial,Russia\n",
            "f.csv line 1: the first line must be the header name,country,note "
            "(or name,country), not 'organisation,country'",
        ),
        (
            b'name,country\nMemorial,Russia\n"OVD-Info,Russia\nViasna,Belarus\n',
            "f.csv line 3: a double quote opens a field that is never closed",
        ),
        (
            b"name,country\nMemorial,Russia\n\n" + "Россия".encode("utf-16"),
            "f.csv line 4: some bytes are not UTF-8 text; "
            "save the file as UTF-8 (“CSV UTF-8” in spreadsheet programs)",
        ),
        (
            b"name,country,note\nMemorial," + b"R" * 101 + b",\n",
            "f.csv line 2: the country is over 100 characters (101)",
        ),
        (
            b"name,country,note\nMemorial,Russia\n",
            "f.csv line 2: 2 fields where the header has 3 (name,country,note); a name that contains a comma goes in double quotes",
        ),
    ],
)
def test_the_first_problem_is_named_by_its_line(data: bytes, line: str) -> None:
    with pytest.raises(MalformedFile) as raised:
        parse_rows(data, label="f.csv")
    assert str(raised.value) == line
