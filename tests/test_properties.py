"""Property tests: arbitrary HTML and text never make extraction or normalisation raise,
outputs keep their types, and normalising twice changes nothing."""

from __future__ import annotations

import re

import ftfy
from ftfy.badness import is_bad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caci_spider import text as text_rules
from caci_spider.dates import parse_dated_line, parse_issue_date, parse_k2_date
from caci_spider.items import Publication
from caci_spider.names import byline_authors as parse_authors
from caci_spider.pages.blocks import paragraphs, parse_html
from caci_spider.pages.item import K2ItemPage
from caci_spider.pages.k2 import ClassIndex, compiled_class_xpath, first_by_class
from caci_spider.pages.listing import K2ListingPage
from caci_spider.pages.staff import StaffListingPage, parse_sidebar
from caci_spider.records import build_publication, normalise_staff_publication
from caci_spider.staff.lines import read_entry_lines
from caci_spider.staff.sidebar import EntryParseError, parse_sidebar_entry
from caci_spider.text import (
    collapse_repeated_paragraphs,
    collapse_whitespace,
    normalise_paragraphs,
    normalise_text,
    repair_mojibake,
)
from caci_spider.urls import ItemRef

BASE = "https://www.cacianalyst.org"
REF = ItemRef(1, f"{BASE}/publications/field-reports/item/1-x.html", "cacianalyst")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with everything hostile: controls, surrogates, mojibake, escapes, NBSP, daggers.
hostile_text = st.lists(
    st.one_of(
        st.characters(codec=None),
        st.sampled_from(
            ["â€™", "â€œ", "†", "\\'", '\\"', "\xa0", "\u200b", "\x00", "\ud800", "\n"]
        ),
    ),
    max_size=60,
).map("".join)
tags = st.sampled_from(
    ["p", "div", "br", "span", "b", "h2", "h3", "li", "ul", "script", "style", "img", "a", "sup"]
)
classes = st.sampled_from(
    ["itemTitle", "itemDateCreated", "itemIntroText", "itemFullText", "itemHits",
     "itemDateModified", "itemTags", "itemCategory", "catItemView", "catItemTitle",
     "k2Pagination", "itemList", "itemImageBlock", ""]
)  # fmt: skip
words = st.sampled_from(
    ["By", "Staff Publications", "Read 12 times", "Wednesday, 11 February 2004", "Featured",
     "Analysis", "Published in Field Reports", "(2/11/2004 issue of the CACI Analyst)",
     "November 16th, 2015, The CACI Analyst", "Visit also", "Newsletter", "&nbsp;", "<", "&",
     "\\'", "â€™", "Svante E. Cornell", "March 28, 2022", "Silk Road Paper"]
)  # fmt: skip


@st.composite
def html_documents(draw) -> str:
    """Random nestings of K2-ish elements, classes, links and hostile text."""
    parts: list[str] = []
    depth = 0
    for _ in range(draw(st.integers(0, 40))):
        choice = draw(st.integers(0, 4))
        if choice == 0 and depth < 30:
            tag, cls = draw(tags), draw(classes)
            href = draw(st.sampled_from(["", "/publications/field-reports/item/7315-x.html",
                                         "javascript:x", "?start=4", "mailto:a@b"]))  # fmt: skip
            parts.append(f'<{tag} class="{cls}" href="{href}">')
            depth += 1
        elif choice == 1 and depth:
            parts.append(f"</{draw(tags)}>")
            depth -= 1
        elif choice == 2:
            parts.append(draw(words))
        else:
            parts.append(draw(hostile_text).replace("\x00", ""))
    return "".join(parts)


@PROPERTY
@given(hostile_text)
def test_normalise_text_is_idempotent_and_clean(text: str) -> None:
    once = normalise_text(text)
    assert isinstance(once, str)
    assert normalise_text(once) == once
    # On a page whose other texts showed mojibake, too.
    seen = normalise_text(text, mojibake_seen=True)
    assert normalise_text(seen, mojibake_seen=True) == seen
    assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in once)
    once.encode("utf-8")  # always valid UTF-8


# Mojibake-prone text: the characters ftfy's badness patterns are made of, next to ASCII, and
# letters of the region read byte by byte.
MOJIBAKE_PIECES = ["â€™", "Ã©", "Â ", "Ã\xa0", "вЂ", "√©", "\x9d", "a", " ", ".",
                   "ÄŸ", "Åž", "Ã–", "Ä±", "Ð¢", "Ã…"]  # fmt: skip
mojibake_prone_text = st.lists(
    st.one_of(
        st.characters(min_codepoint=0x80, max_codepoint=0x2122), st.sampled_from(MOJIBAKE_PIECES)
    ),
    max_size=40,
).map("".join)


# English text with typography: ASCII and the characters repair_mojibake lets pass unasked.
typographic_text = st.lists(
    st.one_of(st.characters(max_codepoint=0x7F), st.sampled_from(text_rules.TYPOGRAPHY)),
    max_size=40,
).map("".join)


def test_typography_alone_is_never_mojibake_to_ftfy() -> None:
    """The claim behind repair_mojibake's typography shortcut, for the installed ftfy: no
    pattern of ftfy's badness regex matches ASCII and typography alone. Patterns of up to
    three characters are tried exhaustively here (over the typography and an ASCII letter,
    capital, digit, space and the punctuation the patterns name); the longer ones need a
    letter outside both (Ø/Ù, Г, Ã/Â) among their first three."""
    alphabet = text_rules.TYPOGRAPHY + "aA1 .,?!\n"
    for first in alphabet:
        for second in alphabet:
            for third in alphabet:
                assert not is_bad(first + second + third)


