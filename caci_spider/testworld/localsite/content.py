"""What the local site serves, before it serves it: its hosts and sections, the item fixtures of
each section with their listing order, the site's deliberate faults' ids, and a reply."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from caci_spider import sources, urls
from caci_spider.testworld.localsite import itempages, pdfs
from caci_spider.testworld.localsite.listings import FixtureListing

if TYPE_CHECKING:
    from caci_spider.testworld.localsite.faults import Fault


PACKAGE_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_FIXTURES = PACKAGE_ROOT / "fixtures"
PAGE_SIZE = 4
# An id the listing links but the site does not have (a stale link): its item answers 404.
MISSING_ITEM_ID = 7999
# An id whose item page always answers 500, so that retries run out.
BROKEN_SERVER_ITEM_ID = 7998
# The section that carries the site's deliberate faults (a stale link, an item answering 500,
# the host-variant and print-view links, ``failing``, ``faults``, ``overrides``): field reports.
FAULTY_SPIDER = "field_reports"
FAULTY_PROFILE, FAULTY_SECTION = sources.section_of(FAULTY_SPIDER)
FAULTY_CATEGORY = FAULTY_SECTION.category
# The institute's staff listing: served from its stored listing pages, on the main host.
STAFF_PROFILE, STAFF_SECTION = sources.section_of("staff_publications")
FIELD_REPORTS_LISTING = f"/publications/{FAULTY_CATEGORY}.html"
STAFF_LISTING = f"/publications/{STAFF_SECTION.category}.html"
# The main host answers for the Analyst and, as one local server has always stood in for both,
# for the institute's staff listing; every other crawled site (the Turkey Analyst) answers on a
# host of its own: another listening port of the same process (portable, unlike 127.0.0.2).
MAIN_HOST = FAULTY_PROFILE.key
_FEED_PATH = re.compile(r"^/(?:publications/)?(?P<category>[\w-]+)\.feed$")
_JSON_PATH = re.compile(r"^/(?:publications/)?(?P<category>[\w-]+)\.json$")
_HTML_LISTING_PATH = re.compile(r"^/(?:publications/)?(?P<category>[\w-]+)\.html$")
# Every crawled section's listing path and name, from the site profiles (caci_spider.sources).
_LISTINGS = {
    category: (f"{urls.category_path(category)}.html", name)
    for category, name in sources.section_names_by_category().items()
}
# Created date of an item page without a K2 date line.
_UNDATED = datetime(2000, 1, 1, tzinfo=UTC)
# Download links the staff item pages carry when ``site.pdfs`` is set: (href, link text).
OFF_SITE_PDF = "https://elsewhere.example/papers/off-site-paper.pdf"
STAFF_PDF_LINKS: dict[int, tuple[tuple[str, str], ...]] = {
    13313: (
        (f"{pdfs.PDF_PATH}caspian-energy-paper.pdf", "Click Here to Download"),
        (f"{pdfs.PDF_PATH}not-a-pdf.pdf", "Download PDF"),
        (f"{pdfs.PDF_PATH}truncated.pdf", "truncated.pdf"),
    ),
    13327: (
        (f"{pdfs.PDF_PATH}central-asia-pandemic-report.pdf", "Download the report"),
        (f"{pdfs.PDF_PATH}encrypted.pdf", "encrypted.pdf"),
        (f"{pdfs.PDF_PATH}scanned.pdf", "scanned.pdf"),
    ),
    13338: (
        (f"{pdfs.PDF_PATH}bomb.pdf", "bomb.pdf"),
        (f"{pdfs.PDF_PATH}oversized.pdf", "oversized.pdf"),
        (f"{pdfs.PDF_PATH}slow.pdf", "slow.pdf"),
        (OFF_SITE_PDF, "Download PDF"),
        # A PDF another row links too: fetched once, linked twice.
        (f"{pdfs.PDF_PATH}caspian-energy-paper.pdf", "Download PDF"),
    ),
}
# Faults that change what an item page says: acted out on the page before the layout renders it.
# Every other fault changes how the (laid-out) page travels.
CONTENT_FAULTS = frozenset({"hostile"})


def _listing_start(query: dict[str, list[str]]) -> int:
    """A listing's ``?start=`` (or Joomla's ``?limitstart=``) offset; 0 when absent or not a
    number."""
    values = query.get("start") or query.get("limitstart") or ["0"]
    return int(values[0]) if values[0].isdigit() else 0


def host_of_profile(profile: sources.SiteProfile) -> str:
    """The local host (a key of :func:`hosts`) that serves ``profile``'s sections."""
    return MAIN_HOST if profile.key in (MAIN_HOST, STAFF_PROFILE.key) else profile.key


