"""Nasty input to every command, and odd updates: each gets one clear reply or a
deliberate silence, never the error handler's apology, never a message Telegram would refuse,
and what is stored changes exactly when the answer says something was done. Each example of
the properties runs on a bot of its own, serving a fresh copy of the coalition."""

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from handlers.framework import unknown_button
from handlers.menu import ENTRIES
from handlers.refusals import word_refusal
from handlers.timing import ImpossibleTime
from services.errors import AppealNotFound
from stand.local_api import SentMessage
from tests.fuzzing import (
    TEXTS,
    Effect,
    FuzzedBot,
    Stand,
    assert_answered,
    examples,
    fresh_coalition,
    message,
    outcome_of,
    says_done,
    without_text,
)

BOT = "coalition_local_bot"
# Who sends each command: someone it lets through, so that its arguments are parsed. The
# commands everyone has (/help, /mydata, /forget, /timezone…) are sent by the stranger only.
SENDERS = {
    "stranger": (
        "start", "join", "request", "help", "whoami", "language", "timezone", "mydata", "forget",
    ),
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
    "help", "whoami", "mydata", "forget", "appeals", "phases", "subscribe", "unsubscribe", "orgs",
}  # fmt: skip

# What each command does when it is not refused (tests.fuzzing.Effect): its answer says it was
# done exactly when it stores something, or, for those that set what may already be so, at most
# then. /start with an invite code joins, and only greets without one.
EFFECTS = {
    "start": Effect.STORES, "join": Effect.STORES, "request": Effect.STORES,
    "help": Effect.READS, "whoami": Effect.READS, "mydata": Effect.READS,
    "forget": Effect.READS,  # it asks: only its Confirm erases
    "language": Effect.SETS, "timezone": Effect.SETS,
    "subscribe": Effect.SETS, "unsubscribe": Effect.SETS,
    "appeals": Effect.READS, "appeal": Effect.READS, "status": Effect.READS,
    "cosign": Effect.STORES, "withdraw": Effect.STORES, "phases": Effect.READS,
    "invite": Effect.STORES, "newappeal": Effect.STORES, "edit": Effect.STORES,
    "translate": Effect.STORES, "publish": Effect.STORES, "close": Effect.STORES,
    "broadcast": Effect.STORES,  # its preview is a draft, stored
    "delivery": Effect.READS, "phase": Effect.STORES, "attach": Effect.STORES,
    "deadline": Effect.STORES, "remind": Effect.STORES, "export": Effect.READS,
    "orgs": Effect.READS, "revoke": Effect.STORES, "audit": Effect.READS,
    "promote": Effect.STORES, "demote": Effect.STORES,
}  # fmt: skip


def effect_of(command: str, argument: str) -> Effect:
    """What `/command argument` does when it is not refused (PTB splits arguments as
    str.split does)."""
    if command == "start" and not argument.split():
        return Effect.READS
    return EFFECTS[command]


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


async def test_every_command_answers_every_nasty_argument_with_one_reply(
    fuzz_coalition: FuzzedBot, caplog: pytest.LogCaptureFixture
) -> None:
    failures = []
    for who, command in COMMANDS:
        someone = fuzz_coalition.people[who]
        for name, argument in nasty_for(command).items():
            sent = f"/{command} {argument}"
            outcome = await outcome_of(fuzz_coalition, who, {"message": message(someone, sent)})
            try:
                assert_answered(fuzz_coalition, outcome, effect_of(command, argument), sent)
            except AssertionError as error:
                failures.append(f"/{command} [{name}]: {str(error)[:300]}")
                fuzz_coalition.first_refused = len(fuzz_coalition.api.refused)
    assert failures == [], "\n".join(failures)
    assert "unhandled error while handling an update" not in caplog.text


def odd_updates(coalition: FuzzedBot) -> dict[str, tuple[str, dict[str, object]]]:
    """Updates that are not a new private text message, each with the person it comes from."""
    contact = coalition.people["contact"]
    user, private = contact.person.as_user(), contact.person.as_private_chat()
    group = {"id": -4001, "type": "group", "title": "Coalition chat"}
    supergroup = {"id": -1004001, "type": "supergroup", "title": "Coalition chat"}
    channel = {"id": -1004002, "type": "channel", "title": "FuzzedBot news"}
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
    # Commands are taken from new messages only: an edit must not sign twice (handlers/framework.py).
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
    fuzz_coalition: FuzzedBot, caplog: pytest.LogCaptureFixture
) -> None:
    updates = odd_updates(fuzz_coalition)
    assert updates.keys() == ODD_REPLIES.keys()
    for name, (who, update) in updates.items():
        outcome = await outcome_of(fuzz_coalition, who, update)
        expected = ODD_REPLIES[name]
        assert [reply.text for reply in outcome.replies] == ([expected] if expected else []), name
        assert not outcome.changed, name
    assert fuzz_coalition.refused_calls() == []
    assert "unhandled error while handling an update" not in caplog.text


