"""The fixture pages of ``fixtures/``: one catalogue of where each page type lives, the URL each
fixture is read as, and how its page object's fields become its oracle's shape.

Every fixture is ``<directory>/<name>.html`` with its oracle ``<name>.json`` beside it (see
fixtures/README.md). The fixture harness (``tests/pages/conftest.py``) compares what
:meth:`FixturePage.read` gives with the oracle; the draft tool
(``python -m caci_spider.testworld.draft``) writes what it gives as a draft for a new fixture. Both
take the URLs from here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caci_spider.items import CONTRACT_KEYS, STAFF_KEYS
from caci_spider.pages.fields import extract
from caci_spider.pages.item import K2ItemPage, item_page
from caci_spider.pages.listing import K2ListingPage
from caci_spider.pages.staff import StaffItemPage, StaffListingPage
from caci_spider.records import build_publication

# CACI_BASE_URL is re-exported for the tests.
from caci_spider.settings import CACI_BASE_URL, SILKROAD_BASE_URL  # noqa: F401
from caci_spider.sources import Section, SiteProfile, section_of, sections
from caci_spider.urls import (
    STAFF_CATEGORY,
    STAFF_PATH,
    STAFF_SITE_PROFILE,
    ItemRef,
    item_ref,
    listing_url,
)

FIXTURES_ROOT = Path(__file__).resolve().parents[2] / "fixtures"
# The fetch time every fixture is read with (no oracle holds it).
FETCHED_AT = "2026-01-01T00:00:00Z"
DRAFT_SUFFIX = ".draft.json"
# The field reports' kinds keep their first names ("item", "listing"); every other article
# section's are "<spider, dashed>-item" and "<spider, dashed>-listing" ("turkey-analyst-item").
_FIRST_SECTION = "field_reports"
STAFF_SPIDER = "staff_publications"

Oracle = dict[str, Any]


@dataclass(frozen=True)
class PageKind:
    """One page type: where its fixtures are, its URLs, and what its oracle holds."""

    name: str
    directory: str  # below the fixtures root
    base_url: str  # the site its pages are read as coming from
    page_class: type  # the page object whose declared fields the oracle holds
    # (document, url) → the page object's fields after the steps a crawl runs, oracle-shaped.
    read: Callable[[bytes, str], Oracle]
    # The URL a fixture is read as, from its file (None: the oracle's "url" gives it).
    url_of: Callable[[Path], str] | None
    # Every key ``read`` gives (a rejected page gives only "reject").
    keys: tuple[str, ...]
    # Keys of ``read`` no oracle holds: run-time or derived from other fields.
    derived: tuple[str, ...] = ()
    # Keys ``read`` gives that this kind's oracles leave out on purpose.
    omitted: tuple[str, ...] = ()
    # Oracle keys that are the fixture's input ("url"), not an output.
    inputs: tuple[str, ...] = ()
    # Oracle keys a later step of the crawl adds ("duplicate_of": de-duplication).
    annotations: tuple[str, ...] = ()

    def compared(self) -> tuple[str, ...]:
        """The keys an oracle must hold, besides its inputs and annotations."""
        return tuple(k for k in self.keys if k not in self.derived and k not in self.omitted)


# -- reading each kind, through the steps a crawl runs -------------------------------------------


def _read_item(document: bytes, url: str) -> Oracle:
    """Page object → normalise → validate → collapse (records.build_publication)."""
    return read_item_as(item_page, document, url)


def read_item_as(
    page_object: Callable[[bytes, ItemRef, str], K2ItemPage], document: bytes, url: str
) -> Oracle:
    """An item page read by ``page_object`` (a route: :class:`~caci_spider.pages.item.
    TextItemPage` for the text alone), oracle-shaped. The URL names the site and the section
    (the section whose category its path holds, on the site whose base URL it starts with)."""
    profile, section = section_of_url(url)
    ref = item_ref(url, url, profile.default_base_url, section.path, site=profile.key)
    if ref is None:
        raise ValueError(f"not an item URL of {profile.key} {section.category}: {url}")
    report, reason, _raw = build_publication(page_object(document, ref, FETCHED_AT).extract())
    if report is None:
        return {"reject": reason}
    # The oracle is the page's: which release read it is not part of it.
    return {k: v for k, v in report.as_row().items() if k != "extraction_version"}


def section_of_url(url: str) -> tuple[SiteProfile, Section]:
    """The crawled section an item or listing URL (at a profile's default base URL) is of;
    the field reports for any other URL."""
    for profile, section in sections():
        prefix = f"{profile.default_base_url}{section.path}"
        if url.startswith((prefix + "/", prefix + ".html")):
            return profile, section
    return section_of(_FIRST_SECTION)


def _read_listing(document: bytes, url: str) -> Oracle:
    profile, section = section_of_url(url)
    values = extract(K2ListingPage(document, url, profile.default_base_url, section.path))
    values["items"] = [dataclasses.asdict(entry) for entry in values["items"]]
    return values


def _read_staff_listing(document: bytes, url: str) -> Oracle:
    """The entries' ``url`` is given as ``item_path``: the path on the institute's site."""
    values = extract(StaffListingPage.from_document(document, url, SILKROAD_BASE_URL))
    values["entries"] = [
        {
            "item_path" if key == "url" else key: _site_path(value) if key == "url" else value
            for key, value in entry.items()
        }
        for entry in values["entries"]
    ]
    return values


def _site_path(url: str | None) -> str | None:
    return url.removeprefix(SILKROAD_BASE_URL) if url else None


def _read_staff_item(document: bytes, url: str) -> Oracle:
    ref = item_ref(url, url, SILKROAD_BASE_URL, STAFF_PATH, STAFF_SITE_PROFILE.key)
    if ref is None:
        raise ValueError(f"not a staff item URL: {url}")
    return extract(StaffItemPage(document, ref))


def _item_url_of(profile: SiteProfile, section: Section) -> Callable[[Path], str]:
    """``<id>-<alias>.html`` is read as
    ``<base>/publications/<category>/item/<id>-<alias>.html`` (``<base>/<category>/item/…`` for
    a top-level category)."""

    def url_of(path: Path) -> str:
        return f"{profile.default_base_url}{section.path}/item/{path.stem}.html"

    return url_of


def _kind_names(section: Section) -> tuple[str, str]:
    """(item kind, listing kind) of an article section."""
    if section.spider == _FIRST_SECTION:
        return "item", "listing"
    prefix = section.spider.replace("_", "-")
    return f"{prefix}-item", f"{prefix}-listing"


def _article_kinds() -> list[PageKind]:
    """An item and a listing kind per crawled article section (every section of sources.py
    but the institute's staff publications, whose pages are of their own kinds): a section
    added there is a fixture directory here, with no new code."""
    kinds: list[PageKind] = []
    for profile, section in sections():
        if section.spider == STAFF_SPIDER:
            continue
        item_kind, listing_kind = _kind_names(section)
        kinds.append(
            PageKind(
                name=item_kind,
                directory=f"{section.spider}/items",
                base_url=profile.default_base_url,
                page_class=K2ItemPage,
                read=_read_item,
                url_of=_item_url_of(profile, section),
                # extraction_version stamps the release that read the page, not the page.
                keys=tuple(k for k in CONTRACT_KEYS if k != "extraction_version"),
                derived=("word_count", "content_hash", "fetched_at"),
                annotations=("duplicate_of",),
            )
        )
        kinds.append(
            PageKind(
                name=listing_kind,
                directory=f"{section.spider}/listings",
                base_url=profile.default_base_url,
                page_class=K2ListingPage,
                read=_read_listing,
                url_of=None,
                keys=("items", "page_starts"),
                inputs=("url",),
            )
        )
    return kinds


def _staff_item_url(path: Path) -> str:
    return f"{SILKROAD_BASE_URL}/publications/{STAFF_CATEGORY}/item/{path.stem}.html"


def _staff_listing_url(path: Path) -> str:
    """``start-8.html`` is the listing page ``?start=8``."""
    start = path.stem.removeprefix("start-")
    if not start.isdigit():
        raise ValueError(f"a staff listing fixture is named start-<offset>.html: {path.name}")
    return listing_url(SILKROAD_BASE_URL, f"publications/{STAFF_CATEGORY}.html", int(start))


# The fields a staff page object gives: a StaffEntry and its url (STAFF_KEYS without what the
# observation and the store add).
_STAFF_PAGE_KEYS = tuple(k for k in STAFF_KEYS if k not in ("id", "sources", "fetched_at"))

KINDS: dict[str, PageKind] = {
    kind.name: kind
    for kind in (
        *_article_kinds(),
        PageKind(
            name="staff-item",
            directory="staff_publications/items",
            base_url=SILKROAD_BASE_URL,
            page_class=StaffItemPage,
            read=_read_staff_item,
            url_of=_staff_item_url,
            keys=_STAFF_PAGE_KEYS,
            omitted=("kind", "roles", "url"),
        ),
        PageKind(
            name="staff-listing",
            directory="staff_publications/listings",
            base_url=SILKROAD_BASE_URL,
            page_class=StaffListingPage,
            read=_read_staff_listing,
            url_of=_staff_listing_url,
            keys=("entries", "rejects", "page_starts"),
        ),
    )
}


# -- the fixtures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixturePage:
    """One fixture page of a kind; its oracle is the ``.json`` beside it."""

    kind: PageKind
    html: Path

    @property
    def oracle_path(self) -> Path:
        return self.html.with_suffix(".json")

    @property
    def draft_path(self) -> Path:
        return self.html.with_suffix(DRAFT_SUFFIX)

    @property
    def name(self) -> str:
        """Short test id: the K2 id of an item page, else the file's stem."""
        stem = self.html.stem
        return stem.split("-")[0] if self.kind.name.endswith("item") else stem

    def expected(self) -> Oracle:
        return load_oracle(self.oracle_path)

    @property
    def url(self) -> str:
        """The URL the page is read as (production base URL)."""
        if self.kind.url_of is not None:
            return self.kind.url_of(self.html)
        if not self.oracle_path.exists():
            raise ValueError(
                f"{self.html.name}: its URL is the oracle's 'url' key, and it has none"
            )
        return str(self.expected()["url"])

    @property
    def site_path(self) -> str:
        """The URL without its base: the path (and query) on the site."""
        return self.url.removeprefix(self.kind.base_url)

    def read(self, url: str | None = None) -> Oracle:
        """What the page gives, oracle-shaped (read as ``url`` if given, else :attr:`url`)."""
        return self.kind.read(self.html.read_bytes(), url or self.url)


@functools.cache
def load_oracle(path: Path) -> Oracle:
    return dict(json.loads(path.read_text("utf-8")))


def fixture_pages(kind: str, root: Path = FIXTURES_ROOT) -> list[FixturePage]:
    """Every fixture of ``kind`` that has an oracle, sorted by file name."""
    page_kind = KINDS[kind]
    return [
        FixturePage(page_kind, html)
        for html in sorted((root / page_kind.directory).glob("*.html"))
        if html.with_suffix(".json").exists()
    ]


def all_fixture_pages(root: Path = FIXTURES_ROOT) -> list[FixturePage]:
    return [page for kind in KINDS for page in fixture_pages(kind, root)]


def kind_of(html: Path, root: Path = FIXTURES_ROOT) -> PageKind | None:
    """The kind whose directory holds ``html``, if any."""
    folder = html.resolve().parent
    return next((k for k in KINDS.values() if folder == (root / k.directory).resolve()), None)


def item_kinds() -> list[str]:
    """The kinds of article item pages (every section's), field reports first."""
    return [name for name, kind in KINDS.items() if kind.page_class is K2ItemPage]


def listing_kinds() -> list[str]:
    """The kinds of article listing pages (every section's), field reports first."""
    return [name for name, kind in KINDS.items() if kind.page_class is K2ListingPage]


def article_item_pages(root: Path = FIXTURES_ROOT) -> list[FixturePage]:
    """Every article item fixture of every section and site."""
    return [page for kind in item_kinds() for page in fixture_pages(kind, root)]


def find_fixture(kind: str, prefix: str, root: Path = FIXTURES_ROOT) -> FixturePage:
    """The one fixture of ``kind`` whose file name starts with ``prefix`` (``"8145-"``)."""
    (page,) = [p for p in fixture_pages(kind, root) if p.html.name.startswith(prefix)]
    return page


def item_kind(spider: str) -> str:
    """The item kind of an article section's fixtures (``"item"`` for the field reports)."""
    profile, section = section_of(spider)
    return _kind_names(section)[0]


def good_fixtures(spider: str, root: Path = FIXTURES_ROOT) -> list[FixturePage]:
    """The item fixtures of the article section ``spider`` that a crawl of the local site stores
    as rows: every one with an oracle but the pages broken on purpose (``reject``) and the
    re-imports (``duplicate_of``). Tests count rows with this instead of a typed-in number, so
    that a new fixture breaks none of them."""
    return [
        page
        for page in fixture_pages(item_kind(spider), root)
        if not {"reject", "duplicate_of"} & page.expected().keys()
    ]
