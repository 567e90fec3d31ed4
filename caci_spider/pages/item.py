"""An item page (one publication) → :class:`~caci_spider.items.FieldReportPage`.

Three page objects, one per route to the fields, chosen per page by :func:`item_page`:

* :class:`K2ItemPage`: K2's item view. Each field is read from K2's classes first and falls
  back on its text route when the class is absent (a template override renamed it);
* :class:`TextItemPage`: the text route alone, K2's class names ignored: the body is what lies
  between the head (date line, title, "Published in", toolbar lines) and the first footer line
  (hits, "Last modified", tags, navigation, sidebars); hits, modified and tags come from their
  printed forms. The fixture harness holds it to the same oracles as the classes;
* :class:`JoomlaArticlePage`: Joomla's own article view (``com_content``), what a K2 site
  becomes when it moves to Joomla 4/5 and keeps its URLs.

The text forms are those the site is known to print (docs/site-notes.md, "Item pages").
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from typing import Any

import lxml.html
from lxml import etree

from caci_spider.dates import K2_DATE_LINE, k2_date_text
from caci_spider.items import FieldReportPage
from caci_spider.pages.blocks import element_text, paragraphs, parse_html
from caci_spider.pages.bylines import LAYOUTS, BylineLayout, Head, read_head
from caci_spider.pages.fields import extract as extract_fields
from caci_spider.pages.fields import field
from caci_spider.pages.k2 import (
    BODY_END,
    HEAD_CHROME,
    PUBLISHED_IN,
    TAGGED_UNDER,
    ClassIndex,
    class_xpath,
    has_class,
)
from caci_spider.quality import is_site_title
from caci_spider.urls import ItemRef

# K2 prints "Read 3871 times" and "Last modified on <date>"; Joomla "Hits: 3871" and
# "Last Updated: <date>".
_HITS = re.compile(r"\b(?:read\s+(?P<hits>[\d,]+)\s+times\b|hits:\s*(?P<joomla>[\d,]+))", re.I)
_MODIFIED = re.compile(r"\blast\s+(?:modified\s+on|updated:?)\s+(?P<date>.+?\d{4})", re.I)
# Looser forms of _HITS and _MODIFIED, tried on the page's raw text (one C call) before the
# block-aware walk of the whole page: a page where even these do not match has no such line.
_HITS_HINT = re.compile(r"read\s*[\d,]+\s*times|hits:", re.IGNORECASE)
_MODIFIED_HINT = re.compile(r"last\s*(?:modified\s*on|updated)", re.IGNORECASE)
# A date printed after a label: "Published: 28 March 2022" (Joomla's info block).
_LABELLED_DATE = re.compile(r"^(?:published|created)(?:\s+on)?:?\s+(?P<date>.+)$", re.IGNORECASE)
# The longest caption (with credits) an image block may carry; longer text is article text.
_MAX_CAPTION = 300
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—]\s+")


def _is_featured_badge(element: etree._Element) -> bool:
    return element_text(element).strip().lower() == "featured" and element.tag in (
        "sup",
        "span",
        "small",
        "em",
    )


def _is_image_chrome(element: etree._Element) -> bool:
    return (
        element.tag == "figcaption"
        or has_class(
            element,
            "itemImageBlock",
            "itemImageCaption",
            "itemImageCredits",
            "wp-caption-text",
            "caption",
        )
        or _is_image_block(element)
    )


def _is_image_block(element: etree._Element) -> bool:
    """An image with its caption and credits, recognised without classes: a wrapper (not a
    paragraph) holding an image and no more than a caption's worth of text."""
    if element.tag not in ("div", "span", "figure", "table"):
        return False
    if next(element.iter("img"), None) is None or next(element.iter("p"), None) is not None:
        return False
    return len("".join(element.itertext()).strip()) <= _MAX_CAPTION


