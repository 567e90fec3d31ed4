"""Staff publications on three page types → :class:`~caci_spider.items.StaffPublication`.

* The "Staff Publications" sidebar of cacianalyst.org pages (HTML never captured): the block is
  found by its heading text; entries may be ``<p>``, ``<li>`` or ``<div>``, or lines split by
  ``<br><br>``; each reads ``<Type> <Authors>, <Title>, <Venue>, <Date>.``
* The full listing on silkroadstudies.org (K2 category ``joint-center-publications``): per
  entry a title link, then header lines (authors; ``Venue, Month D, YYYY``; ``Read at Venue``;
  ``By Name``; a venue-first ``Venue`` / ``January 2020`` / authors form), then the summary.
* A K2 item page of that category: date line, title (+ "Featured"), header lines, body.

Image alt or file-name text (``2410Starr-cover``, ``Screen Shot 2023-05-08 at 10.32.15 AM``) is
never part of any field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from caci_spider.dates import parse_partial_date
from caci_spider.items import SourceRank, StaffPublication
from caci_spider.pages.blocks import BLOCK_TAGS, element_text, paragraphs, parse_html
from caci_spider.pages.item import K2ItemPage
from caci_spider.pages.k2 import class_xpath, first_by_class, has_class
from caci_spider.pages.listing import K2ListingPage
from caci_spider.staff.lines import read_entry_lines
from caci_spider.staff.sidebar import EntryParseError, parse_sidebar_entry
from caci_spider.text import (
    is_image_label,
    normalise_text,
    strip_featured_badge,
    strip_image_label,
)
from caci_spider.urls import STAFF_CATEGORY, ItemRef, item_ref

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

    publications: list[StaffPublication] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)


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
            entry = parse_sidebar_entry(strip_image_label(text))
        except EntryParseError as error:
            # The message's first clause is the category; the entry itself goes to raw.
            outcome.rejects.append((text, f"unparseable entry: {str(error).split(':')[0]}"))
            continue
        outcome.publications.append(
            StaffPublication.observed(
                entry,
                source=page_url,
                fetched_at=fetched_at,
                rank=SourceRank.SIDEBAR,
                url=link if link and link.startswith(("http://", "https://")) else None,
                raw=text,
            )
        )
    return outcome


# -- the silkroadstudies listing and item pages -----------------------------------------------


class StaffListingPage:
    """One page of ``/publications/joint-center-publications.html?start=N``."""

    ENTRY_CLASSES = ("catItemView",)
    TITLE_CLASSES = ("catItemTitle",)
    INTRO_CLASSES = ("catItemIntroText", "catItemBody")

    def __init__(self, listing: K2ListingPage) -> None:
        self.listing = listing
        self.url = listing.url
        self.base_url = listing.base_url
        self.root = listing.root

    @classmethod
    def from_document(cls, document: str | bytes, url: str, base_url: str) -> StaffListingPage:
        return cls(K2ListingPage(document, url, base_url, STAFF_CATEGORY))

    def page_starts(self) -> list[int]:
        return self.listing.page_starts()

    def _item_ref(self, view: etree._Element) -> ItemRef | None:
        for link in view.iter("a"):
            ref = item_ref(link.get("href") or "", self.url, self.base_url, STAFF_CATEGORY)
            if ref:
                return ref
        return None

    def entries(self, fetched_at: str) -> list[StaffPublication]:
        """Every entry; an entry without a title keeps ``title=None`` (its item may give one)."""
        found: list[StaffPublication] = []
        for view in self.root.xpath(class_xpath(*self.ENTRY_CLASSES)):
            title_element = first_by_class(view, *self.TITLE_CLASSES)
            title = normalise_text(element_text(title_element)) or None
            intro = first_by_class(view, *self.INTRO_CLASSES)
            lines = paragraphs(intro if intro is not None else view, skip=_is_chrome)
            entry = read_entry_lines(lines, title)
            entry.title = strip_featured_badge(title) if title else None
            ref = self._item_ref(view)
            found.append(
                StaffPublication.observed(
                    entry,
                    source=self.url,
                    fetched_at=fetched_at,
                    rank=SourceRank.LISTING,
                    url=ref.url if ref else None,
                    raw=" / ".join(paragraphs(view)),
                )
            )
        return found


def _is_chrome(element: etree._Element) -> bool:
    return has_class(
        element, "catItemReadMore", "catItemLinks", "itemImageBlock", "catItemImageBlock"
    )


def parse_staff_item(document: str | bytes, ref: ItemRef, fetched_at: str) -> StaffPublication:
    """A K2 item page of the staff category."""
    page = K2ItemPage(document, ref, fetched_at)
    title = normalise_text(page.title()) or None
    if title:
        title = strip_featured_badge(title)
    entry = read_entry_lines(page.content_paragraphs(), title)
    entry.title = title
    entry.date = entry.date or parse_partial_date(normalise_text(page.date_line()))
    return StaffPublication.observed(
        entry, source=ref.url, fetched_at=fetched_at, rank=SourceRank.ITEM, url=ref.url,
        raw=title or "",
    )  # fmt: skip
