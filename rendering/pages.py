"""Replies in HTML, split into messages that fit Telegram's 4,096 characters, tags balanced."""

import re
from html import unescape

from markupsafe import Markup
from telegram.constants import MessageLimit

# Telegram's limit on a message's text, in UTF-16 code units of what the person sees.
TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)

# Tags and entities are atoms a split never enters; words and spaces are where it prefers to.
_TOKEN = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|\s+|[^<&\s]+")
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")


def paginate(text: Markup, limit: int = TEXT_LIMIT) -> list[str]:
    """Split HTML into messages of at most `limit` visible characters.

    A line that fits on a new page is moved there whole; a longer one is split at spaces, and a
    word longer than a page anywhere but inside a tag or an entity. Tags open at a split are
    closed before it and reopened after it.
    """
    pager = _Pager(limit)
    source = str(text)
    first_line = source.split("\n", 1)[0]
    if visible_size(source) <= limit and first_line.strip() and visible_size(first_line):
        # One page, whose first line shows more than spaces: what the walk below makes of it,
        # in one step instead of one per line (most replies).
        pager.add_fragment(source)
        return pager.finish()
    for line in source.split("\n"):
        pager.add_line(line)
    return pager.finish()


def visible_size(html: str) -> int:
    """The UTF-16 length Telegram counts for an HTML fragment: tags count 0, entities 1 char."""
    text = re.sub(r"<[^>]*>", "", html)
    return utf16_length(unescape(text))


def utf16_length(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units: an emoji beyond the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


class _Pager:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pages: list[str] = []
        self.page: list[str] = []
        self.visible = 0
        self.open_tags: list[tuple[str, str]] = []  # (name, the whole opening tag)

    def add_line(self, line: str) -> None:
        size = visible_size(line)
        if self.visible and self.visible + 1 + size <= self.limit:
            self._append("\n")
            self._append(line)
            return
        if self.visible:
            self._break()
        if size <= self.limit:
            self._append(line)
            return
        for token in _TOKEN.findall(line):
            self._add_token(token)

    def add_fragment(self, html: str) -> None:
        """Add HTML as it is, on the current page."""
        self._append(html)

    def _add_token(self, token: str) -> None:
        size = visible_size(token)
        if size > self.limit:  # one word longer than a page: cut it anywhere
            for char in token:
                self._add_token(char)
            return
        if self.visible + size > self.limit:
            self._break()
            if token.isspace():
                return
        self._append(token)

    def _append(self, html: str) -> None:
        if not self.visible and not html.strip() and "<" not in html:
            return  # no page starts with blank lines or spaces
        self.page.append(html)
        self.visible += visible_size(html)
        for tag in re.findall(r"<[^>]*>", html):
            match = _TAG_NAME.match(tag)
            if match is None:
                continue
            if not tag.startswith("</"):
                self.open_tags.append((match[1], tag))
            elif self.open_tags and self.open_tags[-1][0] == match[1]:
                self.open_tags.pop()

    def _break(self) -> None:
        closing = "".join(f"</{name}>" for name, _ in reversed(self.open_tags))
        self.pages.append("".join(self.page).rstrip() + closing)
        self.page = [opening for _, opening in self.open_tags]
        self.visible = 0

    def finish(self) -> list[str]:
        if self.visible:
            self._break()
        return self.pages