class K2ItemPage:
    """Extraction from one K2 item view; pure, built from the HTML and its URL.

    Each field of :class:`~caci_spider.items.FieldReportPage` but the fetch time is one
    ``@field`` method, in that order; :meth:`extract` reads them. The byline and the dated line
    are read by the era layouts of :mod:`caci_spider.pages.bylines` (``BYLINE_LAYOUTS``).
    """

    DATE_CLASSES: tuple[str, ...] = ("itemDateCreated",)
    TITLE_CLASSES: tuple[str, ...] = ("itemTitle",)
    CATEGORY_CLASSES: tuple[str, ...] = ("itemCategory",)
    INTRO_CLASSES: tuple[str, ...] = ("itemIntroText",)
    FULLTEXT_CLASSES: tuple[str, ...] = ("itemFullText",)
    HITS_CLASSES: tuple[str, ...] = ("itemHits",)
    MODIFIED_CLASSES: tuple[str, ...] = ("itemDateModified",)
    TAG_LINK_XPATH: str = class_xpath("itemTags") + "//a"
    CONTAINER_CLASSES: tuple[str, ...] = ("itemView",)
    BYLINE_LAYOUTS: tuple[BylineLayout, ...] = LAYOUTS

    def __init__(
        self, document: str | bytes | lxml.html.HtmlElement, ref: ItemRef, fetched_at: str
    ) -> None:
        self.root = document if isinstance(document, etree._Element) else parse_html(document)
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
            self._page_lines = paragraphs(
                body if body is not None else self.root, skip=_is_image_chrome
            )
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
        return self._section_from_text()

    @field
    def title(self) -> str | None:
        return self._found_title

    @field
    def date_line(self) -> str | None:
        element = self.classes.first(*self.DATE_CLASSES)
        text = element_text(element)
        if text:
            return text
        return self._date_line_from_text()

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
        links = self.root.xpath(self.TAG_LINK_XPATH) if self.TAG_LINK_XPATH else []
        tags: list[str] = []
        for link in links or self._tag_links_from_text():
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

    def _section_from_text(self) -> str | None:
        for line in self.page_lines:
            match = PUBLISHED_IN.match(line)
            if match:
                return match["section"]
        return None

    def _date_line_from_text(self) -> str | None:
        for line in self.page_lines:
            if K2_DATE_LINE.match(line):
                return line
            labelled = _LABELLED_DATE.match(line)
            if labelled and K2_DATE_LINE.match(labelled["date"]):
                return labelled["date"]
        return None

    def _tag_links_from_text(self) -> list[etree._Element]:
        """The links after a "Tagged under" label, in the block that holds the label."""
        body = self.root.find("body")
        for element in (body if body is not None else self.root).iter():
            if not isinstance(element.tag, str) or not TAGGED_UNDER.match(element.text or ""):
                continue
            block = element if element.find(".//a") is not None else element.getparent()
            if block is None:
                continue
            return [
                a for a in block.iter("a") if block is element or element not in a.iterancestors()
            ]
        return []

    def _title_from_head(self) -> str | None:
        head_title = self.root.findtext(".//title") or ""
        parts = [p for p in _TITLE_SEPARATORS.split(head_title.strip()) if p]
        parts = [p for p in parts if not is_site_title(p)]
        title = " - ".join(parts).strip()
        return title or None

    @cached_property
    def head(self) -> Head:
        """Byline, dated line and body paragraphs, read by the era layout that fits the page."""
        return read_head(self.content_paragraphs(), self.title(), self.BYLINE_LAYOUTS)

    def content_paragraphs(self) -> list[str]:
        """Byline, dated line and body, in order, chrome removed."""
        body_classes = (*self.INTRO_CLASSES, *self.FULLTEXT_CLASSES)
        blocks = [
            element
            for element in self.classes.all(*body_classes)
            if not any(has_class(a, *body_classes) for a in element.iterancestors())
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
            or HEAD_CHROME.match(line)
            or (title and _is_title_line(line, title))
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
                if group == "hits":
                    return int((match["hits"] or match["joomla"]).replace(",", ""))
                return match[group]
        return None


def _is_title_line(line: str, title: str) -> bool:
    """The title as printed, possibly with K2's "Featured" badge after it."""
    return line == title or line.removesuffix(" Featured") == title


def _cut_at_body_end(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if BODY_END.match(line):
            return lines[:index]
    return lines


class TextItemPage(K2ItemPage):
    """The text route alone: K2's item view read with none of its class names, as a template
    override that renames or drops them serves it. Every field comes from the page's text and
    tags (see the module's docstring)."""

    DATE_CLASSES = ()
    TITLE_CLASSES = ()
    CATEGORY_CLASSES = ()
    INTRO_CLASSES = ()
    FULLTEXT_CLASSES = ()
    HITS_CLASSES = ()
    MODIFIED_CLASSES = ()
    TAG_LINK_XPATH = ""
    CONTAINER_CLASSES = ()


class JoomlaArticlePage(K2ItemPage):
    """Joomla's core article view (``com_content``, Joomla 3 to 5).

    The markup follows Joomla's own layouts (``components/com_content/tmpl/article/default.php``
    and ``layouts/joomla/content/info_block/*.php``, ``tags.php``): the article in
    ``div.com-content-article`` (Joomla 4/5) or ``div.item-page`` (Joomla 3), its title in
    ``div.page-header``, an info block ``dl.article-info`` whose ``dd.published`` (or
    ``dd.create``) holds ``<time datetime>``, ``dd.category-name`` the category,
    ``dd.modified`` "Last Updated: …" and ``dd.hits`` "Hits: N"; tags in ``ul.tags``; the text
    in ``div.com-content-article__body`` (``itemprop="articleBody"`` in Joomla 3). Whatever the
    layout lacks falls back on the text route, as for K2.
    """

    CONTAINER_CLASSES = ("com-content-article", "item-page")
    INTRO_CLASSES = ()
    FULLTEXT_CLASSES = ("com-content-article__body",)
    CATEGORY_CLASSES = ("category-name",)
    HITS_CLASSES = ("hits",)
    MODIFIED_CLASSES = ("modified",)
    TAG_LINK_XPATH = class_xpath("tags") + "//a"
    _DATE_XPATH = etree.XPath(
        ".//dd[contains(@class, 'published') or contains(@class, 'create')]//time"
    )
    _TITLE_XPATH = etree.XPath(
        ".//div[contains(concat(' ', normalize-space(@class), ' '), ' page-header ')]"
        "/*[self::h1 or self::h2]"
    )
    _BODY_XPATH = etree.XPath(".//*[@itemprop='articleBody']")

    @classmethod
    def detect(cls, classes: ClassIndex) -> bool:
        return classes.first(*cls.CONTAINER_CLASSES) is not None

    @cached_property
    def container(self) -> etree._Element:
        found = self.classes.first(*self.CONTAINER_CLASSES)
        return found if found is not None else self.root

    @field
    def section(self) -> str | None:
        element = self.classes.first(*self.CATEGORY_CLASSES)
        if element is not None:
            link = element.find(".//a")
            text = element_text(link if link is not None else element)
            return text.removeprefix("Category:").strip() or None
        return self._section_from_text()

    @field
    def date_line(self) -> str | None:
        for time in self._DATE_XPATH(self.container):
            stamp = (time.get("datetime") or "")[:10]
            try:
                return k2_date_text(date.fromisoformat(stamp))
            except ValueError:
                labelled = _LABELLED_DATE.match(element_text(time))
                if labelled:
                    return labelled["date"]
        return self._date_line_from_text()

    def _find_title(self) -> str | None:
        # With a menu page heading shown, the first page-header holds it and the title is h2.
        headings = self._TITLE_XPATH(self.container)
        text = element_text(headings[-1], skip=_is_featured_badge) if headings else ""
        return text or super()._find_title()

    def content_paragraphs(self) -> list[str]:
        blocks = self.classes.all(*self.FULLTEXT_CLASSES) or self._BODY_XPATH(self.container)
        if not blocks:
            return self._content_from_text()
        return _cut_at_body_end(paragraphs(blocks, skip=_is_image_chrome))


# Layouts other than K2's item view, tried in order; K2's (with its text route) is the default.
OTHER_LAYOUTS: tuple[type[JoomlaArticlePage], ...] = (JoomlaArticlePage,)


def item_page(document: str | bytes, ref: ItemRef, fetched_at: str) -> K2ItemPage:
    """The page object for an item page, by the layout the page itself shows (never
    configured: a site can move to another layout between two runs)."""
    root = parse_html(document)
    classes = ClassIndex(root)
    for layout in OTHER_LAYOUTS:
        if layout.detect(classes):
            page: K2ItemPage = layout(root, ref, fetched_at)
            break
    else:
        page = K2ItemPage(root, ref, fetched_at)
    page._classes = classes
    return page
