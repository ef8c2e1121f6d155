"""Members read an appeal in their language where a translation exists, and are told which."""

from models import Database
from stand.local_api import LocalBotApi
from tests.conftest import sample
from tests.people import Someone, appeal_number, invite_code
from tests.stories import snapshot

TITLE_FR = "Libérez tous les détenus liés au conflit"
TITLE_EN = "Free all conflict-related detainees"


async def test_an_appeal_reads_in_each_members_language_and_says_which(
    api: LocalBotApi, organiser: Someone
) -> None:
    await organiser.says("/language fr")
    appeal_id = appeal_number(
        await organiser.says(f"/newappeal {TITLE_FR}\n{sample('appeal-2025-11-27.fr.txt')}")
    )
    english = "Your Excellencies,\nAs high-level negotiations to end Russia's war progress..."
    assert await organiser.says(f"/translate {appeal_id} en {TITLE_EN}\n{english}") == (
        f"L’appel #{appeal_id} se lit désormais aussi en English : les membres qui l’ont choisie "
        "voient ce texte."
    )
    await organiser.says(f"/publish {appeal_id}")

    reader = Someone(api, 2001, "Reader", "en")
    await reader.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    shown = await reader.says(f"/appeal {appeal_id}")
    assert shown == (
        f"#{appeal_id} {TITLE_EN}\nState: open for signatures\nTranslated into English.\n\n{english}"
    )
    ukrainian = Someone(api, 2002, "Читач", "uk")
    await ukrainian.says(f"/join {invite_code(await organiser.says('/invite ZMINA'))}")
    original = await ukrainian.says(f"/appeal {appeal_id}")
    assert original.startswith(
        f"#{appeal_id} {TITLE_FR}\nСтан: відкрите для підписання\n"
        "Як написано, мовою Français: перекладу вашою мовою ще немає.\n\nAppel du 27 novembre"
    )


async def test_the_letter_is_exported_in_the_translation(
    api: LocalBotApi, organiser: Someone
) -> None:
    appeal_id = appeal_number(await organiser.says(f"/newappeal {TITLE_EN}\nEnglish text."))
    await organiser.says(f"/translate {appeal_id} fr {TITLE_FR}\nTexte français.")
    api.push_message(organiser.person, f"/export {appeal_id} fr")
    await organiser.next_message()  # the CSV
    letter = await organiser.next_message()
    assert letter.document is not None
    assert letter.document.content.decode("utf-8").startswith(f"{TITLE_FR}\n\nTexte français.\n")

    api.push_message(organiser.person, f"/export {appeal_id} uk")
    csv_message = await organiser.next_message()
    assert csv_message.text == (
        f"Appeal #{appeal_id}: 0 signatures. The letter's text is in English: "
        "there is no translation into Українська."
    )


async def test_translation_refusals_change_nothing(organiser: Someone, database: Database) -> None:
    appeal_id = appeal_number(await organiser.says(f"/newappeal {TITLE_EN}\nEnglish text."))
    before = await snapshot(database)
    usage = (
        "Usage: /translate ID en|fr|uk|ru TRANSLATED TITLE, with the translated text on the "
        "following lines"
    )
    for sends, reply in (
        (
            f"/translate {appeal_id} en Same\nSame.",
            f"Appeal #{appeal_id} is written in English: a translation goes into another language.",
        ),
        (f"/translate {appeal_id} de Titel\nText.", usage),
        (f"/translate {appeal_id}", usage),
        (
            f"/translate {appeal_id} fr Titre seul",
            "Write the appeal's text on the lines after the title.",
        ),
        ("/translate 99 fr Titre\nTexte.", "There is no appeal #99. /appeals lists them."),
    ):
        assert await organiser.says(sends) == reply
    assert await snapshot(database) == before


async def published_to_claire_and_taras(
    api: LocalBotApi, organiser: Someone
) -> tuple[int, Someone, Someone]:
    """An appeal written in English and translated into French, then published; Claire reads
    French (Ligue), Taras Ukrainian (ZMINA), into which it is not translated."""
    appeal_id = appeal_number(await organiser.says(f"/newappeal {TITLE_EN}\nEnglish text."))
    await organiser.says(f"/translate {appeal_id} fr {TITLE_FR}\nTexte français.")
    claire = Someone(api, 2001, "Claire", "fr")
    await claire.says(f"/join {invite_code(await organiser.says('/invite Ligue'))}")
    taras = Someone(api, 2002, "Taras", "uk")
    await taras.says(f"/join {invite_code(await organiser.says('/invite ZMINA'))}")
    await organiser.says(f"/publish {appeal_id}")
    return appeal_id, claire, taras


async def test_the_announcement_is_in_each_members_language(
    api: LocalBotApi, organiser: Someone
) -> None:
    appeal_id, claire, taras = await published_to_claire_and_taras(api, organiser)
    assert (await claire.next_message()).text.startswith(f"Nouvel appel #{appeal_id} : {TITLE_FR}")
    # No Ukrainian translation: the title as written.
    assert (await taras.next_message()).text.startswith(f"Нове звернення #{appeal_id}: {TITLE_EN}")


async def test_a_reminder_names_the_appeal_in_each_members_language(
    api: LocalBotApi, organiser: Someone
) -> None:
    appeal_id, claire, taras = await published_to_claire_and_taras(api, organiser)
    await claire.next_message()
    await taras.next_message()  # the announcements

    await organiser.says(f"/remind {appeal_id}")

    assert (await claire.next_message()).text == (
        f"⏰ Les organisateurs invitent Ligue à envisager de signer :\n• #{appeal_id} {TITLE_FR}"
    )
    assert (await taras.next_message()).text == (
        f"⏰ Організатори просять організацію «ZMINA» розглянути підписання:\n• #{appeal_id} {TITLE_EN}"
    )