@PROPERTY
@given(st.one_of(hostile_text, mojibake_prone_text, typographic_text))
def test_the_mojibake_shortcut_matches_ftfy(text: str) -> None:
    """repair_mojibake asks is_bad before calling ftfy: never a different answer."""
    fixed_by_ftfy = ftfy.fix_encoding(text)
    for seen, letters in (
        (False, text_rules.REGIONAL_LETTERS),
        (True, text_rules.DOCUMENT_LETTERS),
    ):
        expected = text_rules._repair_letter_sequences(fixed_by_ftfy, letters)
        if "\u2020" in expected and "\u201c" in expected:
            expected = text_rules._repair_lost_closing_quotes(expected)
        assert repair_mojibake(text, mojibake_seen=seen) == expected


@PROPERTY
@given(st.one_of(hostile_text, st.text(st.characters(categories=["Zs", "Zl", "Zp", "Cc"]))))
def test_whitespace_collapses_like_the_regex(text: str) -> None:
    assert collapse_whitespace(text) == re.sub(r"\s+", " ", text).strip()


@PROPERTY
@given(st.lists(hostile_text, max_size=12))
def test_paragraph_rules_are_idempotent(paragraphs_in: list[str]) -> None:
    cleaned = normalise_paragraphs(paragraphs_in)
    assert all(isinstance(p, str) and p for p in cleaned)
    collapsed = collapse_repeated_paragraphs(cleaned)
    assert collapse_repeated_paragraphs(collapsed) == collapsed
    assert normalise_paragraphs(collapsed) == collapsed


@PROPERTY
@given(html_documents())
def test_item_extraction_never_raises(document: str) -> None:
    page = K2ItemPage(document, REF, "t").extract()
    assert isinstance(page.paragraphs, list) and all(isinstance(p, str) for p in page.paragraphs)
    assert page.hits is None or isinstance(page.hits, int)
    report, reason, _raw = build_publication(page)
    if report is None:
        assert reason
    else:
        assert isinstance(report, Publication) and report.title and report.body
        assert isinstance(report.authors, list) and isinstance(report.tags, list)
        assert report.word_count == len(report.body.split())


@PROPERTY
@given(html_documents())
def test_listing_and_staff_pages_never_raise(document: str) -> None:
    listing = K2ListingPage(document, f"{BASE}/publications/field-reports.html", BASE,
                            "/publications/field-reports")  # fmt: skip
    assert all(e.url.startswith(BASE) for e in listing.entries())
    assert all(isinstance(s, int) for s in listing.page_starts())
    for publication in StaffListingPage.from_document(document, BASE + "/", BASE).observations("t"):
        normalise_staff_publication(publication)
    outcome = parse_sidebar(document, BASE + "/", "t")
    assert all(p.title for p in outcome.publications)


@PROPERTY
@given(html_documents().map(lambda d: d.encode("utf-8", "surrogatepass")))
def test_bytes_documents_never_raise(document: bytes) -> None:
    assert isinstance(paragraphs(parse_html(document)), list)


@PROPERTY
@given(hostile_text)
def test_text_parsers_never_raise(text: str) -> None:
    assert all(isinstance(name, str) and name for name in parse_authors(text))
    parse_k2_date(text)
    parse_issue_date(text, None)
    parse_dated_line(text, None)
    header = read_entry_lines([text, text], title=text)
    assert isinstance(header.authors, list)
    try:
        entry = parse_sidebar_entry(text)
    except EntryParseError:
        return
    assert entry.title


class_values = st.lists(
    st.tuples(
        st.sampled_from(["itemTitle", "itemHits", "itemView", "itemTitleX", "x", ""]),
        st.sampled_from([" ", "  ", "\t", "\n", "\r", "\xa0", "\x0c"]),
    ),
    max_size=4,
).map(lambda pairs: "".join(token + sep for token, sep in pairs))


@PROPERTY
@given(st.lists(st.tuples(class_values, st.integers(0, 2)), max_size=25))
def test_the_class_index_finds_what_the_class_xpath_finds(elements: list[tuple[str, int]]) -> None:
    """ClassIndex (one pass) and the class XPaths (one walk per lookup) agree on every page."""
    parts, depth = [], 0
    for value, close in elements:
        parts.append(f'<div class="{value}">x')
        depth += 1
        for _ in range(min(close, depth)):
            parts.append("</div>")
            depth -= 1
    root = parse_html("<html><body>" + "".join(parts) + "</body></html>")
    index = ClassIndex(root)
    for wanted in [("itemTitle",), ("itemHits", "itemView"), ("itemView", "itemTitle"), ("x",)]:
        assert index.first(*wanted) is first_by_class(root, *wanted)
        assert index.all(*wanted) == compiled_class_xpath(*wanted)(root)


def _title_key_by_character(title: str) -> str:
    """title_key's rule written out one character at a time (how it read before its
    translate table)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", title).translate(text_rules._QUOTE_FOLD)
    text = unicodedata.normalize("NFKC", text.casefold())
    out = []
    for ch in text:
        if ch in "'." or unicodedata.category(ch) == "Cf":
            continue
        out.append(" " if unicodedata.category(ch).startswith("P") else ch)
    return " ".join("".join(out).split())


@PROPERTY
@given(st.one_of(hostile_text, mojibake_prone_text, typographic_text))
def test_the_title_key_table_follows_the_character_rule(title: str) -> None:
    assert text_rules.title_key(title) == _title_key_by_character(title)
