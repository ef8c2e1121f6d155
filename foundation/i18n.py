"""Every text the bot sends, in en, fr, uk and ru, from gettext catalogs.

The `.po` files are read directly at start-up (Babel compiles them in memory), so there is no
build step and no compiled `.mo` file to forget. Values formatted into a text are HTML-escaped
unless they are already `Markup`: user-provided text cannot break the parse mode.
"""

import functools
import gettext
import re
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup

from foundation.settings import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Each language by its own name: how a reader recognises theirs in any interface language.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "uk": "Українська", "ru": "Русский"}
DOMAIN = "messages"
# A placeholder a text puts in quotes («{organisation}», “{title}”); a value that has quotes of
# the same kind inside (Правозахисна група «Світанок») gets the inner ones, as typographers do.
QUOTED = re.compile(r"([«“])[\u00a0\u202f ]?\{(\w+)\}")
INNER_QUOTES = {
    "«": {"fr": "“”", "en": "“”", "uk": "„“", "ru": "„“"},
    "“": dict.fromkeys(LANGUAGES, "‘’"),
}
# A pair of the same kind, nothing of its kind inside: „…“ (whose closing mark is “) is left be.
PAIRS = {"«": re.compile(r"«([^«»]*)»"), "“": re.compile(r"“([^“”„]*)”")}


class Texts:
    """The bot's texts in one language. `t`, `tn`, `plain` and `plain_n` are the keywords
    Babel extracts."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def t(self, message: str, /, **values: object) -> Markup:
        template = self._translations.gettext(message)
        return Markup(template).format(**self._nested(template, values))

    def plain(self, message: str, /) -> str:
        """A translated text that is not markup (such as `/cosign <id>`): escaped when used."""
        return self._translations.gettext(message)

    def plain_n(self, singular: str, plural: str, n: int, /) -> str:
        """A translated plural text that is not markup (a file's text, say), with {n} filled."""
        return self._translations.ngettext(singular, plural, n).format(n=n)

    def tn(self, singular: str, plural: str, n: int, /, **values: object) -> Markup:
        template = self._translations.ngettext(singular, plural, n)
        return Markup(template).format(n=n, **self._nested(template, values))

    def _nested(self, template: str, values: dict[str, object]) -> dict[str, object]:
        """The values, with quotes inside a quoted one turned into this language's inner
        quotes: «Правозахисна група „Світанок“», not «Правозахисна група «Світанок»»."""
        nested = dict(values)
        for opening, key in QUOTED.findall(template):
            value = values.get(key)
            if isinstance(value, str) and not isinstance(value, Markup):
                inner = INNER_QUOTES[opening][self.language]
                nested[key] = PAIRS[opening].sub(rf"{inner[0]}\1{inner[1]}", value)
        return nested


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(language: str) -> gettext.GNUTranslations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def load_texts() -> dict[str, Texts]:
    """All four languages, ready to use; read once per process (Texts never change)."""
    return {language: Texts(language, _compile(language)) for language in LANGUAGES}


def pick_language(telegram_language_code: str | None, default: str) -> str:
    """Telegram's IETF tag (`uk`, `fr-CA`, `en-GB`) mapped to a supported language."""
    if telegram_language_code:
        primary = telegram_language_code.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return default
