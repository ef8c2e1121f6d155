"""`coalition-bot import-orgs FILE.csv`: reading the file, asking for the bot's name, printing."""

import csv
import io
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.logs import REDACTED
from foundation.settings import Settings, SettingsError
from models import Database
from models.utc import utcnow
from services.imports import ImportedOrganisation, ImportRow, import_organisations, row_problem

HELP = "create organisations from a CSV file and print an invite link for each"

DESCRIPTION = """\
Create member organisations from a CSV file and print a single-use invite link for each,
as CSV (name,country,invite_link, UTF-8) on standard output; warnings and a summary go to
standard error.

The file is UTF-8, with or without a BOM. Its first line is the header name,country,note
or name,country; then one organisation per line (empty lines are skipped). The country
and the note may be empty. The note is read and thrown away, never stored: the bot keeps
as little data as it can.

Names match existing organisations with case and spacing ignored, as /invite matches them,
so importing a file again creates no duplicates. A country fills in an organisation that
has none; a different country already stored is kept, with a warning naming the line.

The whole file is checked first: a bad line is named (FILE.csv line N: ...), the command
exits with 1 and nothing is imported. A good file is imported in one transaction.

Each run issues new links, valid INVITE_VALIDITY_DAYS days and each for one person; links
from an earlier run that were not used still work until they expire. Whoever has a link
can join as a contact of its organisation: send each link only to its organisation.

Needs BOT_TOKEN (and TELEGRAM_API_URL for a self-hosted Bot API server): the links name
the bot, whose username is asked from the Bot API.
"""

FIELDS = ("name", "country", "note")
OUTPUT_COLUMNS = ("name", "country", "invite_link")
# How undecodable bytes come out of the "surrogateescape" error handler.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class MalformedFile(Exception):
    """The file cannot be imported; the message is one line naming the file and the line."""


def read_rows(path: Path) -> list[ImportRow]:
    """The organisations the file lists, every line checked; nothing is written."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{path}: there is no such file") from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot read the file ({error.strerror})") from None
    return parse_rows(data, label=str(path))


def parse_rows(data: bytes, *, label: str) -> list[ImportRow]:
    """The rows of a `name,country[,note]` CSV file; MalformedFile for its first bad line."""
    # Undecodable bytes are kept as escapes so that the line they are on can be named.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[ImportRow] = []
    while True:
        # A quoted field may span lines: a row is named by the line it starts on.
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            reason = str(error)
            if reason == "unexpected end of data":
                reason = "a double quote opens a field that is never closed"
            raise MalformedFile(f"{label} line {line}: {reason}") from None
        if any(_UNDECODABLE.search(value) for value in fields):
            raise MalformedFile(
                f"{label} line {line}: some bytes are not UTF-8 text; "
                "save the file as UTF-8 (“CSV UTF-8” in spreadsheet programs)"
            )
        if not any(value.strip() for value in fields):
            continue  # a blank line, or a spreadsheet's empty row
        if header is None:
            header = [value.strip().casefold() for value in fields]
            if tuple(header) not in (FIELDS, FIELDS[:2]):
                raise MalformedFile(
                    f"{label} line {line}: the first line must be the header "
                    f"name,country,note (or name,country), not {','.join(fields)[:80]!r}"
                )
            continue
        if len(fields) != len(header):
            found = f"{len(fields)} field" + ("s" if len(fields) != 1 else "")
            raise MalformedFile(
                f"{label} line {line}: {found} where the header has {len(header)} "
                f"({','.join(header)}); a name that contains a comma goes in double quotes"
            )
        name, country = fields[0], fields[1].strip() or None
        problem = row_problem(name, country)
        if problem is not None:
            raise MalformedFile(f"{label} line {line}: {problem}")
        rows.append(ImportRow(line=line, name=name, country=country))
    if header is None:
        raise MalformedFile(
            f"{label} line 1: the file is empty; its first line must be the header name,country,note"
        )
    return rows


async def bot_username(settings: Settings, token: str) -> str:
    """The bot's username, from getMe: the invite links are t.me/<username>?start=<code>."""
    api = settings.telegram_api_url
    bot = Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
    try:
        async with bot:
            return bot.username
    except InvalidToken:
        raise SettingsError(f"BOT_TOKEN: the Bot API at {api} does not accept it") from None
    except NetworkError as error:
        reason = error.message.replace(token, REDACTED)
        raise SettingsError(f"TELEGRAM_API_URL: cannot reach {api} ({reason})") from None
    except TelegramError as error:
        reason = error.message.replace(token, REDACTED)
        raise SettingsError(f"TELEGRAM_API_URL: {api} refused getMe ({reason})") from None


async def import_rows(
    settings: Settings, token: str, rows: Sequence[ImportRow]
) -> tuple[str, list[ImportedOrganisation]]:
    """The bot's username first (without it no link can be printed), then the import."""
    username = await bot_username(settings, token)
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            imported = await import_organisations(
                session=session,
                rows=rows,
                now=utcnow(),
                valid_for=timedelta(days=settings.invite_validity_days),
            )
    finally:
        await database.dispose()
    return username, imported


def links_csv(username: str, imported: Sequence[ImportedOrganisation]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for organisation in imported:
        writer.writerow(
            [
                organisation.name,
                organisation.country or "",
                f"https://t.me/{username}?start={organisation.code}",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def report(label: str, imported: Sequence[ImportedOrganisation]) -> list[str]:
    """Standard error's lines: a warning per country kept, then a summary."""
    lines = [
        f"{label} line {kept.line}: {organisation.name} already has the country "
        f"{organisation.country}; kept it, not {kept.given}"
        for organisation in imported
        for kept in organisation.countries_kept
    ]
    new = sum(organisation.is_new for organisation in imported)
    if imported:
        expires = imported[0].expires_at.strftime("%Y-%m-%d %H:%M UTC")
        count = f"{len(imported)} organisation" + ("s" if len(imported) != 1 else "")
        lines.append(
            f"Imported {count} ({new} new): a new single-use invite link each, "
            f"valid until {expires}."
        )
    else:
        lines.append(f"{label} lists no organisations: nothing was imported.")
    return lines
