"""The HTML checker refuses what Telegram refuses and reports entities as Telegram counts them."""

from __future__ import annotations

import pytest

from tests.e2e.telegram_html import HtmlParseError, parse_html, utf16_len


def test_every_telegram_tag_becomes_its_entity() -> None:
    text, entities = parse_html(
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">p</span>'
        '<blockquote expandable>q</blockquote><pre><code class="language-python">c</code></pre>'
        "<u>u</u><s>s</s><del>d</del><ins>i</ins><em>e</em><strong>b</strong><code>x</code>"
    )
    assert text == "spqcusdiebx"
    assert [e["type"] for e in entities] == [
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "pre",
        "underline",
        "strikethrough",
        "strikethrough",
        "underline",
        "italic",
        "bold",
        "code",
    ]
    assert entities[3] == {"type": "pre", "offset": 3, "length": 1, "language": "python"}


def test_offsets_count_utf16_units_like_telegram() -> None:
    """An emoji outside the BMP takes two units, so what follows starts at 2."""
    assert utf16_len("😀") == 2
    assert parse_html("😀<b>y</b>") == ("😀y", [{"type": "bold", "offset": 2, "length": 1}])


def test_nested_entities_come_outer_first() -> None:
    assert parse_html("<b>a<i>b</i></b>")[1] == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 1, "length": 1},
    ]


def test_links_decode_their_href_and_drop_without_one() -> None:
    text, entities = parse_html("<a href='https://e.org/?a=1&amp;b=2'>y</a><a>z</a>")
    assert text == "yz"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://e.org/?a=1&b=2"}
    ]


def test_tags_are_case_insensitive_and_empty_ones_vanish() -> None:
    assert parse_html("<B>x</B>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])
    assert parse_html("<b></b>x") == ("x", [])


def test_the_four_named_entities_and_numeric_ones_decode() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#191;&#xF1;") == ('<>&"¿ñ', [])


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("ñ<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 2'),  # UTF-8 bytes
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b x", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<tg-emoji emoji-id="x">a</tg-emoji>', 'Tag "tg-emoji" must have a numeric'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("&#xD800;", 'Unsupported HTML entity "&#xD800;"'),
        ("a & b", "Character '&' must be escaped as &amp; at byte offset 2"),
    ],
)
def test_broken_markup_is_refused_with_telegrams_reason(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value).startswith(error)


def test_lax_mode_keeps_a_bare_ampersand_like_telegram() -> None:
    """Telegram itself shows a stray "&" or "&nbsp;" literally; only strict mode refuses them."""
    assert parse_html("a & b &nbsp; c > d", strict=False) == ("a & b &nbsp; c > d", [])
    with pytest.raises(HtmlParseError):
        parse_html("a < b", strict=False)
