"""Appeals: reading them and where they stand (/appeals, /appeal, /status), and the
organisers' drafting, editing, translating, publishing and closing."""

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from foundation.i18n import LANGUAGE_NAMES, Texts
from foundation.settings import LANGUAGES
from handlers.broadcasts import show_progress
from handlers.framework import Call, UsageError, command
from handlers.menu import N_, Audience
from models import AppealState, Disclosure
from rendering.pages import TEXT_LIMIT, utf16_length, visible_size
from rendering.time_spans import closes
from services import appeals, translations
from services.progress import BulkSend

# Public names /status fetches at first: more than fit in a message when names are of a usual
# length (some 130 names of 30 characters fit), so that most need no second fetch.
NAMES_FETCHED_FIRST = 200


def state_label(texts: Texts, state: AppealState) -> Markup:
    labels = {
        AppealState.DRAFT: texts.t("draft"),
        AppealState.OPEN: texts.t("open for signatures"),
        AppealState.CLOSED: texts.t("closed"),
    }
    return labels[state]


@command("appeals", N_("Open appeals and their signatures"), Audience.CONTACT | Audience.ORGANISER)
async def list_appeals(call: Call) -> None:
    """List open appeals (and drafts, for organisers) with their signature counts."""
    async with call.reading() as session:
        found = await appeals.list_appeals(session=session, include_drafts=call.caller.is_organiser)
    texts = call.texts
    if not found:
        await call.reply(texts.t("No appeal is open for signatures right now."))
        return
    lines = [texts.t("<b>Appeals</b>")]
    for appeal in found:
        count = texts.tn("{n} signature", "{n} signatures", appeal.signatures)
        line = texts.t("#{id} {title} — {count}", id=appeal.id, title=appeal.title, count=count)
        if appeal.state is AppealState.DRAFT:
            line = texts.t("{line} ({state})", line=line, state=state_label(texts, appeal.state))
        lines.append(line)
    if call.caller.is_contact:
        lines.append(texts.t("/appeal ID shows one in full; /cosign ID signs it."))
    else:
        lines.append(texts.t("/appeal ID shows one in full; /status ID shows where it stands."))
    await call.reply(Markup("\n").join(lines))


@command("appeal", N_("Read an appeal"), Audience.CONTACT | Audience.ORGANISER, arguments=N_("ID"))
async def show_appeal(call: Call) -> None:
    """Show an appeal's full text and its state."""
    appeal_id = call.sole_number()
    async with call.reading() as session:
        appeal, shown = await translations.read(
            session=session,
            appeal_id=appeal_id,
            language=call.caller.language,
            include_drafts=call.caller.is_organiser,
        )
    texts = call.texts
    heading = texts.t("<b>#{id} {title}</b>", id=appeal_id, title=shown.title)
    state = texts.t("State: {state}", state=state_label(texts, appeal.state))
    if appeal.deadline_at is not None and appeal.state is not AppealState.CLOSED:
        deadline = closes(texts, appeal.deadline_at, call.zone, call.now())
        state = Markup("\n").join([state, deadline])
    if shown.translated:
        which = texts.t("Translated into {language}.", language=LANGUAGE_NAMES[shown.language])
    elif shown.language != call.caller.language:
        which = texts.t(
            "As written, in {language}: there is no translation into yours yet.",
            language=LANGUAGE_NAMES[shown.language],
        )
    else:
        which = texts.t("As written, in {language}.", language=LANGUAGE_NAMES[shown.language])
    body = Markup.escape(shown.text)
    # A draft's text is not public yet: Telegram will not let it be forwarded or saved.
    draft = appeal.state is AppealState.DRAFT
    await call.reply(Markup("\n").join([heading, state, which, Markup(""), body]), protect=draft)


@command(
    "status",
    N_("Where an appeal stands"),
    Audience.CONTACT | Audience.ORGANISER,
    arguments=N_("ID"),
)
async def status(call: Call) -> None:
    """Show where an appeal stands: state, count, the caller's signature, public signatories."""
    appeal_id = call.sole_number()
    caller = call.caller
    texts = call.texts
    async with call.reading() as session:
        found = await appeals.appeal_status(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            include_drafts=caller.is_organiser,
            names=NAMES_FETCHED_FIRST,
        )
        lines = status_summary(call, found)
        if found.public_signatures:
            # Which names fit depends on the lines above them; more are fetched only if needed.
            room = TEXT_LIMIT - visible_size("\n".join(lines))
            names = await signatories_that_fit(session, texts, found, room)
            lines += public_signatories(texts, names, found.public_signatures)
    await call.reply(Markup("\n").join(lines))