def hosts() -> dict[str, tuple[sources.SiteProfile, ...]]:
    """Every local host (main first) and the profiles it serves."""
    served: dict[str, tuple[sources.SiteProfile, ...]] = {MAIN_HOST: ()}
    for profile in sources.crawled_profiles():
        key = host_of_profile(profile)
        served[key] = (*served.get(key, ()), profile)
    return served


def section_of_category(category: str) -> tuple[sources.SiteProfile, sources.Section] | None:
    """The crawled section whose K2 category is ``category`` (categories are unique)."""
    return next(((p, s) for p, s in sources.sections() if s.category == category), None)


@dataclass(frozen=True)
class ItemFixture:
    id: int
    alias: str
    path: Path
    category: str = FAULTY_CATEGORY

    @property
    def href(self) -> str:
        return f"{urls.category_path(self.category)}/item/{self.id}-{self.alias}.html"

    @property
    def title(self) -> str | None:
        """The title a listing shows, read from the page (:mod:`.itempages`) when first asked
        for: a generated site of thousands of items reads only what it lists."""
        return _listed(self.path, self.category, self.path.stat().st_mtime_ns)[0]

    @property
    def teaser(self) -> list[str]:
        return list(_listed(self.path, self.category, self.path.stat().st_mtime_ns)[1])


@functools.cache
def _listed(path: Path, category: str, _mtime: int) -> tuple[str | None, tuple[str, ...]]:
    """(title, teaser) of an item page, read once per version of its file."""
    found = section_of_category(category)
    title, teaser = itempages.read(path, found[0] if found else None)
    return title, tuple(teaser)


def load_items(directory: Path, category: str = FAULTY_CATEGORY) -> dict[int, ItemFixture]:
    """Item fixtures ``<id>-<alias>.html`` of ``category``; the title and teaser a listing shows
    of each are read from its page (:mod:`.itempages`), never from its oracle."""
    items: dict[int, ItemFixture] = {}
    for path in sorted(directory.glob("*.html")):
        match = re.match(r"^(\d+)-(.+)\.html$", path.name)
        if match:
            items[int(match[1])] = ItemFixture(int(match[1]), match[2], path, category)
    return items


_PDF_LINK = re.compile(rb'<a href="(?P<href>/[^"]+\.pdf)"[^>]*>(?P<words>[^<]+)</a>')


def pdf_links(page: Path) -> list[tuple[str, str]]:
    """``(path, link words)`` of the same-site PDF links a fixture page holds."""
    return [
        (m["href"].decode("utf-8"), html.unescape(m["words"].decode("utf-8")).strip())
        for m in _PDF_LINK.finditer(page.read_bytes())
    ]


def listing_order(ids: list[int]) -> list[int]:
    """A fixed order that is not chronological, as on the real site."""
    return sorted(ids, key=lambda i: hashlib.sha256(str(i).encode()).hexdigest())


@dataclass
class SectionContent:
    """One crawled section as the local site serves it: its items and their listing order.

    The field reports' content is the site's own ``items``, ``order``, ``faults`` and
    ``failing`` (tests change those); every other section has its own, without faults until a
    test sets some.
    """

    profile: sources.SiteProfile
    section: sources.Section
    items: dict[int, ItemFixture]
    order: list[int | None]
    faults: dict[int, Fault] = field(default_factory=dict)
    failing: dict[int, int] = field(default_factory=dict)
    # Its fixture listing pages, where they are the whole category (served as they are).
    fixture_listing: FixtureListing | None = None

    @property
    def category(self) -> str:
        return self.section.category

    @property
    def listing_path(self) -> str:
        return f"{self.section.path}.html"


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Transport faults the handler acts out (see caci_spider.testworld.localsite.faults).
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    declared_length: int | None = None  # a Content-Length the body does not reach
