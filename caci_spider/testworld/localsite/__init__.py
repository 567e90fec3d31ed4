"""A small K2-like site that serves the fixtures under the real URL grammar, for tests and demos.

Run it by hand with ``python -m caci_spider.testworld.localsite --port 8088``: it prints the crawl
commands that point at it and write to a database, exports and archive of their own
(``exports/local``).

What it serves (all built from ``fixtures/``, never from our own extraction code), for every
crawled section of :mod:`caci_spider.sources` (category, listing path, feed and name read from
there; items from ``fixtures/<spider>/items/``):

* Two hosts, two listening ports of one process (:func:`serve`): the main one for the Analyst
  (and the institute's staff listing), one of its own for each other site, the Turkey Analyst
  (``site.base_urls``). A host answers only for its own sites' sections: a path of another
  site's section is 404 there, so the same K2 id on both sites (12997) is two different pages.
* ``/publications/<category>.html?start=N`` (or ``limitstart``; ``/<category>.html`` for a
  top-level category, silkroadstudies.org's news and events): K2 category listing, 4 entries
  a page in a fixed non-chronological order, Joomla pagination links, an empty page past the end.
  The field reports carry the site's faults: their first page also links one entry through a
  host variant and a print view; their listing also holds an id that has no page (404, a stale
  link) and one whose page always answers 500.
* ``/publications/<category>/item/<id>-<alias>.html``: the fixture page of that id in that
  section (any alias; ``?tmpl=component&print=1`` serves the same page); unknown ids answer 404.
* The PDFs the sections' items link (an oracle's ``pdf_url``): a one-page PDF of its title (a
  paper's with its summary's first paragraph), and a book's chapter PDFs.
* ``/``: a home page carrying the "Staff Publications" sidebar of the seed page.
* ``/publications/joint-center-publications.html?start=N`` and its ``/item/`` pages: the
  institute's staff listing (``fixtures/staff_publications/``), so that one local server stands
  in for both sites (``CACI_BASE_URL`` and ``SILKROAD_BASE_URL`` both point at it).
* ``/robots.txt`` (on every host): allows everything but ``/administrator/``.
* ``/publications/<category>.feed`` (``?type=rss`` or ``?type=atom``), and the same as
  ``<category>.html?format=feed&type=…``: K2's category feed, the newest 10 items by creation
  date (:mod:`caci_spider.testworld.localsite.feeds`); ``site.feed_fault`` makes it misbehave (404,
  malformed, oversized, hostile XML, empty, without links, stale).

``site.layout`` (``python -m caci_spider.testworld.localsite --layout NAME``) serves every page
through another template: K2's stock one, Joomla 4/5 core markup, no or renamed classes, or a page
the crawler cannot read (see :mod:`caci_spider.testworld.localsite.layouts`). Overrides,
``broken_markup`` and faults that change what a page says apply first, the layout last; faults that
change how a page travels (truncation, encodings, padding, slow answers) act on the laid-out page.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from caci_spider import sources, urls
from caci_spider.testworld.localsite import feeds, k2json, layouts, pdfs
from caci_spider.testworld.localsite.content import (
    _FEED_PATH,
    _HTML_LISTING_PATH,
    _JSON_PATH,
    _LISTINGS,
    _UNDATED,
    BROKEN_SERVER_ITEM_ID,
    CONTENT_FAULTS,
    DEFAULT_FIXTURES,
    FAULTY_CATEGORY,
    FAULTY_PROFILE,
    FAULTY_SECTION,
    FAULTY_SPIDER,
    FIELD_REPORTS_LISTING,
    MAIN_HOST,
    MISSING_ITEM_ID,
    OFF_SITE_PDF,
    PACKAGE_ROOT,
    PAGE_SIZE,
    STAFF_LISTING,
    STAFF_PDF_LINKS,
    STAFF_PROFILE,
    STAFF_SECTION,
    ItemFixture,
    Reply,
    SectionContent,
    _listing_start,
    host_of_profile,
    hosts,
    listing_order,
    load_items,
    pdf_links,
    section_of_category,
)
from caci_spider.testworld.localsite.layouts import DEFAULT_LAYOUT, Link, PageContext
from caci_spider.testworld.localsite.listings import fixture_listing
from caci_spider.testworld.localsite.server import other_ports, serve

if TYPE_CHECKING:
    from caci_spider.testworld.localsite.faults import Fault


_NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>"
# What "broken markup" does to item pages: a redesign that drops the date line and the title.
_BROKEN_MARKUP = (
    re.compile(rb'<span class="itemDateCreated">.*?</span>', re.DOTALL),
    re.compile(rb'<h2 class="itemTitle">.*?</h2>', re.DOTALL),
    re.compile(rb"<title>.*?</title>", re.DOTALL),
)


class LocalK2Site:
    """The sites' content and its rendering; independent of any HTTP server.

    ``items``, ``order``, ``faults``, ``failing`` and ``overrides`` are the field reports' (the
    section with the site's deliberate faults); ``sections`` holds every other crawled section
    by category (its own items, order, faults and failing), ``staff_items`` the staff listing's
    pages. :meth:`respond` answers as one local host (:func:`hosts`); :func:`serve` listens for
    each and sets ``base_urls``.

    Tests change it while it runs: ``add_item``/``change_item`` edit content, ``failing`` makes
    items answer an error status, ``broken_markup`` simulates a redesign, ``throttled`` answers
    429 with ``Retry-After`` a given number of times, ``item_delay`` slows item pages down.
    Item pages carry ``ETag`` and ``Last-Modified`` and answer conditional requests with 304.
    ``layout`` names the template every page is served through (``"site"``: the fixtures as
    they are; see :mod:`caci_spider.testworld.localsite.layouts`).
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
        self.items = load_items(fixtures / FAULTY_SPIDER / "items")
        self.order: list[int | None] = list(listing_order(list(self.items)))
        self.order.insert(1, MISSING_ITEM_ID)
        self.order.insert(6, BROKEN_SERVER_ITEM_ID)
        # Item id → HTTP status it answers instead of its page (tests switch items off here).
        self.failing: dict[int, int] = {BROKEN_SERVER_ITEM_ID: 500}
        self.overrides: dict[int, bytes] = {}
        self.faults: dict[int, Fault] = {}  # item id → fault acted out on its page
        self.fault_hits: dict[int, int] = {}
        self.section_fault_hits: dict[tuple[str, int], int] = {}  # other sections' faults
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
        # Every other crawled section, from fixtures/<spider>/items/ (none: an empty section).
        self.sections: dict[str, SectionContent] = {}
        for profile, section in sources.sections():
            if section.category in (FAULTY_CATEGORY, STAFF_SECTION.category):
                continue
            items = load_items(fixtures / section.spider / "items", section.category)
            listing = fixture_listing(fixtures / section.spider / "listings", items, page_size)
            order: list[int | None] = (
                list(listing.order) if listing else list(listing_order(list(items)))
            )
            self.sections[section.category] = SectionContent(
                profile, section, items, order, fixture_listing=listing
            )
        # The PDFs the sections' items link (their oracles' pdf_url): path → (host, its lines).
        self.section_pdfs: dict[str, tuple[str, tuple[str, ...]]] = {}
        for content in self.sections.values():
            for item in content.items.values():
                oracle = item.path.with_suffix(".json")
                expected = json.loads(oracle.read_text("utf-8")) if oracle.exists() else {}
                if expected.get("pdf_url"):
                    lines = (expected.get("title") or item.alias, *(expected.get("authors") or ()))
                    if expected.get("kind"):
                        # A paper's PDF is the paper: its summary's first paragraph is in it.
                        first = (expected.get("body") or "").split("\n\n")[0]
                        lines = (*lines, *textwrap.wrap(first, 90))
                    pdf_path = urlsplit(expected["pdf_url"]).path
                    self.section_pdfs[pdf_path] = (host_of_profile(content.profile), lines)
                # A book's chapter PDFs (links to .pdf files besides its pdf_url): each a page
                # of its link's words; the test PDFs under PDF_PATH are served as they are.
                for pdf_path, words in pdf_links(item.path):
                    if pdf_path not in self.section_pdfs and not pdf_path.startswith(pdfs.PDF_PATH):
                        self.section_pdfs[pdf_path] = (host_of_profile(content.profile), (words,))
        # Profile key → the base URL it is served at (set by serve()).
        self.base_urls: dict[str, str] = {}
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
        # K2's JSON listings (caci_spider.testworld.localsite.k2json): which K2 version's behaviour
        # (one of k2json.JSON_MODES; "none": no JSON), the admin's cap on ``limit`` (2.10.4+), and
        # the site's UTC offset (JSON dates are UTC, the pages' date lines site-local).
        self.json_mode = "none"
        self.json_section_modes: dict[str, str] = {}  # category → its own mode (tests fold)
        self.json_cap = 100
        self.json_utc_offset = timedelta(hours=1)

    @property
    def layout(self) -> str:
        """The template pages are served through (one of ``layouts.LAYOUTS``)."""
        return self._layout

    @layout.setter
    def layout(self, name: str) -> None:
        self._layout = layouts.check_layout(name)

    def section(self, category: str) -> SectionContent | None:
        """The served section of ``category`` (the field reports: the site's own content)."""
        if category == FAULTY_CATEGORY:
            return SectionContent(
                FAULTY_PROFILE, FAULTY_SECTION, self.items, self.order, self.faults, self.failing
            )
        return self.sections.get(category)

    def served_sections(self, host: str = MAIN_HOST) -> list[SectionContent]:
        """The generated-listing sections ``host`` serves (every crawled one but the staff
        listing, which is served from its stored pages), in declaration order."""
        served = []
        for profile in hosts().get(host, ()):
            for section in profile.sections:
                content = self.section(section.category)
                if content is not None:
                    served.append(content)
        return served

    def _serves(self, host: str, category: str) -> bool:
        return any(
            section.category == category
            for profile in hosts().get(host, ())
            for section in profile.sections
        )

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
    def respond(
        self, raw_path: str, headers: dict[str, str] | None = None, host: str = MAIN_HOST
    ) -> Reply:
        """The reply to a GET of ``raw_path`` (path and query) with request ``headers``, on
        the local ``host`` (a key of :func:`hosts`: each host serves its own sites only)."""
        parts = urlsplit(raw_path)
        with self.lock:
            self.hits[parts.path] = self.hits.get(parts.path, 0) + 1
        query = parse_qs(parts.query)
        feed = _FEED_PATH.match(parts.path)
        json_path = _JSON_PATH.match(parts.path)
        json_query = (
            _HTML_LISTING_PATH.match(parts.path) if query.get("format") == ["json"] else None
        )
        netloc = (headers or {}).get("Host") or "127.0.0.1"
        json_match = json_path or json_query
        if json_match and (
            json_path
            or self.json_section_modes.get(json_match["category"], self.json_mode) != "none"
        ):
            category = json_match["category"]
            reply = self.json_listing(category, query, netloc, host)
        elif feed or query.get("format") == ["feed"]:
            category = feed["category"] if feed else parts.path.rsplit("/", 1)[-1].split(".")[0]
            kind = (query.get("type") or ["rss"])[0]
            if self._serves(host, category):
                reply = self.feed(category, kind, f"http://{netloc}")
            else:
                reply = Reply(404, _NOT_FOUND)
        else:
            reply = self._route(parts.path, query, host)
        reply = self._conditional(reply, headers or {})
        with self.lock:
            self.log.append((time.monotonic(), parts.path, reply.status))
        return reply

    def _route(self, path: str, query: dict[str, list[str]], host: str = MAIN_HOST) -> Reply:
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
        if path in self.section_pdfs:
            pdf_host, lines = self.section_pdfs[path]
            if pdf_host != host:
                return Reply(404, _NOT_FOUND)
            return Reply(200, pdfs.section_pdf(lines), "application/pdf")
        if host != MAIN_HOST:
            return self._route_other(path, query, host)
        if path.startswith(pdfs.PDF_PATH) and path.endswith(".pdf"):
            name = path.removeprefix(pdfs.PDF_PATH).removesuffix(".pdf")
            body = self.pdf_overrides.get(name) or pdfs.test_pdfs().get(name)
            if body is None:
                return Reply(404, _NOT_FOUND)
            # The HTML error page too: served as a PDF, as a misconfigured server does.
            return Reply(200, body, "application/pdf")
        if path in ("/", "/index.php"):
            return Reply(200, self._laid_out(self.home_page().encode(), self._home_context))
        start = _listing_start(query)
        if path == STAFF_LISTING:
            page = self.staff_listing_page(start)
            return Reply(200, self._laid_out(page, self._staff_listing_context))
        listed = self._section_listing(path, start, host)
        if listed is not None:
            return listed
        match = _declared_item_match(path)
        if match is None:
            return Reply(404, _NOT_FOUND)
        item_id = int(match["id"])
        if self.forbidden:
            return Reply(403, b"<h1>403 Forbidden</h1>")
        if match["category"] != STAFF_SECTION.category:
            return self._section_item(match["category"], item_id, path, host)
        if item_id in self.staff_items:
            page = self.staff_items[item_id].read_bytes()
            page = self._laid_out(page, lambda: self._staff_item_context(item_id))
            return Reply(200, self._with_pdf_links(page, item_id) if self.pdfs else page)
        return Reply(404, _NOT_FOUND)

    def _route_other(self, path: str, query: dict[str, list[str]], host: str) -> Reply:
        """A sister site's host (the Turkey Analyst): its home page, listings and items."""
        if path in ("/", "/index.php"):
            page = self.other_home_page(host).encode()
            return Reply(200, self._laid_out(page, self._home_context))
        start = _listing_start(query)
        listed = self._section_listing(path, start, host)
        if listed is not None:
            return listed
        match = _declared_item_match(path)
        if match is None:
            return Reply(404, _NOT_FOUND)
        if self.forbidden:
            return Reply(403, b"<h1>403 Forbidden</h1>")
        return self._section_item(match["category"], int(match["id"]), path, host)

    def _section_listing(self, path: str, start: int, host: str) -> Reply | None:
        """The listing page at ``path`` if it is one of ``host``'s sections, else None."""
        for content in self.served_sections(host):
            if path != content.listing_path:
                continue
            if content.category == FAULTY_CATEGORY:
                if self.listing_moved:
                    return Reply(404, _NOT_FOUND)
                page = self.listing_page(start).encode()
            else:
                page = self.section_listing_page(content.category, start).encode()
            context = partial(self._listing_context, content.category)
            return Reply(200, self._laid_out(page, context))
        return None

    def _section_item(self, category: str, item_id: int, path: str, host: str) -> Reply:
        """The item page of ``category`` with ``item_id`` on ``host``: its faults first."""
        content = self.section(category) if self._serves(host, category) else None
        if content is None:
            return Reply(404, _NOT_FOUND)
        if item_id in content.faults:
            with self.lock:
                if category == FAULTY_CATEGORY:
                    self.fault_hits[item_id] = attempt = self.fault_hits.get(item_id, 0) + 1
                else:
                    key = (category, item_id)
                    self.section_fault_hits[key] = attempt = self.section_fault_hits.get(key, 0) + 1
            reply = self._fault_reply(content.faults[item_id], item_id, path, attempt, category)
            if reply is not None:
                return reply
        if item_id in content.failing:
            status = content.failing[item_id]
            return Reply(status, f"<h1>Error {status}</h1>".encode())
        if item_id in content.items:
            if self.item_delay:
                time.sleep(self.item_delay)
            return Reply(200, self.item_page(item_id, category))
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

    def _fault_reply(
        self, fault: Fault, item_id: int, path: str, attempt: int, category: str = FAULTY_CATEGORY
    ) -> Reply | None:
        """The fault's reply; a content fault rewrites the page before the layout renders it."""
        if fault.kind not in CONTENT_FAULTS or self.layout == DEFAULT_LAYOUT:
            return fault.reply(self, item_id, path, attempt, category)
        self._before_layout.on = True
        try:
            reply = fault.reply(self, item_id, path, attempt, category)
        finally:
            self._before_layout.on = False
        content = self.section(category)
        known = content is not None and item_id in content.items
        if reply is not None and reply.status == 200 and reply.body and known:
            reply.body = self._laid_out(reply.body, lambda: self._item_context(item_id, category))
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

    def item_page(self, item_id: int, category: str = FAULTY_CATEGORY) -> bytes:
        """The item's page (a field report's by default) as served: its content through the
        layout."""
        page = self.item_content(item_id, category)
        if getattr(self._before_layout, "on", False):
            return page
        return self._laid_out(page, lambda: self._item_context(item_id, category))

    def item_content(self, item_id: int, category: str = FAULTY_CATEGORY) -> bytes:
        """The item's page before the layout: fixture, override (field reports), broken
        markup."""
        if category == FAULTY_CATEGORY:
            page = self.overrides.get(item_id) or self.items[item_id].path.read_bytes()
        else:
            content = self.section(category)
            assert content is not None, category
            page = content.items[item_id].path.read_bytes()
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

    def _content(self, category: str) -> SectionContent:
        content = self.section(category)
        assert content is not None, category
        return content

    @staticmethod
    def _item_link(item: ItemFixture) -> Link:
        return Link(item.href, item.title or item.alias.replace("-", " ").title())

    def _item_context(self, item_id: int, category: str = FAULTY_CATEGORY) -> PageContext:
        """An item's neighbours in the listing order and the other items of its category."""
        content = self._content(category)
        items = content.items
        listed = [i for i in content.order if i is not None and i in items]
        position = listed.index(item_id) if item_id in listed else None
        previous = next_ = None
        if position is not None:
            previous = self._item_link(items[listed[position - 1]]) if position > 0 else None
            if position + 1 < len(listed):
                next_ = self._item_link(items[listed[position + 1]])
        others = tuple(self._item_link(items[i]) for i in listed if i != item_id)[:5]
        return PageContext("item", items[item_id].href, previous, next_, others)

    def _listing_context(self, category: str = FAULTY_CATEGORY) -> PageContext:
        """The created date of each listed item, which stock templates show on the listing."""
        content = self._content(category)
        dates = {}
        for item in list(content.items.values()):
            if item.path not in self._date_lines:
                self._date_lines[item.path] = layouts.k2_date_line(item.path.read_bytes())
            line = self._date_lines[item.path]
            if line:
                dates[item.href] = line
        return PageContext("listing", content.listing_path, entry_dates=dates)

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

    # -- JSON listings ----------------------------------------------------------------------
    def json_listing(
        self, category: str, query: dict[str, list[str]], netloc: str, host: str = MAIN_HOST
    ) -> Reply:
        """K2's JSON listing of ``category`` in the site's ``json_mode``."""
        content = self.section(category) if self._serves(host, category) else None
        mode = self.json_section_modes.get(category, self.json_mode)
        if content is None or mode == "none":
            return Reply(404, _NOT_FOUND)
        offset, count = k2json.page_window(mode, query, self.page_size, self.json_cap)
        ids = [i for i in content.order if i is not None and i in content.items]
        alias = category
        if mode == "wrong-category":
            alias = next(c for c in _LISTINGS if c != category)
        category_json = k2json.category_object(
            alias, content.section.name, f"/publications/{alias}.html"
        )
        items = [
            k2json.json_item(
                self.item_content(item_id, category),
                item_id,
                content.items[item_id].alias,
                content.items[item_id].href,
                category_json,
                self.json_utc_offset,
                content.items[item_id].title,
            )
            for item_id in ids[offset : offset + count]
        ]
        site = {
            "url": f"http://{netloc}",
            "name": content.profile.site_names[0]
            if content.profile.site_names
            else content.profile.key,
        }
        callback = query["callback"][0] if query.get("callback") else None
        status, body, content_type = k2json.render(mode, site, category_json, items, callback)
        return Reply(status, body, content_type)

    # -- feeds ------------------------------------------------------------------------------
    def feed(self, category: str, kind: str, base: str) -> Reply:
        """K2's feed of ``category`` (``kind`` ``rss`` or ``atom``) as served, faults included."""
        moved = self.listing_moved and self.feed_moves_with_listing
        if category not in _LISTINGS or (moved and category == FAULTY_CATEGORY):
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
        if category == FAULTY_CATEGORY:
            dated = [(self.item_created(i), i, self.items[i].path) for i in self.items]
            if self.feed_fault == "stale":
                # Frozen when the fixtures' newest item was published: nothing added since.
                dated = [entry for entry in dated if entry[1] not in self.created]
        elif category in self.sections:
            dated = [
                (self._created_of(item.path), i, item.path)
                for i, item in self.sections[category].items.items()
            ]
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
                f"{urls.category_path(category)}/item/{path.stem}.html",
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
        """A field-reports listing page (tests and the fault matrix replace this one)."""
        return self.section_listing_page(FAULTY_CATEGORY, start)

    def section_listing_page(self, category: str, start: int) -> str:
        """A K2 category listing page of ``category``: ``page_size`` entries from ``start``, the
        fixture's listing page where it has one (:meth:`fixture_listing_page`), else synthesized
        from the item pages."""
        content = self._content(category)
        fixture = self.fixture_listing_page(content, start)
        if fixture is not None:
            return fixture
        name = content.section.name
        entries = content.order[start : start + self.page_size]
        pages = math.ceil(len(content.order) / self.page_size)
        body = "\n".join(self._listing_entry(item_id, start, content) for item_id in entries)
        # K2 prints no pagination block for a category that fits on one page.
        paginated = entries and self.pagination and pages > 1
        pagination = self._pagination(start, pages, content.listing_path) if paginated else ""
        items_block = (
            f'<div class="itemList"><div id="itemListLeading">{body}</div></div>' if entries else ""
        )
        return _page(
            name,
            f'<div id="k2Container" class="itemListView">'
            f'<div class="itemListCategory"><h2>{html.escape(name)}</h2></div>'
            f"{items_block}{pagination}{self.listing_noise}</div>",
            content.profile,
        )

    def fixture_listing_page(self, content: SectionContent, start: int) -> str | None:
        """The section's fixture listing page at ``start``, while the site serves the category
        as those pages show it (a test that changes its order, page size, pagination or noise
        gets a synthesized page instead)."""
        listing = content.fixture_listing
        if (
            listing is None
            or start not in listing.pages
            or tuple(content.order) != listing.order
            or (self.page_size, self.pagination, self.pagination_window, self.listing_noise)
            != (listing.page_size, True, None, "")
        ):
            return None
        return listing.pages[start].read_text("utf-8")

    def _listing_entry(
        self, item_id: int | None, start: int, content: SectionContent | None = None
    ) -> str:
        content = content or self._content(FAULTY_CATEGORY)
        item = content.items.get(item_id) if item_id is not None else None
        missing = f"{content.section.path}/item/{item_id}-unavailable.html"
        href = item.href if item else missing
        title = item.title if item else "A REPORT THE SITE CANNOT SERVE"
        teaser = "".join(f"<p>{html.escape(line)}</p>" for line in (item.teaser if item else []))
        extra = ""
        faulty = content.category == FAULTY_CATEGORY
        if faulty and start == 0 and item is not None and item_id == content.order[0]:
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
            f"<p>Published in {html.escape(content.section.name)}</p>{teaser}</div></div>{extra}"
            f'<div class="catItemReadMore"><a class="k2ReadMore" href="{href}">Read more...</a>'
            "</div></div></div>"
        )

    def _pagination(self, start: int, pages: int, listing_path: str = FIELD_REPORTS_LISTING) -> str:
        current = start // self.page_size
        base = f"{listing_path}?start="

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

    def other_home_page(self, host: str) -> str:
        """A sister site's home page: a menu of its sections."""
        profiles = hosts().get(host, ())
        menu = "".join(
            f'<li><a href="{s.path}.html">{html.escape(s.name)}</a></li>'
            for p in profiles
            for s in p.sections
        )
        return _page(
            "Home",
            f'<ul class="menu">{menu}</ul><div id="k2Container" class="itemListView"></div>',
            profiles[0] if profiles else None,
        )


