"""At the end of a signing window an organiser exports the signature list and the letter."""

import asyncio
import csv
import io
from pathlib import Path

from sqlalchemy import update

from models import Database, Organisation
from stand.local_api import LocalBotApi
from tests.conftest import sample
from tests.people import Someone, appeal_number, invite_code
from tests.processes import EXECUTABLE, clean_environment

TITLE = "Libérez tous les détenus liés au conflit"


async def signed_appeal(
    api: LocalBotApi, organiser: Someone, database: Database
) -> tuple[int, list[Someone]]:
    """Appeal #1 signed publicly by Memorial (Russia), privately by the Crimean Human Rights
    Group (Ukraine), anonymously by a third organisation."""
    appeal_id = appeal_number(
        await organiser.says(f"/newappeal {TITLE}\n{sample('appeal-2025-11-27.fr.txt')}")
    )
    await organiser.says(f"/publish {appeal_id}")
    people = []
    for user_id, name, how in (
        (2001, "Memorial", ""),
        (2002, "Crimean Human Rights Group", " private"),
        (2003, "Quiet Voices", " anonymous"),
    ):
        person = Someone(api, user_id, name)
        await person.says(f"/join {invite_code(await organiser.says(f'/invite {name}'))}")
        await person.says(f"/cosign {appeal_id}{how}")
        people.append(person)
    async with database.transaction() as session:
        for name, country in (("Memorial", "Russia"), ("Crimean Human Rights Group", "Ukraine")):
            await session.exec(
                update(Organisation).where(Organisation.name == name).values(country=country)  # type: ignore[arg-type]
            )
    return appeal_id, people


async def test_the_export_is_a_csv_and_a_letter_in_the_chosen_language(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    appeal_id, _ = await signed_appeal(api, organiser, database)
    organiser.api.push_message(organiser.person, f"/export {appeal_id} fr")
    signatures = await organiser.next_message()
    letter_message = await organiser.next_message()

    assert signatures.document is not None
    assert signatures.document.file_name == f"appeal-{appeal_id}-signatures.csv"
    # The organiser wrote in English (their language) as far as the bot knows; no translation.
    assert signatures.text == (
        f"Appeal #{appeal_id}: 3 signatures. The letter's text is in English: "
        "there is no translation into Français."
    )
    rows = list(csv.reader(io.StringIO(signatures.document.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "organisation", "country", "signed_at_utc", "disclosure", "version",
        "awaiting_reconfirmation",
    ]  # fmt: skip
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("Memorial", "Russia", "public", "1", "no"),
        ("Crimean Human Rights Group", "Ukraine", "private", "1", "no"),
        ("", "", "anonymous", "1", "no"),  # counted, named nowhere, not even here
    ]

    assert letter_message.document is not None
    assert letter_message.document.file_name == f"appeal-{appeal_id}-letter.fr.txt"
    text = letter_message.document.content.decode("utf-8")
    assert text.startswith(f"{TITLE}\n\nAppel du 27 novembre 2025")
    assert text.endswith(
        "Signataires :\n"
        "— Memorial (Russia)\n"
        "— Crimean Human Rights Group (Ukraine)\n"
        "et 1 organisation qui a demandé à ne pas être nommée\n"
    )
    sent = [params for method, params in api.calls if method == "sendDocument"]
    assert [params.get("protect_content") for params in sent] == ["true", "true"]


async def test_only_organisers_export_and_bad_arguments_are_named(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    _, [member, *_] = await signed_appeal(api, organiser, database)
    assert await member.says("/export 1") == "Only organisers can use /export."
    assert await organiser.says("/export 9") == "There is no appeal #9. /appeals lists them."
    usage = "Usage: /export ID, or /export ID en|fr|uk|ru for the letter's language"
    assert await organiser.says("/export 1 de") == usage
    assert await organiser.says("/export") == usage


async def test_the_command_line_writes_the_same_documents(
    api: LocalBotApi, organiser: Someone, database: Database, database_url: str, tmp_path: Path
) -> None:
    appeal_id, _ = await signed_appeal(api, organiser, database)
    environment = clean_environment(DATABASE_URL=database_url)
    code, out, err = await export_cli(
        environment, str(appeal_id), "--lang", "uk", "--out", str(tmp_path)
    )
    assert code == 0, err
    letter_path = tmp_path / f"appeal-{appeal_id}-letter.uk.txt"
    csv_path = tmp_path / f"appeal-{appeal_id}-signatures.csv"
    assert out.splitlines() == [str(csv_path), str(letter_path)]
    assert letter_path.read_text(encoding="utf-8").endswith(
        "Підписанти:\n— Memorial (Russia)\n— Crimean Human Rights Group (Ukraine)\n"
        "і ще 1 організація, яка попросила не називати її\n"
    )
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbforganisation,country")

    assert await export_cli(environment, "99", "--out", str(tmp_path)) == (
        1, "", "There is no appeal #99.\n"
    )  # fmt: skip


async def export_cli(environment: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    """`coalition-bot export …`: its exit code, output and errors."""
    process = await asyncio.create_subprocess_exec(
        EXECUTABLE, "export", *arguments, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
