"""A small K2-like site that serves the fixtures under the real URL grammar, for tests and demos.

Run it by hand with ``python -m caci_spider.localsite --port 8088``: it prints the crawl commands
that point at it and write to a database, exports and archive of their own (``exports/local``).

What it serves (all built from ``fixtures/``, never from our own extraction code):

* ``/publications/field-reports.html?start=N`` (or ``limitstart``): K2 category listing, 4 entries
  a page in a fixed non-chronological order, Joomla pagination links, an empty page past the end.
  The first page also links one entry through a host variant and a print view; the listing also
  holds an id that has no page (404, a stale link) and one whose page always answers 500.
* ``/publications/field-reports/item/<id>-<alias>.html``: the fixture page of that id (any alias;
  ``?tmpl=component&print=1`` serves the same page); unknown ids answer 404.
* ``/``: a home page carrying the "Staff Publications" sidebar of the seed page.
* ``/publications/joint-center-publications.html?start=N`` and its ``/item/`` pages: the
  institute's staff listing (``fixtures/staff_publications/``), so that one local server stands
  in for both sites (``CACI_BASE_URL`` and ``SILKROAD_BASE_URL`` both point at it).
* ``/robots.txt``: allows everything but ``/administrator/``.
* ``/publications/<category>.feed`` (``?type=rss`` or ``?type=atom``), and the same as
  ``<category>.html?format=feed&type=…``: K2's category feed, the newest 10 items by creation
  date (:mod:`caci_spider.localsite.feeds`); ``site.feed_fault`` makes it misbehave (404,
  malformed, oversized, hostile XML, empty, without links, stale).

``site.layout`` (``python -m caci_spider.localsite --layout NAME``) serves every page through
another template: K2's stock one, Joomla 4/5 core markup, no or renamed classes, or a page the
crawler cannot read (see :mod:`caci_spider.localsite.layouts`). Overrides, ``broken_markup`` and
faults that change what a page says apply first, the layout last; faults that change how a page
travels (truncation, encodings, padding, slow answers) act on the laid-out page.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from caci_spider import sources
from caci_spider.localsite import feeds, layouts, pdfs
from caci_spider.localsite.layouts import DEFAULT_LAYOUT, Link, PageContext

if TYPE_CHECKING:
    from caci_spider.localsite.faults import Fault

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = PACKAGE_ROOT / "fixtures"
PAGE_SIZE = 4
# An id the listing links but the site does not have (a stale link): its item answers 404.
MISSING_ITEM_ID = 7999
# An id whose item page always answers 500, so that retries run out.
BROKEN_SERVER_ITEM_ID = 7998
_ITEM_PATH = re.compile(r"^/publications/(?P<category>[\w-]+)/item/(?P<id>\d+)(?:-[^/]*)?\.html$")
FIELD_REPORTS_LISTING = "/publications/field-reports.html"
STAFF_LISTING = "/publications/joint-center-publications.html"
_FEED_PATH = re.compile(r"^/publications/(?P<category>[\w-]+)\.feed$")
# Every crawled section's listing path and name, from the site profiles (caci_spider.sources).
_LISTINGS = {
    category: (f"/publications/{category}.html", name)
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


@dataclass(frozen=True)
class ItemFixture:
    id: int
    alias: str
    path: Path
    title: str | None
    teaser: list[str]

    @property
    def href(self) -> str:
        return f"/publications/field-reports/item/{self.id}-{self.alias}.html"


def load_items(directory: Path) -> dict[int, ItemFixture]:
    """Item fixtures ``<id>-<alias>.html``; title and teaser come from the expected JSON."""
    items: dict[int, ItemFixture] = {}
    for path in sorted(directory.glob("*.html")):
        match = re.match(r"^(\d+)-(.+)\.html$", path.name)
        if not match:
            continue
        expected_path = path.with_suffix(".json")
        expected = json.loads(expected_path.read_text("utf-8")) if expected_path.exists() else {}
        teaser = [line for line in (expected.get("byline"),) if line]
        body = expected.get("body") or ""
        if body:
            teaser.append(body.split("\n\n")[0])
        items[int(match[1])] = ItemFixture(
            int(match[1]), match[2], path, expected.get("title"), teaser
        )
    return items


def listing_order(ids: list[int]) -> list[int]:
    """A fixed order that is not chronological, as on the real site."""
    return sorted(ids, key=lambda i: hashlib.sha256(str(i).encode()).hexdigest())


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Transport faults the handler acts out (see caci_spider.localsite.faults).
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    declared_length: int | None = None  # a Content-Length the body does not reach


_NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>"
# What "broken markup" does to item pages: a redesign that drops the date line and the title.
_BROKEN_MARKUP = (
    re.compile(rb'<span class="itemDateCreated">.*?</span>', re.DOTALL),
    re.compile(rb'<h2 class="itemTitle">.*?</h2>', re.DOTALL),
    re.compile(rb"<title>.*?</title>", re.DOTALL),
)


class LocalK2Site:
    """The site's content and its rendering; independent of any HTTP server.

    Tests change it while it runs: ``add_item``/``change_item`` edit content, ``failing`` makes
    items answer an error status, ``broken_markup`` simulates a redesign, ``throttled`` answers
    429 with ``Retry-After`` a given number of times, ``item_delay`` slows item pages down.
    Item pages carry ``ETag`` and ``Last-Modified`` and answer conditional requests with 304.
    ``layout`` names the template every page is served through (``"site"``: the fixtures as
    they are; see :mod:`caci_spider.localsite.layouts`).
    """

    def __init__(
        self,
        fixtures: Path = DEFAULT_FIXTURES,
        page_size: int = PAGE_SIZE,
        layout: str = DEFAULT_LAYOUT,
    ) -> None:
        self.layout = layout
        self.fixtures = fixtures
        self.page_size = page_size
        self.items = load_items(fixtures / "field_reports" / "items")
        self.order: list[int | None] = list(listing_order(list(self.items)))
        self.order.insert(1, MISSING_ITEM_ID)
        self.order.insert(6, BROKEN_SERVER_ITEM_ID)
        # Item id → HTTP status it answers instead of its page (tests switch items off here).
        self.failing: dict[int, int] = {BROKEN_SERVER_ITEM_ID: 500}
        self.overrides: dict[int, bytes] = {}
        self.faults: dict[int, Fault] = {}  # item id → fault acted out on its page
        self.fault_hits: dict[int, int] = {}
        self.listing_noise = ""  # extra links on every listing page
        self.broken_markup = False
        self.throttled: dict[str, tuple[int, int]] = {}  # path → (times left, Retry-After s)
        self.forbidden = False  # item pages answer 403, as a ban would
        self.item_delay = 0.0
        self.robots_txt = "User-agent: *\nDisallow: /administrator/\n"
        self.pagination = True  # False: listing pages without the K2 pagination block
        self.listing_moved = False  # True: the listing paths answer 404 (a moved section)
        # Whether a moved listing takes its feed along (a moved section); False: the listing's
        # address changed but its feed still answers.
        self.feed_moves_with_listing = True
        # Page links shown around the current page, as Joomla windows them; None: every page.
        self.pagination_window: int | None = None
        staff = fixtures / "staff_publications"
        self.staff_listings = {
            int(p.stem.removeprefix("start-")): p for p in staff.glob("listings/start-*.html")
        }
        self.staff_items = {int(p.name.split("-")[0]): p for p in staff.glob("items/*.html")}
        self.hits: dict[str, int] = {}
        self.log: list[tuple[float, str, int]] = []  # (time, path, status) of every request
        self.lock = threading.Lock()
        # Set while a content fault reads an item page: it gets the page before the layout.
        self._before_layout = threading.local()
        self._date_lines: dict[Path, str | None] = {}  # item fixture → its K2 date line
        self._staff_titles: dict[int, str] = {}
        # Feeds: created dates of items published by add_item (newer than every fixture), and
        # the fault the feeds act out (one of feeds.FEED_FAULTS).
        self.created: dict[int, datetime] = {}
        self.feed_fault: str | None = None
        self._feed_items: dict[Path, feeds.FeedItem] = {}
        # Test PDFs at /images/pdf/<name>.pdf are always served; with ``pdfs`` set, the staff
        # item pages link them (STAFF_PDF_LINKS: every good and bad case, and one off-site PDF).
        self.pdfs = False
        self.pdf_overrides: dict[str, bytes] = {}  # name → other bytes (a changed PDF)

    @property
    def layout(self) -> str:
        """The template pages are served through (one of ``layouts.LAYOUTS``)."""
        return self._layout

    @layout.setter
    def layout(self, name: str) -> None:
        self._layout = layouts.check_layout(name)

    # -- changes made by tests --------------------------------------------------------------
    def add_item(self, path: Path, position: int = 0) -> int:
        """Publish the item page at ``path`` (``<id>-<alias>.html``) at ``position`` in the
        listing."""
        added = load_items(path.parent)
        item = next(i for i in added.values() if i.path == path)
        self.items[item.id] = item
        self.order.insert(position, item.id)
        # Created now: at the top of the feed (a second apart, in the order published).
        self.created[item.id] = datetime.now(UTC) + timedelta(seconds=len(self.created))
        return item.id

    def change_item(self, item_id: int, html_bytes: bytes) -> None:
        self.overrides[item_id] = html_bytes

    # -- routing ----------------------------------------------------------------------------
    def respond(self, raw_path: str, headers: dict[str, str] | None = None) -> Reply:
        """The reply to a GET of ``raw_path`` (path and query) with request ``headers``."""
        parts = urlsplit(raw_path)
        with self.lock:
            self.hits[parts.path] = self.hits.get(parts.path, 0) + 1
        query = parse_qs(parts.query)
        feed = _FEED_PATH.match(parts.path)
        if feed or query.get("format") == ["feed"]:
            category = feed["category"] if feed else parts.path.rsplit("/", 1)[-1].split(".")[0]
            host = (headers or {}).get("Host") or "127.0.0.1"
            reply = self.feed(category, (query.get("type") or ["rss"])[0], f"http://{host}")
        else:
            reply = self._route(parts.path, query)
        reply = self._conditional(reply, headers or {})
        with self.lock:
            self.log.append((time.monotonic(), parts.path, reply.status))
        return reply

    def _route(self, path: str, query: dict[str, list[str]]) -> Reply:
        if path == "/robots.txt":
            return Reply(200, self.robots_txt.encode(), "text/plain")
        with self.lock:
            times, retry_after = self.throttled.get(path, (0, 0))
            if times:
                self.throttled[path] = (times - 1, retry_after)
        if times:
            return Reply(
                429, b"<h1>Too Many Requests</h1>", headers={"Retry-After": str(retry_after)}
            )
        if path.startswith(pdfs.PDF_PATH) and path.endswith(".pdf"):
            name = path.removeprefix(pdfs.PDF_PATH).removesuffix(".pdf")
            body = self.pdf_overrides.get(name) or pdfs.test_pdfs().get(name)
            if body is None:
                return Reply(404, _NOT_FOUND)
            # The HTML error page too: served as a PDF, as a misconfigured server does.
            return Reply(200, body, "application/pdf")
        if path in ("/", "/index.php"):
            return Reply(200, self._laid_out(self.home_page().encode(), self._home_context))
        start_values = query.get("start") or query.get("limitstart") or ["0"]
        start = int(start_values[0]) if start_values[0].isdigit() else 0
        if path == FIELD_REPORTS_LISTING and not self.listing_moved:
            page = self.listing_page(start).encode()
            return Reply(200, self._laid_out(page, self._listing_context))
        if path == STAFF_LISTING:
            page = self.staff_listing_page(start)
            return Reply(200, self._laid_out(page, self._staff_listing_context))
        match = _ITEM_PATH.match(path)
        if match is None:
            return Reply(404, _NOT_FOUND)
        item_id = int(match["id"])
        if self.forbidden:
            return Reply(403, b"<h1>403 Forbidden</h1>")
        if item_id in self.faults:
            with self.lock:
                self.fault_hits[item_id] = self.fault_hits.get(item_id, 0) + 1
                attempt = self.fault_hits[item_id]
            reply = self._fault_reply(self.faults[item_id], item_id, path, attempt)
            if reply is not None:
                return reply
        if item_id in self.failing:
            return Reply(self.failing[item_id], f"<h1>Error {self.failing[item_id]}</h1>".encode())
        if match["category"] == "field-reports" and item_id in self.items:
            if self.item_delay:
                time.sleep(self.item_delay)
            return Reply(200, self.item_page(item_id))
        if match["category"] == "joint-center-publications" and item_id in self.staff_items:
            page = self.staff_items[item_id].read_bytes()
            page = self._laid_out(page, lambda: self._staff_item_context(item_id))
            return Reply(200, self._with_pdf_links(page, item_id) if self.pdfs else page)
        return Reply(404, _NOT_FOUND)

    @staticmethod
    def _with_pdf_links(page: bytes, item_id: int) -> bytes:
        """The staff item page with its download links (STAFF_PDF_LINKS), in a K2 attachments
        block after the article, before ``</body>``."""
        links = "".join(
            f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>'
            for href, label in STAFF_PDF_LINKS.get(item_id, ())
        )
        block = f'<div class="itemAttachmentsBlock"><ul class="itemAttachments">{links}</ul></div>'
        head, found, tail = page.rpartition(b"</body>")
        return head + block.encode() + found + tail if found else page + block.encode()

    def _fault_reply(self, fault: Fault, item_id: int, path: str, attempt: int) -> Reply | None:
        """The fault's reply; a content fault rewrites the page before the layout renders it."""
        if fault.kind not in CONTENT_FAULTS or self.layout == DEFAULT_LAYOUT:
            return fault.reply(self, item_id, path, attempt)
        self._before_layout.on = True
        try:
            reply = fault.reply(self, item_id, path, attempt)
        finally:
            self._before_layout.on = False
        if reply is not None and reply.status == 200 and reply.body and item_id in self.items:
            reply.body = self._laid_out(reply.body, lambda: self._item_context(item_id))
        return reply

    @staticmethod
    def _conditional(reply: Reply, headers: dict[str, str]) -> Reply:
        """ETag / Last-Modified on every page; 304 when the client's copy is current."""
        if reply.status != 200:
            return reply
        etag = '"' + hashlib.sha256(reply.body).hexdigest()[:16] + '"'
        # A stable date derived from the content, so that a change moves it forward.
        stamp = 1_600_000_000 + int(hashlib.sha256(reply.body).hexdigest()[:6], 16)
        reply.headers.update({"ETag": etag, "Last-Modified": formatdate(stamp, usegmt=True)})
        if headers.get("If-None-Match") == etag:
            return Reply(304, b"", reply.content_type, reply.headers)
        return reply

    def item_page(self, item_id: int) -> bytes:
        """The field report's page as served: its content through the layout."""
        page = self.item_content(item_id)
        if getattr(self._before_layout, "on", False):
            return page
        return self._laid_out(page, lambda: self._item_context(item_id))

    def item_content(self, item_id: int) -> bytes:
        """The field report's page before the layout: fixture, override, broken markup."""
        page = self.overrides.get(item_id) or self.items[item_id].path.read_bytes()
        if self.broken_markup:
            for pattern in _BROKEN_MARKUP:
                page = pattern.sub(b"", page)
        return page

    # -- layouts ----------------------------------------------------------------------------
    def _laid_out(self, page: bytes, context: Callable[[], PageContext]) -> bytes:
        """``page`` through the site's layout (``context`` is only built when one is set)."""
        if self.layout == DEFAULT_LAYOUT:
            return page
        return layouts.render(self.layout, page, context())

    def _item_link(self, item_id: int) -> Link:
        item = self.items[item_id]
        return Link(item.href, item.title or item.alias.replace("-", " ").title())

    def _item_context(self, item_id: int) -> PageContext:
        """An item's neighbours in the listing order and the other items of its category."""
        listed = [i for i in self.order if i is not None and i in self.items]
        position = listed.index(item_id) if item_id in listed else None
        previous = next_ = None
        if position is not None:
            previous = self._item_link(listed[position - 1]) if position > 0 else None
            if position + 1 < len(listed):
                next_ = self._item_link(listed[position + 1])
        others = tuple(self._item_link(i) for i in listed if i != item_id)[:5]
        return PageContext("item", self.items[item_id].href, previous, next_, others)

    def _listing_context(self) -> PageContext:
        """The created date of each listed item, which stock templates show on the listing."""
        dates = {}
        for item in list(self.items.values()):
            if item.path not in self._date_lines:
                self._date_lines[item.path] = layouts.k2_date_line(item.path.read_bytes())
            line = self._date_lines[item.path]
            if line:
                dates[item.href] = line
        return PageContext("listing", FIELD_REPORTS_LISTING, entry_dates=dates)

    def _staff_listing_context(self) -> PageContext:
        return PageContext("listing", STAFF_LISTING)

    def _home_context(self) -> PageContext:
        return PageContext("home", "/")

    def _staff_link(self, item_id: int) -> Link:
        path = self.staff_items[item_id]
        if item_id not in self._staff_titles:
            oracle = path.with_suffix(".json")
            title = json.loads(oracle.read_text("utf-8")).get("title") if oracle.exists() else None
            self._staff_titles[item_id] = title or path.stem.split("-", 1)[-1]
        href = f"/publications/joint-center-publications/item/{path.stem}.html"
        return Link(href, self._staff_titles[item_id])

    def _staff_item_context(self, item_id: int) -> PageContext:
        ids = sorted(self.staff_items)
        position = ids.index(item_id)
        previous = self._staff_link(ids[position - 1]) if position > 0 else None
        next_ = self._staff_link(ids[position + 1]) if position + 1 < len(ids) else None
        others = tuple(self._staff_link(i) for i in ids if i != item_id)
        return PageContext("item", self._staff_link(item_id).href, previous, next_, others)

    # -- feeds ------------------------------------------------------------------------------
    def feed(self, category: str, kind: str, base: str) -> Reply:
        """K2's feed of ``category`` (``kind`` ``rss`` or ``atom``) as served, faults included."""
        moved = self.listing_moved and self.feed_moves_with_listing
        if category not in _LISTINGS or (moved and category == "field-reports"):
            return Reply(404, _NOT_FOUND)
        listing_path, channel = _LISTINGS[category]
        items = self.feed_items(category)
        render = feeds.render_atom if kind == "atom" else feeds.render_rss
        body = render(base, channel, listing_path, items)
        content_type = f"application/{'atom' if kind == 'atom' else 'rss'}+xml; charset=utf-8"
        if self.feed_fault and self.feed_fault != "stale":
            status, body = feeds.faulty_feed(self.feed_fault, body)
            if status != 200:
                return Reply(status, body)
        return Reply(200, body, content_type)

    def feed_items(self, category: str) -> list[feeds.FeedItem]:
        """The newest ``feeds.FEED_SIZE`` items of ``category``, by created date (then id)."""
        if category == "field-reports":
            dated = [(self.item_created(i), i, self.items[i].path) for i in self.items]
            if self.feed_fault == "stale":
                # Frozen when the fixtures' newest item was published: nothing added since.
                dated = [entry for entry in dated if entry[1] not in self.created]
        else:
            dated = [(self._created_of(p), i, p) for i, p in self.staff_items.items()]
        dated.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        return [
            self._feed_item(category, path, created)
            for created, _id, path in dated[: feeds.FEED_SIZE]
        ]

    def item_created(self, item_id: int) -> datetime:
        return self.created.get(item_id) or self._created_of(self.items[item_id].path)

    def _created_of(self, path: Path) -> datetime:
        line = layouts.k2_date_line(path.read_bytes())
        stamp = layouts.iso_datetime(line) if line else None
        return datetime.fromisoformat(stamp) if stamp else _UNDATED

    def _feed_item(self, category: str, path: Path, created: datetime) -> feeds.FeedItem:
        cached = self._feed_items.get(path)
        if cached is None:
            oracle = path.with_suffix(".json")
            expected = json.loads(oracle.read_text("utf-8")) if oracle.exists() else {}
            body = expected.get("body") or expected.get("summary") or ""
            cached = feeds.FeedItem(
                f"/publications/{category}/item/{path.stem}.html",
                expected.get("title") or path.stem.split("-", 1)[-1].replace("-", " "),
                created,
                tuple(expected.get("authors") or ()),
                body.split("\n\n")[0],
                _LISTINGS[category][1],
            )
            self._feed_items[path] = cached
        return cached

    # -- pages ------------------------------------------------------------------------------
    def listing_page(self, start: int) -> str:
        entries = self.order[start : start + self.page_size]
        pages = math.ceil(len(self.order) / self.page_size)
        body = "\n".join(self._listing_entry(item_id, start) for item_id in entries)
        pagination = self._pagination(start, pages) if entries and self.pagination else ""
        items_block = (
            f'<div class="itemList"><div id="itemListLeading">{body}</div></div>' if entries else ""
        )
        return _page(
            "Field Reports",
            f'<div id="k2Container" class="itemListView">'
            f'<div class="itemListCategory"><h2>Field Reports</h2></div>'
            f"{items_block}{pagination}{self.listing_noise}</div>",
        )

    def _listing_entry(self, item_id: int | None, start: int) -> str:
        item = self.items.get(item_id) if item_id is not None else None
        href = item.href if item else f"/publications/field-reports/item/{item_id}-unavailable.html"
        title = item.title if item else "A REPORT THE SITE CANNOT SERVE"
        teaser = "".join(f"<p>{html.escape(line)}</p>" for line in (item.teaser if item else []))
        extra = ""
        if start == 0 and item is not None and item_id == self.order[0]:
            # Stale link forms seen on the real site: a host variant and the print view.
            extra = (
                f'<p><a href="https://cacianalyst.org.{item.href}">permalink</a> '
                f'<a href="{item.href}?tmpl=component&amp;print=1">Print</a></p>'
            )
        title_html = (
            f'<h3 class="catItemTitle"><a href="{href}">{html.escape(title)}</a></h3>'
            if title
            else '<h3 class="catItemTitle"></h3>'
        )
        return (
            '<div class="itemContainer"><div class="catItemView groupLeading">'
            f'<div class="catItemHeader">{title_html}</div>'
            f'<div class="catItemBody"><div class="catItemIntroText">'
            f"<p>Published in Field Reports</p>{teaser}</div></div>{extra}"
            f'<div class="catItemReadMore"><a class="k2ReadMore" href="{href}">Read more...</a>'
            "</div></div></div>"
        )

    def _pagination(self, start: int, pages: int) -> str:
        current = start // self.page_size
        base = "/publications/field-reports.html?start="

        def link(label: str, page: int, css: str) -> str:
            href = f"{base}{page * self.page_size}"
            return f'<li class="{css}"><a title="{label}" href="{href}">{label}</a></li>'

        window = range(pages)
        if self.pagination_window is not None:
            size = self.pagination_window
            first = max(0, min(current - size // 2, pages - size))
            window = range(first, min(pages, first + size))
        links = []
        if current > 0:
            links += [
                link("Start", 0, "pagination-start"),
                link("Prev", current - 1, "pagination-prev"),
            ]
        links += [
            link(str(p + 1), p, "") if p != current else f"<li><span>{p + 1}</span></li>"
            for p in window
        ]
        if current < pages - 1:
            links += [
                link("Next", current + 1, "pagination-next"),
                link("End", pages - 1, "pagination-end"),
            ]
        return (
            f'<div class="k2Pagination"><ul>{"".join(links)}</ul>'
            f'<div class="k2PaginationCounter">Page {current + 1} of {pages}</div></div>'
        )

    def staff_listing_page(self, start: int) -> bytes:
        """A stored staff listing page; past the end, the category with no entries."""
        path = self.staff_listings.get(start)
        if path is not None:
            return path.read_bytes()
        empty = '<div id="k2Container" class="itemListView"><h2>Staff Publications</h2></div>'
        return _page("Staff Publications", empty).encode()

    def home_page(self) -> str:
        return _page("Home", '<div id="k2Container" class="itemListView"></div>')


_CHROME_PATH = DEFAULT_FIXTURES / "site_chrome.html"


def _page(title: str, main: str) -> str:
    """Wrap ``main`` in the site chrome: sidebars, footer blurb, newsletter."""
    chrome = _CHROME_PATH.read_text("utf-8") if _CHROME_PATH.exists() else "{main}"
    return chrome.replace("{title}", html.escape(title)).replace("{main}", main)


class _Handler(BaseHTTPRequestHandler):
    site: LocalK2Site
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms for
    # the client's delayed acknowledgement.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        reply = self.site.respond(self.path, dict(self.headers.items()))
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.declared_length or len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except ConnectionError:
            # The client gave up on the answer (a crawler refusing an oversized body).
            self.close_connection = True
            return
        if reply.declared_length:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve(
    site: LocalK2Site | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[tuple[str, LocalK2Site]]:
    """Serve ``site`` in a background thread; yields ``(base_url, site)``."""
    site = site or LocalK2Site()
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()
