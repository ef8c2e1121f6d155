"""`paginate`: long HTML replies become several messages Telegram accepts, nothing lost."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from rendering.pages import paginate
from stand.local_api.html import TEXT_LIMIT, message_text, utf16_length, visible_text
from tests.conftest import FIXTURES

LINK = '<a href="https://example.org/x">'


def french(length: int) -> str:
    """The French sample texts, repeated and cut to `length` characters."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("*.fr.txt"))]
    assert texts, "no French sample texts"
    whole = "\n\n".join(texts)
    return (whole * (length // len(whole) + 1))[:length]


def shown(pages: list[str]) -> list[str]:
    """What each page shows, checked as Telegram checks a message in HTML parse mode."""
    assert pages
    texts = []
    for page in pages:
        text = message_text(page, "HTML")  # valid HTML, not empty, not too long
        assert text == visible_text(page)
        assert utf16_length(text) <= TEXT_LIMIT
        texts.append(text)
    return texts


def words(html: str) -> list[str]:
    return visible_text(html).split()


def lines(count: int, width: int = 99, word: str = "mot") -> list[str]:
    """`count` distinct lines of `width` characters, words separated by spaces."""
    result = []
    for number in range(count):
        head = f"ligne{number:03d}"
        body = " ".join([word] * width)
        result.append((f"{head} {body}")[:width])
    return result


def spans(pages: list[str], opening: str, name: str) -> list[str]:
    """The words inside every `opening`…</name> span of the pages, in order."""
    pattern = re.compile(re.escape(opening) + r"(.*?)</" + name + ">", re.DOTALL)
    return [word for page in pages for span in pattern.findall(page) for word in words(span)]


# A short text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour Irina.",
        'Appel <b>n° 7</b> : «&#160;Libérez&#160;» &amp; <a href="https://example.org/x">lisez</a>',
        "Une ligne\nune autre\n\navec un paragraphe",
        "x" * TEXT_LIMIT,
    ],
    ids=["plain", "markup", "lines", "exactly-the-limit"],
)
def test_a_short_text_is_one_page_unchanged(text: str) -> None:
    assert paginate(Markup(text)) == [text]


# A long plain text ---------------------------------------------------------------------------


def test_a_long_text_splits_into_valid_pages_that_keep_every_word() -> None:
    source = escape(french(10_000))
    assert len(visible_text(source)) == 10_000

    pages = paginate(source)

    texts = shown(pages)
    assert len(pages) >= 3
    assert "\n".join(texts).split() == words(source)


def test_a_long_text_splits_at_line_breaks() -> None:
    source = escape(french(10_000))
    original_lines = set(visible_text(source).split("\n"))

    pages = paginate(source)

    for text in shown(pages):
        for line in text.split("\n"):
            assert line in original_lines, f"split inside a line: {line[-40:]!r}"


def test_splits_prefer_a_line_break_to_a_space() -> None:
    # 60 lines of 100 characters with their break: 6,000 characters, many spaces.
    original = lines(60)
    pages = paginate(Markup("\n".join(original)))

    texts = shown(pages)
    assert len(texts) == 2
    assert [text.split("\n") for text in texts] == [original[:40], original[40:]]


def test_a_paragraph_that_fits_on_the_next_page_is_not_cut() -> None:
    short = " ".join(["court"] * 250)  # 1,499 characters
    long = " ".join(["longue"] * 430)  # 3,009 characters: one page, but over half of one
    pages = paginate(Markup(f"{short}\n{long}"))

    assert shown(pages) == [short, long]


def test_lines_too_long_for_a_page_split_at_spaces() -> None:
    paragraph = " ".join(f"mot{number}" for number in range(2000))  # one line, ~12,000 characters
    pages = paginate(Markup(paragraph))

    texts = shown(pages)
    assert len(texts) >= 3
    # No word is cut: every page holds whole words.
    all_words = set(paragraph.split())
    for text in texts:
        assert set(text.split()) <= all_words
    assert "\n".join(texts).split() == paragraph.split()


# A single long word --------------------------------------------------------------------------


