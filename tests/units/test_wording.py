"""Sentences that carry a name read right in every language, whatever the name's gender and
case; the words after /cosign and the arguments /help shows are the reader's own."""

import re

import pytest

from foundation.i18n import Texts, load_texts
from handlers.menu import ENTRIES
from handlers.signatures import disclosure_words
from models import Disclosure
from tests.units.test_i18n import catalog, forms

# Names of each gender, with quotes of their own, as member organisations write them.
NEUTER = "Общество «Память и право»"
FEMININE = "Правозахисна група «Світанок»"
MASCULINE = "Центр гражданских свобод"
# The noun every Russian and Ukrainian sentence puts before an organisation's name, so that
# verbs and adjectives agree with it (feminine), and the name itself stays as written.
ORGANISATION_NOUN = {"ru": "[Оо]рганизаци[яиюей]", "uk": "[Оо]рганізаці[їяюєі]"}
PEOPLE = r"\{(organiser|person|requester|actor)\}"
# A person's name stands where it needs no declension: first in a clause, after a colon or a
# parenthesis, or after a verb whose gender ending is given both ways.
BEFORE_A_PERSON = re.compile(r"(^|\n|: |\(|\(а\) |\(ла\) )$")
# A past-tense verb (masculine or feminine) right after a person's name, gendered one way only.
GENDERED_VERB = re.compile(r"^ \w+(л|ла|в)\b(?!\()")


def texts(language: str) -> Texts:
    return load_texts()[language]


def translations(language: str) -> list[str]:
    return [form for message in catalog(language) if message.id for form in forms(message.string)]


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_organisation_name_follows_the_word_organisation(language: str) -> None:
    noun = re.compile(ORGANISATION_NOUN[language] + r" «\{organisation\}»")
    wrong = [
        text
        for text in translations(language)
        if text.count("{organisation}") != len(noun.findall(text))
    ]
    assert wrong == []


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_no_persons_name_needs_a_case_or_a_gender_it_may_not_have(language: str) -> None:
    wrong = [
        text
        for text in translations(language)
        for found in re.finditer(PEOPLE, text)
        if not BEFORE_A_PERSON.search(text[: found.start()])
        or GENDERED_VERB.match(text[found.end() :])
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("language", "name", "expected"),
    [
        ("ru", NEUTER, "Организация «Общество „Память и право“» ещё не подписала:"),
        ("ru", MASCULINE, "Организация «Центр гражданских свобод» ещё не подписала:"),
        ("uk", FEMININE, "Організація «Правозахисна група „Світанок“» ще не підписала:"),
        ("uk", MASCULINE, "Організація «Центр гражданских свобод» ще не підписала:"),
        ("fr", FEMININE, "L’organisation « Правозахисна група “Світанок” » n’a pas encore signé :"),
        ("en", NEUTER, "Общество «Память и право» has not yet signed:"),
    ],
)
def test_a_reminder_names_organisations_of_every_gender_correctly(
    language: str, name: str, expected: str
) -> None:
    assert texts(language).t("{organisation} has not yet signed:", organisation=name) == expected


def test_a_question_quotes_a_quoted_name_with_inner_quotes() -> None:
    asked = texts("uk").t(
        "Co-sign appeal #{id} “{title}” as {organisation}?",
        id=3,
        title="Свободу «усім»",
        organisation=FEMININE,
    )
    assert asked == (
        "Підписати звернення #3 «Свободу „усім“» від імені організації "
        "«Правозахисна група „Світанок“»?"
    )


def test_quotes_of_another_kind_inside_a_title_are_left_as_written() -> None:
    asked = texts("en").t(
        "Co-sign appeal #{id} “{title}” as {organisation}?",
        id=3,
        title="Заява щодо „Світанку“ and the “exchange”",
        organisation="ZMINA",
    )
    assert asked == "Co-sign appeal #3 “Заява щодо „Світанку“ and the ‘exchange’” as ZMINA?"


def test_cosign_understands_english_and_every_languages_words() -> None:
    words = disclosure_words(load_texts())
    for word in ("private", "PRIVÉ", "приватно"):
        assert words[word.lower()] is Disclosure.PRIVATE, word
    for word in ("anonymous", "anonyme", "анонімно", "анонимно"):
        assert words[word] is Disclosure.ANONYMOUS, word


@pytest.mark.parametrize(
    ("language", "private", "anonymous"),
    [("fr", "privé", "anonyme"), ("uk", "приватно", "анонімно"), ("ru", "приватно", "анонимно")],
)
def test_the_cosign_usage_shows_the_readers_own_words(
    language: str, private: str, anonymous: str
) -> None:
    cosign = ENTRIES["cosign"]
    assert cosign.usage is not None
    assert cosign.arguments is not None
    for shown in (texts(language).plain(cosign.usage), texts(language).plain(cosign.arguments)):
        assert private in shown
        assert anonymous in shown
        assert "private" not in shown
        assert "anonymous" not in shown
