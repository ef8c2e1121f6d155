"""What members do with appeals: read them, see where they stand, co-sign, withdraw."""

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import CommandHandler

from foundation.i18n import LANGUAGE_NAMES, Texts
from handlers.caller import PRIVATE_MESSAGES, Call, UsageError, command
from handlers.context import CoalitionApplication
from handlers.menu import N_
from models import AppealState, Disclosure
from rendering.pages import TEXT_LIMIT, utf16_length, visible_size
from rendering.time_spans import closes
from services import appeals, signatures, translations

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


@command("appeals")
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


@command("appeal")
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


@command("status")
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


@command("cosign")
async def cosign(call: Call) -> None:
    """Co-sign an open appeal in the name of the caller's organisation."""
    appeal_id = call.number()
    options = call.args[1:]
    if len(options) > 1:
        raise UsageError()
    disclosure = Disclosure.PUBLIC
    if options:
        chosen = disclosure_words(call.context.resources.texts).get(options[0].lower())
        if chosen is None:
            raise UsageError()
        disclosure = chosen
    await call.reply(await sign_for_caller(call, appeal_id, disclosure))


# The words after `/cosign ID`: English, shown in the reader's language, and understood in any.
DISCLOSURE_WORDS = {Disclosure.PRIVATE: N_("private"), Disclosure.ANONYMOUS: N_("anonymous")}


def disclosure_words(every_language: dict[str, Texts]) -> dict[str, Disclosure]:
    """Each way of writing `private` and `anonymous` the bot understands."""
    return {
        word.lower(): disclosure
        for disclosure, english in DISCLOSURE_WORDS.items()
        for texts in every_language.values()
        for word in (english, texts.plain(english))
    }


async def sign_for_caller(call: Call, appeal_id: int, disclosure: Disclosure) -> Markup:
    """Sign in the caller's organisation's name; returns what to tell them."""
    caller = call.caller
    assert caller.organisation_id is not None
    async with call.transaction() as session:
        signed = await signatures.cosign(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            signed_by=caller.telegram_id,
            disclosure=disclosure,
            now=call.now(),
        )
    texts = call.texts
    if disclosure is Disclosure.PRIVATE:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}”: it is named only in the letter "
            "to the addressees, never to other members.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    elif disclosure is Disclosure.ANONYMOUS:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}” anonymously: it is counted, not named.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    else:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}”.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    count = texts.tn(
        "{n} organisation has signed so far.",
        "{n} organisations have signed so far.",
        signed.signatures,
    )
    return Markup("\n").join([done, count])


@command("withdraw")
async def withdraw(call: Call) -> None:
    """Remove the caller's organisation's signature from an open appeal."""
    appeal_id = call.sole_number()
    caller = call.caller
    assert caller.organisation_id is not None
    async with call.transaction() as session:
        await signatures.withdraw(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            now=call.now(),
            actor_id=call.caller.telegram_id,
        )
    await call.reply(
        call.texts.t(
            "{organisation} no longer signs appeal #{id}.",
            organisation=caller.organisation_name,
            id=appeal_id,
        )
    )


def register(app: CoalitionApplication) -> None:
    for name, callback in (
        ("appeals", list_appeals),
        ("appeal", show_appeal),
        ("status", status),
        ("cosign", cosign),
        ("withdraw", withdraw),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGES))
