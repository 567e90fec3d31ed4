"""Shared crawl logic for K2 category listings: walk every listing page, fetch each item once.

Spiders built on :class:`K2CategorySpider` only say which category to walk and how to read an
item page; extraction lives in :mod:`caci_spider.pages`, storage in the pipelines.
"""

from __future__ import annotations

import fcntl
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from caci_spider.items import Reject, utc_now
from caci_spider.pages.listing import K2ListingPage
from caci_spider.pipelines import record_reject
from caci_spider.urls import ItemRef, domain_of, item_ref, listing_url

MODES = ("incremental", "full", "reparse")


FINISHED_MARK = ".caci-finished"
# IgnoreRequest messages that are decisions, not failures (Scrapy's and ours).
_BENIGN_IGNORE = re.compile(r"robots\.txt|not in cache|banned this crawl", re.IGNORECASE)


def spend_finished_job(jobdir: str | None) -> None:
    """A JOBDIR is for resuming a stopped run. Once its run finished, the next run starts
    afresh: otherwise Scrapy would find every page already requested and do nothing."""
    if jobdir and Path(jobdir, FINISHED_MARK).exists():
        shutil.rmtree(jobdir)


class CrawlLocked(RuntimeError):
    """Another crawl is writing to the same database."""


def lock_database(db_path: str) -> IO[bytes]:
    """Hold ``<db>.lock`` for the life of the process, so two runs never share a database."""
    lock_path = Path(f"{db_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CrawlLocked(
            f"another crawl holds {lock_path}; two runs must not write to {db_path} at once"
        ) from None
    return handle


