"""The catalogs: complete, faithful to their placeholders and markup, and in step with the code."""

import re
import string
import tomllib
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from markupsafe import Markup

from foundation.i18n import DOMAIN, LOCALE_DIR, Texts, catalog_path, load_texts, pick_language
from foundation.settings import LANGUAGES
from stand.local_api.html import visible_text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = LOCALE_DIR / "messages.pot"
# Every language the bot offers but English, the texts' own language in the code.
SOURCE_LANGUAGE = "en"
TRANSLATED = tuple(language for language in LANGUAGES if language != SOURCE_LANGUAGE)
# The project's packages, all of which `make messages` reads, and its keywords (Babel's default
# keywords are kept there too).
SOURCES = tuple(
    name.removesuffix("*")
    for name in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
)
KEYWORDS: dict[str, Any] = {
    **DEFAULT_KEYWORDS,
    "t": None,
    "tn": (1, 2),
    "plain": None,
    "plain_n": (1, 2),
    "N_": None,
}
# Enough counts to reach every plural form of every language: fr 0/1, 10⁶ and the rest;
# uk and ru 1/21, 2/3, 5/11.
COUNTS = (0, 1, 2, 3, 5, 11, 21, 1_000_000)

MessageId = str | tuple[str, str]


@cache
def catalog(language: str | None) -> Any:
    """The template (language None) or a language's catalog, as Babel reads it."""
    path = TEMPLATE if language is None else catalog_path(language)
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@cache
def texts() -> dict[str, Texts]:
    return load_texts()


def template_messages() -> list[Any]:
    return [message for message in catalog(None) if message.id]


def forms(value: MessageId) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    """The names a text formats in: `{organisation}` gives `organisation`."""
    return {
        re.split(r"[.\[]", field)[0]
        for _, field, _, _ in string.Formatter().parse(text)
        if field is not None
    }


def tags(text: str) -> Counter[str]:
    return Counter(re.findall(r"<[^<>]*>", text))


def samples(names: set[str]) -> dict[str, object]:
    """A value for each placeholder, with characters that would break HTML if not escaped."""
    return {name: f"<{name} & “co”>" for name in names}


# --- Complete catalogs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "language",
    [
        "fr",
        "uk",
        "ru",
    ],
)
def test_every_message_is_translated(language: str) -> None:
    translations = catalog(language)
    missing = []
    for message in template_messages():
        translation = translations.get(message.id)
        if translation is None:
            missing.append((message.id, "absent"))
        elif translation.fuzzy:
            missing.append((message.id, "fuzzy"))
        elif message.pluralizable and len(translation.string) != translations.num_plurals:
            missing.append((message.id, f"{len(translation.string)} plural forms"))
        elif not all(form.strip() for form in forms(translation.string)):
            missing.append((message.id, "empty"))
    assert missing == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_catalog_has_no_message_the_template_lacks(language: str) -> None:
    template_ids = {message.id for message in template_messages()}
    extra = [m.id for m in catalog(language) if m.id and m.id not in template_ids]
    assert extra == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    translations = catalog(language)
    wrong = []
    for message in template_messages():
        expected = set().union(*(placeholders(f) for f in forms(message.id)))
        translation = translations.get(message.id)
        if translation is None:
            continue  # reported by test_every_message_is_translated
        for form in forms(translation.string):
            if form and placeholders(form) != expected:
                wrong.append((message.id, form))
    assert wrong == []


