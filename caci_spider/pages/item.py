"""An item page (one publication) → :class:`~caci_spider.items.PublicationPage`.

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
from functools import cached_property, lru_cache

import lxml.html
from lxml import etree

from caci_spider.dates import K2_DATE_LINE, is_dated_line, k2_date_text
from caci_spider.items import PublicationPage
from caci_spider.names import BYLINE_START, looks_like_name_line
from caci_spider.pages.blocks import element_text, paragraphs, parse_html
from caci_spider.pages.bylines import LAYOUTS, BylineLayout, Head, read_head
from caci_spider.pages.fields import extract as extract_fields
from caci_spider.pages.fields import field
from caci_spider.pages.k2 import (
    HEAD_CHROME,
    PUBLISHED_IN,
    TAGGED_UNDER,
    ClassIndex,
    body_end,
    class_xpath,
    has_class,
)
from caci_spider.pages.sections import (
    PDF_LINK_TEXT,
    PaperParts,
    SectionRules,
    find_pdf_link,
    image_alts,
    read_paper,
    rules_for,
    split_author_bio,
    unglue_image_alts,
)
from caci_spider.quality import is_site_title
from caci_spider.sources import SiteProfile, profile_of
from caci_spider.text import ends_like_a_sentence
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
# Words "much more" text means when one of K2's body blocks is missing (see content_paragraphs).
_MORE_TEXT = 1.5
# Toolbar lines a template may print before the article under names no pattern knows are
# short and never sentences (see _drop_edge_chrome).
_MAX_CHROME_LINE = 40
# Joomla's category line in its info block, read as the section without classes.
_CATEGORY_LABEL = re.compile(r"^category:\s*(?P<section>.+?)\s*$", re.IGNORECASE)
# The addresses of tag views: K2's (/itemlist/tag/Name) and Joomla's (/component/tags/tag/…).
_TAG_VIEW = re.compile(r"/itemlist/tag/|/component/tags/tag/|/tags/tag/", re.IGNORECASE)
_LINK_LISTS = etree.XPath(".//ul | .//ol")
# What TAGGED_UNDER needs somewhere in the page's text before it can match an element's.
_TAGGED = re.compile("tagged", re.IGNORECASE)


@lru_cache(maxsize=64)
def _xpath(expression: str) -> etree.XPath:
    """A page object's XPath string, compiled once (``element.xpath(string)`` compiles it on
    every call)."""
    return etree.XPath(expression)


# The longest text a link of a template's link list (tags, related items) has.
_MAX_LINK_TEXT = 80
# The longest caption (with credits) an image block may carry; longer text is article text.
_MAX_CAPTION = 200
_TITLE_SEPARATORS = re.compile(r"\s+[-|–—]\s+")


def _is_featured_badge(element: etree._Element) -> bool:
    return element_text(element).strip().lower() == "featured" and element.tag in (
        "sup",
        "span",
        "small",
        "em",
    )


def _is_image_block(element: etree._Element) -> bool:
    """An image with its caption and credits, recognised without classes (the text route only):
    a ``<div>``, ``<span>`` or ``<figure>`` whose first content is an image and whose text is no
    more than a caption and a credit line."""
    if element.tag not in ("div", "span", "figure") or element.tag == "figcaption":
        return False
    image = next(element.iter("img"), None)
    if image is None or next(element.iter("p", "table", "ul", "ol"), None) is not None:
        return False
    text = "".join(element.itertext()).strip()
    before = "".join(_text_before(element, image)).strip()
    return not before and len(text) <= _MAX_CAPTION


def _is_link_list(element: etree._Element) -> bool:
    """A list whose every item is one short link and nothing else: a template's tags, related
    items or menu (Joomla prints its tags so, without a label), not article text."""
    if element.tag not in ("ul", "ol") or len(element) < 2:
        return False
    for item in element:
        links = list(item.iter("a")) if item.tag == "li" else []
        if len(links) != 1:
            return False
        text = element_text(item)
        if not text or text != element_text(links[0]) or len(text) > _MAX_LINK_TEXT:
            return False
    return True


def _text_before(root: etree._Element, stop: etree._Element) -> list[str]:
    """The text of ``root`` that comes before ``stop`` in document order."""
    texts: list[str] = [root.text or ""]
    for element in root.iterdescendants():
        if element is stop:
            break
        if isinstance(element.tag, str):
            texts.append(element.text or "")
        texts.append(element.tail or "")
    return texts


class K2ItemPage:
    """Extraction from one K2 item view; pure, built from the HTML and its URL.

    Each field of :class:`~caci_spider.items.PublicationPage` but the fetch time is one
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
    # An image's caption and credits (K2's, and WordPress' in pasted text).
    IMAGE_CHROME_CLASSES: tuple[str, ...] = (
        "itemImageBlock",
        "itemImageCaption",
        "itemImageCredits",
        "wp-caption-text",
        "caption",
    )
    BYLINE_LAYOUTS: tuple[BylineLayout, ...] = LAYOUTS

    def __init__(
        self,
        document: str | bytes | lxml.html.HtmlElement,
        ref: ItemRef,
        fetched_at: str,
        classes: ClassIndex | None = None,
        rules: SectionRules | None = None,
        profile: SiteProfile | None = None,
    ) -> None:
        self.root = document if isinstance(document, etree._Element) else parse_html(document)
        self.ref = ref
        self.fetched_at = fetched_at
        # The item's site (caci_spider.sources): its boilerplate ends a body, its names are
        # chrome in a title; the declared profile of ``ref.site`` unless given.
        self.profile = profile if profile is not None else profile_of(ref.site)
        self.body_end = body_end(self.profile.boilerplate)
        # The section's rules (caci_spider.pages.sections), from the item's site and category.
        self.rules = rules if rules is not None else rules_for(ref, self.profile)
        self._page_lines: list[str] | None = None
        self._classes = classes

    @classmethod
    def detect(cls, classes: ClassIndex) -> bool:
        """True when the page shows this page object's layout (:func:`item_page` asks)."""
        return classes.first(*cls.CONTAINER_CLASSES) is not None

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
                body if body is not None else self.root, skip=self.image_chrome_or_block
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
    def site(self) -> str:
        return self.ref.site

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
        return self.section_body[0]

    @field
    def hits(self) -> int | None:
        found = self._footer_match(self.HITS_CLASSES, _HITS, _HITS_HINT)
        return int((found["hits"] or found["joomla"]).replace(",", "")) if found else None

    @field
    def modified_line(self) -> str | None:
        found = self._footer_match(self.MODIFIED_CLASSES, _MODIFIED, _MODIFIED_HINT)
        return found["date"] if found else None

    @field
    def tags(self) -> list[str]:
        links = _xpath(self.TAG_LINK_XPATH)(self.article_root()) if self.TAG_LINK_XPATH else []
        tags: list[str] = []
        for link in links or self._tag_links_from_text():
            text = element_text(link)
            if text and text not in tags:
                tags.append(text)
        return tags

    @field
    def author_bio(self) -> str | None:
        return self.section_body[1]

    @field
    def pdf_url(self) -> str | None:
        return self.section_body[2]

    @field
    def kind(self) -> str | None:
        return self.paper.kind if self.paper is not None else None

    @field
    def printed_month(self) -> str | None:
        return self.paper.month if self.paper is not None else None

    @field
    def chapter_urls(self) -> list[str]:
        return list(self.paper.chapters) if self.paper is not None else []

    def extract(self) -> PublicationPage:
        return PublicationPage(fetched_at=self.fetched_at, **extract_fields(self))

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
            match = PUBLISHED_IN.match(line) or _CATEGORY_LABEL.match(line)
            if match:
                return match["section"]
        return None

    def article_root(self) -> etree._Element:
        """Where the article's own parts are looked for: the page (K2's classes are the
        article's alone)."""
        return self.root

    def first_in_article(self, *classes: str) -> etree._Element | None:
        return self.classes.first(*classes)

    def image_chrome(self, element: etree._Element) -> bool:
        """A caption or credit by its markup (the class route's filter)."""
        return element.tag == "figcaption" or has_class(element, *self.IMAGE_CHROME_CLASSES)

    def image_chrome_or_block(self, element: etree._Element) -> bool:
        """The text route's filter: also an image block and a list of links (tags, related
        items, menus) recognised without classes."""
        return self.image_chrome(element) or _is_image_block(element) or _is_link_list(element)

    def _date_line_from_text(self) -> str | None:
        for line in self.page_lines:
            if K2_DATE_LINE.match(line):
                return line
            labelled = _LABELLED_DATE.match(line)
            if labelled and K2_DATE_LINE.match(labelled["date"]):
                return labelled["date"]
        return None

    def _tag_links_from_text(self) -> list[etree._Element]:
        """The links after a "Tagged under" label, in the block that holds the label; without
        a label (Joomla prints none), the first list whose links all open tag views."""
        return self._tag_links_after_label() or self._tag_view_list()

    def _tag_view_list(self) -> list[etree._Element]:
        for links in _LINK_LISTS(self.article_root()):
            anchors = [a for a in links.iter("a")]
            if anchors and all(_TAG_VIEW.search(a.get("href") or "") for a in anchors):
                return anchors
        return []

    def _tag_links_after_label(self) -> list[etree._Element]:
        if not _TAGGED.search(self._page_text):
            return []  # no element's text can start with the label: skip the walk
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
        parts = [p for p in parts if not is_site_title(p, self.profile)]
        title = " - ".join(parts).strip()
        return title or None

    @cached_property
    def section_body(self) -> tuple[list[str], str | None, str | None]:
        """``(body paragraphs, author bio, PDF URL)``: the body after the byline, read by the
        section's rules (caci_spider.pages.sections)."""
        body, bio, pdf = self.head.body, None, None
        if self.paper is not None:
            body, pdf = self.paper.body, self.paper.pdf_url
        if self.rules.section_labels:
            body = unglue_image_alts(body, image_alts(self.root))
        if self.rules.pdf_link:
            body, pdf = find_pdf_link(self.root, body, self.ref.url)
        if self.rules.author_bio:
            body, bio = split_author_bio(body)
        return body, bio, pdf

    @cached_property
    def paper(self) -> PaperParts | None:
        """A paper's parts (the ``paper`` rule), None on any other section's page."""
        if not self.rules.paper:
            return None
        return read_paper(self.root, self.head.body, self.ref.url, self.profile.site_names)

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
        if not blocks:
            return self._content_from_text()
        lines = _cut_at_body_end(paragraphs(blocks, skip=self.image_chrome), self.body_end)
        found = {name for name in body_classes if self.classes.first(name) is not None}
        if self.INTRO_CLASSES and self.FULLTEXT_CLASSES and len(found) == 1:
            # Only one of K2's two body blocks: normal for a short item, but also what a
            # template that renamed the other one looks like. The text route reads the whole
            # article; when it holds much more, the other block was there under another name.
            text_route = self._content_from_text()
            if _word_count(text_route) > _MORE_TEXT * _word_count(lines):
                return text_route
        return lines

    def _content_from_text(self) -> list[str]:
        """No K2 body classes: the text after the header lines, up to the first tail line.

        The header is the first cluster of date line / title / "Published in" lines; the body
        ends at the first tail line after it, so chrome printed before the article (a sidebar,
        a newsletter box) cannot swallow it.
        """
        container = self.classes.first(*self.CONTAINER_CLASSES)
        lines = (
            paragraphs(container, skip=self.image_chrome_or_block)
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
        body = _cut_at_body_end(lines[start:], self.body_end)
        # Stock K2 prints "Published in <category>" after the text.
        end = next((i for i, line in enumerate(body) if PUBLISHED_IN.match(line)), len(body))
        return _drop_edge_chrome(body[:end])

    @cached_property
    def _page_text(self) -> str:
        """The whole page's text, once for both footer fields."""
        return str(self.root.text_content())

    def _footer_match(
        self, classes: tuple[str, ...], pattern: re.Pattern[str], hint: re.Pattern[str]
    ) -> re.Match[str] | None:
        """A footer line's match, from its element, else from the page text (walked only when
        the raw text holds a hint of it)."""
        element = self.first_in_article(*classes)
        if element is not None:
            texts = [element_text(element)]
        elif hint.search(self._page_text):
            texts = self.page_lines
        else:
            return None
        return next((m for text in texts if (m := pattern.search(text))), None)


def _word_count(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def _drop_edge_chrome(lines: list[str]) -> list[str]:
    """The text route's body without the short lines a template prints around the article that
    no known form names ("Print article", "Send to a friend", "Bookmark and Share"): a first or
    last line of a few words that is not a sentence, a byline, a name line, a dated line or a
    PDF link's words."""
    start, end = 0, len(lines)
    while start < end and _is_unknown_chrome(lines[start]):
        start += 1
    while end > start and _is_unknown_chrome(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _is_unknown_chrome(line: str) -> bool:
    if len(line) > _MAX_CHROME_LINE or ends_like_a_sentence(line):
        return False
    return not (
        BYLINE_START.match(line)
        or PDF_LINK_TEXT.match(line)  # "Click here to download PDF": a section rule's
        or looks_like_name_line(line)
        or is_dated_line(line)
        or K2_DATE_LINE.match(line)
    )


def _is_title_line(line: str, title: str) -> bool:
    """The title as printed, possibly with K2's "Featured" badge after it."""
    return line == title or line.removesuffix(" Featured") == title


def _cut_at_body_end(lines: list[str], end: re.Pattern[str]) -> list[str]:
    for index, line in enumerate(lines):
        if end.match(line):
            return lines[:index]
    return lines


class TextItemPage(K2ItemPage):
    """The text route alone: K2's item view read with no class name at all, as a template
    override that renames or drops them serves it. Every field comes from the page's text and
    tags (see the module's docstring); captions are recognised by ``<figcaption>`` and by the
    shape of an image block."""

    IMAGE_CHROME_CLASSES = ()
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

    @cached_property
    def container(self) -> etree._Element:
        found = self.classes.first(*self.CONTAINER_CLASSES)
        return found if found is not None else self.root

    def article_root(self) -> etree._Element:
        """The article's container: Joomla's class names (``hits``, ``tags``, ``modified``)
        are generic enough for a sidebar module to carry them too."""
        return self.container

    def first_in_article(self, *classes: str) -> etree._Element | None:
        for element in self.classes.all(*classes):
            if element is self.container or self.container in element.iterancestors():
                return element
        return None

    @field
    def section(self) -> str | None:
        element = self.first_in_article(*self.CATEGORY_CLASSES)
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
        return _cut_at_body_end(paragraphs(blocks, skip=self.image_chrome), self.body_end)


# Article views other than K2's item view, tried in order; K2's (with its text route) is the
# default.
ARTICLE_VIEWS: tuple[type[K2ItemPage], ...] = (JoomlaArticlePage,)


def item_page(
    document: str | bytes, ref: ItemRef, fetched_at: str, profile: SiteProfile | None = None
) -> K2ItemPage:
    """The page object for an item page of any section of any site, by the article view the
    page itself shows (never configured: a site can move to another view between two runs),
    with the rules of the item's section (its site and the category of its URL, through
    caci_spider.sources; see caci_spider.pages.sections), read as a page of its site
    (``profile``, else the declared profile of ``ref.site``)."""
    root = parse_html(document)
    classes = ClassIndex(root)
    view = next((view for view in ARTICLE_VIEWS if view.detect(classes)), K2ItemPage)
    profile = profile if profile is not None else profile_of(ref.site)
    return view(root, ref, fetched_at, classes, rules_for(ref, profile), profile)
