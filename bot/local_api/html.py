"""Telegram's HTML parse mode, strictly: what a message shows, or why Telegram refuses it."""

import re
from html import unescape

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
_TAG = re.compile(
    r"<(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)"
    r"(?P<attrs>(?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\"|='[^'<>]*'|=[^\s\"'<>]+)?)*)\s*>"
)
# The four named entities Telegram knows, and numeric ones.
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class ParseError(ValueError):
    """Worded as Telegram words it after "Bad Request: "."""


def utf16_length(text: str) -> int:
    """Telegram counts lengths and offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(source: str) -> str:
    """The text a person sees for an HTML message; raises ParseError like Telegram."""
    shown: list[str] = []
    open_tags: list[str] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "<":
            tag = _TAG.match(source, position)
            if tag is None:
                raise ParseError(f"can't parse entities: unexpected '<' at byte offset {position}")
            name = tag["name"].lower()
            if name not in _TAGS:
                raise ParseError(f'can\'t parse entities: unsupported start tag "{name}"')
            if tag["close"]:
                if not open_tags or open_tags[-1] != name:
                    raise ParseError(f'can\'t parse entities: unmatched end tag "{name}"')
                open_tags.pop()
            else:
                open_tags.append(name)
            position = tag.end()
        elif char == "&":
            entity = _ENTITY.match(source, position)
            if entity is None:
                raise ParseError(f"can't parse entities: unsupported entity at offset {position}")
            shown.append(unescape(entity.group()))
            position = entity.end()
        elif char == ">":
            raise ParseError(f"can't parse entities: unescaped '>' at offset {position}")
        else:
            shown.append(char)
            position += 1
    if open_tags:
        raise ParseError(
            f"can't parse entities: can't find end tag corresponding to {open_tags[-1]}"
        )
    return "".join(shown)


def message_text(source: str, parse_mode: str | None, limit: int = TEXT_LIMIT) -> str:
    """Check a text as sendMessage does and return what the recipient sees."""
    shown = visible_text(source) if (parse_mode or "").upper() == "HTML" else source
    if parse_mode and parse_mode.upper() not in ("HTML", "MARKDOWN", "MARKDOWNV2"):
        raise ParseError(f"unsupported parse_mode {parse_mode}")
    if not shown.strip():
        raise ParseError("message text is empty")
    if utf16_length(shown) > limit:
        raise ParseError("message is too long")
    return shown
