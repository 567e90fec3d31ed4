"""K2 category listing page → the items it links and the listing pages it paginates to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

from caci_spider.pages.blocks import element_text, parse_html
from caci_spider.pages.fields import field
from caci_spider.pages.k2 import ClassIndex
from caci_spider.urls import ItemRef, category_of, is_same_site, item_ref, listing_start

_OFFSET_PARAMETER = re.compile(r"[?&](?:limit)?start=\d")
# What the links of Joomla's and K2's pagination read: page numbers, arrows, Start/Prev/Next/End.
_PAGINATION_LABEL = re.compile(
    r"^(?:\d+|[«‹»›]+|(?:[«‹]\s*)?(?:start|first|prev|previous|next|end|last)(?:\s*[»›])?)$",
    re.IGNORECASE,
)


@dataclass
class ListingEntry:
    id: int
    url: str
    title: str | None


class K2ListingPage:
    """One page of ``/publications/<category>.html?start=N``.

    Entries are the distinct items of the category linked from the page, in order; K2's
    ``catItemTitle`` gives their titles where shown, else a link inside a heading (Joomla's
    category blog, a template without K2's classes). Links elsewhere (other categories, tags,
    ``javascript:``, ``mailto:``, other hosts) are ignored. Its fields: the entries (key
    ``items``) and the offsets of the other pages, from the pagination block, else from every
    link to this listing with an offset.
    """

    TITLE_CLASSES = ("catItemTitle", "tagItemTitle", "userItemTitle")
    PAGINATION_CLASSES = ("k2Pagination", "pagination", "pagination__wrapper")
    # The list container, most specific first: sidebar modules outside it never count. K2's,
    # then Joomla's category blog (components/com_content/tmpl/category/blog.php).
    LIST_CLASSES = (
        ("itemList", "tagItemList", "userItemList"),
        ("itemListView",),
        ("com-content-category-blog", "blog-items"),
    )
    _HEADING_LINKS = etree.XPath(
        ".//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]//a"
    )

    def __init__(self, document: str | bytes, url: str, base_url: str, section: str) -> None:
        self.root = parse_html(document)
        self.url = url
        self.base_url = base_url
        # The section's own path (its ``Section.path``), not looked up by category: a section
        # declared outside caci_spider.sources, or at the top of its site, lists its items too.
        self.section = section
        self.category = category_of(section)
        self.category_path = f"{section}.html"
        self._entries: list[ListingEntry] | None = None
        self.classes = ClassIndex(self.root)
        self._refs: dict[str, ItemRef | None] = {}

    def _ref(self, href: str | None) -> ItemRef | None:
        href = href or ""
        if href not in self._refs:  # a title link is met again among the entries' links
            # Entries carry ids and URLs; the spider keys them by its target's site.
            self._refs[href] = item_ref(href, self.url, self.base_url, self.section, site="")
        return self._refs[href]

    def _links_under(self, classes: tuple[str, ...]) -> list[etree._Element]:
        """The ``<a>`` inside elements carrying ``classes``, in document order, once each."""
        links: dict[etree._Element, None] = {}
        for container in self.classes.all(*classes):
            links.update(dict.fromkeys(container.iterdescendants("a")))
        return list(links)

    def titles(self) -> dict[int, str]:
        titles: dict[int, str] = {}
        links = self._links_under(self.TITLE_CLASSES) or self._HEADING_LINKS(self.list_root())
        for link in links:
            ref = self._ref(link.get("href"))
            text = element_text(link)
            if ref and text:
                titles.setdefault(ref.id, text)
        return titles

    def list_root(self) -> etree._Element:
        """The K2 list container when present, so that sidebar modules linking items (latest
        items, staff publications) never count as entries; else the whole page."""
        for classes in self.LIST_CLASSES:
            found = self.classes.first(*classes)
            if found is not None:
                return found
        return self.root

    @field(key="items")
    def entries(self) -> list[ListingEntry]:
        if self._entries is None:
            self._entries = self._find_entries()
        return self._entries

    def _find_entries(self) -> list[ListingEntry]:
        titles = self.titles()
        seen: dict[int, ListingEntry] = {}
        for link in self.list_root().iter("a"):
            ref = self._ref(link.get("href"))
            if ref and ref.id not in seen:
                seen[ref.id] = ListingEntry(ref.id, ref.url, titles.get(ref.id))
        return list(seen.values())

    @field
    def page_starts(self) -> list[int]:
        """Offsets of the other pages of this listing linked from the pagination block."""
        starts: set[int] = set()
        links = self._links_under(self.PAGINATION_CLASSES)
        # No pagination block found: the links to this listing that name an offset or read as
        # pagination ("2", "Next", "End"); a menu link to the category, or an empty href, is not.
        by_text = not links
        for link in links or self.root.iter("a"):
            href = link.get("href") or ""
            if href.startswith("#"):
                continue  # Joomla 4 prints the current page as a link to "#"
            if by_text and not (
                _OFFSET_PARAMETER.search(href) or _PAGINATION_LABEL.match(element_text(link))
            ):
                continue
            absolute = urljoin(self.url, href)
            if not is_same_site(absolute, self.base_url):
                continue
            if urlsplit(absolute).path.rstrip("/") != self.category_path:
                continue
            start = listing_start(absolute)
            if start is not None:
                starts.add(start)
        return sorted(starts)
