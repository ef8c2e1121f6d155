"""A person's own settings: the language and time zone they read in, and whether they receive
updates."""

from markupsafe import Markup

from foundation.i18n import LANGUAGE_NAMES, Texts
from foundation.settings import LANGUAGES, zone
from handlers.framework import (
    BadInput,
    Call,
    UsageError,
    command,
    identify,
)
from handlers.menu import N_, Audience, show_menu
from rendering.time_spans import shown
from services import accounts


@command(
    "language",
    N_("Change your language"),
    Audience.EVERYONE,
    arguments=N_("en|fr|uk|ru"),
    usage=N_("/language en, fr, uk or ru"),
)
async def language(call: Call) -> None:
    """Choose the language of the bot's messages."""
    if len(call.args) != 1 or call.args[0].lower() not in LANGUAGES:
        raise UsageError()
    chosen = call.args[0].lower()
    async with call.transaction() as session:
        await accounts.set_language(
            session=session, telegram_id=call.caller.telegram_id, language=chosen
        )
    caller, texts = await identify(call.update, call.context)
    await show_menu(call.context, caller, texts)
    await call.reply(texts.t("I will write to you in {language}.", language=LANGUAGE_NAMES[chosen]))


class UnknownZone(BadInput):
    # IANA names are short: a longer one is echoed cut, not split over several messages.
    SHOWN = 64

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name if len(name) <= self.SHOWN else name[: self.SHOWN - 1] + "…"

    def word(self, texts: Texts) -> Markup:
        return texts.t(
            "There is no time zone {name}. Write it as Area/City, for example /timezone Europe/Kyiv.",
            name=self.name,
        )


@command(
    "timezone",
    N_("Show times in your time zone"),
    Audience.EVERYONE,
    arguments=N_("Area/City"),
    usage=N_("/timezone Area/City, for example /timezone Europe/Kyiv"),
)
async def timezone(call: Call) -> None:
    """Choose the time zone the bot shows times in."""
    if len(call.args) != 1:
        raise UsageError()
    name = call.args[0]
    try:
        zone(name)
    except ValueError:
        raise UnknownZone(name) from None
    async with call.transaction() as session:
        await accounts.set_timezone(
            session=session,
            telegram_id=call.caller.telegram_id,
            timezone=name,
            language=call.caller.language,
        )
    await call.reply(
        call.texts.t(
            "Times are now shown in {zone}: it is {now} there.",
            zone=name,
            now=shown(call.now(), name),
        )
    )


@command("subscribe", N_("Receive updates"), Audience.CONTACT)
async def subscribe(call: Call) -> None:
    """Receive announcements, broadcasts and reminders."""
    async with call.transaction() as session:
        await accounts.set_subscription(
            session=session, telegram_id=call.caller.telegram_id, subscribed=True
        )
    await call.reply(
        call.texts.t("You will receive the coalition's updates. /unsubscribe stops them.")
    )


@command("unsubscribe", N_("Stop receiving updates"), Audience.CONTACT)
async def unsubscribe(call: Call) -> None:
    """Stop announcements, broadcasts and reminders."""
    async with call.transaction() as session:
        await accounts.set_subscription(
            session=session, telegram_id=call.caller.telegram_id, subscribed=False
        )
    await call.reply(
        call.texts.t(
            "You will no longer receive the coalition's updates. /subscribe turns them back on."
        )
    )
