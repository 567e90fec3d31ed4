"""Shared crawl logic for K2 category listings: walk every listing page, fetch each item once.

Spiders built on :class:`K2CategorySpider` only say which category to walk and how to read an
item page; extraction lives in :mod:`caci_spider.pages`, storage in the pipelines.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, threads
from twisted.python.failure import Failure

from caci_spider import documents
from caci_spider.archive import ARCHIVED_ONLY
from caci_spider.items import Reject, is_empty, utc_now
from caci_spider.ledger import CanaryResult, RunLedger
from caci_spider.middlewares import HostDidNotAnswer, archive_fallback
from caci_spider.pages.listing import K2ListingPage
from caci_spider.quality import FieldDifference, differences
from caci_spider.sitefeed import FeedRefused, feed_path, parse_feed
from caci_spider.sources import Section, SiteProfile, sister_spiders
from caci_spider.storage import PUBLICATIONS, STAFF_SITE
from caci_spider.store import DatabaseStore, ledger_of, store_of
from caci_spider.urls import ItemRef, domain_of, host_key, item_ref, listing_url
from caci_spider.versions import EXTRACTION_VERSION

MODES = ("incremental", "full", "reparse")
# ``-a walk=listing``: walk the listing whatever the feed says (``auto``: feed first when due).
WALKS = ("auto", "listing")

# IgnoreRequest messages that are decisions, not failures (Scrapy's and ours).
_BENIGN_IGNORE = re.compile(r"robots\.txt|not in cache|banned this crawl", re.IGNORECASE)


def failed_request(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets it; Twisted's types omit it)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def http_status(failure: Failure) -> int | None:
    """The status of an error answer (``HttpError``), else ``None``."""
    error = failure.value
    return error.response.status if isinstance(error, HttpError) else None


def failure_name(failure: Failure) -> str:
    return type(failure.value).__name__


def failure_reason(failure: Failure) -> str:
    """A short reason: ``HTTP 404``, or what the request failed of (``Forbidden by robots.txt``,
    ``DownloadConnectionRefusedError``)."""
    code = http_status(failure)
    if code is not None:
        return f"HTTP {code}"
    message = failure.getErrorMessage().strip()
    return message[:60] if message and len(message) <= 60 else failure_name(failure)


def on_hosts(url: str, domains: list[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or below one (any port), as Scrapy's
    offsite rule reads ``allowed_domains``."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


# Canary pages tried in turn when the site no longer has one (404/410).
CANARY_ATTEMPTS = 3


def site_settings_of(pairs: tuple[tuple[SiteProfile, Section], ...]) -> tuple[str, ...]:
    """The base-URL settings of the sites ``pairs`` are on, in order, once each."""
    return tuple(dict.fromkeys(profile.base_url_setting for profile, _ in pairs))


@dataclass(frozen=True)
class Target:
    """One section a spider crawls: its site, its section, the base URL the run reads it at
    (from the profile's ``base_url_setting``) and the spider class whose policy applies to it
    (feed first or not, coverage and canary fields). A request carries only its target's
    ``key`` (``cb_kwargs["target"]``: a string survives a ``JOBDIR``), the spider looks the
    target up with :meth:`K2CategorySpider.target`."""

    profile: SiteProfile
    section: Section
    base_url: str
    policy: type[K2CategorySpider]

    @property
    def key(self) -> str:
        """The section's K2 category: the key of ``crawl_runs.sources`` and ``.sections`` and
        of ``listing_walks`` (categories of the crawled sections are distinct)."""
        return self.section.category

    @property
    def site(self) -> str:
        return self.profile.key

    @property
    def category(self) -> str:
        return self.section.category

    @property
    def category_path(self) -> str:
        return f"{self.section.path.lstrip('/')}.html"

    def ref(self, href: str, page_url: str) -> ItemRef | None:
        """The canonical item of this section ``href`` points to, on this site."""
        return item_ref(href, page_url, self.base_url, self.category, site=self.site)

    def owns(self, url: str) -> bool:
        """Whether ``url`` is one of this section's pages (listing, feed or item) on the base
        URL's host (any host variant)."""
        parts = urlsplit(url)
        if host_key(parts.netloc) != host_key(urlsplit(self.base_url).netloc):
            return False
        prefix = self.section.path
        return parts.path.startswith((f"{prefix}/", f"{prefix}.")) or parts.path == prefix


class K2CategorySpider(scrapy.Spider):
    """Walks ``/publications/<category>.html?start=0,4,8,…`` of each section it crawls and
    follows every item link.

    A spider crawls one or more **targets** (:class:`Target`): ``crawled_sections`` names the
    (site, section) pairs (one for a section spider, every section of both sites for
    ``publications``), each read at its site's base URL. Known ids, the feed-first decision, the
    listing walk, canaries and coverage are per target; every request carries its target's key.

    Listing order is not chronological and offsets shift between crawls, so every run visits
    every listing page. Pagination links are followed where the page has them; otherwise the
    next offset is this one plus the number of entries found. A page with no entries ends the
    walk. The K2 id is an item's identity within its site: it is requested once per run whatever
    link form (host variant, print view, query string) pointed to it.
    """

    # The (site, section) pairs this spider crawls, in order (caci_spider.sources).
    crawled_sections: ClassVar[tuple[tuple[SiteProfile, Section], ...]] = ()
    # ``publications.jsonl``-like file of every stored publication, written at close besides
    # each crawled section's export (the ``publications`` spider's); None: none.
    aggregate_export: ClassVar[str | None] = None
    # The first target's category and base-URL setting (single-section spiders name them).
    category: str = ""
    base_url_setting = "CACI_BASE_URL"
    base_url: str  # the first target's base URL, in from_crawler
    targets: list[Target]  # in from_crawler
    allowed_domains: list[str]
    # Every base-URL setting the spider crawls: the database belongs to these sites (default:
    # the settings of the crawled sections' sites).
    site_settings: tuple[str, ...] = ("CACI_BASE_URL",)
    # The ``-a`` arguments the spider takes, with their values (checked before a run starts).
    arguments: dict[str, tuple[str, ...]] = {"mode": MODES, "walk": WALKS}
    # Feed-first incremental runs (caci_spider.sitefeed): the section's K2 feed says which ids
    # are new, and the listing is walked only when the feed cannot say (see initial_requests).
    # A section whose rows take more than the item page gives keeps walking its listing, and says
    # why in ``listing_only_reason`` (recorded in crawl_runs.sources).
    feed_first: bool = False
    listing_only_reason = "this section does not read its feed"
    export_table: str = ""
    coverage_fields: tuple[str, ...] = ()
    coverage_minimums: dict[str, float] = {}
    # Fields a canary (a stored item fetched again) must still yield when its row has them.
    canary_fields: tuple[str, ...] = ()
    # Fields a canary's page must give as its row has them (compared where both have them), and
    # how (field → one of caci_spider.quality.COMPARISONS: "exact", "key", "keys", "date", "words").
    canary_compared: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        pairs = cls.__dict__.get("crawled_sections")
        if pairs and "site_settings" not in cls.__dict__:
            cls.site_settings = site_settings_of(pairs)

    def __init__(
        self, *args: Any, mode: str = "incremental", walk: str = "auto", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if walk not in WALKS:
            raise ValueError(f"walk must be one of {', '.join(WALKS)}, not {walk!r}")
        self.mode = mode
        self.walk = walk
        self.known: set[Any] = set()
        self.listing_signatures: set[tuple[Any, ...]] = set()
        # Documents (linked PDFs) an incremental run need not fetch: stored, or backed off.
        self.known_documents: set[str] = set()
        self.requested_documents: set[str] = set()
        # The extraction upgrade (upgrade_requests): the requests not answered yet, and when
        # all are (the rows being read again are the ledger's ``upgrading``).
        self.upgrade_pending: set[tuple[str, int]] = set()
        self.upgrade_done: defer.Deferred[None] | None = None

    @classmethod
    def policy_of(cls, section: Section) -> type[K2CategorySpider]:
        """The spider class whose feed, coverage and canary policy applies to ``section``: this
        one (a section spider; ``publications`` maps each section to its section spider)."""
        return cls

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.targets = [
            Target(
                profile,
                section,
                settings[profile.base_url_setting].rstrip("/"),
                cls.policy_of(section),
            )
            for profile, section in cls.crawled_sections
        ]
        keys = [target.key for target in spider.targets]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{cls.name}: two crawled sections share a K2 category ({keys})")
        spider.base_url = (
            spider.targets[0].base_url
            if spider.targets
            else settings[cls.base_url_setting].rstrip("/")
        )
        # Offsite rule: every crawled site's host. Politeness is per host: Scrapy's download
        # slots are per host name, so DOWNLOAD_DELAY, CONCURRENT_REQUESTS_PER_DOMAIN and
        # AUTOTHROTTLE apply to each site apart, and robots.txt is read per host.
        spider.allowed_domains = sorted(
            {domain_of(target.base_url) for target in spider.targets}
            or {domain_of(spider.base_url)}
        )
        # A request the scheduler drops gets no callback: an upgrade request must still count.
        crawler.signals.connect(spider.upgrade_dropped, signal=signals.request_dropped)
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

    # -- targets --------------------------------------------------------------------------------
    def target(self, key: str | None = None) -> Target:
        """The target of ``key`` (a request's ``cb_kwargs["target"]``); ``None``: the first."""
        if key is None:
            return self.targets[0]
        for target in self.targets:
            if target.key == key:
                return target
        raise KeyError(key)

    def closed(self, reason: str) -> None:
        self.store.resolve_read_pages(self.ledger.pages_read_live)
        if reason != "finished":
            return  # a stopped run resumes its requests: they are not lost
        # Every item request ends in its callback or errback, except when Scrapy drops its
        # redirect silently (an off-site target, or one the dupefilter has seen): a reject too.
        for url in self.ledger.unanswered.values():
            reason_text = (
                "dropped without an answer: a redirect loop, or a redirect off the configured hosts"
            )
            self.store.record_reject(self.reject(url, reason_text))

    def fallback_of(self, response: Response) -> str:
        """Why ``response`` came from the page archive instead of the site (``""``: it did
        not); such a page is remembered as not read live."""
        fallback = archive_fallback(response.meta)
        urls = {response.url} | ({response.request.url} if response.request is not None else set())
        self.ledger.note_page(urls, fallback, response.status)
        return fallback

    @property
    def ledger(self) -> RunLedger:
        """What this run learns (:mod:`caci_spider.ledger`), kept by the store extension."""
        return ledger_of(self.crawler)

    @property
    def store(self) -> DatabaseStore:
        return store_of(self.crawler)

    def site_of(self, url: str) -> str | None:
        """The key of the crawled site of publications ``url`` is on (its configured base
        URL's host, or one of the profile's hosts), if any; ``None`` for a spider of another
        table (staff publications' pages have no site in ``rejects``)."""
        if self.export_table != PUBLICATIONS:
            return None
        key = host_key(urlsplit(url).netloc)
        for target in self.targets:
            if key == host_key(urlsplit(target.base_url).netloc) or key in target.profile.hosts:
                return target.site
        return None

    def known_items(self) -> set[Any]:
        """What an incremental run need not fetch again (``(site, id)`` or URLs, per spider)."""
        return set()

    def backed_off_urls(self) -> set[str]:
        """Rejected pages whose next attempt is not due yet (:mod:`caci_spider.backoff`)."""
        return self.store.database.backed_off_urls((self.name, *self.sister_spiders), utc_now())

    @property
    def sister_spiders(self) -> tuple[str, ...]:
        """The other spiders crawling this spider's publications sections (a section spider and
        ``publications``): their rejects' backoff and listing walks count for this one too."""
        if self.export_table != PUBLICATIONS:
            return ()
        return sister_spiders(self.name, tuple(section for _, section in self.crawled_sections))

    def needs_fetch(self, key: Any) -> bool:
        return self.mode != "incremental" or key not in self.known

    @property
    def category_path(self) -> str:
        return self.target().category_path

    async def start(self) -> AsyncIterator[scrapy.Request]:
        rows_at_start = self.ledger.section_rows_at_start
        if self.export_table == PUBLICATIONS and not rows_at_start:
            for target in self.targets:
                rows_at_start[target.key] = self.store.database.count_publications(
                    target.site, target.category
                )
        if self.mode == "incremental":
            self.known = self.known_items()
            self.known_documents = self.store.database.document_urls() | self.backed_off_urls()
        upgrades = self.upgrade_requests()
        if upgrades:
            self.upgrade_done = defer.Deferred()
            for request in upgrades:
                yield request
            # Nothing is judged (canaries read their rows below) before every row is re-derived.
            await maybe_deferred_to_future(self.upgrade_done)
        for request in [*self.initial_requests(), *self.canary_requests()]:
            yield request

    # -- the extraction upgrade: rows made by older page rules, read again from the archive ----
    def upgrade_requests(self) -> list[scrapy.Request]:
        """A request per stored row of the spider's sections made by older page rules than
        this release's (:data:`caci_spider.versions.EXTRACTION_VERSION`), served by the page
        archive only (never the network): its page goes through the spider's extraction and the
        pipelines as in ``-a mode=reparse``, and the store keeps what changes as a version with
        the reason ``extraction upgrade``. A row whose page the archive lacks keeps its version
        and is re-derived when next fetched. Not in ``mode=reparse``, which reads every page
        of the archive anyway."""
        if self.export_table != PUBLICATIONS or self.mode == "reparse":
            return []
        if not self.crawler.settings.getbool("HTTPCACHE_ENABLED"):
            return []  # no archive to read: the rows are re-derived as their pages are fetched
        rows = self.store.database.outdated_publications(
            (target.site, target.category) for target in self.targets
        )
        requests = []
        for row in rows:
            target = self.ledger.target_of_url(row["url"])
            ref = target.ref(row["url"], row["url"]) if target is not None else None
            if target is None or ref is None or ref.id != row["id"]:
                continue
            self.ledger.upgrading.add(self.item_key(ref))
            requests.append(
                scrapy.Request(
                    ref.url,
                    callback=self.parse_upgrade,
                    errback=self.upgrade_failed,
                    cb_kwargs={"ref": ref, "listing_title": row["title"], "target": target.key},
                    # The archive only: a night's upgrade costs the site nothing. Not filtered:
                    # the walk may still ask the site for this page (mode=full).
                    meta={ARCHIVED_ONLY: True, "dont_obey_robotstxt": True},
                    dont_filter=True,
                    priority=3,
                )
            )
        # By row, not by request: a resumed run (JOBDIR) may hold this run's requests twice.
        self.upgrade_pending = set(self.ledger.upgrading)
        if requests:
            self.logger.info(
                "Extraction upgrade: %d stored rows were made by older page rules than this "
                "release's (version %d); reading them again from the page archive first",
                len(requests), EXTRACTION_VERSION,
            )  # fmt: skip
        return requests

    def parse_upgrade(
        self, response: Response, ref: ItemRef, target: str | None = None, **context: Any
    ) -> Iterator[Any]:
        # Read from the archive, not the site: its row is not "unchanged" in the run line.
        self.ledger.archived_pages.update({response.url, ref.url})
        try:
            yield from self.read_item(response, ref, self.target(target), **context)
        finally:
            self.upgrade_answered(ref)

    def upgrade_failed(self, failure: Failure) -> Iterator[Any]:
        """No archived copy (or an unreadable one): the row keeps its version and is re-derived
        when next fetched."""
        request = failed_request(failure)
        self.crawler.stats.inc_value("caci/upgrade/not_archived")
        # Counted on the run line; one line per page only in a debug log.
        self.logger.debug(
            "Extraction upgrade: no archived page for %s (%s): the row keeps its version until "
            "its page is fetched again",
            request.url, failure.getErrorMessage()[:200],
        )  # fmt: skip
        self.ledger.upgrading.discard(self.item_key(request.cb_kwargs["ref"]))
        self.upgrade_answered(request.cb_kwargs["ref"])
        yield from ()

    def upgrade_dropped(self, request: scrapy.Request) -> None:
        if request.meta.get(ARCHIVED_ONLY) and request.callback == self.parse_upgrade:
            self.ledger.upgrading.discard(self.item_key(request.cb_kwargs["ref"]))
            self.upgrade_answered(request.cb_kwargs["ref"])

    def upgrade_answered(self, ref: ItemRef) -> None:
        self.upgrade_pending.discard(self.item_key(ref))
        if not self.upgrade_pending and self.upgrade_done is not None:
            done, self.upgrade_done = self.upgrade_done, None
            # On the next turn of the event loop: the last page's items are through the pipelines.
            call_later(0, done.callback, None)

    def initial_requests(self) -> list[scrapy.Request]:
        """Where the crawl begins: each target's feed, or its first listing page (spiders add
        their own sources)."""
        return [request for target in self.targets for request in self.target_requests(target)]

    def target_requests(self, target: Target) -> list[scrapy.Request]:
        decided = self.ledger.sources[target.key]
        if decided.source == "listing":
            # A resumed run (JOBDIR) that walks the listing goes on walking it, from the saved
            # queue (this request is a duplicate the scheduler drops), with its reason.
            return [self.listing_request(0, target.key)]
        if decided.source == "feed":
            return [self.feed_request(target.key)]  # resumed after its feed was asked for
        reason = self.listing_reason(target.key)
        if reason is None:
            return [self.feed_request(target.key)]
        return self.walk_requests(reason, target)

    def walk_requests(self, reason: str, target: Target) -> list[scrapy.Request]:
        """The first requests of a due walk of ``target``'s listing (``reason``: why it is
        walked); a spider with another way to read the whole listing overrides it
        (:mod:`caci_spider.spiders.jsonchannel`)."""
        self.use_listing(reason, target.key)
        return [self.listing_request(0, target.key)]

    def listing_reason(self, key: str | None = None) -> str | None:
        """Why this run walks the target's listing rather than reading its feed first
        (``None``: the feed first). The listing is walked by every run but an incremental one,
        on ``-a walk=listing``, for a section that does not read its feed, and when the
        section's last complete walk (in the database) is missing or ``CACI_LISTING_WALK_DAYS``
        old: items that never reach the top of the feed (back-dated, moved between sections)
        are found within that many days."""
        target = self.target(key)
        if self.mode != "incremental":
            return f"mode={self.mode} walks the listing"
        if self.walk == "listing":
            return "-a walk=listing"
        if not target.policy.feed_first:
            return target.policy.listing_only_reason
        last = self.store.database.last_listing_walk(
            (self.name, *self.sister_spiders), target.category
        )
        if last is None:
            return "no complete listing walk recorded yet"
        days = self.crawler.settings.getfloat("CACI_LISTING_WALK_DAYS")
        walked = datetime.fromisoformat(last["walked_at"].replace("Z", "+00:00"))
        age = datetime.now(UTC) - walked
        if age.total_seconds() >= days * 86400:
            return (
                f"the last complete listing walk (run {last['run_id']}, {last['walked_at']}) is "
                f"{age.total_seconds() / 86400:.1f} days old, CACI_LISTING_WALK_DAYS is {days:g}"
            )
        return None

    def use_listing(self, reason: str, key: str | None = None) -> None:
        source = self.ledger.sources[self.target(key).key]
        source.source = "listing"
        source.reason = reason

    # -- the feed: a couple of requests for a night with nothing new ---------------------------
    def feed_request(self, key: str | None = None) -> scrapy.Request:
        target = self.target(key)
        url = f"{target.base_url}/{feed_path(target.category)}"
        source = self.ledger.sources[target.key]
        source.source = "feed"
        source.feed_url = url
        return scrapy.Request(
            url,
            callback=self.parse_feed,
            errback=self.feed_failed,
            cb_kwargs={"target": target.key},
            meta={
                # Today's feed, never the archive's copy, and never archived.
                "dont_cache": True,
                # 10 items of intro text are a few KiB: more is junk, refused unread.
                "download_maxsize": self.crawler.settings.getint("CACI_FEED_MAXSIZE"),
                "download_warnsize": 0,
            },
            priority=2,
        )

    def parse_feed(self, response: Response, target: str | None = None) -> Iterator[Any]:
        section = self.target(target)
        source = self.ledger.sources[section.key]
        try:
            entries = parse_feed(
                response.body,
                response.url,
                section.base_url,
                section.category,
                max_size=self.crawler.settings.getint("CACI_FEED_MAXSIZE"),
            )
        except FeedRefused as refused:
            yield from self.fall_back_to_listing(str(refused), key=section.key)
            return
        unique = list({entry.ref.id: entry for entry in reversed(entries)}.values())[::-1]
        refs = [ItemRef(entry.ref.id, entry.ref.url, section.site) for entry in unique]
        new = [
            (entry, ref)
            for entry, ref in zip(unique, refs, strict=True)
            if self.needs_fetch(self.item_key(ref))
        ]
        source.feed_items, source.feed_new = len(unique), len(new)
        self.crawler.stats.inc_value("caci/feed/items", len(unique))
        if len(new) == len(unique):
            # Nothing in the feed is known: more may be new than the feed holds.
            yield from self.fall_back_to_listing(
                f"all {len(unique)} ids in the feed are new: more may be new than it holds",
                warn=False,
                key=section.key,
            )
            return
        source.reason = f"{len(unique)} items in the feed, {len(new)} new"
        self.logger.info("Feed %s: %s", response.url, source.reason)
        for entry, ref in new:
            if self.item_key(ref) in self.ledger.requested_keys:
                continue
            self.ledger.requested_keys.add(self.item_key(ref))
            # The feed's title only stands in for an empty one on the page (as the listing's).
            yield self.item_request(ref, entry.title, section.key)

    def feed_failed(self, failure: Failure) -> Iterator[Any]:
        key = failed_request(failure).cb_kwargs.get("target")
        if failure.check(HostDidNotAnswer):
            # Its listing would be dropped too: nothing to fall back to this run.
            source = self.ledger.sources[self.target(key).key]
            source.reason = f"not read: {failure.getErrorMessage()}"
            return
        code = http_status(failure)
        message = failure.getErrorMessage()
        if code is not None:
            reason = f"the feed answered HTTP {code}"
        elif "max size" in message:
            reason = (
                "the feed is larger than CACI_FEED_MAXSIZE "
                f"({self.crawler.settings.getint('CACI_FEED_MAXSIZE')} bytes), refused unread"
            )
        else:
            reason = f"the feed could not be fetched ({failure_reason(failure)})"
        yield from self.fall_back_to_listing(reason, key=key)

    def fall_back_to_listing(
        self, reason: str, warn: bool = True, key: str | None = None
    ) -> Iterator[scrapy.Request]:
        target = self.target(key)
        (self.logger.warning if warn else self.logger.info)(
            "Feed of %s not used: %s; walking the listing", target.category, reason
        )
        self.use_listing(reason if not warn else f"feed failed: {reason}", target.key)
        yield self.listing_request(0, target.key)

    def listing_request(self, start: int, key: str | None = None) -> scrapy.Request:
        target = self.target(key)
        url = listing_url(target.base_url, target.category_path, start)
        if start == 0:
            self.ledger.listing_walks[target.key].first_url = url
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.fetch_failed,
            cb_kwargs={"start": start, "target": target.key},
        )

    def parse_listing(
        self, response: Response, start: int, target: str | None = None
    ) -> Iterator[Any]:
        section = self.target(target)
        walk = self.ledger.listing_walks[section.key]
        if start == 0:
            walk.first_status = response.status
        if not isinstance(response, TextResponse):
            if start == 0:
                walk.first_failure = "is not a text page"
            yield self.reject(response.url, "listing is not a text page", status=response.status)
            return
        listing = K2ListingPage(response.text, response.url, section.base_url, section.category)
        self.crawler.stats.inc_value("caci/listing_pages")
        keys, outputs = self.follow_entries(response, listing, section.key)
        entry_count = len(keys)
        fallback = self.fallback_of(response)
        if fallback:
            # The archived copy still guides the walk, but says nothing about the site today.
            self.logger.warning("Listing page %s %s", response.url, fallback)
            if start == 0:
                walk.first_failure = fallback
        else:
            walk.pages += 1
            walk.keys.update(keys)
            if start == 0:
                walk.first_entries = entry_count
        if not entry_count:
            log = self.logger.warning if start == 0 else self.logger.info
            log("Listing ends at start=%d (%s): no entries", start, response.url)
            return
        yield from outputs
        starts = listing.page_starts()
        signature = (section.key, *(entry.id for entry in listing.entries()))
        if not starts and signature not in self.listing_signatures:
            # No pagination block: step by what this page held. A site that ignores ?start
            # serves the same entries again, and that ends the walk instead of looping it.
            starts = [start + entry_count]
        self.listing_signatures.add(signature)
        for next_start in starts:
            if next_start != start:
                yield self.listing_request(next_start, section.key)

    @staticmethod
    def item_key(ref: ItemRef) -> tuple[str, int]:
        """An item's identity: a K2 id is unique only within its site."""
        return (ref.site, ref.id)

    def follow_entries(
        self, response: TextResponse, listing: K2ListingPage, key: str | None = None
    ) -> tuple[list[str], list[Any]]:
        """(a key per entry on the page, requests and items to yield for them)."""
        target = self.target(key)
        entries = listing.entries()
        requests = []
        for entry in entries:
            ref = ItemRef(entry.id, entry.url, target.site)
            if self.item_key(ref) in self.ledger.requested_keys or not self.needs_fetch(
                self.item_key(ref)
            ):
                continue
            self.ledger.requested_keys.add(self.item_key(ref))
            requests.append(self.item_request(ref, entry.title, target.key))
        return [str(entry.id) for entry in entries], requests

    def item_request(
        self, ref: ItemRef, listing_title: str | None, key: str | None = None, **extra: Any
    ) -> scrapy.Request:
        target = self.target(key)
        self.ledger.unanswered[self.item_key(ref)] = ref.url
        for tally in self.ledger.fetch_tallies(target.key):
            tally.requested += 1
        return scrapy.Request(
            ref.url,
            callback=self.parse_item,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "listing_title": listing_title, "target": target.key, **extra},
            # Not dont_filter: that would also let a redirect leave the configured hosts.
        )

    def parse_item(
        self, response: Response, ref: ItemRef, target: str | None = None, **context: Any
    ) -> Iterator[Any]:
        section = self.target(target)
        self.ledger.unanswered.pop(self.item_key(ref), None)
        fallback = self.fallback_of(response)
        for tally in self.ledger.fetch_tallies(section.key):
            if fallback:
                tally.failed(fallback)
                tally.not_read += 1
            else:
                tally.read += 1
        yield from self.read_item(response, ref, section, **context)

    def read_item(
        self, response: Response, ref: ItemRef, section: Target, **context: Any
    ) -> Iterator[Any]:
        """An item page (fetched, or an archived copy) read into items, or a reject."""
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
        final = section.ref(response.url, response.url)
        if final is not None and final.id == ref.id:
            ref = final
        yield from self.extract_item(response, ref, **context)

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        **context: Any,
    ) -> Iterator[Any]:
        """Items (or rejects) read from one item page; ``context`` comes from the listing."""
        raise NotImplementedError

    # -- documents: linked PDFs (caci_spider.documents) --------------------------------------
    def document_requests(self, urls: list[str]) -> Iterator[scrapy.Request]:
        """A request per PDF not fetched yet in this run (an incremental run: never stored
        before), on the allowed hosts only; a PDF elsewhere is linked, never fetched."""
        settings = self.crawler.settings
        for url in urls:
            if url in self.requested_documents:
                continue
            self.requested_documents.add(url)
            if not on_hosts(url, self.allowed_domains):
                self.crawler.stats.inc_value("caci/documents/off_site")
                self.logger.info("Document %s is off the allowed hosts: linked, not fetched", url)
                continue
            if self.mode == "incremental" and url in self.known_documents:
                continue
            self.crawler.stats.inc_value("caci/documents/requested")
            yield scrapy.Request(
                url,
                callback=self.parse_document,
                errback=self.document_failed,
                meta={
                    "download_maxsize": settings.getint("CACI_PDF_MAXSIZE"),
                    "download_warnsize": 0,
                },
                # After the pages: a document never holds up the listing walk.
                priority=-1,
            )

    async def parse_document(self, response: Response) -> AsyncIterator[Any]:
        """Extract the PDF's text in a worker process (run from a thread: the crawl goes on
        meanwhile); a PDF without readable text is a reject and never touches stored text."""
        fallback = self.fallback_of(response)
        if fallback:
            self.logger.warning("Document %s %s", response.url, fallback)
        url = response.request.url if response.request is not None else response.url
        body = response.body
        timeout = self.crawler.settings.getfloat("CACI_PDF_TIMEOUT")
        result: documents.Extracted = await maybe_deferred_to_future(
            threads.deferToThread(documents.extract_text, body, timeout)
        )
        if not result.ok:
            self.crawler.stats.inc_value("caci/documents/rejected")
            yield self.reject(url, result.reason, raw=result.detail or None)
            return
        row = {
            "url": url,
            "sha256": documents.sha256(body),
            "bytes": len(body),
            "pages": result.pages,
            "title": result.title,
            "author": result.author,
            "text": result.text,
            "fetched_at": utc_now(),
        }
        try:
            outcome = self.store.database.store_document(row, self.name)
        except sqlite3.Error as error:
            self.store.write_failed(url, error)
            return
        self.crawler.stats.inc_value(f"caci/documents/{outcome}")
        self.logger.info("Document %s (%d pages): %s", url, result.pages, outcome)

    def document_failed(self, failure: Failure) -> Iterator[Reject]:
        """A PDF that could not be fetched: over CACI_PDF_MAXSIZE, an error answer, …"""
        request = failed_request(failure)
        message = failure.getErrorMessage()
        if "max size" in message:
            self.crawler.stats.inc_value("caci/documents/rejected")
            maxsize = self.crawler.settings.getint("CACI_PDF_MAXSIZE")
            yield self.reject(
                request.url,
                "larger than CACI_PDF_MAXSIZE",
                raw=f"not downloaded: {maxsize} bytes at most ({message[:300]})",
            )
            return
        for reject in self.fetch_failed(failure):
            self.crawler.stats.inc_value("caci/documents/rejected")
            yield reject

    # -- canaries: stored items fetched again to see that their pages still read the same ----
    def canary_requests(self) -> list[scrapy.Request]:
        """Incremental runs only: ``full`` refetches every item (and judges their coverage),
        ``reparse`` reads the archive that the rows came from. Each target has its own
        ``CACI_CANARY_ITEMS`` canaries, among its own site's and section's rows."""
        count = self.crawler.settings.getint("CACI_CANARY_ITEMS")
        if self.mode != "incremental" or count <= 0:
            return []
        requests = []
        for target in self.targets:
            if not target.policy.canary_fields:
                continue
            for row in self.canary_candidates(target, count):
                request = self.canary_request(row, 1, target.key)
                if request is not None:
                    requests.append(request)
        return requests

    def canary_candidates(self, target: Target, count: int) -> list[dict[str, Any]]:
        """Stored rows of the target's site and section to check, oldest check first."""
        scope = [(target.site, target.category)] if self.export_table == PUBLICATIONS else None
        return self.store.database.canary_candidates(self.name, self.export_table, count, scope)

    def canary_request(
        self, row: dict[str, Any], attempt: int, key: str | None = None
    ) -> scrapy.Request | None:
        target = self.target(key)
        ref = target.ref(row.get("url") or "", row.get("url") or "")
        if ref is None:
            return None
        # The walk must not ask for the same page again: the duplicate filter would drop that
        # request without an answer.
        self.ledger.requested_keys.add(self.item_key(ref))
        for tally in self.ledger.fetch_tallies(target.key):
            tally.requested += 1
        return scrapy.Request(
            ref.url,
            callback=self.parse_canary,
            errback=self.canary_failed,
            cb_kwargs={"row": row, "attempt": attempt, "target": target.key},
            # Today's page, not the archive's: a 304 would re-read yesterday's copy, and a
            # canary's page must not replace the archived one either.
            meta={"dont_cache": True},
            # Before the walk's item pages: a long walk need not end for the verdict.
            priority=1,
        )

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        """The fields a stored row's page yields now, through the record-building a crawl runs
        (normalised, body collapsed): comparable, value for value, with the stored row."""
        raise NotImplementedError

    def parse_canary(
        self, response: Response, row: dict[str, Any], attempt: int = 1, target: str | None = None
    ) -> Iterator[Any]:
        policy = self.target(target).policy
        fallback = self.fallback_of(response)
        tallies = self.ledger.fetch_tallies(target)
        if fallback:
            for tally in tallies:
                tally.failed(fallback)
                tally.not_read += 1
            self.note_canary(row, f"fetch failed: {fallback}", [])
            return
        for tally in tallies:
            tally.read += 1
        if not isinstance(response, TextResponse) or response.status != 200:
            self.note_canary(row, f"fetch failed: not a text page ({response.status})", [])
            return
        fresh = self.reextract(response, row)
        missing = [
            name
            for name in policy.canary_fields
            if not is_empty(row.get(name)) and is_empty(fresh.get(name))
        ]
        differing = differences(
            row,
            fresh,
            policy.canary_compared,
            self.crawler.settings.getfloat("CACI_CANARY_MIN_SIMILARITY"),
        )
        self.note_canary(row, "changed" if missing or differing else "ok", missing, differing)
        yield from ()  # a canary never yields an item: its stored row is never overwritten

    def canary_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A canary that cannot be fetched says nothing about the layout; it is logged and
        recorded, not a reject. One the site no longer has (404/410: removed) is replaced by
        the next candidate, up to ``CANARY_ATTEMPTS`` pages; the last failure counts as an
        item page that could not be read."""
        request = failed_request(failure)
        status = failure_reason(failure)
        if failure.check(HostDidNotAnswer):
            status = "its host did not answer"
        self.note_canary(request.cb_kwargs["row"], f"fetch failed: {status}", [])
        attempt = request.cb_kwargs.get("attempt", 1)
        target = self.target(request.cb_kwargs.get("target"))
        tallies = self.ledger.fetch_tallies(target.key)
        for tally in tallies:
            tally.requested -= 1  # counted again below, as a failure or a new canary
        if http_status(failure) in (404, 410) and attempt < CANARY_ATTEMPTS:
            rows = self.canary_candidates(target, 1)
            replacement = self.canary_request(rows[0], attempt + 1, target.key) if rows else None
            if replacement is not None:
                yield replacement
                return
        for tally in tallies:
            tally.requested += 1
            tally.failed(status)
            if http_status(failure) is None:
                tally.not_read += 1

    def note_canary(
        self,
        row: dict[str, Any],
        outcome: str,
        missing: list[str],
        differing: list[FieldDifference] | None = None,
    ) -> None:
        site = row.get("site") or STAFF_SITE
        result = CanaryResult(str(row["id"]), row["url"], outcome, missing, differing or [], site)
        self.ledger.canary_results.append(result)
        self.crawler.stats.inc_value(f"caci/canary/{outcome.split(':')[0].replace(' ', '_')}")
        if outcome.startswith("fetch failed") and "its host did not answer" not in outcome:
            self.logger.warning("Canary %s (%s): %s", result.key, result.url, outcome)
        try:
            self.store.database.record_canary(
                self.name, result.key, result.url, self.store.run_id, outcome, missing, utc_now(),
                differing=[difference.as_dict() for difference in result.differing],
                site=site,
            )  # fmt: skip
        except sqlite3.Error as error:
            self.store.write_failed(result.url, error)

    def fetch_failed(self, failure: Failure) -> Iterator[Reject]:
        """A page that answered 4xx/5xx, or still failed after retries, becomes a reject."""
        request = failed_request(failure)
        if failure.check(HostDidNotAnswer):
            status_text = "its host did not answer"
        else:
            status_text = failure_reason(failure)
        if request.cb_kwargs.get("start") == 0 and request.callback == self.parse_listing:
            code = http_status(failure)
            walk = self.ledger.listing_walks[self.target(request.cb_kwargs.get("target")).key]
            walk.first_failure = (
                f"answered HTTP {code}"
                if code is not None
                else f"could not be fetched ({failure_name(failure)}: "
                f"{failure.getErrorMessage()[:200]})"
            )
        raw = None
        ref = request.cb_kwargs.get("ref")
        if ref is not None:
            self.ledger.unanswered.pop(self.item_key(ref), None)
            unread = http_status(failure) is None and (
                not failure.check(IgnoreRequest)
                or failure.check(HostDidNotAnswer)
                or _BENIGN_IGNORE.search(failure.getErrorMessage())
            )
            for tally in self.ledger.fetch_tallies(request.cb_kwargs.get("target")):
                tally.failed(status_text)
                if unread:
                    tally.not_read += 1
        status = http_status(failure)
        if failure.check(HostDidNotAnswer):
            # Not this page's failure: the host's, said once (caci_spider.middlewares).
            self.crawler.stats.inc_value("caci/dropped")
            return
        if status is not None:
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
            reason = f"fetch failed: {failure_name(failure)}"
            raw = failure.getErrorMessage()[:1000]
        yield self.reject(request.url, reason, raw=raw, status=status)

    def reject(
        self, url: str, reason: str, raw: str | None = None, status: int | None = None
    ) -> Reject:
        return Reject(self.name, url, reason, utc_now(), raw, status, self.site_of(url))
