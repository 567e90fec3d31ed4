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

from caci_spider.dates import DATED_SUFFIX, ISSUE_PARENTHETICAL, K2_DATE_LINE, is_dated_line
from caci_spider.items import FieldReportPage
from caci_spider.names import BYLINE_START, looks_like_name_line
from caci_spider.pages.blocks import element_text, paragraphs, parse_html
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
# How many leading body paragraphs may hold the byline and the dated line.
_BYLINE_WINDOW = 3


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
    """Extraction from one K2 item view; pure, built from the HTML and its URL."""

    DATE_CLASSES = ("itemDateCreated",)
    TITLE_CLASSES = ("itemTitle",)
    CATEGORY_CLASSES = ("itemCategory",)
    INTRO_CLASSES = ("itemIntroText",)
    FULLTEXT_CLASSES = ("itemFullText",)
    HITS_CLASSES = ("itemHits",)
    MODIFIED_CLASSES = ("itemDateModified",)
    TAG_LINK_XPATH = class_xpath("itemTags") + "//a"
    CONTAINER_CLASSES = ("itemView",)

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
    def date_line(self) -> str | None:
        element = self.classes.first(*self.DATE_CLASSES)
        text = element_text(element)
        if text:
            return text
        return next((line for line in self.page_lines if K2_DATE_LINE.match(line)), None)

    def title(self) -> str | None:
        return self._found_title

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

    def split_byline(self, lines: list[str]) -> tuple[str | None, str | None, list[str]]:
        """(byline, dated line, body paragraphs) from the content paragraphs.

        2000–14: ``By NAME (M/D/YYYY issue …)``; 2015+: ``By NAME`` or a bare name line, then a
        dated line; a paragraph repeating the title before them is dropped, and so are later
        repeats of the byline and dated line (K2 repeats the intro at the head of the full
        text). A byline glued to the next line by a single ``<br>`` is split first.
        """
        title = self.title()
        lines = list(lines)
        while lines and title and lines[0].strip() == title.strip():
            lines.pop(0)
        lines = _unglue_head(lines[:_BYLINE_WINDOW]) + lines[_BYLINE_WINDOW:]
        byline, dated, body = _find_byline(lines[:_BYLINE_WINDOW], lines)
        return byline, dated, [line for line in body if line not in (byline, dated)]

    def hits(self) -> int | None:
        return self._footer_number(self.HITS_CLASSES, _HITS, "hits", _HITS_HINT)

    def modified_line(self) -> str | None:
        return self._footer_number(self.MODIFIED_CLASSES, _MODIFIED, "date", _MODIFIED_HINT)

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

    def tags(self) -> list[str]:
        tags: list[str] = []
        for link in self.root.xpath(self.TAG_LINK_XPATH):
            text = element_text(link)
            if text and text not in tags:
                tags.append(text)
        return tags

    def extract(self) -> FieldReportPage:
        byline, dated_line, body = self.split_byline(self.content_paragraphs())
        return FieldReportPage(
            id=self.ref.id,
            url=self.ref.url,
            fetched_at=self.fetched_at,
            section=self.section(),
            title=self.title(),
            date_line=self.date_line(),
            byline=byline,
            dated_line=dated_line,
            paragraphs=body,
            hits=self.hits(),
            modified_line=self.modified_line(),
            tags=self.tags(),
        )


def _unglue_head(window: list[str]) -> list[str]:
    """Split a byline glued to its dated line or to the lead by a single ``<br>``."""
    out: list[str] = []
    for line in window:
        issue = ISSUE_PARENTHETICAL.search(line)
        dated = DATED_SUFFIX.search(line)
        if BYLINE_START.match(line) and issue and line[issue.end() :].strip():
            out += [line[: issue.end()].strip(), line[issue.end() :].strip()]
        elif dated and dated.start() > 0:
            name = line[: dated.start()].strip()
            if BYLINE_START.match(name) or looks_like_name_line(name):
                out += [name, dated["dated"].strip()]
            else:
                out.append(line)
        else:
            out.append(line)
    return out


def _find_byline(window: list[str], lines: list[str]) -> tuple[str | None, str | None, list[str]]:
    for index, line in enumerate(window):
        following = window[index + 1] if index + 1 < len(window) else None
        if BYLINE_START.match(line) and len(line) < 400:
            if following is not None and is_dated_line(following):
                return line, following, lines[:index] + lines[index + 2 :]
            return line, None, lines[:index] + lines[index + 1 :]
        if following is not None and is_dated_line(following) and looks_like_name_line(line):
            return line, following, lines[:index] + lines[index + 2 :]
        if is_dated_line(line):
            return None, line, lines[:index] + lines[index + 1 :]
    return None, None, lines


def _cut_at_body_end(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if BODY_END.match(line):
            return lines[:index]
    return lines