# Arguments each command takes, well formed, on the fuzzed coalition (appeal #1 open, #2 a
# draft, Memorial's contact 2001, the stranger 3001): so that an example also gets through,
# changes things, and meets them changed.
FUTURE = "2031-03-14"
WELL_FORMED = {
    "request": ["Memorial", "Truth Hounds"], "language": ["en", "fr", "uk", "ru"],
    "timezone": ["Europe/Kyiv", "UTC", "Asia/Tokyo"], "appeal": ["1", "2"], "status": ["1", "2"],
    "cosign": ["1", "1 private", "1 anonymous", "2"], "withdraw": ["1"],
    "invite": ["Memorial", "Truth Hounds"], "newappeal": ["Free them\nExcellencies, free them."],
    "edit": ["1 Free them now\nA new text.", "2 Still a draft\nAnother text."],
    "translate": ["1 fr Libérez-les\nExcellences, libérez-les.", "2 uk Звільніть їх\nТекст."],
    "publish": ["2", "3"], "close": ["1", "3"], "broadcast": ["Talks start tomorrow."],
    "delivery": ["1"], "phase": [f"{FUTURE} 09:00 Talks in Geneva", f"1 {FUTURE} 15:00"],
    "attach": ["1 1", "2 1"], "deadline": [f"1 {FUTURE} 18:00", f"2 {FUTURE} 18:00"],
    "remind": ["1"], "export": ["1", "1 fr"], "revoke": ["2001", "3001"], "audit": ["1"],
    "promote": ["3001", "2001"], "demote": ["3001"],
}  # fmt: skip


def sent_by(sender: tuple[str, str]) -> st.SearchStrategy[tuple[tuple[str, str], str, bool]]:
    """A command from someone it lets through: well-formed or arbitrary arguments, and the
    bot's name after the command or not."""
    well_formed = st.sampled_from(WELL_FORMED.get(sender[1], [""]))
    # Half each: st.one_of would put arguments()'s own two kinds beside it, a third each.
    either = st.sampled_from([well_formed, arguments()]).flatmap(lambda argument: argument)
    return st.tuples(st.just(sender), either, st.booleans())


# Each example: a few commands on a coalition of its own.
SENT = st.sampled_from(COMMANDS).flatmap(sent_by)


# Few on CI: each starts a bot and copies a database (on PostgreSQL, about a second).
@settings(max_examples=examples(8))
@given(sent=st.lists(SENT, min_size=1, max_size=8))
async def test_every_command_answers_arbitrary_arguments_with_one_reply(
    fuzz_stand: Stand, sent: list[tuple[tuple[str, str], str, bool]]
) -> None:
    async with fresh_coalition(fuzz_stand) as coalition:
        for (who, command), argument, mention in sent:
            text = f"/{command}{'@' + BOT if mention else ''} {argument}"
            update: dict[str, object] = {"message": message(coalition.people[who], text)}
            outcome = await outcome_of(coalition, who, update)
            done = assert_answered(coalition, outcome, effect_of(command, argument), text)
            # Shown by --hypothesis-show-statistics: how often each command got through.
            event(f"/{command}: {'done' if done else 'not done'}")


def test_every_command_is_fuzzed_by_someone_it_lets_through_and_its_effect_is_known() -> None:
    assert {command for _, command in COMMANDS} == EFFECTS.keys() == ENTRIES.keys()


def test_the_answer_says_done_unless_it_is_one_of_the_bots_refusals() -> None:
    """The refusals are read from the bot's code and catalogs, in every language; any other
    answer to a command that stores or sets something says it was done."""
    french, ukrainian, english = TEXTS["fr"], TEXTS["uk"], TEXTS["en"]
    refusals = [
        word_refusal(french, AppealNotFound(appeal_id=7)),
        ukrainian.t("Usage: {usage}", usage="/cosign ID"),
        english.t("Only organisers can use /{command}.", command="close"),
        ImpossibleTime("2030-02-30 12:00").word(ukrainian),
        unknown_button(french),
    ]
    done = [
        english.t("{id} is now an organiser.", id=3001),
        french.t("I will write to you in {language}.", language="Français"),
        # It holds a refusal's words ("{organisation} has not signed appeal #{id}.").
        english.tn(
            "Reminded {n} organisation that has not signed appeal #{id}.",
            "Reminded {n} organisations that have not signed appeal #{id}.",
            1,
            id=1,
        ),
    ]
    assert [says_done(Effect.STORES, [bot_message(text)]) for text in refusals + done] == [
        *[False] * len(refusals),
        *[True] * len(done),
    ]
    assert not says_done(Effect.READS, [bot_message(done[0])])
    assert not says_done(Effect.STORES, [])


def bot_message(text: Markup) -> SentMessage:
    """A message of the bot's, as the local Bot API keeps it."""
    return SentMessage(1, 1, text.striptags(), str(text), "HTML")
