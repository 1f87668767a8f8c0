"""Telegram's HTML parse mode, refused where Telegram refuses it, so tests catch broken markup.

`parse_html` returns what Telegram would show (visible text and MessageEntity dicts) or raises
HtmlParseError with the text Telegram puts after "can't parse entities: ". It imports only the
standard library, so handler tests can check every reply offline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["HtmlParseError", "parse_html", "utf16_len"]

JSONDict = dict[str, Any]


class HtmlParseError(ValueError):
    """Raised by `parse_html` with the text Telegram puts after "can't parse entities: "."""


_HTML_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")
_TAG_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]+")
_SPACE_RE = re.compile(r"\s*")
_UNQUOTED_RE = re.compile(r"[^\s>]*")


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports HTML errors at UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, pos: int, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at `pos`; None means keep "&" literally (Telegram's lax mode)."""
    match = _ENTITY_RE.match(text, pos)
    if match:
        name = match.group(1)
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), match.end()
        elif name in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[name], match.end()
        if strict:
            raise HtmlParseError(
                f'Unsupported HTML entity "{match.group(0)}" at byte offset '
                f"{_byte_offset(text, pos)}; only &lt; &gt; &amp; &quot; and numeric "
                "entities are supported"
            )
        return None
    if strict:
        raise HtmlParseError(
            f"Character '&' must be escaped as &amp; at byte offset {_byte_offset(text, pos)}"
        )
    return None


def _parse_attributes(
    text: str, pos: int, tag: str, start: int, strict: bool
) -> tuple[dict[str, str], int]:
    """Read `name="value"` pairs up to the closing ">" of a start tag; return them and the end."""
    attrs: dict[str, str] = {}
    while True:
        pos = _SPACE_RE.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        if text[pos] == ">":
            return attrs, pos + 1
        name_match = _ATTR_NAME_RE.match(text, pos)
        if not name_match:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, start)}"
            )
        name = name_match.group(0).lower()
        pos = _SPACE_RE.match(text, name_match.end()).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] != "=":
            attrs[name] = ""
            continue
        pos = _SPACE_RE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        quote = text[pos]
        if quote in "\"'":
            end = text.find(quote, pos + 1)
            if end < 0:
                raise HtmlParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, start)}'
                )
            raw, pos = text[pos + 1 : end], end + 1
        else:
            value_match = _UNQUOTED_RE.match(text, pos)
            assert value_match is not None
            raw, pos = value_match.group(0), value_match.end()
        attrs[name] = _unescape(raw, strict)


def _unescape(raw: str, strict: bool) -> str:
    """Decode entities inside an attribute value with the same rules as text."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            decoded = _decode_entity(raw, i, strict)
            if decoded:
                out.append(decoded[0])
                i = decoded[1]
                continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML parse mode into (visible text, entities), raising HtmlParseError.

    Mirrors tdlib's rules: only Telegram's tags, properly nested and closed, "<" always starts
    a tag. With `strict` (the default) a bare "&" or a named entity other than
    &lt; &gt; &amp; &quot; is an error too (real Telegram keeps them literally), so forgotten
    escaping is caught in tests.
    """
    out: list[str] = []
    out_len = 0  # UTF-16 length of the visible text so far
    stack: list[tuple[str, int, dict[str, str], int]] = []  # tag, offset, attrs, text index
    entities: list[JSONDict] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i, strict)
            if decoded:
                out.append(decoded[0])
                out_len += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            out_len += utf16_len(ch)
            i += 1
            continue
        start = i
        if i + 1 < n and text[i + 1] == "/":
            name_match = _TAG_NAME_RE.match(text, i + 2)
            assert name_match is not None
            name = name_match.group(0).lower()
            end = _SPACE_RE.match(text, name_match.end()).end()  # type: ignore[union-attr]
            if end >= n or text[end] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, start)}")
            if not stack:
                raise HtmlParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, start)}"
                )
            open_tag, offset, attrs, _ = stack[-1]
            if name != open_tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, start)}, "
                    f'expected "</{open_tag}>", found "</{name}>"'
                )
            stack.pop()
            entity = _make_entity(open_tag, offset, out_len - offset, attrs, stack)
            if entity is not None:
                entities.append(entity)
            i = end + 1
            continue
        name_match = _TAG_NAME_RE.match(text, i + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if name not in _HTML_TAG_ENTITY:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, start)}'
            )
        attrs, i = _parse_attributes(text, name_match.end(), name, start, strict)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError('Tag "tg-emoji" must have a numeric attribute "emoji-id"')
        stack.append((name, out_len, attrs, start))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _make_entity(
    tag: str,
    offset: int,
    length: int,
    attrs: Mapping[str, str],
    outer: list[tuple[str, int, dict[str, str], int]],
) -> JSONDict | None:
    """Turn a closed tag into a MessageEntity dict, or None where Telegram drops it."""
    if length == 0:
        return None
    kind = _HTML_TAG_ENTITY[tag]
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "code" and outer and outer[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        language = attrs.get("class", "")
        if language.startswith("language-"):
            outer[-1][2]["__language"] = language.removeprefix("language-")
        return None
    elif tag == "pre" and attrs.get("__language"):
        entity["language"] = attrs["__language"]
    return entity
