"""What organisers do: invite organisations, draft, publish and close appeals."""

from datetime import timedelta

from markupsafe import Markup
from telegram.ext import CommandHandler

from foundation.i18n import LANGUAGE_NAMES
from foundation.settings import LANGUAGES
from handlers.broadcasts import show_progress
from handlers.caller import PRIVATE_MESSAGES, Call, UsageError, command
from handlers.context import CoalitionApplication
from services import appeals, invites, translations
from services.progress import BulkSend

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@command("invite")
async def invite(call: Call) -> None:
    """Issue a single-use invite code for an organisation, creating it if new."""
    name = " ".join(call.args)
    if not name:
        raise UsageError()
    settings = call.context.resources.settings
    async with call.transaction() as session:
        issued = await invites.issue_invite(
            session=session,
            organisation_name=name,
            organiser_id=call.caller.telegram_id,
            now=call.now(),
            valid_for=timedelta(days=settings.invite_validity_days),
        )
    texts = call.texts
    link = f"https://t.me/{call.context.bot.username}?start={issued.code}"
    if issued.organisation_is_new:
        heading = texts.t("New organisation {organisation}.", organisation=issued.organisation_name)
    else:
        heading = texts.t(
            "{organisation} is already a member.", organisation=issued.organisation_name
        )
    await call.reply(
        texts.t(
            "{heading}\nSend this single-use invite link to one of its contacts. "
            "It is valid until {expires}:\n{link}\n"
            "Or they can send this to the bot: <code>/join {code}</code>",
            heading=heading,
            expires=issued.expires_at.strftime(TIME_FORMAT),
            link=link,
            code=issued.code,
        )
    )


@command("newappeal")
async def new_appeal(call: Call) -> None:
    """Draft an appeal from a title line and the text below it."""
    title, _, text = call.body.partition("\n")
    if not title.strip():
        raise UsageError()
    async with call.transaction() as session:
        appeal = await appeals.create_appeal(
            session=session,
            title=title,
            text=text,
            organiser_id=call.caller.telegram_id,
            # Organisers write in the language they chose; /translate adds the others.
            language=call.caller.language,
        )
    await call.reply(
        call.texts.t(
            "Draft appeal #{id} “{title}” is saved. Members do not see it yet: "
            "/publish {id} opens it for signatures.",
            id=appeal.id,
            title=appeal.title,
        )
    )


@command("edit")
async def edit(call: Call) -> None:
    """Change a draft's wording, or give an open appeal a new version of its text."""
    first_line, _, text = call.body.partition("\n")
    words = first_line.split(maxsplit=1)
    if len(words) < 2:
        raise UsageError()
    appeal_id = call.number()
    async with call.transaction() as session:
        edited = await appeals.edit_appeal(
            session=session,
            appeal_id=appeal_id,
            title=words[1],
            text=text,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    texts = call.texts
    if edited.version == 1:  # a draft: nobody has signed it
        lines = [
            texts.t(
                "Appeal #{id} “{title}” now has the new text.", id=appeal_id, title=edited.title
            )
        ]
    else:
        lines = [
            texts.t(
                "Appeal #{id} “{title}” now has the new text (version {version}).",
                id=appeal_id,
                title=edited.title,
                version=edited.version,
            )
        ]
    if edited.reconfirm_organisations:
        lines.append(
            texts.tn(
                "{n} organisation signed an earlier text: its contacts are asked to re-confirm.",
                "{n} organisations signed an earlier text: their contacts are asked to re-confirm.",
                edited.reconfirm_organisations,
            )
        )
    if edited.dropped_translations:
        lines.append(
            texts.t(
                "Its translations were of the old text and are removed: /translate adds them again."
            )
        )
    if edited.reconfirm_organisations:
        call.context.resources.wake_outbox()
    await call.reply(Markup("\n").join(lines))


@command("translate")
async def translate(call: Call) -> None:
    """Add or replace an appeal's wording in another language."""
    first_line, _, text = call.body.partition("\n")
    words = first_line.split(maxsplit=2)
    if len(words) < 2 or words[1].lower() not in LANGUAGES:
        raise UsageError()
    appeal_id, language = call.number(), words[1].lower()
    title = words[2] if len(words) == 3 else ""
    async with call.transaction() as session:
        replaced = await translations.translate(
            session=session,
            appeal_id=appeal_id,
            language=language,
            title=title,
            text=text,
            organiser_id=call.caller.telegram_id,
            now=call.now(),
        )
    name = LANGUAGE_NAMES[language]
    if replaced:
        done = call.texts.t(
            "The {language} wording of appeal #{id} is replaced.", id=appeal_id, language=name
        )
    else:
        done = call.texts.t(
            "Appeal #{id} now reads in {language} too: members who chose it see this wording.",
            id=appeal_id,
            language=name,
        )
    await call.reply(done)


@command("publish")
async def publish(call: Call) -> None:
    """Open a draft appeal for signatures."""
    appeal_id = call.sole_number()
    async with call.transaction() as session:
        published = await appeals.publish_appeal(
            session=session,
            appeal_id=appeal_id,
            now=call.now(),
            actor_id=call.caller.telegram_id,
            progress_chat_id=call.chat_id,
        )
    call.context.resources.wake_outbox()
    assert published.progress_id is not None
    send = BulkSend(appeal_id=appeal_id, appeal_title=published.title)
    # The answer is the announcement's progress message, kept up to date as it goes out.
    await show_progress(call, published.progress_id, send, published.announced_to)


@command("close")
async def close(call: Call) -> None:
    """Close an open appeal; it takes no more signatures."""
    appeal_id = call.sole_number()
    async with call.transaction() as session:
        count = await appeals.close_appeal(
            session=session, appeal_id=appeal_id, now=call.now(), actor_id=call.caller.telegram_id
        )
    call.context.resources.wake_outbox()  # the members are told
    await call.reply(
        call.texts.tn(
            "Appeal #{id} is closed with {n} signature.",
            "Appeal #{id} is closed with {n} signatures.",
            count,
            id=appeal_id,
        )
    )


def register(app: CoalitionApplication) -> None:
    for name, callback in (
        ("invite", invite),
        ("newappeal", new_appeal),
        ("edit", edit),
        ("translate", translate),
        ("publish", publish),
        ("close", close),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGES))
