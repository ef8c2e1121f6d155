"""Telegram's HTML parse mode, strictly: what a message shows, or why Telegram refuses it."""

import re
from html import escape, unescape

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


# How each Telegram tag is shown in a browser; attributes are dropped except a link's target.
_BROWSER_TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s",
    "strike": "s", "del": "s", "span": "span", "tg-spoiler": "span", "tg-emoji": "span",
    "a": "a", "code": "code", "pre": "pre", "blockquote": "blockquote",
}  # fmt: skip
_HREF = re.compile(r"""href=(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<bare>[^\s"'<>]+))""")
_SAFE_LINK = re.compile(r"(?:https?|tg)://", re.IGNORECASE)
# A web address in plain text, which Telegram's apps show as a link.
_BARE_URL = re.compile(r"https?://[^\s<>\"']+")


def browser_html(source: str, parse_mode: str | None) -> str:
    """A message as a web page may show it: the formatting kept, nothing else let through.

    `source` is a text this server accepted, so its tags are Telegram's and balanced.
    """
    if (parse_mode or "").upper() != "HTML":
        return _linked(escape(source, quote=False))
    shown: list[str] = []
    position = 0
    in_link = False
    for tag in _TAG.finditer(source):
        text = source[position : tag.start()]
        shown.append(text if in_link else _linked(text))
        position = tag.end()
        name = _BROWSER_TAGS[tag["name"].lower()]
        if name == "a":
            in_link = not tag["close"]
        if tag["close"]:
            shown.append(f"</{name}>")
        elif name == "span" and tag["name"].lower() != "tg-emoji":
            shown.append('<span class="spoiler">')
        elif name == "a":
            href = _HREF.search(tag["attrs"])
            target = unescape(next(g for g in href.groups() if g is not None)) if href else ""
            shown.append(
                f'<a href="{escape(target)}" rel="noopener noreferrer" target="_blank">'
                if _SAFE_LINK.match(target)
                else "<a>"
            )
        else:
            shown.append(f"<{name}>")
    shown.append(_linked(source[position:]))
    return "".join(shown)


def _linked(text: str) -> str:
    """Escaped text with its web addresses made links."""
    return _BARE_URL.sub(
        lambda url: f'<a href="{url[0]}" rel="noopener noreferrer" target="_blank">{url[0]}</a>',
        text,
    )
