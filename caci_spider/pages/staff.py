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

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from caci_spider.bylines import parse_authors as person_names
from caci_spider.items import StaffPublication
from caci_spider.pages.blocks import BLOCK_TAGS, element_text, paragraphs, parse_html
from caci_spider.pages.item import K2ItemPage
from caci_spider.pages.k2 import class_xpath, first_by_class, has_class
from caci_spider.pages.listing import K2ListingPage
from caci_spider.records import strip_featured_badge
from caci_spider.staff_entries import (
    KIND_LABELS,
    EntryParseError,
    is_image_label,
    parse_authors,
    parse_partial_date,
    parse_sidebar_entry,
    parse_venue_date_line,
    strip_image_label,
    title_key,
)
from caci_spider.text import normalise_text
from caci_spider.urls import STAFF_CATEGORY, ItemRef, item_ref

# libxml2 computes the string values; a Python walk over every element would be quadratic.
_HEADING_XPATH = (
    ".//*[translate(normalize-space(.), 'STAFFPUBLICATIONS:', 'staffpublications')"
    " = 'staff publications']"
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ENTRY_TAGS = frozenset({"p", "li", "div", "td", "dd"})
_READ_MORE = re.compile(r"^(?:read\s+more|continue\s+reading|click\s+here)\b", re.IGNORECASE)
_READ_AT = re.compile(r"^read\s+(?:at|on|in)\s+(?P<venue>.+?)\s*$", re.IGNORECASE)
_BY = re.compile(r"^by\s+\S", re.IGNORECASE)
_KIND_BY_NAME = {name.casefold(): label for name, label in KIND_LABELS.items()}
_LABELS_LONGEST_FIRST = sorted(KIND_LABELS, key=len, reverse=True)
_MAX_HEADER_LINES = 5
_MAX_HEADER_LENGTH = 160


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
    while container.getparent() is not None:
        container = container.getparent()
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
            entry = parse_sidebar_entry(_unglue_label(strip_image_label(text)))
        except EntryParseError as error:
            # The message's first clause is the category; the entry itself goes to raw.
            outcome.rejects.append((text, f"unparseable entry: {str(error).split(':')[0]}"))
            continue
        outcome.publications.append(
            StaffPublication(
                title=entry.title,
                sources=[page_url],
                fetched_at=fetched_at,
                kind=entry.kind,
                authors=entry.authors,
                roles=entry.roles,
                venue=entry.venue,
                date=entry.date,
                url=link if link and link.startswith(("http://", "https://")) else None,
                raw=text,
            )
        )
    return outcome


def _unglue_label(text: str) -> str:
    """``AnalysisLaura Linderman, …`` (a bold label, no space after it) → ``Analysis Laura …``."""
    for label in _LABELS_LONGEST_FIRST:
        rest = text[len(label) :]
        if text.startswith(label) and rest[:1].isupper():
            return f"{label} {rest}"
    return text


# -- header lines shared by listing entries and item pages ------------------------------------


@dataclass
class EntryHeader:
    kind: str | None = None
    authors: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    date: str | None = None
    summary: list[str] = field(default_factory=list)


def _names_line(line: str) -> bool:
    """A line of person names only (the byline rules: no bio, organisation or sentence)."""
    return bool(person_names(line)) and not line.endswith(("…", "...")) and "  " not in line


def read_entry_lines(lines: list[str], title: str | None) -> EntryHeader:
    """Split an entry's lines into header fields and the summary that follows them."""
    header = EntryHeader()
    key = title_key(title) if title else None
    cleaned = [strip_image_label(normalise_text(line)) for line in lines]
    cleaned = [line for line in cleaned if line and not is_image_label(line)]
    index = 0
    while index < len(cleaned) and index < _MAX_HEADER_LINES:
        line = cleaned[index]
        following = cleaned[index + 1] if index + 1 < len(cleaned) else ""
        after_following = cleaned[index + 2] if index + 2 < len(cleaned) else ""
        if _READ_MORE.match(line) or (key and title_key(line) == key):
            pass
        elif line.casefold() in _KIND_BY_NAME and not header.kind:
            header.kind = _KIND_BY_NAME[line.casefold()]
        elif len(line) > _MAX_HEADER_LENGTH:
            break
        elif match := _READ_AT.match(line):
            header.venue = header.venue or match["venue"]
        elif _BY.match(line) and not header.authors and _names_line(line):
            header.authors, header.roles = parse_authors(line)
        elif parse_partial_date(line):
            header.date = header.date or parse_partial_date(line)
        elif (
            not header.venue
            and parse_partial_date(following)
            and (not _names_line(line) or _names_line(after_following))
        ):
            header.venue = line  # venue-first form: "Venue" / "January 2020" / authors
        elif (venue_date := parse_venue_date_line(line))[1] and not header.date:
            header.venue = header.venue or venue_date[0]
            header.date = venue_date[1]
        elif not header.authors and _names_line(line):
            header.authors, header.roles = parse_authors(line)
        else:
            break
        index += 1
    if header.venue and (label := _KIND_BY_NAME.get(header.venue.casefold())):
        # "Silk Road Paper, October 2024": the "venue" is the publication's type.
        header.kind, header.venue = label, None
    header.summary = [
        line for line in cleaned[index:] if not _READ_MORE.match(line) and title_key(line) != key
    ]
    return header


# -- the silkroadstudies listing and item pages -----------------------------------------------


def _summary_text(paragraph_list: list[str]) -> str | None:
    return "\n\n".join(paragraph_list) or None


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
            header = read_entry_lines(lines, title)
            ref = self._item_ref(view)
            found.append(
                _from_header(
                    header,
                    title=strip_featured_badge(title) if title else None,
                    source=self.url,
                    fetched_at=fetched_at,
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
    header = read_entry_lines(page.content_paragraphs(), title)
    if not header.date:
        header.date = parse_partial_date(normalise_text(page.date_line()))
    return _from_header(
        header, title=title, source=ref.url, fetched_at=fetched_at, url=ref.url, raw=title or ""
    )


def _from_header(
    header: EntryHeader,
    *,
    title: str | None,
    source: str,
    fetched_at: str,
    url: str | None,
    raw: str,
) -> StaffPublication:
    """An authoritative observation (listing entry or item page) from its header lines."""
    return StaffPublication(
        title=title,
        sources=[source],
        fetched_at=fetched_at,
        kind=header.kind,
        authors=header.authors,
        roles=header.roles,
        venue=header.venue,
        date=header.date,
        url=url,
        summary=_summary_text(header.summary),
        raw=raw,
        authoritative=True,
    )


def combine_listing_and_item(
    listing: StaffPublication | None, item: StaffPublication
) -> StaffPublication:
    """One observation from a listing entry and the item page it links.

    The listing's values come first (its venue line dates the publication); the item page fills
    what the listing lacks; the URL is the item page's; both pages are sources.
    """
    if listing is None:
        return item
    combined = StaffPublication(
        title=listing.title or item.title,
        sources=sorted(set(listing.sources) | set(item.sources)),
        fetched_at=item.fetched_at,
        kind=listing.kind or item.kind,
        authors=listing.authors or item.authors,
        roles=listing.roles or item.roles,
        venue=listing.venue or item.venue,
        date=listing.date or item.date,
        url=item.url,
        summary=listing.summary or item.summary,
        raw=listing.raw or item.raw,
        authoritative=True,
    )
    return combined
