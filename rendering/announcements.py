"""What subscribed members receive about an appeal: its announcement with a Co-sign button, the
request to re-confirm a signature after an edit, the news that it closed."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from foundation.i18n import Texts
from services.payloads import CountPayload, ReconfirmationPayload


def render_announcement(
    texts: Texts, appeal_id: int, title: str
) -> tuple[Markup, InlineKeyboardMarkup]:
    """What a subscribed member receives when an appeal opens."""
    text = texts.t(
        "<b>New appeal #{id}: {title}</b>\n"
        "Your organisation can co-sign it. /appeal {id} shows the full text.",
        id=appeal_id,
        title=title,
    )
    cosign = InlineKeyboardButton(texts.plain("Co-sign"), callback_data=f"cosign:{appeal_id}")
    return text, InlineKeyboardMarkup([[cosign]])


def render_closing(texts: Texts, payload: CountPayload) -> Markup:
    """What every subscribed member receives when an appeal closes, signer or not."""
    return texts.tn(
        "🔒 Appeal #{id} “{title}” is closed: {n} organisation signed it.",
        "🔒 Appeal #{id} “{title}” is closed: {n} organisations signed it.",
        int(payload["signatures"]),
        id=payload["appeal_id"],
        title=payload["title"],
    )


def render_reconfirmation(
    texts: Texts, payload: ReconfirmationPayload
) -> tuple[Markup, InlineKeyboardMarkup]:
    """What the contacts of an organisation that signed an earlier text receive."""
    appeal_id, version = int(payload["appeal_id"]), int(payload["version"])
    text = texts.t(
        "Appeal #{id} “{title}” was changed (version {version}). {organisation}'s signature was "
        "given on an earlier text: confirm it stands on the new one, or withdraw it. "
        "/appeal {id} shows the new text.",
        id=appeal_id,
        title=payload["title"],
        version=version,
        organisation=payload["organisation"],
    )
    buttons = [
        InlineKeyboardButton(
            texts.plain("Confirm"), callback_data=f"reconfirm:{appeal_id}:{version}"
        ),
        InlineKeyboardButton(
            texts.plain("Withdraw"), callback_data=f"reconfirm-withdraw:{appeal_id}"
        ),
    ]
    return text, InlineKeyboardMarkup([buttons])