def status_summary(call: Call, found: appeals.AppealStatus) -> list[Markup]:
    """The lines of /status above its public signatories."""
    texts = call.texts
    caller = call.caller
    lines = [
        texts.t("<b>#{id} {title}</b>", id=found.id, title=found.title),
        texts.t("State: {state}", state=state_label(texts, found.state)),
    ]
    if found.deadline_at is not None and found.state is not AppealState.CLOSED:
        lines.append(closes(texts, found.deadline_at, call.zone, call.now()))
    lines.append(
        texts.tn("{n} organisation has signed.", "{n} organisations have signed.", found.signatures)
    )
    if found.awaiting_reconfirmation:
        lines.append(
            texts.t(
                "{current} on the current text; {awaiting} await re-confirmation.",
                current=found.on_current_version,
                awaiting=found.awaiting_reconfirmation,
            )
        )
    if caller.is_contact:
        organisation = caller.organisation_name
        if found.own_disclosure is Disclosure.PUBLIC:
            lines.append(texts.t("{organisation} has signed, publicly.", organisation=organisation))
        elif found.own_disclosure is Disclosure.PRIVATE:
            lines.append(
                texts.t(
                    "{organisation} has signed, named only to the addressees.",
                    organisation=organisation,
                )
            )
        elif found.own_disclosure is Disclosure.ANONYMOUS:
            lines.append(
                texts.t("{organisation} has signed, anonymously.", organisation=organisation)
            )
        else:
            lines.append(texts.t("{organisation} has not signed.", organisation=organisation))
    return lines


async def signatories_that_fit(
    session: AsyncSession, texts: Texts, found: appeals.AppealStatus, room: int
) -> list[str]:
    """The earliest public signatories whose lines fit in `room` characters, leaving room for
    the heading above them and the count of the rest below: /status stays one message when
    thousands have signed."""
    # Room for the last line at its longest (every name left out), and the line breaks.
    room -= (
        visible_size(texts.t("Signed publicly by:"))
        + 1
        + visible_size(more_signatories(texts, found.public_signatures))
        + 1
    )
    # A name's line, with its line break, less the name: an escaped name shows as the name
    # itself (each entity is one character), so no line is formatted only to be measured.
    bullet = visible_size(texts.t("• {name}", name="")) + 1
    names: list[str] = []
    page = found.public_signatories
    while True:
        for name in page:
            room -= bullet + utf16_length(name)
            if room < 0:
                return names
            names.append(name)
        if len(names) == found.public_signatures or room < bullet:
            return names
        # All fitted and more signed publicly: fetch as many more as could fit at all.
        page = await appeals.public_signatory_names(
            session=session,
            appeal_id=found.id,
            version=found.version,
            offset=len(names),
            limit=room // bullet,
        )
        if not page:
            return names


def public_signatories(texts: Texts, names: list[str], public_signatures: int) -> list[Markup]:
    """Who signed publicly, earliest first, then how many more (left out for want of room)."""
    left_out = public_signatures - len(names)
    return [
        texts.t("Signed publicly by:"),
        *(texts.t("• {name}", name=name) for name in names),
        *([more_signatories(texts, left_out)] if left_out else []),
    ]


def more_signatories(texts: Texts, n: int) -> Markup:
    # Without a noun, so that no plural form makes it longer for a smaller n.
    return texts.t("…and {n} more.", n=n)


@command(
    "newappeal",
    N_("Draft a new appeal"),
    Audience.ORGANISER,
    arguments=N_("TITLE, then the text on the next lines"),
    usage=N_("/newappeal TITLE, with the appeal's text on the following lines"),
)
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


@command(
    "edit",
    N_("Change an appeal's text"),
    Audience.ORGANISER,
    arguments=N_("ID NEW TITLE, then the new text on the next lines"),
    usage=N_("/edit ID NEW TITLE, with the appeal's new text on the following lines"),
)
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


@command(
    "translate",
    N_("Add an appeal's wording in another language"),
    Audience.ORGANISER,
    arguments=N_("ID en|fr|uk|ru TITLE, then the text on the next lines"),
    usage=N_(
        "/translate ID en|fr|uk|ru TRANSLATED TITLE, with the translated text on the following lines"
    ),
)
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


@command("publish", N_("Open an appeal for signatures"), Audience.ORGANISER, arguments=N_("ID"))
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


@command("close", N_("Close an appeal"), Audience.ORGANISER, arguments=N_("ID"))
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