_CHROME_PATH = DEFAULT_FIXTURES / "site_chrome.html"
# A sister site's chrome: its name in the title, no Analyst footer or newsletter.
_OTHER_CHROME = (
    '<!DOCTYPE html>\n<html lang="en-gb">\n<head>\n'
    '<meta http-equiv="content-type" content="text/html; charset=utf-8" />\n'
    "<title>{title} - {site}</title>\n</head>\n<body>\n"
    '<div id="wrapper"><div id="main">{main}</div></div>\n</body>\n</html>\n'
)


def _declared_item_match(path: str) -> re.Match[str] | None:
    """The item path of a section of caci_spider.sources (the sections this site serves),
    each where its section hangs (found by its category: the site serves no other)."""
    match = urls.ITEM_PATH.match(path)
    if match is None:
        return None
    return urls.item_path_match(path, urls.category_path(match["category"]))


def _page(title: str, main: str, profile: sources.SiteProfile | None = None) -> str:
    """Wrap ``main`` in the chrome of ``profile``'s host: the Analyst's sidebars, footer blurb
    and newsletter on the main host, a plain page with the site's name on a sister site's."""
    if profile is not None and host_of_profile(profile) != MAIN_HOST:
        name = profile.site_names[0] if profile.site_names else profile.key
        chrome = _OTHER_CHROME.replace("{site}", html.escape(name))
    else:
        chrome = _CHROME_PATH.read_text("utf-8") if _CHROME_PATH.exists() else "{main}"
    return chrome.replace("{title}", html.escape(title)).replace("{main}", main)


__all__ = [
    "FAULTY_PROFILE",
    "FAULTY_SECTION",
    "STAFF_PROFILE",
    "STAFF_SECTION",
    "BROKEN_SERVER_ITEM_ID",
    "CONTENT_FAULTS",
    "DEFAULT_FIXTURES",
    "FAULTY_CATEGORY",
    "FAULTY_SPIDER",
    "FIELD_REPORTS_LISTING",
    "ItemFixture",
    "LocalK2Site",
    "MAIN_HOST",
    "MISSING_ITEM_ID",
    "OFF_SITE_PDF",
    "PACKAGE_ROOT",
    "PAGE_SIZE",
    "Reply",
    "STAFF_LISTING",
    "STAFF_PDF_LINKS",
    "SectionContent",
    "_LISTINGS",
    "host_of_profile",
    "hosts",
    "listing_order",
    "load_items",
    "other_ports",
    "pdf_links",
    "pdfs",
    "section_of_category",
    "serve",
]
