"""Nasty input to every command, forged buttons and odd updates: each gets one clear reply or a
deliberate silence, never the error handler's apology, never a message Telegram would refuse,
and a refusal stores nothing."""

import re

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bot.config import Settings
from bot.context import RESOURCES_KEY, CoalitionApplication
from bot.i18n import LANGUAGE_NAMES
from bot.local_api import LocalBotApi
from models import Database
from tests.fuzzing import (
    TEXTS,
    Coalition,
    assert_answered,
    callback,
    message,
    outcome_of,
    press_forged,
    without_text,
)
from tests.people import Someone
from tests.stories import draft, member, open_appeal, outbox_settled, snapshot

CONTACT_ID, STRANGER_ID = 2001, 3001
NOT_MODIFIED = "Bad Request: message is not modified"
BOT = "coalition_local_bot"
# Who sends each command: someone it lets through, so that its arguments are parsed. The
# commands everyone has (/help, /mydata, /forget, /timezone…) are sent by the stranger only.
SENDERS = {
    "stranger": ("start", "join", "request", "help", "language", "timezone", "mydata", "forget"),
    "contact": (
        "appeals", "appeal", "status", "cosign", "withdraw", "phases", "subscribe", "unsubscribe",
    ),
    "organiser": (
        "invite", "newappeal", "edit", "translate", "publish", "close", "broadcast", "delivery",
        "phase", "attach", "deadline", "remind", "export", "orgs", "revoke", "audit", "promote",
        "demote", "appeals", "appeal", "status", "phases",
    ),
}  # fmt: skip
COMMANDS = [(who, command) for who, commands in SENDERS.items() for command in commands]
# What goes before a nasty argument so that it reaches the command's later arguments too.
VALID_START = {
    "cosign": "1 ", "edit": "1 ", "translate": "1 fr ", "attach": "1 ", "deadline": "1 ",
    "export": "1 ", "phase": "2030-01-01 12:00 ",
}  # fmt: skip
TAKES_IDS = {
    "appeal", "status", "cosign", "withdraw", "edit", "translate", "publish", "close",
    "delivery", "phase", "attach", "deadline", "remind", "export", "revoke", "audit",
    "promote", "demote",
}  # fmt: skip
TAKES_TEXT = {"start", "join", "request", "invite", "newappeal", "edit", "translate", "broadcast"}
TAKES_TIMES = {"phase", "deadline"}
TAKES_NOTHING = {
    "help", "mydata", "forget", "appeals", "phases", "subscribe", "unsubscribe", "orgs",
}  # fmt: skip

# The reply that says a command did something; any other reply must leave every row as it was.
DONE = {
    "start": r"You are now a contact of",
    "join": r"You are now a contact of",
    "request": r"I have asked the organisers",
    "language": "|".join(
        re.escape(str(texts.t("I will write to you in {language}.", language=name)))
        for texts in TEXTS.values()
        for name in LANGUAGE_NAMES.values()
    ),
    "timezone": r"Times are now shown in",
    "subscribe": r"You will receive",
    "unsubscribe": r"You will no longer receive",
    "cosign": r"co-signed appeal",
    "withdraw": r"no longer signs appeal",
    "invite": r"single-use invite link",
    "newappeal": r"Draft appeal #",
    "edit": r"now has the new text",
    "translate": r"wording of appeal #\d+ is replaced|now reads in",
    "publish": r"is open for signatures; it is announced",
    "close": r"is closed with",
    "broadcast": r"Preview of broadcast #",
    "phase": r"(Added|Moved) phase #",
    "attach": r"is timed to phase",
    "deadline": r"closes for signatures",
    "remind": r"Reminded \d+",
    "revoke": r"no longer acts for",
    "promote": r"is now an organiser|waiting for a second organiser",
    "demote": r"is no longer an organiser",
    "button": r"co-signed appeal|queued for|forgotten you|approved|rejected|withdrawn|stands on",
}

