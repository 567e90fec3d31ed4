"""Block-aware text extraction from lxml elements.

Adjacent blocks never glue (``terrorism</p><p>10 January`` gives two paragraphs), two consecutive
``<br>`` separate paragraphs as ``</p><p>`` does (legacy imports use them), a single ``<br>`` is a
space, and images contribute nothing (their alt text is what leaks into text copies of the site).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from caci_spider.text import collapse_whitespace

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "noscript",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
# Never text: code, embedded objects and form widgets.
SKIPPED_TAGS = frozenset(
    [
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "select",
        "option",
        "textarea",
        "button",
        "head",
    ]
)

ElementFilter = Callable[[etree._Element], bool]
# huge_tree lifts libxml2's nesting limit, which would otherwise drop deep content silently.
_PARSER = lxml.html.HTMLParser(huge_tree=True)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse_html(document: str | bytes) -> lxml.html.HtmlElement:
    """Parse a whole page; an empty or unparseable document gives an empty ``<html>``."""
    if isinstance(document, bytes):
        # The same decoding Scrapy applies to responses: BOM, <meta> or XML declaration,
        # else UTF-8 with a windows-1252 fallback.
        _encoding, document = html_to_unicode(None, document)
    # lxml refuses a str that declares an encoding; old Joomla templates print one.
    document = _XML_DECLARATION.sub("", document).strip() or "<html></html>"
    try:
        return lxml.html.document_fromstring(document, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>")


def paragraphs(
    roots: etree._Element | Iterable[etree._Element],
    skip: ElementFilter | None = None,
    breaks_per_paragraph: int = 2,
) -> list[str]:
    """Text of ``roots`` as whitespace-collapsed paragraphs, in document order.

    ``skip`` marks subtrees (e.g. image captions, sidebars) to leave out entirely.
    ``breaks_per_paragraph`` consecutive ``<br>`` end a paragraph: 2 for article text, 1 for
    lists written one entry per line.
    """
    if isinstance(roots, etree._Element):
        roots = [roots]
    out: list[str] = []
    for root in roots:
        _collect(root, out, skip, breaks_per_paragraph)
    return out


def element_text(element: etree._Element | None, skip: ElementFilter | None = None) -> str:
    """All text of one element as a single whitespace-collapsed line."""
    if element is None:
        return ""
    return " ".join(paragraphs(element, skip))


def _collect(
    root: etree._Element, out: list[str], skip: ElementFilter | None, breaks_per_paragraph: int
) -> None:
    buffer: list[str] = []
    pending_breaks = 0

    def flush() -> None:
        nonlocal pending_breaks
        pending_breaks = 0
        text = collapse_whitespace("".join(buffer))
        buffer.clear()
        if text:
            out.append(text)

    # Explicit stack instead of recursion: hostile pages may nest deeper than Python's limit.
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else None
        if closing:
            if tag in BLOCK_TAGS:
                flush()
            if element.tail and element is not root:
                buffer.append(element.tail)
                if element.tail.strip():
                    pending_breaks = 0
            continue
        stack.append((element, True))
        if tag is None or tag in SKIPPED_TAGS or (skip is not None and skip(element)):
            continue  # comments, scripts, skipped subtrees: only their tail counts
        if tag == "br":
            pending_breaks += 1
            if pending_breaks >= breaks_per_paragraph:
                flush()
            else:
                buffer.append(" ")
            continue
        if tag in BLOCK_TAGS:
            flush()
        if element.text:
            buffer.append(element.text)
            if element.text.strip():
                pending_breaks = 0
        stack.extend((child, False) for child in reversed(element))
    flush()
