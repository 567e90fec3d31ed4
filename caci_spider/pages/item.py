"""K2 item page (one publication) → :class:`~caci_spider.items.FieldReportPage`.

K2's stock classes are tried first; every field falls back on the text patterns the site is
known to print (docs/site-notes.md, "Item pages"), because the site's template overrides are
unknown.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from lxml import etree

from caci_spider.dates import K2_DATE_LINE
from caci_spider.items import FieldReportPage
from caci_spider.pages.blocks import element_text, paragraphs, parse_html
from caci_spider.pages.bylines import LAYOUTS, BylineLayout, Head, read_head
from caci_spider.pages.fields import extract as extract_fields
from caci_spider.pages.fields import field
from caci_spider.pages.k2 import (
    BODY_END,
    PRINT_THIS_PAGE,
    PUBLISHED_IN,
    ClassIndex,
    class_xpath,
    has_class,
)
from caci_spider.urls import ItemRef

_HITS = re.compile(r"\bread\s+(?P<hits>[\d,]+)\s+times\b", re.IGNORECASE)
_MODIFIED = re.compile(r"\blast\s+modified\s+on\s+(?P<date>.+?\d{4})", re.IGNORECASE)
# Looser forms of _HITS and _MODIFIED, tried on the page's raw text (one C call) before the
# block-aware walk of the whole page: a page where even these do not match has no such line.
_HITS_HINT = re.compile(r"read\s*[\d,]+\s*times", re.IGNORECASE)
_MODIFIED_HINT = re.compile(r"last\s*modified\s*on", re.IGNORECASE)
_SITE_NAMES = re.compile(
    r"^(?:the\s+)?(?:central\s+asia-caucasus\s+analyst|caci\s+analyst|(?:www\.)?cacianalyst\.org)$",
    re.IGNORECASE,
)
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—]\s+")


def _is_featured_badge(element: etree._Element) -> bool:
    return element_text(element).strip().lower() == "featured" and element.tag in (
        "sup",
        "span",
        "small",
        "em",
    )


def _is_image_chrome(element: etree._Element) -> bool:
    return element.tag == "figcaption" or has_class(
        element,
        "itemImageBlock",
        "itemImageCaption",
        "itemImageCredits",
        "wp-caption-text",
        "caption",
    )


class K2ItemPage:
    """Extraction from one K2 item view; pure, built from the HTML and its URL.

    Each field of :class:`~caci_spider.items.FieldReportPage` but the fetch time is one
    ``@field`` method, in that order; :meth:`extract` reads them. The byline and the dated line
    are read by the era layouts of :mod:`caci_spider.pages.bylines` (``BYLINE_LAYOUTS``).
    """

    DATE_CLASSES = ("itemDateCreated",)
    TITLE_CLASSES = ("itemTitle",)
    CATEGORY_CLASSES = ("itemCategory",)
    INTRO_CLASSES = ("itemIntroText",)
    FULLTEXT_CLASSES = ("itemFullText",)
    HITS_CLASSES = ("itemHits",)
    MODIFIED_CLASSES = ("itemDateModified",)
    TAG_LINK_XPATH = class_xpath("itemTags") + "//a"
    CONTAINER_CLASSES = ("itemView",)
    BYLINE_LAYOUTS: tuple[BylineLayout, ...] = LAYOUTS

    def __init__(self, document: str | bytes, ref: ItemRef, fetched_at: str) -> None:
        self.root = parse_html(document)
        self.ref = ref
        self.fetched_at = fetched_at
        self._page_lines: list[str] | None = None
        self._classes: ClassIndex | None = None

    @property
    def classes(self) -> ClassIndex:
        if self._classes is None:
            self._classes = ClassIndex(self.root)
        return self._classes

    # -- whole-page text, for the fallbacks -------------------------------------------------
    @property
    def page_lines(self) -> list[str]:
        if self._page_lines is None:
            body = self.root.find("body")
            self._page_lines = paragraphs(body if body is not None else self.root)
        return self._page_lines

    # -- fields ----------------------------------------------------------------------------
    @field
    def id(self) -> int | None:
        return self.ref.id

    @field
    def url(self) -> str:
        return self.ref.url

    @field
    def section(self) -> str | None:
        element = self.classes.first(*self.CATEGORY_CLASSES)
        if element is not None:
            links = [element_text(a) for a in element.iter("a")]
            text = next((t for t in links if t), None) or element_text(element)
            match = PUBLISHED_IN.match(text)
            return match["section"] if match else text or None
        for line in self.page_lines:
            match = PUBLISHED_IN.match(line)
            if match:
                return match["section"]
        return None

    @field
    def title(self) -> str | None:
        return self._found_title

    @field
    def date_line(self) -> str | None:
        element = self.classes.first(*self.DATE_CLASSES)
        text = element_text(element)
        if text:
            return text
        return next((line for line in self.page_lines if K2_DATE_LINE.match(line)), None)

    @field
    def byline(self) -> str | None:
        return self.head.byline

    @field
    def dated_line(self) -> str | None:
        return self.head.dated_line

    @field
    def paragraphs(self) -> list[str]:
        return self.head.body

    @field
    def hits(self) -> int | None:
        return self._footer_number(self.HITS_CLASSES, _HITS, "hits", _HITS_HINT)

    @field
    def modified_line(self) -> str | None:
        return self._footer_number(self.MODIFIED_CLASSES, _MODIFIED, "date", _MODIFIED_HINT)

    @field
    def tags(self) -> list[str]:
        tags: list[str] = []
        for link in self.root.xpath(self.TAG_LINK_XPATH):
            text = element_text(link)
            if text and text not in tags:
                tags.append(text)
        return tags

    def extract(self) -> FieldReportPage:
        return FieldReportPage(fetched_at=self.fetched_at, **extract_fields(self))

    # -- how the fields are found ----------------------------------------------------------
    @cached_property
    def _found_title(self) -> str | None:
        return self._find_title()

    def _find_title(self) -> str | None:
        element = self.classes.first(*self.TITLE_CLASSES)
        text = element_text(element, skip=_is_featured_badge)
        if text:
            return text
        for meta in self.root.xpath(".//meta[@property='og:title']/@content"):
            if meta.strip():
                return meta.strip()
        return self._title_from_head()

    def _title_from_head(self) -> str | None:
        head_title = self.root.findtext(".//title") or ""
        parts = [p for p in _TITLE_SEPARATORS.split(head_title.strip()) if p]
        parts = [p for p in parts if not _SITE_NAMES.match(p.strip())]
        title = " - ".join(parts).strip()
        return title or None

    @cached_property
    def head(self) -> Head:
        """Byline, dated line and body paragraphs, read by the era layout that fits the page."""
        return read_head(self.content_paragraphs(), self.title(), self.BYLINE_LAYOUTS)

    def content_paragraphs(self) -> list[str]:
        """Byline, dated line and body, in order, chrome removed."""
        blocks = [
            element
            for element in self.root.xpath(class_xpath(*self.INTRO_CLASSES, *self.FULLTEXT_CLASSES))
            if not any(
                has_class(a, *self.INTRO_CLASSES, *self.FULLTEXT_CLASSES)
                for a in element.iterancestors()
            )
        ]
        lines = paragraphs(blocks, skip=_is_image_chrome) if blocks else self._content_from_text()
        return _cut_at_body_end(lines)

    def _content_from_text(self) -> list[str]:
        """No K2 body classes: the text after the header lines, up to the first tail line.

        The header is the first cluster of date line / title / "Published in" lines; the body
        ends at the first tail line after it, so chrome printed before the article (a sidebar,
        a newsletter box) cannot swallow it.
        """
        container = self.classes.first(*self.CONTAINER_CLASSES)
        lines = (
            paragraphs(container, skip=_is_image_chrome)
            if container is not None
            else self.page_lines
        )
        title = self.title()
        header = [
            index
            for index, line in enumerate(lines)
            if K2_DATE_LINE.match(line)
            or PUBLISHED_IN.match(line)
            or PRINT_THIS_PAGE.match(line)
            or (title and line == title)
        ]
        start = 0
        for index in header:
            if start and index > start + 1:
                break  # the next header-like line is far away: not part of this cluster
            start = index + 1
        return _cut_at_body_end(lines[start:])

    def _footer_number(
        self,
        classes: tuple[str, ...],
        pattern: re.Pattern[str],
        group: str,
        hint: re.Pattern[str],
    ) -> Any:
        """A footer value from its K2 element, else from the page text (walked only then)."""
        element = self.classes.first(*classes)
        if element is not None:
            texts = [element_text(element)]
        elif hint.search(self.root.text_content()):
            texts = self.page_lines
        else:
            return None
        for text in texts:
            match = pattern.search(text)
            if match:
                value = match[group]
                return int(value.replace(",", "")) if group == "hits" else value
        return None


def _cut_at_body_end(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if BODY_END.match(line):
            return lines[:index]
    return lines
