"""Staff publications on three page types → :class:`~caci_spider.items.StaffPublication`.

* The "Staff Publications" sidebar of cacianalyst.org pages (HTML never captured): the block is
  found by its heading text; entries may be ``<p>``, ``<li>`` or ``<div>``, or lines split by
  ``<br><br>``; each reads ``<Type> <Authors>, <Title>, <Venue>, <Date>.``
* The full listing on silkroadstudies.org (K2 category ``joint-center-publications``): per
  entry a title link, then header lines (authors; ``Venue, Month D, YYYY``; ``Read at Venue``;
  ``By Name``; a venue-first ``Venue`` / ``January 2020`` / authors form), then the summary.
* A K2 item page of that category: date line, title (+ "Featured"), header lines, body.

Each entry is a page object (:class:`SidebarEntry`, :class:`StaffListingEntry`,
:class:`StaffItemPage`) whose fields, declared once in :class:`StaffEntryPage`, are those of a
:class:`~caci_spider.items.StaffEntry` and its ``url``; a page type overrides a field only where
its page has a source of its own.

Image alt or file-name text (``2410Starr-cover``, ``Screen Shot 2023-05-08 at 10.32.15 AM``) is
never part of any field.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import ClassVar
from urllib.parse import urljoin

from lxml import etree

from caci_spider.dates import parse_partial_date
from caci_spider.items import SourceRank, StaffEntry, StaffPublication
from caci_spider.pages.blocks import BLOCK_TAGS, element_text, paragraphs, parse_html
from caci_spider.pages.fields import extract, field
from caci_spider.pages.item import item_page
from caci_spider.pages.k2 import HEAD_CHROME, PUBLISHED_IN, class_xpath, first_by_class, has_class
from caci_spider.pages.listing import K2ListingPage
from caci_spider.staff.lines import read_entry_lines
from caci_spider.staff.sidebar import EntryParseError, parse_sidebar_entry
from caci_spider.text import (
    is_image_label,
    normalise_text,
    strip_featured_badge,
    strip_image_label,
)
from caci_spider.urls import STAFF_PATH, STAFF_SITE_PROFILE, ItemRef, item_ref

# The key of the site the staff pages are on (caci_spider.sources).
STAFF_SITE = STAFF_SITE_PROFILE.key

# libxml2 computes the string values; a Python walk over every element would be quadratic.
_HEADING_XPATH = (
    ".//*[translate(normalize-space(.), 'STAFFPUBLICATIONS:', 'staffpublications')"
    " = 'staff publications']"
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ENTRY_TAGS = frozenset({"p", "li", "div", "td", "dd"})


@dataclass
class ParseOutcome:
    """What one page gave: publications, and entries that could not be parsed (raw, reason)."""

    publications: list[StaffPublication] = dataclass_field(default_factory=list)
    rejects: list[tuple[str, str]] = dataclass_field(default_factory=list)


# -- the fields of every staff page -----------------------------------------------------------


class StaffEntryPage:
    """What one page says about one staff publication, field by field.

    :attr:`entry` is what the page's grammar reads at once (a sidebar line, or header lines
    then a summary); the fields give its values unless a page type overrides one.
    """

    rank: ClassVar[SourceRank]

    @cached_property
    def entry(self) -> StaffEntry:
        raise NotImplementedError

    @field
    def kind(self) -> str | None:
        return self.entry.kind

    @field
    def title(self) -> str | None:
        return self.entry.title

    @field
    def authors(self) -> list[str]:
        return self.entry.authors

    @field
    def roles(self) -> dict[str, str]:
        return self.entry.roles

    @field
    def venue(self) -> str | None:
        return self.entry.venue

    @field
    def date(self) -> str | None:
        return self.entry.date

    @field
    def url(self) -> str | None:
        return None

    @field
    def summary(self) -> str | None:
        return self.entry.summary

    def raw(self) -> str:
        """The entry's text as found, for a reject record."""
        return ""

    def observation(self, source: str, fetched_at: str) -> StaffPublication:
        """The page's fields as one observation, seen on ``source``."""
        values = extract(self)
        url = values.pop("url")
        entry = StaffEntry(**values)
        return StaffPublication.observed(
            entry, source=source, fetched_at=fetched_at, rank=self.rank, url=url, raw=self.raw()
        )


# -- the sidebar ------------------------------------------------------------------------------


def _find_headings(root: etree._Element) -> list[etree._Element]:
    """The innermost elements whose whole text is "Staff Publications"."""
    body = root.find("body")
    found = (body if body is not None else root).xpath(_HEADING_XPATH)
    return [e for e in found if not any(d in found for d in e.iterdescendants())]


def _module_of(heading: etree._Element) -> etree._Element:
    """Climb from the heading until the ancestor also holds text other than the heading."""
    container = heading
    while (parent := container.getparent()) is not None:
        container = parent
        if len(paragraphs(container)) > 1:
            return container
    return container


