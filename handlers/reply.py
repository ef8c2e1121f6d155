"""Sending replies: HTML, and split to fit Telegram's 4,096 characters per message."""

import re
from collections.abc import Iterator

from markupsafe import Markup

from bot.local_api.html import TEXT_LIMIT, utf16_length

# A tag, an entity, or one plain character: the pieces a split may fall between.
_PIECE = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|[^<&]", re.DOTALL)
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")


def paginate(text: Markup, limit: int = TEXT_LIMIT) -> list[str]:
    """Split HTML into messages of at most `limit` visible characters.

    Splits fall at a line break where possible, else at a space, else anywhere but inside a
    tag or an entity; tags open at a split are closed before it and reopened after it.
    """
    pages: list[str] = []
    page: list[str] = []
    visible = 0
    open_tags: list[tuple[str, str]] = []  # (name, the whole opening tag)
    for unit in _units(str(text), limit):
        size = _visible_size(unit)
        if visible + size > limit and page:
            pages.append(_finish(page, open_tags))
            page = [opening for _, opening in open_tags]
            visible = 0
            unit = unit.lstrip("\n")
            size = _visible_size(unit)
        page.append(unit)
        visible += size
        _track(unit, open_tags)
    if "".join(page).strip():
        pages.append(_finish(page, open_tags))
    return pages


def _units(html: str, limit: int) -> Iterator[str]:
    """Lines (with their break) while short; longer lines by words; longer words by pieces."""
    for line in html.splitlines(keepends=True):
        if _visible_size(line) <= limit // 2:
            yield line
            continue
        for word in re.split(r"(?<= )", line):
            if _visible_size(word) <= limit // 2:
                yield word
            else:
                yield from _PIECE.findall(word)


def _visible_size(html: str) -> int:
    text = re.sub(r"<[^>]*>", "", html)
    return utf16_length(re.sub(r"&[#a-zA-Z0-9]+;", "&", text))


def _track(html: str, open_tags: list[tuple[str, str]]) -> None:
    for tag in re.findall(r"<[^>]*>", html):
        match = _TAG_NAME.match(tag)
        if match is None:
            continue
        if tag.startswith("</"):
            if open_tags and open_tags[-1][0] == match[1]:
                open_tags.pop()
        else:
            open_tags.append((match[1], tag))


def _finish(page: list[str], open_tags: list[tuple[str, str]]) -> str:
    closing = "".join(f"</{name}>" for name, _ in reversed(open_tags))
    return "".join(page).rstrip("\n") + closing