# Hand-written nasty arguments: what was tried against each command.
EVERYWHERE = {
    "right-to-left and zero-width": (
        "\u200f\u202eMemorial \u0645\u0646\u0638\u0645\u0629 \u05d0\u05e8\u05d2\u05d5\u05df\u202c "
        "\u200b\u200d\ufeff 1\u200b"
    ),
    "html and markdown": (
        '<b>bold</i> &amp; <a href="https://evil.example">x</a> < & > &#0; &lt '
        "*bold* _it_ `code` [link](tg://user?id=1)"
    ),
    "nul": "Memo\x00rial 1\x00",
    "controls": "\x01\x07\x1b[31m\x7f\x85\u2028\u2029\r\n2",
    "10,000 characters": "x" * 10_000,
}
# Commands that take no arguments ignore them: three kinds suffice there.
IGNORED = {name: EVERYWHERE[name] for name in ("html and markdown", "nul", "10,000 characters")}
NUMBERS = {
    "zero": "0",
    "minus one": "-1",
    "2**63": str(2**63),
    "1e9": "1e9",
    "arabic digits": "\u0661\u0662",
    "fullwidth digits": "\uff11",
}
WORDINGS = {
    "10,000 emoji": "\U0001f600" * 10_000,
    "title and 10,000-character text": "A <title> & more\n" + "\u05d0" * 10_000,
    "multi-line": "Title\nline one\n\nline <three> & four\n\u202e",
}
TIMES = {
    "at the end of time": "9999-12-31 23:59 -14:00 Phase",
    "at the start of time": "0001-01-01 00:00 +14:00 Phase",
    "last day of year 9999": "9999-12-31 23:59 Phase",
    "arabic date": "\u0662\u0660\u0663\u0660-\u0660\u0661-\u0660\u0661 \u0661\u0662:\u0660\u0660 Phase",
    "no such day": "2030-02-30 12:00 Phase",
    "offset past 14 hours": "2030-01-01 12:00+15:00 Phase",
}


def nasty_for(command: str) -> dict[str, str]:
    """The nasty arguments a command is sent, as they follow its name."""
    if command in TAKES_NOTHING:
        return dict(IGNORED)
    cases = EVERYWHERE | (WORDINGS if command in TAKES_TEXT else {})
    start = VALID_START.get(command, "")
    later = {f"{name}, after {start.strip()}": start + value for name, value in cases.items()}
    cases |= NUMBERS if command in TAKES_IDS else {}
    cases |= TIMES if command in TAKES_TIMES else {}
    return cases | (later if start else {})


SPECIAL = [
    value
    for values in (EVERYWHERE, NUMBERS, WORDINGS, TIMES)
    for value in values.values()
    if len(value) < 100
]