def _entry_blocks(module: etree._Element, heading: etree._Element) -> list[etree._Element]:
    """Leaf entry blocks after the heading, up to the next heading."""
    blocks: list[etree._Element] = []
    passed = False
    for element in module.iter():
        if element is heading:
            passed = True
            continue
        if not passed or not isinstance(element.tag, str) or heading in element.iterancestors():
            continue
        tag = element.tag.lower()
        if tag in _HEADING_TAGS:
            break
        if tag in _ENTRY_TAGS and not any(
            isinstance(d.tag, str) and d.tag.lower() in BLOCK_TAGS
            for d in element.iterdescendants()
        ):
            blocks.append(element)
    return blocks


def parse_sidebar(document: str | bytes, page_url: str, fetched_at: str) -> ParseOutcome:
    """Entries of the "Staff Publications" block of a cacianalyst.org page.

    When several elements read "Staff Publications" (a menu link, a module title), the block
    that yields the most entries is the sidebar.
    """
    root = parse_html(document)
    outcomes = [_parse_block(h, page_url, fetched_at) for h in _find_headings(root)]
    return max(outcomes, key=lambda o: len(o.publications), default=ParseOutcome())


def _parse_block(heading: etree._Element, page_url: str, fetched_at: str) -> ParseOutcome:
    outcome = ParseOutcome()
    module = _module_of(heading)
    blocks = _entry_blocks(module, heading)
    lines: list[tuple[str, str | None]] = []
    for block in blocks:
        # One entry a line: a single <br> separates entries here.
        texts = paragraphs(block, breaks_per_paragraph=1)
        links = [urljoin(page_url, a.get("href")) for a in block.iter("a") if a.get("href")]
        for text in texts:
            lines.append((text, links[0] if len(texts) == 1 and links else None))
    if not blocks:  # entries separated by <br> only, inside the module itself
        heading_text = element_text(heading)
        lines = [(t, None) for t in paragraphs(module, breaks_per_paragraph=1) if t != heading_text]
    for text, link in lines:
        text = normalise_text(text)
        if not text or is_image_label(text):
            continue
        try:
            publication = SidebarEntry(text, link).observation(page_url, fetched_at)
        except EntryParseError as error:
            # The message's first clause is the category; the entry itself goes to raw.
            outcome.rejects.append((text, f"unparseable entry: {str(error).split(':')[0]}"))
            continue
        outcome.publications.append(publication)
    return outcome


class SidebarEntry(StaffEntryPage):
    """One line of the sidebar (:data:`~caci_spider.staff.sidebar.SIDEBAR_PARTS`) and its link.

    Reading a field of a line that is not an entry raises
    :class:`~caci_spider.staff.sidebar.EntryParseError`.
    """

    rank = SourceRank.SIDEBAR

    def __init__(self, text: str, link: str | None) -> None:
        self.text = text
        self.link = link

    @cached_property
    def entry(self) -> StaffEntry:
        return parse_sidebar_entry(strip_image_label(self.text))

    @field
    def url(self) -> str | None:
        link = self.link
        return link if link and link.startswith(("http://", "https://")) else None

    def raw(self) -> str:
        return self.text


# -- the silkroadstudies listing and item pages -----------------------------------------------


def _grown_view(
    seed: etree._Element, seeds: list[etree._Element], container: etree._Element
) -> etree._Element:
    """The largest block holding ``seed`` inside ``container`` that holds no other seed."""
    view = seed
    while (parent := view.getparent()) is not None and parent is not container:
        if any(other is not seed and parent in other.iterancestors() for other in seeds):
            break
        view = parent
    return view


def _text_blocks_beside(
    views: list[etree._Element], seeds: list[etree._Element]
) -> set[etree._Element]:
    """The siblings of ``views`` that hold text but no seed (entries without a title link)."""
    chosen = set(views)
    found: set[etree._Element] = set()
    for parent in {view.getparent() for view in views}:
        for child in parent if parent is not None else ():
            if (
                isinstance(child.tag, str)
                and child not in chosen
                and not any(child in seed.iterancestors() for seed in seeds)
                and paragraphs(child)
            ):
                found.add(child)
    return found


