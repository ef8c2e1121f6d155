"""Messages the bot sends every organiser: a join request, an approval to give, a notice.

A handful of people, not bulk: sent directly, each in its reader's language, and one organiser
who blocked the bot does not keep the others from hearing.
"""

import logging
from collections.abc import Callable, Collection

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User
from telegram.error import TelegramError

from foundation.i18n import Texts
from handlers.framework import Call, identify_account
from services import membership

log = logging.getLogger(__name__)

# A text in the reader's language, built once their texts are known.
Wording = Callable[[Texts], Markup]


def person_named(texts: Texts, user: User) -> Markup:
    """Someone as Telegram names them now (names are never stored), with their id."""
    if user.username:
        return texts.t(
            "{name} (@{username}, id {id})",
            name=user.first_name,
            username=user.username,
            id=user.id,
        )
    return texts.t("{name} (id {id})", name=user.first_name, id=user.id)


async def tell_organisers(
    call: Call,
    wording: Wording,
    *,
    exclude: Collection[int] = (),
    decide: str | None = None,
    protect: bool = False,
) -> None:
    """Every organiser not in `exclude` gets `wording`. With `decide` ("join:7", say), it
    comes with Approve and Reject buttons whose data are "join-approve:7" and "join-reject:7"."""
    async with call.transaction() as session:
        organisers = await membership.organisers(
            session=session, configured=call.context.resources.settings.organiser_ids
        )
    for organiser_id in organisers:
        if organiser_id in exclude:
            continue
        _, texts = await identify_account(call.context, organiser_id)
        buttons = None if decide is None else _decision_buttons(texts, decide)
        try:
            await call.context.bot.send_message(
                organiser_id, wording(texts), reply_markup=buttons, protect_content=protect
            )
        except TelegramError as error:
            log.warning("organiser %s not told: %s", organiser_id, error)


def _decision_buttons(texts: Texts, decide: str) -> InlineKeyboardMarkup:
    kind, _, subject = decide.partition(":")
    approve = InlineKeyboardButton(
        texts.plain("Approve"), callback_data=f"{kind}-approve:{subject}"
    )
    reject = InlineKeyboardButton(texts.plain("Reject"), callback_data=f"{kind}-reject:{subject}")
    return InlineKeyboardMarkup([[approve, reject]])