class K2CategorySpider(scrapy.Spider):
    """Walks ``/publications/<category>.html?start=0,4,8,…`` and follows every item link.

    Listing order is not chronological and offsets shift between crawls, so every run visits
    every listing page. Pagination links are followed where the page has them; otherwise the
    next offset is this one plus the number of entries found. A page with no entries ends the
    walk. The K2 id is an item's identity: it is requested once per run whatever link form
    (host variant, print view, query string) pointed to it.
    """

    category: str = ""
    base_url_setting = "CACI_BASE_URL"
    export_table: str = ""
    coverage_fields: tuple[str, ...] = ()
    coverage_minimums: dict[str, float] = {}

    def __init__(self, *args: Any, mode: str = "incremental", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.known: set[Any] = set()
        self.listing_signatures: set[tuple[Any, ...]] = set()
        self.unanswered: dict[int, str] = {}  # item id → URL requested, no answer yet

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> K2CategorySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings[cls.base_url_setting].rstrip("/")
        spider.allowed_domains = [domain_of(spider.base_url)]
        spider.db_lock = lock_database(settings["CACI_DB_PATH"])
        spend_finished_job(settings.get("JOBDIR"))
        host = urlsplit(spider.base_url).hostname or ""
        local = host.startswith("127.") or host in ("localhost", "::1")
        if "example.org" in settings.get("USER_AGENT", "") and not local:
            spider.logger.warning(
                "USER_AGENT still carries the placeholder contact; set -s USER_AGENT to one "
                "that names you, so that the site's operators can reach you"
            )
        if spider.mode == "reparse":
            # The page archive is the only source: no network, no politeness delay needed.
            for name, value in {
                "CACI_OFFLINE": True,
                "HTTPCACHE_IGNORE_MISSING": True,
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
            }.items():
                settings.set(name, value, priority="spider")
        return spider

    def closed(self, reason: str) -> None:
        if reason != "finished":
            return  # a stopped run resumes its requests: they are not lost
        jobdir = self.crawler.settings.get("JOBDIR")
        if jobdir:
            Path(jobdir, FINISHED_MARK).touch()
        # Every item request ends in its callback or errback, except when Scrapy drops its
        # redirect silently (an off-site target, or one the dupefilter has seen): a reject too.
        for url in self.unanswered.values():
            reason_text = (
                "dropped without an answer: a redirect loop, or a redirect off the configured hosts"
            )
            record_reject(self.crawler, self.reject(url, reason_text))

    @property
    def requested_ids(self) -> set[int]:
        """Ids requested in this run; kept in the job state so a resumed run skips them."""
        state = getattr(self, "state", None)
        if state is None:
            self.state = state = {}
        return state.setdefault("requested_ids", set())

    def known_items(self) -> set[Any]:
        """What an incremental run need not fetch again (ids or URLs, per spider)."""
        return set()

    def needs_fetch(self, key: Any) -> bool:
        return self.mode != "incremental" or key not in self.known

    @property
    def category_path(self) -> str:
        return f"publications/{self.category}.html"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.mode == "incremental":
            self.known = self.known_items()
        yield self.listing_request(0)

    def listing_request(self, start: int) -> scrapy.Request:
        return scrapy.Request(
            listing_url(self.base_url, self.category_path, start),
            callback=self.parse_listing,
            errback=self.fetch_failed,
            cb_kwargs={"start": start},
        )

    def parse_listing(self, response: Response, start: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            yield self.reject(response.url, "listing is not a text page", status=response.status)
            return
        listing = K2ListingPage(response.text, response.url, self.base_url, self.category)
        self.crawler.stats.inc_value("caci/listing_pages")
        entry_count, outputs = self.follow_entries(response, listing)
        if not entry_count:
            log = self.logger.warning if start == 0 else self.logger.info
            log("Listing ends at start=%d (%s): no entries", start, response.url)
            return
        yield from outputs
        starts = listing.page_starts()
        signature = tuple(entry.id for entry in listing.entries())
        if not starts and signature not in self.listing_signatures:
            # No pagination block: step by what this page held. A site that ignores ?start
            # serves the same entries again, and that ends the walk instead of looping it.
            starts = [start + entry_count]
        self.listing_signatures.add(signature)
        for next_start in starts:
            if next_start != start:
                yield self.listing_request(next_start)

    def follow_entries(
        self, response: TextResponse, listing: K2ListingPage
    ) -> tuple[int, list[Any]]:
        """(number of entries on the page, requests and items to yield for them)."""
        entries = listing.entries()
        requests = []
        for entry in entries:
            if entry.id in self.requested_ids or not self.needs_fetch(entry.id):
                continue
            self.requested_ids.add(entry.id)
            requests.append(self.item_request(ItemRef(entry.id, entry.url), entry.title))
        return len(entries), requests

    def item_request(self, ref: ItemRef, listing_title: str | None, **extra: Any) -> scrapy.Request:
        self.unanswered[ref.id] = ref.url
        return scrapy.Request(
            ref.url,
            callback=self.parse_item,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "listing_title": listing_title, **extra},
            # Not dont_filter: that would also let a redirect leave the configured hosts.
        )

    def parse_item(self, response: Response, ref: ItemRef, **context: Any) -> Iterator[Any]:
        self.unanswered.pop(ref.id, None)
        if not isinstance(response, TextResponse):
            yield self.reject(ref.url, "item is not a text page", status=response.status)
            return
        if not response.body.strip():
            yield self.reject(ref.url, "empty page", status=response.status)
            return
        if response.body.rfind(b"</html", -4096) < 0 and b"</HTML" not in response.body[-4096:]:
            # Every K2 page ends with </html>: without it the server stopped mid-page, and the
            # text would be a cut-off copy.
            yield self.reject(ref.url, "truncated page: no closing </html>", status=response.status)
            return
        # After a redirect to the canonical alias, keep the URL the server settled on.
        final = item_ref(response.url, response.url, self.base_url, self.category)
        if final is not None and final.id == ref.id:
            ref = final
        yield from self.extract_item(response, ref, **context)

    def extract_item(self, response: TextResponse, ref: ItemRef, **context: Any) -> Iterator[Any]:
        """Items (or rejects) read from one item page; ``context`` comes from the listing."""
        raise NotImplementedError

    def fetch_failed(self, failure: Failure) -> Iterator[Reject]:
        """A page that answered 4xx/5xx, or still failed after retries, becomes a reject."""
        request = failure.request
        raw = None
        ref = request.cb_kwargs.get("ref")
        if ref is not None:
            self.unanswered.pop(ref.id, None)
        status = None
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = f"HTTP {status}"
        elif failure.check(IgnoreRequest) and _BENIGN_IGNORE.search(failure.getErrorMessage()):
            # Not a failure of the site: robots.txt, a ban already recorded, or (reparse) a
            # page the archive does not hold. (HttpError is an IgnoreRequest: tested first.)
            self.crawler.stats.inc_value("caci/ignored")
            self.logger.info("Not fetched: %s (%s)", request.url, failure.getErrorMessage())
            return
        elif failure.check(IgnoreRequest):
            # A redirect loop, a redirect off the configured hosts, a bad encoding: the page
            # cannot be had, which is a reject like any other.
            reason = f"not fetched: {failure.getErrorMessage()}"[:200]
        else:
            # A short category as the reason (it names a stats counter); the details go to raw.
            reason = f"fetch failed: {failure.type.__name__}"
            raw = failure.getErrorMessage()[:1000]
        yield self.reject(request.url, reason, raw=raw, status=status)

    def reject(
        self, url: str, reason: str, raw: str | None = None, status: int | None = None
    ) -> Reject:
        return Reject(self.name, url, reason, utc_now(), raw, status)