@pytest.mark.parametrize("piece", ["a&amp;", "l&#39;", "&lt;b&gt;&amp;"])
def test_a_long_word_splits_between_entities(piece: str) -> None:
    word = piece * (10_000 // len(visible_text(piece)))
    assert len(visible_text(word)) == 10_000

    pages = paginate(Markup(word))

    texts = shown(pages)  # a broken entity would not parse
    assert [len(text) for text in texts] == [TEXT_LIMIT, TEXT_LIMIT, 10_000 - 2 * TEXT_LIMIT]
    assert "".join(texts) == visible_text(word)


def test_a_numeric_entity_is_measured_as_the_character_it_shows() -> None:
    word = "&#x1F30D;" * 3000  # 3,000 emoji: 6,000 UTF-16 units

    pages = paginate(Markup(word))

    texts = shown(pages)
    assert "".join(texts) == "\U0001f30d" * 3000


# Tags across a split -------------------------------------------------------------------------


def test_a_bold_span_across_lines_is_closed_and_reopened() -> None:
    before, inside, after = lines(30), lines(30, word="gras"), lines(10, word="fin")
    source = "\n".join(before) + "\n<b>" + "\n".join(inside) + "</b>\n" + "\n".join(after)

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert len(pages) == 2
    assert pages[0].endswith("</b>")
    assert pages[1].startswith("<b>")
    assert spans(pages, "<b>", "b") == spans([source], "<b>", "b")
    assert "\n".join(texts).split() == words(source)


def test_a_bold_span_inside_a_long_paragraph_is_closed_and_reopened() -> None:
    source = (
        " ".join(["avant"] * 300) + " <b>" + " ".join(["gras"] * 600) + "</b> "
        + " ".join(["après"] * 100)
    )  # fmt: skip

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert len(pages) == 2
    assert pages[0].endswith("</b>")
    assert pages[1].startswith("<b>")
    assert spans(pages, "<b>", "b") == ["gras"] * 600
    assert "\n".join(texts).split() == words(source)


def test_nested_tags_are_reopened_in_order() -> None:
    source = "<b>gras <i>" + "\n".join(lines(60, word="penché")) + "</i> gras</b>"

    pages = paginate(Markup(source))

    shown(pages)
    assert len(pages) == 2
    assert pages[0].endswith("</i></b>")
    assert pages[1].startswith("<b><i>")
    assert pages[1].endswith("</i> gras</b>")


def test_a_link_across_lines_keeps_its_href() -> None:
    before, inside = lines(30), lines(30, word="lien")
    source = "\n".join(before) + "\n" + LINK + "\n".join(inside) + "</a>\nfin"

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert len(pages) == 2
    assert pages[0].endswith("</a>")
    assert pages[1].startswith(LINK)
    assert spans(pages, LINK, "a") == spans([source], LINK, "a")
    assert "\n".join(texts).split() == words(source)


def test_a_link_inside_a_long_paragraph_keeps_its_href() -> None:
    source = (
        " ".join(["avant"] * 300) + " " + LINK + " ".join(["lien"] * 600) + "</a> "
        + " ".join(["après"] * 100)
    )  # fmt: skip

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert len(pages) == 2
    assert pages[0].endswith("</a>")
    assert pages[1].startswith(LINK)
    assert spans(pages, LINK, "a") == ["lien"] * 600
    assert "\n".join(texts).split() == words(source)


# UTF-16 ------------------------------------------------------------------------------------


def test_a_long_emoji_word_is_measured_in_utf16() -> None:
    # 3,000 emoji: 3,000 code points, but 6,000 UTF-16 units, so two messages.
    source = "😀" * 3000

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert [utf16_length(text) for text in texts] == [TEXT_LIMIT, 6000 - TEXT_LIMIT]
    assert "".join(texts) == source


def test_lines_with_emoji_are_measured_in_utf16() -> None:
    # 60 lines of 25 raised fists of a skin tone (2 code points, 3 UTF-16 units) and a word:
    # 3,539 code points, 5,039 UTF-16 units.
    original = [f"{'✊🏽' * 25} ligne{number:02d}" for number in range(60)]
    source = "\n".join(original)
    assert len(source) < TEXT_LIMIT < utf16_length(source)

    pages = paginate(Markup(source))

    texts = shown(pages)
    assert len(texts) == 2
    assert "\n".join(texts).split("\n") == original


# Lines of words, spaces, accents, emoji, entities and tags, as replies are made of.
REPLY_LINE = st.lists(
    st.sampled_from(["mot", " ", "é", "😀", "&amp;", "<b>gras</b>", "&lt;"]), max_size=12
).map("".join)


@given(st.lists(REPLY_LINE, min_size=1, max_size=12))
def test_a_reply_that_fits_is_sent_as_written_in_one_message(reply_lines: list[str]) -> None:
    text = "\n".join(reply_lines)
    assume(reply_lines[0].strip())  # a reply starts with something to read
    assume(utf16_length(visible_text(text)) <= 200)
    pages = paginate(Markup(text), limit=200)
    # Nothing moved, joined or dropped: only trailing spaces and line breaks go.
    assert pages == [text.rstrip()]