class StaffListingPage:
    """One page of ``/publications/joint-center-publications.html?start=N``.

    Its fields: the entries that have a title or an item link, the raw text of those that have
    neither (rejects), and the offsets of the other pages.
    """

    # K2's entry view, then Joomla's category blog item (category/blog_item.php).
    ENTRY_CLASSES = ("catItemView", "blog-item")
    _HEADINGS = etree.XPath(
        ".//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
    )

    def __init__(self, listing: K2ListingPage) -> None:
        self.listing = listing
        self.url = listing.url
        self.base_url = listing.base_url
        self.root = listing.root

    @classmethod
    def from_document(cls, document: str | bytes, url: str, base_url: str) -> StaffListingPage:
        return cls(K2ListingPage(document, url, base_url, STAFF_PATH))

    def views(self) -> list[StaffListingEntry]:
        """Every entry view of the page, in order (new page objects at every call)."""
        found = self.root.xpath(class_xpath(*self.ENTRY_CLASSES)) or self._views_from_headings()
        return [StaffListingEntry(view, self.url, self.base_url) for view in found]

    def _views_from_headings(self) -> list[etree._Element]:
        """No entry class: each heading that links an item seeds an entry, grown to the
        largest block that holds no other seed. The blocks beside them that hold text but no
        seed are entries too (an entry without a title link must still be seen, as a reject)."""
        container = self.listing.list_root()
        seeds = [
            heading
            for heading in self._HEADINGS(container)
            if any(self._is_item_link(a) for a in heading.iter("a"))
        ]
        views = [_grown_view(seed, seeds, container) for seed in seeds]
        chosen = set(views) | _text_blocks_beside(views, seeds)
        return [element for element in container.iter() if element in chosen]

    def _is_item_link(self, link: etree._Element) -> bool:
        href = link.get("href") or ""
        return item_ref(href, self.url, self.base_url, STAFF_PATH, STAFF_SITE) is not None

    @field
    def entries(self) -> list[StaffListingEntry]:
        return [view for view in self.views() if view.title() or view.url()]

    @field
    def rejects(self) -> list[str]:
        return [view.raw() for view in self.views() if not (view.title() or view.url())]

    @field
    def page_starts(self) -> list[int]:
        return self.listing.page_starts()

    def observations(self, fetched_at: str) -> list[StaffPublication]:
        """Every entry; an entry without a title keeps ``title=None`` (its item may give one)."""
        return [view.observation(self.url, fetched_at) for view in self.views()]


class StaffListingEntry(StaffEntryPage):
    """One ``catItemView`` of the staff listing: title link, header lines, summary."""

    rank = SourceRank.LISTING
    TITLE_CLASSES = ("catItemTitle",)
    INTRO_CLASSES = ("catItemIntroText", "catItemBody")

    def __init__(self, view: etree._Element, page_url: str, base_url: str) -> None:
        self.view = view
        self.page_url = page_url
        self.base_url = base_url

    @cached_property
    def heading(self) -> str | None:
        """The title link's text as printed (with a "Featured" badge, if any); without K2's
        title class, the view's first heading."""
        element = first_by_class(self.view, *self.TITLE_CLASSES)
        if element is None:
            element = next(iter(StaffListingPage._HEADINGS(self.view)), None)
        return normalise_text(element_text(element)) or None

    @cached_property
    def entry(self) -> StaffEntry:
        intro = first_by_class(self.view, *self.INTRO_CLASSES)
        if intro is not None:
            return read_entry_lines(paragraphs(intro, skip=_is_chrome), self.heading)
        lines = paragraphs(self.view, skip=_is_chrome_or_heading)
        return read_entry_lines([line for line in lines if not _is_label_line(line)], self.heading)

    @field
    def title(self) -> str | None:
        return strip_featured_badge(self.heading) if self.heading else None

    @field
    def url(self) -> str | None:
        ref = self._item_ref
        return ref.url if ref else None

    @cached_property
    def _item_ref(self) -> ItemRef | None:
        for link in self.view.iter("a"):
            href = link.get("href") or ""
            ref = item_ref(href, self.page_url, self.base_url, STAFF_PATH, STAFF_SITE)
            if ref:
                return ref
        return None

    def raw(self) -> str:
        """The entry's own text, without the template's labels around it."""
        lines = paragraphs(self.view, skip=_is_chrome_or_heading)
        return " / ".join(line for line in lines if not _is_label_line(line))


def _is_chrome(element: etree._Element) -> bool:
    return has_class(
        element,
        "catItemReadMore",
        "catItemLinks",
        "itemImageBlock",
        "catItemImageBlock",
        # Joomla's category blog item: its info block, read-more and tags.
        "article-info",
        "readmore",
        "tags",
    )


def _is_label_line(line: str) -> bool:
    """A template's label around an entry ("Written by admin", "Published in …", "Details")."""
    return bool(HEAD_CHROME.match(line) or PUBLISHED_IN.match(line))


def _is_chrome_or_heading(element: etree._Element) -> bool:
    """The text route's filter: without an intro block, the view's headings (its title, a
    category heading) are not entry lines either."""
    return element.tag in _HEADING_TAGS or _is_chrome(element)


class StaffItemPage(StaffEntryPage):
    """A K2 item page of the staff category: its title, then header lines and body."""

    rank = SourceRank.ITEM

    def __init__(self, document: str | bytes, ref: ItemRef) -> None:
        self.ref = ref
        self.page = item_page(document, ref, "")

    @cached_property
    def heading(self) -> str | None:
        """The item's title, without a "Featured" badge."""
        title = normalise_text(self.page.title()) or None
        return strip_featured_badge(title) if title else None

    @cached_property
    def entry(self) -> StaffEntry:
        return read_entry_lines(self.page.content_paragraphs(), self.heading)

    @field
    def title(self) -> str | None:
        return self.heading

    @field
    def date(self) -> str | None:
        return self.entry.date or parse_partial_date(normalise_text(self.page.date_line()))

    def has_text(self) -> bool:
        """False for a page without article text (a template that renders it by script): its
        title alone (from ``<title>``) says nothing the listing does not."""
        return bool(self.page.content_paragraphs())

    @field
    def url(self) -> str | None:
        return self.ref.url

    def raw(self) -> str:
        return self.heading or ""