def test_the_english_plural_forms_share_their_placeholders() -> None:
    for message in template_messages():
        if message.pluralizable:
            singular, plural = message.id
            assert placeholders(singular) == placeholders(plural), message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_markup(language: str) -> None:
    translations = catalog(language)
    wrong = []
    for message in template_messages():
        expected = tags(forms(message.id)[0])
        translation = translations.get(message.id)
        if translation is None:
            continue  # reported by test_every_message_is_translated
        for form in forms(translation.string):
            if form and tags(form) != expected:
                wrong.append((message.id, form))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_valid_telegram_html(language: str) -> None:
    language_texts = texts()[language]
    invalid = []
    for message in template_messages():
        if message.pluralizable:
            singular, plural = message.id
            values = samples((placeholders(singular) | placeholders(plural)) - {"n"})
            rendered = [language_texts.tn(singular, plural, n, **values) for n in COUNTS]
        else:
            rendered = [language_texts.t(message.id, **samples(placeholders(message.id)))]
        for text in rendered:
            try:
                shown = visible_text(str(text))
            except ValueError as error:
                invalid.append((message.id, str(text), str(error)))
                continue
            if not shown.strip():
                invalid.append((message.id, str(text), "empty"))
    assert invalid == []


# --- The template follows the code --------------------------------------------------------


def test_the_template_lists_exactly_the_texts_in_the_code() -> None:
    in_code: set[str | tuple[str, ...]] = set()
    for package in SOURCES:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS
        ):
            in_code.add(message)
    in_template = {message.id for message in template_messages()}

    assert in_code, "nothing extracted: are the keywords right?"
    assert sorted(map(str, in_code - in_template)) == [], "run `make messages`"
    assert sorted(map(str, in_template - in_code)) == [], "run `make messages`"


# --- Choosing a language and formatting ---------------------------------------------------


@pytest.mark.parametrize(
    ("telegram_language", "default", "expected"),
    [
        ("uk", "en", "uk"),
        ("ru", "en", "ru"),
        ("fr-CA", "en", "fr"),
        ("en-GB", "ru", "en"),
        ("UK", "en", "uk"),
        ("de", "en", "en"),
        ("de", "ru", "ru"),
        (None, "en", "en"),
        (None, "fr", "fr"),
        ("", "uk", "uk"),
    ],
)
def test_pick_language(telegram_language: str | None, default: str, expected: str) -> None:
    assert pick_language(telegram_language, default) == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_values_are_escaped(language: str) -> None:
    text = texts()[language].t("You are already a contact of {organisation}.", organisation="<b>")

    assert isinstance(text, Markup)
    assert "&lt;b&gt;" in text
    assert "<b>" not in text
    assert "<b>" in visible_text(str(text))


def test_markup_values_are_kept_as_markup() -> None:
    bold = Markup("<b>{}</b>").format("Memorial & co")

    text = texts()["en"].t("You are already a contact of {organisation}.", organisation=bold)

    assert text == "You are already a contact of <b>Memorial &amp; co</b>."


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("ru", 1, "1 подпись"),
        ("ru", 3, "3 подписи"),
        ("ru", 5, "5 подписей"),
        ("ru", 11, "11 подписей"),
        ("ru", 21, "21 подпись"),
        ("uk", 1, "1 підпис"),
        ("uk", 3, "3 підписи"),
        ("uk", 5, "5 підписів"),
        ("uk", 11, "11 підписів"),
        ("uk", 21, "21 підпис"),
        ("en", 1, "1 signature"),
        ("en", 5, "5 signatures"),
    ],
)
def test_plural_forms(language: str, n: int, expected: str) -> None:
    assert texts()[language].tn("{n} signature", "{n} signatures", n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 organisation a signé."),
        (5, "5 organisations ont signé."),
        (1_000_000, "1000000 organisations ont signé."),
    ],
)
def test_french_plural_forms(n: int, expected: str) -> None:
    text = texts()["fr"].tn("{n} organisation has signed.", "{n} organisations have signed.", n)

    assert text == expected


def test_every_language_the_bot_offers_has_a_catalog_checked_here() -> None:
    assert SOURCE_LANGUAGE in LANGUAGES
    assert {SOURCE_LANGUAGE, *TRANSLATED} == set(LANGUAGES)
    assert len(TRANSLATED) == len(LANGUAGES) - 1
    for language in LANGUAGES:
        assert catalog_path(language).is_file(), language