def arguments() -> st.SearchStrategy[str]:
    """Arbitrary Unicode, nasty fragments, edge numbers, long and multi-line arguments."""
    piece = st.one_of(
        st.text(),
        st.sampled_from(SPECIAL),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
    words = st.lists(piece, max_size=5)
    spaced = st.tuples(words, st.sampled_from([" ", "\n", "\t", "\u00a0"]))
    long = st.sampled_from(["x", "\u00e9", "\u0410", "\U0001f600", "<", "&", "\x00", "1 "])
    return st.one_of(
        spaced.map(lambda pair: pair[1].join(pair[0])),
        long.map(lambda s: (s * 10_000)[:10_000]),
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Flood control would rightly skip a person who sends hundreds of commands in a second."""
    return settings.model_copy(update={"flood_burst": 1_000_000})


@pytest.fixture
async def coalition(
    api: LocalBotApi, running_bot: CoalitionApplication, organiser: Someone, database: Database
) -> Coalition:
    """Memorial with a subscribed contact, an open appeal #1 and a draft #2."""
    contact = Someone(api, CONTACT_ID, "Irina", "en")
    stranger = Someone(api, STRANGER_ID, "Stranger", "en")
    await member(database, "Memorial", CONTACT_ID)
    await open_appeal(database)
    await draft(database, "Still a draft")
    running_bot.bot_data[RESOURCES_KEY].wake_outbox()
    await outbox_settled(database)
    people = {"organiser": organiser, "contact": contact, "stranger": stranger}
    return Coalition(api, running_bot, database, people, await snapshot(database))


async def test_every_command_answers_every_nasty_argument_with_one_reply(
    coalition: Coalition, caplog: pytest.LogCaptureFixture
) -> None:
    failures = []
    for who, command in COMMANDS:
        someone = coalition.people[who]
        for name, argument in nasty_for(command).items():
            sent = f"/{command} {argument}"
            outcome = await outcome_of(coalition, who, {"message": message(someone, sent)})
            try:
                assert_answered(coalition, outcome, DONE.get(command, "(?!)"), sent)
            except AssertionError as error:
                failures.append(f"/{command} [{name}]: {str(error)[:300]}")
                coalition.api.refused.clear()
    assert failures == [], "\n".join(failures)
    assert "unhandled error while handling an update" not in caplog.text


def odd_updates(coalition: Coalition) -> dict[str, tuple[str, dict[str, object]]]:
    """Updates that are not a new private text message, each with the person it comes from."""
    contact = coalition.people["contact"]
    user, private = contact.person.as_user(), contact.person.as_private_chat()
    group = {"id": -4001, "type": "group", "title": "Coalition chat"}
    supergroup = {"id": -1004001, "type": "supergroup", "title": "Coalition chat"}
    channel = {"id": -1004002, "type": "channel", "title": "Coalition news"}
    sticker = {
        "file_id": "sticker", "file_unique_id": "s1", "type": "regular", "width": 512,
        "height": 512, "is_animated": False, "is_video": False,
    }  # fmt: skip
    photo = [{"file_id": "photo", "file_unique_id": "p1", "width": 90, "height": 90}]
    bot_user = coalition.api.bot_user

    def member_update(chat: dict[str, object], old: str, new: str) -> dict[str, object]:
        return {
            "chat": chat,
            "from": user,
            "date": 0,
            "old_chat_member": {"user": bot_user, "status": old},
            "new_chat_member": {"user": bot_user, "status": new}
            | ({"until_date": 0} if new == "kicked" else {}),
        }

    command = message(contact, "/cosign 1")
    return {
        "an edited command": ("contact", {"edited_message": {**command, "edit_date": 1}}),
        "an edited text": ("contact", {"edited_message": message(contact, "hello", edit_date=1)}),
        "a sticker": ("contact", {"message": without_text(message(contact, ""), sticker=sticker)}),
        "a photo captioned with a command": (
            "contact",
            {"message": without_text(message(contact, ""), photo=photo, caption="/cosign 1")},
        ),
        "a command in a group": ("contact", {"message": message(contact, "/cosign 1", chat=group)}),
        "a command to the bot in a supergroup": (
            "contact",
            {"message": message(contact, f"/help@{BOT}", chat=supergroup)},
        ),
        "a channel post": (
            "contact",
            {"channel_post": without_text(message(contact, "/appeals", chat=channel), "from")},
        ),
        "the bot blocked": (
            "contact",
            {"my_chat_member": member_update(private, "member", "kicked")},
        ),
        "the bot added to a group": (
            "contact",
            {"my_chat_member": member_update(group, "left", "member")},
        ),
        "a lone slash": ("contact", {"message": message(contact, "/")}),
        "a command for another bot": (
            "contact",
            {"message": message(contact, "/cosign@other_bot 1")},
        ),
    }


# What each odd update gets back: None for a deliberate silence.
ODD_REPLIES: dict[str, str | None] = {
    # Commands are taken from new messages only: an edit must not sign twice (handlers/caller.py).
    "an edited command": None,
    "an edited text": None,
    "a sticker": "I only understand commands. /help lists yours.",
    "a photo captioned with a command": "I only understand commands. /help lists yours.",
    # The bot says nothing in groups, where members could be exposed (README, Commands).
    "a command in a group": None,
    "a command to the bot in a supergroup": None,
    "a channel post": None,
    # Someone who blocked the bot cannot be written to; a group is no place for it to speak.
    "the bot blocked": None,
    "the bot added to a group": None,
    "a lone slash": "I do not know the command /. /help lists yours.",
    "a command for another bot": "I do not know the command /cosign@other_bot. /help lists yours.",
}


async def test_odd_updates_get_a_clear_reply_or_a_deliberate_silence(
    coalition: Coalition, caplog: pytest.LogCaptureFixture
) -> None:
    updates = odd_updates(coalition)
    assert updates.keys() == ODD_REPLIES.keys()
    for name, (who, update) in updates.items():
        outcome = await outcome_of(coalition, who, update)
        expected = ODD_REPLIES[name]
        assert [reply.text for reply in outcome.replies] == ([expected] if expected else []), name
        assert not outcome.changed, name
    assert coalition.api.refused == []
    assert "unhandled error while handling an update" not in caplog.text


@examples(max_examples=150)
@given(sender=st.sampled_from(COMMANDS), argument=arguments(), mention=st.booleans())
async def test_every_command_answers_arbitrary_arguments_with_one_reply(
    coalition: Coalition, sender: tuple[str, str], argument: str, mention: bool
) -> None:
    who, command = sender
    sent = f"/{command}{'@' + BOT if mention else ''} {argument}"
    outcome = await outcome_of(coalition, who, {"message": message(coalition.people[who], sent)})
    assert_answered(coalition, outcome, DONE.get(command, "(?!)"), sent)


FORGED = st.one_of(
    st.text(max_size=64),
    st.tuples(
        st.sampled_from(
            [
                "cosign:", "cosign-confirm:", "cosign-cancel:", "reconfirm:1:",
                "reconfirm-withdraw:", "broadcast-send:", "broadcast-cancel:", "join-approve:",
                "join-reject:", "approval-approve:", "approval-reject:", "audit-older:0:",
                "audit-older:", "forget-cancel",
            ]
        ),
        st.one_of(
            st.sampled_from(["0", "1", "2", str(2**31), str(2**63), "9" * 40, "\u0661", ":1"]),
            st.text(max_size=8),
        ),
    ).map("".join),
)  # fmt: skip


@examples(max_examples=100)
@given(who=st.sampled_from(["organiser", "contact"]), data=FORGED)
async def test_forged_buttons_get_one_answer(coalition: Coalition, who: str, data: str) -> None:
    outcome = await press_forged(coalition, who, data)
    assert_answered(coalition, outcome, DONE["button"], data)


# Hand-written forged button data: numbers out of range, other people's decisions, no data.
FORGED_BY_HAND = [
    "", "0", "x" * 64, "<b>&amp;", "\x00", "\u202e\u200b", "cosign:0", "cosign:" + "9" * 40,
    "cosign:\u0663", "cosign-confirm:2147483648", "cosign-cancel:2", "reconfirm:1:" + "9" * 30,
    "reconfirm-withdraw:1", "audit-older:0:" + "9" * 40, "audit-older:" + "9" * 40 + ":0",
    "audit-older:0:0", "broadcast-send:0", "broadcast-cancel:1", "join-approve:2147483648",
    "join-reject:1", "approval-approve:1", "approval-reject:" + "9" * 20, "forget-cancel",
]  # fmt: skip


async def test_hand_forged_buttons_get_one_answer(coalition: Coalition) -> None:
    failures = []
    for who in ("organiser", "contact", "stranger"):
        for data in FORGED_BY_HAND:
            try:
                outcome = await press_forged(coalition, who, data)
                assert_answered(coalition, outcome, DONE["button"], data)
            except AssertionError as error:
                failures.append(f"{who} {data!r}: {str(error)[:300]}")
                coalition.api.refused.clear()
    assert failures == [], "\n".join(failures)


async def test_a_second_tap_before_the_first_edit_arrived_is_a_silence(
    coalition: Coalition,
) -> None:
    stranger = coalition.people["stranger"]
    asked = await outcome_of(coalition, "stranger", {"message": message(stranger, "/forget")})
    [question] = asked.replies
    first = await outcome_of(
        coalition, "stranger", callback(stranger, question, "forget-cancel"), question
    )
    assert (first.edits, question.text) == (1, "Nothing was erased.")
    # The app still showed the buttons: Telegram refuses an edit that changes nothing.
    second = await outcome_of(
        coalition, "stranger", callback(stranger, question, "forget-cancel"), question
    )
    assert (second.replies, second.edits, question.text) == ([], 0, "Nothing was erased.")
    assert coalition.api.refused == [("editMessageText", NOT_MODIFIED)]
