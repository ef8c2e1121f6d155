"""Forged button taps, as a modified client can send any data: each gets one answer, never
the error handler's apology, and what is stored changes exactly when the answer says
something was done. Each example of the property runs on a bot of its own, serving a fresh
copy of the coalition (tests/conftest.py's fuzz_stand)."""

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.fuzzing import (
    Effect,
    FuzzedBot,
    Stand,
    assert_answered,
    callback,
    examples,
    fresh_coalition,
    message,
    outcome_of,
    press_forged,
)

NOT_MODIFIED = "Bad Request: message is not modified"

# What a button does, by the first field of its data; a button the bot never made, nothing.
BUTTON_EFFECTS = {
    "cosign": Effect.READS,  # it asks to confirm
    "cosign-confirm": Effect.STORES, "cosign-cancel": Effect.READS,
    "reconfirm": Effect.STORES, "reconfirm-withdraw": Effect.STORES,
    "broadcast-send": Effect.STORES, "broadcast-cancel": Effect.STORES,
    "join-approve": Effect.STORES, "join-reject": Effect.STORES,
    "approval-approve": Effect.STORES, "approval-reject": Effect.STORES,
    "audit-older": Effect.READS, "forget-cancel": Effect.READS,
}  # fmt: skip


def button_effect(data: str) -> Effect:
    return BUTTON_EFFECTS.get(data.split(":", 1)[0], Effect.READS)


FORGED = st.one_of(
    # As the bot makes them, for the coalition's appeal #1: some get through.
    st.sampled_from(
        ["cosign:1", "cosign-confirm:1", "cosign-cancel:1", "reconfirm:1:2", "audit-older:0:1"]
    ),
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


TAPS = st.tuples(st.sampled_from(["organiser", "contact"]), FORGED)


# Few on CI: each starts a bot and copies a database (on PostgreSQL, about a second).
@settings(max_examples=examples(6))
@given(taps=st.lists(TAPS, min_size=1, max_size=8))
async def test_forged_buttons_get_one_answer(
    fuzz_stand: Stand, taps: list[tuple[str, str]]
) -> None:
    async with fresh_coalition(fuzz_stand) as coalition:
        for who, data in taps:
            outcome = await press_forged(coalition, who, data)
            done = assert_answered(coalition, outcome, button_effect(data), data)
            kind = data.split(":", 1)[0]
            # Shown by --hypothesis-show-statistics: how often each kind of button got through.
            event(f"{kind if kind in BUTTON_EFFECTS else 'unknown'}: {'done' if done else 'not'}")


# Hand-written forged button data: numbers out of range, other people's decisions, no data.
FORGED_BY_HAND = [
    "", "0", "x" * 64, "<b>&amp;", "\x00", "\u202e\u200b", "cosign:0", "cosign:" + "9" * 40,
    "cosign:\u0663", "cosign-confirm:2147483648", "cosign-cancel:2", "reconfirm:1:" + "9" * 30,
    "reconfirm-withdraw:1", "audit-older:0:" + "9" * 40, "audit-older:" + "9" * 40 + ":0",
    "audit-older:0:0", "broadcast-send:0", "broadcast-cancel:1", "join-approve:2147483648",
    "join-reject:1", "approval-approve:1", "approval-reject:" + "9" * 20, "forget-cancel",
]  # fmt: skip


async def test_hand_forged_buttons_get_one_answer(fuzz_coalition: FuzzedBot) -> None:
    failures = []
    for who in ("organiser", "contact", "stranger"):
        for data in FORGED_BY_HAND:
            try:
                outcome = await press_forged(fuzz_coalition, who, data)
                assert_answered(fuzz_coalition, outcome, button_effect(data), data)
            except AssertionError as error:
                failures.append(f"{who} {data!r}: {str(error)[:300]}")
                fuzz_coalition.first_refused = len(fuzz_coalition.api.refused)
    assert failures == [], "\n".join(failures)


async def test_a_second_tap_before_the_first_edit_arrived_is_a_silence(
    fuzz_coalition: FuzzedBot,
) -> None:
    stranger = fuzz_coalition.people["stranger"]
    asked = await outcome_of(fuzz_coalition, "stranger", {"message": message(stranger, "/forget")})
    [question] = asked.replies
    first = await outcome_of(
        fuzz_coalition, "stranger", callback(stranger, question, "forget-cancel"), question
    )
    assert (first.edited, question.text) == (question, "Nothing was erased.")
    # The app still showed the buttons: Telegram refuses an edit that changes nothing.
    second = await outcome_of(
        fuzz_coalition, "stranger", callback(stranger, question, "forget-cancel"), question
    )
    assert (second.replies, second.edited, question.text) == ([], None, "Nothing was erased.")
    assert fuzz_coalition.api.refused[fuzz_coalition.first_refused :] == [
        ("editMessageText", NOT_MODIFIED)
    ]
